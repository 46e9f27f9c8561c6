"""Helpers for the import tests: where the fixtures are, and exact frame comparison."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

REPO = Path(__file__).resolve().parents[2]
OFFICIAL = REPO / "tests" / "fixtures" / "official"
SHARED = REPO.parent / "shared" / "refdata"
BUNDLED = REPO / "src" / "claimscrub" / "refdata" / "data"


def shared_csv(name: str) -> Path:
    """A file of ../shared/refdata, or skip the test when that folder is not there."""
    path = SHARED / name
    if not path.is_file():
        pytest.skip(f"shared reference data not available ({path} missing)")
    return path


def canonical(frame: pl.DataFrame) -> pl.DataFrame:
    """The comparison form: descriptions whitespace-collapsed, as the dataset builders do."""
    text = [
        c
        for c in frame.columns
        if c.endswith("description") or c in ("drug_name", "notes", "mue_rationale")
    ]
    return frame.with_columns(
        pl.col(c).str.replace_all(r"\s+", " ").str.strip_chars().replace("", None) for c in text
    )


def read_shared(name: str) -> pl.DataFrame:
    """A shared CSV as the raw canonical frame (all text, empty = null)."""
    return canonical(pl.read_csv(shared_csv(name), infer_schema=False))


def assert_same_frame(got: pl.DataFrame, expected: pl.DataFrame) -> None:
    """Every row and column equal; on failure say which column and first differing rows."""
    assert got.columns == expected.columns
    assert got.height == expected.height
    for column in expected.columns:
        differs = got[column].ne_missing(expected[column])
        assert not differs.any(), (
            f"{column}: {int(differs.sum())} rows differ, e.g. "
            f"{got.filter(differs).head(3).to_dicts()} vs "
            f"{expected.filter(differs).head(3).to_dicts()}"
        )


def tree_bytes(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (relative path -> bytes), for before/after comparisons."""
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }
