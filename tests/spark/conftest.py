"""A small local Spark session for the whole run, and a generated batch with history."""

from __future__ import annotations

import datetime as dt
import importlib.util
from collections.abc import Iterator

import polars as pl
import pytest
from spark_helpers import ROOT, Generated

from claimscrub.engine.scrub import Plan, make_plan
from claimscrub.readers import ClaimSet
from claimscrub.readers.base import ClaimBatch
from claimscrub.readers.writers import write_json, write_parquet


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    """``local[2]``, few shuffle partitions, no UI: small and quick to start."""
    from claimscrub.spark import spark_session

    session = spark_session(
        "local[2]",
        conf={
            "spark.ui.enabled": "false",
            "spark.sql.shuffle.partitions": "4",
            "spark.default.parallelism": "2",
            "spark.driver.memory": "1g",
        },
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def _synthetic() -> object:
    spec = importlib.util.spec_from_file_location("synthetic", ROOT / "benchmarks" / "synthetic.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _select(batch_claims: pl.DataFrame, lines: pl.DataFrame, keys: pl.Series) -> ClaimBatch:
    return ClaimBatch(
        batch_claims.filter(pl.col("claim_key").is_in(keys.implode())),
        lines.filter(pl.col("claim_key").is_in(keys.implode())),
    )


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    """~3000 synthetic lines (benchmarks/synthetic.py, real crosswalk rows, realistic errors),
    about four claims per patient; claims before June 2025 become history, and 25 billed
    claims are sent again, so look-back rules (duplicates, early refills) have work."""
    claims, lines = _synthetic().make_batch(3000, seed=11)  # type: ignore[attr-defined]
    past = claims.filter(pl.col("service_date") < dt.date(2025, 6, 1))["claim_key"]
    now = claims.filter(pl.col("service_date") >= dt.date(2025, 6, 1))["claim_key"]
    history = _select(claims, lines, past)
    current = _select(claims, lines, now)
    again = _select(claims, lines, past.head(25))
    offset = int(claims["claim_key"].max()) + 1  # type: ignore[arg-type]
    renamed = [
        pl.col("claim_key") + offset,
        pl.format("RE{}", pl.col("claim_id")).alias("claim_id"),
    ]
    current = ClaimBatch(
        pl.concat([current.claims, again.claims.with_columns(renamed)]),
        pl.concat([current.lines, again.lines.with_columns(renamed)]),
    )
    folder = tmp_path_factory.mktemp("generated")
    flat, only_current, history_json = (
        folder / "batch.parquet",
        folder / "current.parquet",
        folder / "history.json",
    )
    write_parquet(ClaimSet(current.claims, current.lines, history=history), str(flat))
    write_parquet(ClaimSet(current.claims, current.lines), str(only_current))
    with history_json.open("w", encoding="utf-8") as fh:
        write_json(ClaimSet(history.claims, history.lines), fh)
    return Generated(current, history, flat, only_current, history_json)


@pytest.fixture(scope="session")
def plan() -> Plan:
    """The default plan (every rule, bundled packs and reference data)."""
    return make_plan()
