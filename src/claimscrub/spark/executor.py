"""The executor side: Arrow batches in, the unchanged Polars engine, Arrow batches out.

Spark hands :func:`scrub_batches` one partition as an iterator of Arrow record batches,
sorted by patient key. The rows are gathered into chunks of about ``Job.chunk_lines``
lines, cut only where the patient key changes, so a chunk always holds every line of a
patient, their history included, and memory stays bounded whatever the partition size.
Each chunk becomes canonical frames (:func:`~claimscrub.readers.parquet_claims.claims_from_flat`),
is checked by :func:`~claimscrub.engine.scrub.scrub` with the plan this worker built
once, and its report becomes rows with
:func:`~claimscrub.reporters.parquet_report.finding_rows`, the function the local
engine's Parquet output uses.

:func:`read_files` is the reading stage for X12 / JSON / CSV inputs: each file is read
on an executor by the same readers as a local run, into the flat line table.

Nothing here imports pyspark.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from claimscrub.engine.scrub import scrub
from claimscrub.model import columns as c
from claimscrub.model.schema import CLAIMS_SCHEMA, LINES_SCHEMA, REJECTED_SCHEMA, conform
from claimscrub.readers import read_bytes
from claimscrub.readers.base import ClaimBatch
from claimscrub.readers.parquet_claims import HISTORY, claims_from_flat
from claimscrub.readers.writers import flat_lines
from claimscrub.reporters.parquet_report import (
    CLAIM_SCHEMA,
    FINDING_SCHEMA,
    claim_rows,
    finding_rows,
)
from claimscrub.spark.job import Job, plan_for

# --- columns the driver adds to the flat line table --------------------------------------------
INPUT = "_input"  # which input (argument and file) a row came from: claim keys are per input
SEQ = "_seq"  # the row's position in its input: line order within a claim
PATIENT = "_pkey"  # partition and chunk key: the patient, or the claim when there is none
# "line"; "rejected" for an input the reading stage could not read; "warning" for what it
# noticed but read anyway (an input warning)
KIND = "_kind"
REASON = "reason"  # why, for a rejected input

FLAT_SCHEMA = pl.Schema({**CLAIMS_SCHEMA, **LINES_SCHEMA, HISTORY: pl.Boolean()})
STAGED_SCHEMA = pl.Schema(
    {**FLAT_SCHEMA, INPUT: pl.String(), SEQ: pl.Int64(), KIND: pl.String(), REASON: pl.String()}
)

# --- what the scrubbing stage returns: findings, claim statuses and chunk counts -----------------
ROW_KIND = "kind"  # "finding" | "claim" | "chunk"
LINES_CHECKED = "lines_checked"
OUTPUT_SCHEMA = pl.Schema(
    {ROW_KIND: pl.String(), **FINDING_SCHEMA, "status": pl.String(), LINES_CHECKED: pl.Int64()}
)


def arrow_type(dtype: pl.DataType) -> pa.DataType:
    """The Arrow type Spark exchanges for a Polars type (no large or view types)."""
    if isinstance(dtype, pl.List):
        return pa.list_(arrow_type(dtype.inner))
    if isinstance(dtype, pl.Struct):
        return pa.struct([pa.field(f.name, arrow_type(f.dtype)) for f in dtype.fields])
    simple = {
        pl.String: pa.string(),
        pl.Int64: pa.int64(),
        pl.Float64: pa.float64(),
        pl.Boolean: pa.bool_(),
        pl.Date: pa.date32(),
    }
    return simple[dtype.base_type()]


def arrow_schema(schema: pl.Schema) -> pa.Schema:
    """The Arrow schema of a Polars schema, in the types Spark accepts."""
    return pa.schema([pa.field(name, arrow_type(dtype)) for name, dtype in schema.items()])


def _to_batches(frame: pl.DataFrame, schema: pl.Schema) -> Iterator[pa.RecordBatch]:
    table = frame.select(list(schema)).to_arrow().cast(arrow_schema(schema))
    yield from table.to_batches()


# --- reading stage -------------------------------------------------------------------------------


def _file_name(reported: str, given: str) -> str:
    """The ``src`` a local run would record: the argument when it named this very file."""
    path = reported.removeprefix("file://").removeprefix("file:")
    if given == reported or os.path.abspath(given) == os.path.abspath(path):  # noqa: PTH100
        return given
    return path if reported.startswith("file:") else reported


def read_files(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Rows of (``path``, ``content``, ``given``, ``arg``, ``history``) -> staged flat rows."""
    for batch in batches:
        meta = batch.drop_columns(["content"]).to_pylist()
        for i, row in enumerate(meta):  # one file's bytes in Python at a time
            src = _file_name(row["path"], row["given"])
            read = read_bytes(batch.column("content")[i].as_py(), src)
            lines = flat_lines(read).drop("ndc11")
            if row["history"]:
                lines = lines.with_columns(pl.lit(True).alias(HISTORY))
            problems = {
                "rejected": pl.concat([read.rejected, read.history.rejected]),
                "warning": pl.concat([read.warnings, read.history.warnings]),
            }
            staged = pl.concat(
                [
                    conform(
                        lines.with_columns(
                            pl.int_range(pl.len(), dtype=pl.Int64).alias(SEQ),
                            pl.lit("line").alias(KIND),
                        ),
                        STAGED_SCHEMA,
                    ),
                    *[
                        conform(
                            found.with_columns(
                                pl.lit(kind).alias(KIND), pl.lit(row["history"]).alias(HISTORY)
                            ),
                            STAGED_SCHEMA,
                        )
                        for kind, found in problems.items()
                    ],
                ]
            ).with_columns(pl.lit(f"{row['arg']}:{src}").alias(INPUT))
            yield from _to_batches(staged, STAGED_SCHEMA)


# --- scrubbing stage -----------------------------------------------------------------------------


def _last_patient_start(table: pa.Table) -> int:
    """Index of the first row of the table's last patient (rows are sorted by patient)."""
    keys = table.column(PATIENT)
    return int(pc.index(keys, keys[len(keys) - 1]).as_py())


def _dense_claim_keys(lines: pl.DataFrame) -> pl.DataFrame:
    """Claim keys unique within the chunk, in input order (keys repeat across inputs)."""
    lines = lines.sort(INPUT, HISTORY, c.CLAIM_KEY, SEQ, maintain_order=True)
    starts = (
        (pl.col(INPUT) != pl.col(INPUT).shift())
        | (pl.col(HISTORY) != pl.col(HISTORY).shift())
        | (pl.col(c.CLAIM_KEY) != pl.col(c.CLAIM_KEY).shift())
    ).fill_null(True)
    return lines.with_columns(starts.cum_sum().cast(pl.Int64).alias(c.CLAIM_KEY))


def _without_unreadable_claims(lines: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Drop claims with a cell the staging cast could not convert; their rejected rows."""
    flagged = pl.col(REASON).is_not_null()
    if not lines.select(flagged.any()).item():
        return lines, pl.DataFrame(schema=REJECTED_SCHEMA)
    bad = pl.col(c.CLAIM_KEY).is_in(lines.filter(flagged)[c.CLAIM_KEY].unique().implode())
    claims = lines.filter(bad)
    reasons = claims.group_by(c.CLAIM_KEY, maintain_order=True).agg(
        pl.col(REASON).drop_nulls().str.join("; ")
    )
    first = claims.unique(c.CLAIM_KEY, keep="first", maintain_order=True).drop(REASON)
    rejected = conform(first.join(reasons, on=c.CLAIM_KEY), REJECTED_SCHEMA)
    return lines.filter(~bad), rejected


def scrub_chunk(table: pa.Table, job: Job) -> pl.DataFrame:
    """Check the lines of whole patients; the output rows (findings, claims, line count)."""
    plan = plan_for(job)
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    frame = conform(frame, STAGED_SCHEMA)  # columns left out as empty come back as nulls
    passed = frame.filter(pl.col(KIND) == "rejected")
    lines = _dense_claim_keys(frame.filter(pl.col(KIND) == "line"))
    lines, unreadable = _without_unreadable_claims(lines)
    current, history = claims_from_flat(lines.select(list(FLAT_SCHEMA)), "spark")
    rejected = pl.concat(
        [conform(passed, REJECTED_SCHEMA), unreadable, current.rejected], how="vertical_relaxed"
    )
    noticed = conform(frame.filter(pl.col(KIND) == "warning"), REJECTED_SCHEMA)
    batch = ClaimBatch(current.claims, current.lines, rejected=rejected, warnings=noticed)
    result = scrub(batch, plan, history=history).to_dict()
    findings = finding_rows(result).with_columns(pl.lit("finding").alias(ROW_KIND))
    claims = claim_rows(result).with_columns(
        pl.lit("claim").alias(ROW_KIND), pl.col("status").alias("claim_status")
    )
    count = pl.DataFrame({ROW_KIND: ["chunk"], LINES_CHECKED: [current.lines.height]})
    parts = [conform(p, OUTPUT_SCHEMA) for p in (findings, claims, count)]
    return pl.concat(parts)


def scrub_batches(job: Job, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """The ``mapInArrow`` function: one partition of staged rows sorted by patient key."""
    pending: list[pa.RecordBatch] = []
    count = 0
    for batch in batches:
        if not batch.num_rows:
            continue
        pending.append(batch)
        count += batch.num_rows
        if count < job.chunk_lines:
            continue
        table = pa.Table.from_batches(pending)
        cut = _last_patient_start(table)
        if cut == 0:  # one patient so far: keep gathering (a patient is never split)
            continue
        yield from _to_batches(scrub_chunk(table.slice(0, cut), job), OUTPUT_SCHEMA)
        rest = table.slice(cut)
        pending, count = rest.to_batches(), rest.num_rows
    if count:
        table = pa.Table.from_batches(pending)
        yield from _to_batches(scrub_chunk(table, job), OUTPUT_SCHEMA)


__all__ = [
    "CLAIM_SCHEMA",
    "OUTPUT_SCHEMA",
    "STAGED_SCHEMA",
    "arrow_schema",
    "read_files",
    "scrub_batches",
    "scrub_chunk",
]
