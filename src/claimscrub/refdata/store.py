"""Where reference-data releases live on disk, and how a release is written atomically.

A *store root* holds one folder per dataset and one folder per release::

    <root>/<dataset>/<release>/data.parquet
    <root>/<dataset>/<release>/provenance.json

Two roots are searched: the bundled snapshot inside the package (read-only, built
from the official files by ``scripts/build_refdata.py``) and the user's store,
where ``claimscrub refdata import`` writes new releases. The user store is
``$CLAIMSCRUB_DATA_DIR`` when set, else ``$XDG_DATA_HOME/claimscrub/refdata``
(``~/.local/share/claimscrub/refdata``).

``provenance.json`` keys: ``dataset``, ``release``, ``effective_from``,
``effective_to`` (ISO dates; ``effective_to`` may be null = open-ended),
``publisher``, ``title``, ``source_file``, ``source_sha256``, ``recovered_from``,
``licence``, ``imported_at`` (ISO timestamp or null for bundled data),
``normaliser_version``, ``rows``, ``notes``.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

BUNDLED_ROOT = Path(__file__).parent / "data"
DATA_FILE = "data.parquet"
PROVENANCE_FILE = "provenance.json"


def user_root() -> Path:
    """The user's writable store root."""
    env = os.environ.get("CLAIMSCRUB_DATA_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / "claimscrub" / "refdata"


@dataclass(frozen=True)
class ReleaseRef:
    """One release of one dataset found on disk."""

    dataset: str
    release: str
    path: Path
    provenance: dict[str, Any]
    bundled: bool

    @property
    def data_path(self) -> Path:
        """The parquet file of the release."""
        return self.path / DATA_FILE


def scan_root(root: Path, *, bundled: bool) -> list[ReleaseRef]:
    """Every release under ``root`` that has both its data and its provenance."""
    found: list[ReleaseRef] = []
    if not root.is_dir():
        return found
    # Names starting with "." are write_release's work folders (possibly left by a crash).
    for ds_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for rel_dir in sorted(
            p for p in ds_dir.iterdir() if p.is_dir() and not p.name.startswith(".")
        ):
            prov = rel_dir / PROVENANCE_FILE
            if (rel_dir / DATA_FILE).is_file() and prov.is_file():
                found.append(
                    ReleaseRef(
                        ds_dir.name, rel_dir.name, rel_dir, json.loads(prov.read_text()), bundled
                    )
                )
    return found


def write_release(root: Path, df: pl.DataFrame, provenance: dict[str, Any]) -> Path:
    """Write a release atomically: build it in a temporary folder, then rename it into place.

    An existing release of the same dataset and id is replaced only after the new one
    is complete, so a failure at any point leaves the old data untouched.
    """
    dataset, release = provenance["dataset"], provenance["release"]
    target = root / dataset / release
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{release}.", dir=target.parent))
    # mkdtemp makes a private (0700) folder; a release must be readable like any package file
    tmp.chmod(0o755)
    try:
        df.write_parquet(tmp / DATA_FILE, compression="zstd", compression_level=19, statistics=True)
        meta = dict(provenance, rows=df.height)
        (tmp / PROVENANCE_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
        if target.exists():
            old = target.with_name(f".{release}.old")
            if old.exists():
                shutil.rmtree(old)
            target.rename(old)
            tmp.rename(target)
            shutil.rmtree(old)
        else:
            tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target
