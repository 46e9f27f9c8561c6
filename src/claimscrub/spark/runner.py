"""The driver side: stage the inputs, partition by patient, run the engine on executors.

The pipeline is one Spark job:

1. **Stage** every input as the flat line table (one row per line, the claim's columns
   repeated, a ``history`` flag): Parquet inputs and DataFrames as they are; X12, Claims
   JSON and Claims CSV files are read on executors by the local readers
   (:func:`~claimscrub.spark.executor.read_files`), one file per task.
2. **Partition by patient**: ``repartition(n, patient key)`` and
   ``sortWithinPartitions(patient key, input, claim, line order)``. The patient key is
   ``patient_id`` (the key the look-back rules join history on), or the claim itself
   when a claim names no patient; history lines carry the same key, so every patient's
   claims and history land in one partition, next to each other.
3. **Scrub** each partition with ``mapInArrow``
   (:func:`~claimscrub.spark.executor.scrub_batches`): whole patients at a time, the
   unchanged Polars engine, one plan per Python worker.

``groupBy(patient).applyInArrow`` would call the engine once per patient, and the
engine's fixed cost per call (planning 60-odd rules) would dominate; whole partitions
cut at patient boundaries keep the calls few and the memory bounded.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F  # noqa: N812 - the usual Spark spelling

from claimscrub.model import columns as c
from claimscrub.readers.parquet_claims import DERIVED, HISTORY, type_words
from claimscrub.reporters.csv_report import INPUT_RULE, REJECTED_NAME
from claimscrub.reporters.parquet_report import CLAIM_SCHEMA, ENGINE_RULE, FINDING_SCHEMA
from claimscrub.spark import executor as ex
from claimscrub.spark.job import DEFAULT_CHUNK_LINES, Job, make_job

if TYPE_CHECKING:
    from claimscrub.engine.scrub import Plan, ScrubOptions

PARQUET_SUFFIXES = (".parquet", ".pq")
BAD = "_bad"  # staged column: why a cell could not take its canonical type


def spark_type(dtype: pl.DataType) -> str:
    """The Spark SQL type (DDL) of a canonical Polars type."""
    if isinstance(dtype, pl.List):
        return f"array<{spark_type(dtype.inner)}>"
    if isinstance(dtype, pl.Struct):
        return (
            "struct<" + ", ".join(f"`{f.name}`: {spark_type(f.dtype)}" for f in dtype.fields) + ">"
        )
    simple = {
        pl.String: "string",
        pl.Int64: "bigint",
        pl.Float64: "double",
        pl.Boolean: "boolean",
        pl.Date: "date",
    }
    return simple[dtype.base_type()]


def ddl(schema: pl.Schema) -> str:
    """A DDL schema string for ``mapInArrow``."""
    return ", ".join(f"`{name}` {spark_type(dtype)}" for name, dtype in schema.items())


class SparkInputError(ValueError):
    """An input or option the Spark runner cannot use (the CLI exits 2)."""


@dataclass(frozen=True)
class Summary:
    """Counts over a whole Spark run, as ``claimscrub check`` prints them."""

    claims: int
    lines: int
    clean: int
    warning: int
    error: int
    rejected: int
    findings: dict[str, int]  # severity -> count (rejected inputs and engine errors aside)
    engine_errors: int


@dataclass
class SparkScrub:
    """The result of a Spark run, as lazy DataFrames over one ``mapInArrow`` pipeline.

    ``findings`` and ``claims`` are two views of the same rows: call :meth:`persist` before
    using both (or :meth:`summary` too), or Spark runs the engine once for each.
    """

    rows: DataFrame  # every output row; ``kind`` says which view it belongs to
    plan: Plan

    @property
    def findings(self) -> DataFrame:
        """One row per finding, rejected input and failed rule: the local Parquet table."""
        return self.rows.filter(F.col(ex.ROW_KIND) == "finding").select(*FINDING_SCHEMA)

    @property
    def claims(self) -> DataFrame:
        """Every checked claim: ``input``, ``claim_id``, ``status`` (error, warning, clean)."""
        return self.rows.filter(F.col(ex.ROW_KIND) == "claim").select(*CLAIM_SCHEMA)

    def persist(self) -> SparkScrub:
        """Keep the rows once computed (memory, then disk) for several actions."""
        self.rows.persist()
        return self

    def unpersist(self) -> None:
        """Release what :meth:`persist` kept."""
        self.rows.unpersist()

    def summary(self) -> Summary:
        """Counts of claims, lines, statuses, findings by severity, rejected inputs."""
        kind, rule = F.col(ex.ROW_KIND), F.col("rule")
        finding = (kind == "finding") & ~rule.isin(INPUT_RULE, ENGINE_RULE)

        def count(condition: Column) -> Column:
            return F.coalesce(F.sum(F.when(condition, 1).otherwise(0)), F.lit(0))

        severities = ("error", "warning", "info")
        row = self.rows.agg(
            count(kind == "claim").alias("claims"),
            F.coalesce(F.sum(F.when(kind == "chunk", F.col(ex.LINES_CHECKED))), F.lit(0)).alias(
                "lines"
            ),
            *[
                count((kind == "claim") & (F.col("status") == s)).alias(s)
                for s in ("clean", "warning", "error")
            ],
            count((kind == "finding") & (F.col("name") == REJECTED_NAME)).alias("rejected"),
            count((kind == "finding") & (rule == ENGINE_RULE)).alias("engine_errors"),
            *[count(finding & (F.col("severity") == s)).alias(f"f_{s}") for s in severities],
        ).first()
        assert row is not None
        return Summary(
            claims=row["claims"],
            lines=row["lines"],
            clean=row["clean"],
            warning=row["warning"],
            error=row["error"],
            rejected=row["rejected"],
            findings={s: row[f"f_{s}"] for s in severities},
            engine_errors=row["engine_errors"],
        )


# --- staging -------------------------------------------------------------------------------------


def _same_type(spark_simple: str, ddl_type: str) -> bool:
    return spark_simple.replace(" ", "") == ddl_type.replace("`", "").replace(" ", "")


def _canonical(frame: DataFrame, source: Column, position: Column | None = None) -> DataFrame:
    """A flat line table with every canonical column in its canonical type, plus ``_bad``.

    Unknown columns are an error naming them. A column of another type is cast; a cell
    the cast turns to null is named in ``_bad`` and rejects its claim on the executor.
    """
    known = set(ex.FLAT_SCHEMA) | set(DERIVED)
    internal = [F.col(n) for n in frame.columns if n.startswith("_")]
    unknown = [name for name in frame.columns if name not in known and not name.startswith("_")]
    if unknown:
        raise SparkInputError("unknown column(s) " + ", ".join(unknown))
    present = set(frame.columns)
    if c.CLAIM_ID not in present:
        raise SparkInputError("no claim_id column")
    types = dict(frame.dtypes)
    columns, problems = [], []
    for name, dtype in ex.FLAT_SCHEMA.items():
        target = spark_type(dtype)
        if name not in present:
            columns.append(F.lit(None).cast(target).alias(name))
            continue
        value = F.col(f"`{name}`")
        if _same_type(types[name], target):
            columns.append(value)
            continue
        cast = value.try_cast(target)
        columns.append(cast.alias(name))
        if not dtype.is_nested():
            shown = F.coalesce(value.cast("string"), F.lit(types[name]))
            where = (
                [F.lit("row "), (position + 1).cast("string"), F.lit(", ")]
                if position is not None
                else []
            )
            problems.append(
                F.when(
                    value.isNotNull() & cast.isNull(),
                    F.concat(
                        *where,
                        F.lit(f"column {name}: "),
                        shown,
                        F.lit(f" is not a {type_words(dtype)}"),
                    ),
                )
            )
    # Problems are worked out from the cells as given, in the same select as the casts.
    bad = F.concat_ws("; ", *problems) if problems else F.lit(None).cast("string")
    staged = frame.select(*columns, *internal, bad.alias(BAD))
    if position is not None:  # a row without its own location is located in the table
        staged = staged.withColumn(
            c.ROW, F.when(F.col(c.SRC).isNull(), position + 1).otherwise(F.col(c.ROW))
        )
    staged = staged.withColumn(c.SRC, F.coalesce(F.col(c.SRC), source))
    staged = staged.withColumn(HISTORY, F.coalesce(F.col(HISTORY), F.lit(False)))
    if c.CLAIM_KEY not in present:  # claims told apart by (src, claim id, history)
        staged = staged.withColumn(
            c.CLAIM_KEY, F.xxhash64(F.col(c.SRC), F.col(c.CLAIM_ID), F.col(HISTORY))
        )
    return staged


def _staged(
    frame: DataFrame,
    source: Column,
    input_id: Column,
    seq: Column,
    history: bool,
    position: Column | None = None,
) -> DataFrame:
    staged = _canonical(frame, source, position)
    if history:
        staged = staged.withColumn(HISTORY, F.lit(True))
    return staged.select(
        *ex.FLAT_SCHEMA,
        input_id.alias(ex.INPUT),
        seq.alias(ex.SEQ),
        F.lit("line").alias(ex.KIND),
        F.when(F.col(BAD) != "", F.col(BAD)).alias(ex.REASON),
    )


def _is_parquet(arg: str) -> bool:
    path = Path(arg)
    if arg.lower().endswith(PARQUET_SUFFIXES):
        return True
    return path.is_dir() and any(p.suffix.lower() in PARQUET_SUFFIXES for p in path.iterdir())


def _stage_parquet(spark: SparkSession, arg: str, index: int, history: bool) -> DataFrame:
    frame = spark.read.parquet(arg)
    file_path = F.col("_metadata.file_path")
    local = F.regexp_replace(file_path, "^file:(//)?", "")
    source = F.lit(arg) if Path(arg).is_file() else local
    frame = frame.select(
        *[F.col(f"`{n}`") for n in frame.columns],
        F.concat(F.lit(f"{index}:"), file_path).alias("_in"),
        F.col("_metadata.row_index").alias("_pos"),
        source.alias("_src"),
    )
    return _staged(frame, F.col("_src"), F.col("_in"), F.col("_pos"), history, F.col("_pos"))


def _stage_files(
    spark: SparkSession, args: list[tuple[int, str, bool]], partitions: int
) -> DataFrame:
    parts = [
        spark.read.format("binaryFile")
        .load(arg)
        .select(
            "path",
            "content",
            F.lit(arg).alias("given"),
            F.lit(index).alias("arg"),
            F.lit(history).alias("history"),
        )
        for index, arg, history in args
    ]
    files = functools.reduce(DataFrame.unionByName, parts)
    # One file per task where possible: reading X12 is the expensive part of this stage.
    files = files.repartition(partitions, "path")
    return files.mapInArrow(ex.read_files, ddl(ex.STAGED_SCHEMA))


def _without_empty_columns(staged: DataFrame) -> DataFrame:
    """Leave out the canonical columns that hold no value in the whole input.

    Most inputs fill a third of the ~80 canonical columns. Moving empty ones through the
    shuffle and the JVM-to-Python Arrow transfer costs as much as moving full ones, so a
    first scan counts the values of each column; executors put the empty ones back as
    nulls. The scan reads the input once more (cheap for Parquet, columnar).
    """
    keys = {c.CLAIM_KEY, c.CLAIM_ID, c.SRC, HISTORY}
    optional = [name for name in ex.FLAT_SCHEMA if name not in keys]
    counts = staged.agg(*[F.count(F.col(f"`{n}`")).alias(n) for n in optional]).first()
    assert counts is not None
    return staged.drop(*[name for name in optional if counts[name] == 0])


def _partitions(spark: SparkSession, partitions: int | None) -> int:
    return partitions or max(2, 2 * spark.sparkContext.defaultParallelism)


def _scrub_staged(staged: DataFrame, job: Job, plan: Plan, partitions: int) -> SparkScrub:
    claim = F.concat_ws(
        ":",
        F.lit("claim"),
        F.col(ex.INPUT),
        F.col(HISTORY).cast("string"),
        F.col(c.CLAIM_KEY).cast("string"),
    )
    patient = F.when(
        F.col(ex.KIND).isin("rejected", "warning"), F.concat(F.lit("rejected:"), F.col(c.SRC))
    ).otherwise(F.coalesce(F.col(c.PATIENT_ID), claim) if c.PATIENT_ID in staged.columns else claim)
    ordered = (
        staged.withColumn(ex.PATIENT, patient)
        .repartition(partitions, ex.PATIENT)
        .sortWithinPartitions(ex.PATIENT, ex.INPUT, HISTORY, c.CLAIM_KEY, ex.SEQ)
    )
    rows = ordered.mapInArrow(functools.partial(ex.scrub_batches, job), ddl(ex.OUTPUT_SCHEMA))
    return SparkScrub(rows=rows, plan=plan)


def scrub_lines(
    lines: DataFrame,
    options: ScrubOptions | None = None,
    *,
    plan: Plan | None = None,
    partitions: int | None = None,
    chunk_lines: int = DEFAULT_CHUNK_LINES,
    source: str = "dataframe",
) -> SparkScrub:
    """Check a Spark DataFrame of canonical lines (the flat table of ``claimscrub convert``).

    Args:
        lines: one row per line with the claim's columns; ``history`` marks claims
            already billed. Missing columns are null; unknown ones are an error.
        options: what to check (rule selection, packs, overrides); defaults as the CLI.
        plan: a plan already resolved on the driver (``options`` is then not used),
            e.g. with packs adjusted after :func:`~claimscrub.engine.scrub.make_plan`.
        partitions: partitions after the shuffle by patient (default: twice the cores).
        chunk_lines: lines per engine call on an executor (bounds worker memory).
        source: the input name for rows without a ``src``.

    Raises:
        SparkInputError: unknown columns or no ``claim_id``.
        SelectionError, PackError, RefDataError: as :func:`~claimscrub.engine.scrub.make_plan`.
    """
    job, plan = make_job(options, plan, chunk_lines)
    staged = _staged(
        lines.select([F.col(f"`{n}`") for n in lines.columns if not n.startswith("_")]),
        F.lit(source),
        F.lit("0"),
        F.monotonically_increasing_id(),
        history=False,
    )
    staged = _without_empty_columns(staged)
    return _scrub_staged(staged, job, plan, _partitions(lines.sparkSession, partitions))


def scrub_paths(
    spark: SparkSession,
    inputs: Sequence[str | os.PathLike[str]],
    *,
    history: Sequence[str | os.PathLike[str]] = (),
    options: ScrubOptions | None = None,
    plan: Plan | None = None,
    partitions: int | None = None,
    chunk_lines: int = DEFAULT_CHUNK_LINES,
) -> SparkScrub:
    """Check claim files on Spark: X12 837, Claims JSON, Claims CSV, or flat Parquet.

    Each argument may be a file, a folder or a glob, on any file system Spark reads
    (``hdfs://``, ``s3a://``, ``file:``). Parquet is recognised by its ``.parquet`` /
    ``.pq`` name (or a folder of such files) and read by Spark; every other file is read
    on an executor by the readers of a local run, which recognise the format by content.

    Args:
        spark: the session.
        inputs: claims to check.
        history: claims already billed (every claim of these inputs is history).
        options, plan, partitions, chunk_lines: as :func:`scrub_lines`.
    """
    job, plan = make_job(options, plan, chunk_lines)
    n = _partitions(spark, partitions)
    named = [(os.fspath(p), False) for p in inputs] + [(os.fspath(p), True) for p in history]
    if not named:
        raise SparkInputError("no input given")
    parquet = [(i, arg, h) for i, (arg, h) in enumerate(named) if _is_parquet(arg)]
    others = [(i, arg, h) for i, (arg, h) in enumerate(named) if not _is_parquet(arg)]
    parts = [_stage_parquet(spark, arg, i, h) for i, arg, h in parquet]
    if others:
        parts.append(_stage_files(spark, others, n))
    staged = functools.reduce(DataFrame.unionByName, parts)
    if not others:  # files read on executors would be read twice: keep every column
        staged = _without_empty_columns(staged)
    return _scrub_staged(staged, job, plan, n)
