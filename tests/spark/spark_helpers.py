"""Helpers of the Spark tests: the local engine's tables, and row-for-row comparison."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest

from claimscrub.engine.scrub import Plan, make_plan, scrub
from claimscrub.readers import read_claims
from claimscrub.readers.base import ClaimBatch
from claimscrub.reporters.parquet_report import claim_rows, finding_rows

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


@dataclass(frozen=True)
class Generated:
    """A generated batch: claims to check and the history billed before them."""

    claims: ClaimBatch
    history: ClaimBatch
    flat: Path  # one Parquet table, history flagged
    current: Path  # the claims to check only, Parquet
    history_json: Path  # the history only, as Claims JSON


def local_tables(
    inputs: Sequence[Path | str], history: Sequence[Path | str] = (), plan: Plan | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(findings, claims) of a local run, as ``claimscrub check -o OUT.parquet`` builds them."""
    claims = read_claims([str(p) for p in inputs], history=[str(p) for p in history])
    result = scrub(claims, plan or make_plan(), history=claims.history).to_dict()
    return finding_rows(result), claim_rows(result)


def collected(frame: object) -> pl.DataFrame:
    """A Spark DataFrame brought to the driver as a Polars frame (through Arrow)."""
    table = frame.toArrow()  # type: ignore[attr-defined]
    out = pl.from_arrow(table)
    assert isinstance(out, pl.DataFrame)
    return out


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    keys = [
        pl.col(n).list.join("|") if isinstance(t, pl.List) else pl.col(n)
        for n, t in frame.schema.items()
    ]
    return frame.sort(keys, nulls_last=True)


def assert_same_rows(spark_rows: pl.DataFrame, local_rows: pl.DataFrame) -> None:
    """Equal as sorted tables: same columns, types, and rows (duplicates counted)."""
    assert spark_rows.schema == local_rows.schema
    a, b = _sorted(spark_rows), _sorted(local_rows)
    if not a.equals(b):
        only_spark = a.join(b, on=a.columns, how="anti", nulls_equal=True)
        only_local = b.join(a, on=b.columns, how="anti", nulls_equal=True)
        pytest.fail(
            f"Spark {a.height} rows, local {b.height} rows\n"
            f"only on Spark:\n{only_spark}\nonly local:\n{only_local}"
        )
