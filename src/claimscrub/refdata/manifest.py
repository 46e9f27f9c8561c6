"""The dataset manifest (``manifest.toml``): what each dataset is and where it came from.

Loaded once per process, on first use. It declares, per dataset, its title, publisher,
cadence, key columns, how a release is selected for a date of service, a description
of every column, and the bundled releases with their provenance (which
``scripts/build_refdata.py`` builds); plus lists of code-value meanings (coverage
codes, action codes, ...) used to label raw codes.
"""

from __future__ import annotations

import datetime as dt
import functools
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MANIFEST_PATH = Path(__file__).with_name("manifest.toml")


@dataclass(frozen=True)
class DatasetInfo:
    """One dataset as the manifest declares it."""

    name: str
    title: str
    publisher: str
    cadence: str
    keys: tuple[str, ...]
    selection: str  # "window" or "hcpcs-history"
    description: str
    columns: dict[str, str] = field(default_factory=dict)
    releases: tuple[dict[str, Any], ...] = ()
    module_builds_release: bool = False


@dataclass(frozen=True)
class Manifest:
    """All datasets and code lists."""

    datasets: dict[str, DatasetInfo]
    code_lists: dict[str, dict[str, str]]

    def meaning(self, code_list: str, value: str | None) -> str | None:
        """What ``value`` means in ``code_list``, or None when not listed."""
        if value is None:
            return None
        return self.code_lists.get(code_list, {}).get(value)


def _release_entry(entry: dict[str, Any]) -> dict[str, Any]:
    out = dict(entry)
    for key in ("effective_from", "effective_to"):
        value = out.get(key)
        if isinstance(value, dt.date):
            out[key] = value.isoformat()
    out.setdefault("effective_to", None)
    return out


@functools.cache
def load_manifest(path: Path = MANIFEST_PATH) -> Manifest:
    """Parse ``manifest.toml`` (cached)."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    datasets = {}
    for name, spec in data["datasets"].items():
        datasets[name] = DatasetInfo(
            name=name,
            title=spec["title"],
            publisher=spec["publisher"],
            cadence=spec["cadence"],
            keys=tuple(spec["keys"]),
            selection=spec.get("selection", "window"),
            description=" ".join(spec["description"].split()),
            columns=dict(spec.get("columns", {})),
            releases=tuple(_release_entry(r) for r in spec.get("releases", [])),
            module_builds_release=bool(spec.get("module_builds_release", False)),
        )
    code_lists = {name: dict(spec["values"]) for name, spec in data.get("code_lists", {}).items()}
    return Manifest(datasets, code_lists)
