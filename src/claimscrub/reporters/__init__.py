"""Render a finished report: one registry of formats, none of which computes anything."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, TextIO

# format name -> (module, whether the format is for people: headers, colours, footers)
FORMATS: dict[str, tuple[str, bool]] = {
    "full": ("claimscrub.reporters.terminal", True),
    "concise": ("claimscrub.reporters.terminal", True),
    "json": ("claimscrub.reporters.json_report", False),
    "jsonl": ("claimscrub.reporters.json_report", False),
    "csv": ("claimscrub.reporters.csv_report", False),
    "sarif": ("claimscrub.reporters.sarif", False),
    "parquet": ("claimscrub.reporters.parquet_report", False),  # binary: needs -o FILE
    "html": ("claimscrub.reporters.html", False),  # a document: nothing may be added to it
}


def renderer(name: str) -> Callable[[dict[str, Any], TextIO, str], None]:
    """The ``render(result, stream, fmt)`` function of a format."""
    module, _ = FORMATS[name]
    return importlib.import_module(module).render  # type: ignore[no-any-return]


def is_human_readable(name: str) -> bool:
    """True for formats meant for a person (they may print headers and footers)."""
    return FORMATS[name][1]
