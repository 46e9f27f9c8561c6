"""Fixtures for the reference-data tests: the real bundled snapshot, and a scratch user store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from claimscrub.refdata.catalog import RefData, default_refdata
from claimscrub.refdata.store import BUNDLED_ROOT

SHARED_REFDATA = Path(__file__).resolve().parents[2].parent / "shared" / "refdata"


@pytest.fixture(scope="session")
def bundled() -> RefData:
    """The bundled snapshot only (a user's own store must not change these answers)."""
    return RefData(roots=[(BUNDLED_ROOT, True)])


@pytest.fixture
def user_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty user store as $CLAIMSCRUB_DATA_DIR, with the process-wide RefData reset."""
    root = tmp_path / "user-store"
    monkeypatch.setenv("CLAIMSCRUB_DATA_DIR", str(root))
    default_refdata.cache_clear()
    yield root
    default_refdata.cache_clear()


@pytest.fixture(scope="session")
def shared_refdata() -> Path:
    """The shared CSVs the bundled snapshot is built from (skip when not checked out)."""
    if not SHARED_REFDATA.is_dir():
        pytest.skip(f"{SHARED_REFDATA} not available")
    return SHARED_REFDATA
