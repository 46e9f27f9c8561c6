"""Fixture for the import tests: unpack a recovered official file under its own name."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from official_helpers import OFFICIAL


@pytest.fixture
def official(tmp_path: Path):
    """Unpack a gzip fixture of tests/fixtures/official/ under its original name."""

    def unpack(name: str, dest: Path | None = None) -> Path:
        target = (dest or tmp_path) / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(gzip.decompress((OFFICIAL / f"{name}.gz").read_bytes()))
        return target

    return unpack
