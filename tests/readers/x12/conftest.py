"""Shared helpers for the X12 reader tests: fixture files and an independent CLM counter."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[4] / "shared" / "fixtures" / "x12"
ALL_FILES = sorted(p for p in FIXTURES.iterdir() if p.is_file() and p.suffix != ".md")


def crude_clm_ids(data: bytes) -> list[str]:
    """CLM01 of every CLM segment, found with a plain split (no tokenizer, no loops).

    The element separator is the byte after the first ``ISA`` (or after ``GS`` in a
    file without ISA); the segment terminator is the last non-blank character before
    the first ``GS``/``ST`` segment.
    """
    text = data.decode("latin-1")
    at = text.find("ISA")
    if at >= 0:
        element = text[at + 3]
        nxt = re.search(re.escape(element).join(["(?:GS|ST)", ""]), text[at + 3 :])
        assert nxt, "no GS/ST after ISA"
        terminator = text[: at + 3 + nxt.start()].rstrip()[-1]
    else:
        element = re.match(r"\s*[A-Z0-9]{2,3}(.)", text).group(1)  # type: ignore[union-attr]
        terminator = text.splitlines()[0].rstrip()[-1]
    ids = []
    for segment in text.split(terminator):
        parts = segment.strip().split(element)
        if parts[0] == "CLM":
            ids.append(parts[1] if len(parts) > 1 else "")
    return ids


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """The shared X12 fixture directory (real files from public projects, see PROVENANCE.md)."""
    return FIXTURES


@pytest.fixture(scope="session")
def count_clms() -> Callable[[bytes], list[str]]:
    """The independent CLM counter (see :func:`crude_clm_ids`)."""
    return crude_clm_ids
