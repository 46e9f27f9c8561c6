"""``claimscrub check --engine spark``: the Spark run behind the command line.

The findings table is written by Spark as a Parquet dataset (a folder of part files)
at ``-o``; the counts the command prints and its exit code come from the same rows,
kept once computed, so the engine runs once.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from claimscrub.engine.scrub import Plan
from claimscrub.spark.job import DEFAULT_CHUNK_LINES
from claimscrub.spark.runner import SparkInputError, Summary, scrub_paths
from claimscrub.spark.session import spark_session

_RANK = {"info": 0, "warning": 1, "error": 2}
PARTITIONS_CONF = "spark.claimscrub.partitions"  # partitions after the shuffle by patient
CHUNK_LINES_CONF = "spark.claimscrub.chunkLines"  # lines per engine call on an executor


def _check_target(output: str) -> None:
    """Refuse to replace a local folder that is not an earlier Spark output."""
    path = Path(output)
    if "://" in output or not path.is_dir():
        return
    if any(path.iterdir()) and not (path / "_SUCCESS").exists():
        raise SparkInputError(
            f"{output}: is a folder that Spark did not write; choose another -o name"
        )


def _last_error(text: str) -> str:
    """The ``SomeError: message`` line of a Python traceback relayed by Spark."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if re.match(r"^[A-Za-z_.]*(Error|Exception): ", line)]
    return errors[-1] if errors else (lines[-1] if lines else text)


def run_check(
    paths: Sequence[str],
    history: Sequence[str],
    plan: Plan,
    *,
    output: str,
    master: str | None = None,
    partitions: int | None = None,
) -> Summary:
    """Check ``paths`` on Spark, write the findings table to ``output``, return the counts.

    Raises:
        SparkInputError: standard input, a missing input, or an output that must not be
            replaced.
    """
    from pyspark.errors import AnalysisException, PythonException

    if "-" in paths:
        raise SparkInputError("--engine spark reads files; it cannot read standard input")
    local = [p for p in [*paths, *history] if "://" not in p and not any(g in p for g in "*?[")]
    missing = [p for p in local if not os.path.exists(p)]  # noqa: PTH110
    if missing:
        raise SparkInputError(f"{missing[0]}: no such file")
    _check_target(output)
    from pyspark.sql import SparkSession

    started_here = SparkSession.getActiveSession() is None
    spark = spark_session(master)
    if started_here:
        spark.sparkContext.setLogLevel("ERROR")  # the command's own messages are the report
    try:
        # Tuning travels as Spark configuration: --conf spark.claimscrub.partitions=400
        conf_partitions = spark.conf.get(PARTITIONS_CONF, None)
        chunk_lines = int(spark.conf.get(CHUNK_LINES_CONF, None) or DEFAULT_CHUNK_LINES)
        run = scrub_paths(
            spark,
            paths,
            history=history,
            plan=plan,
            partitions=partitions or (int(conf_partitions) if conf_partitions else None),
            chunk_lines=chunk_lines,
        ).persist()
        try:
            run.findings.write.mode("overwrite").parquet(output)
            return run.summary()
        finally:
            run.unpersist()
    except AnalysisException as exc:
        raise SparkInputError(str(exc).strip().splitlines()[0]) from None
    except PythonException as exc:  # an executor stopped: say why, without the traceback
        raise SparkInputError(f"an executor stopped the job: {_last_error(str(exc))}") from None
    finally:
        if started_here:  # a session the caller made (a notebook, a test) stays open
            spark.stop()


def should_fail(summary: Summary, fail_on: str) -> bool:
    """True when an input was rejected or a finding is at or above ``fail_on``."""
    if summary.rejected:
        return True
    return any(n for severity, n in summary.findings.items() if _RANK[severity] >= _RANK[fail_on])


def summary_text(summary: Summary, output: str) -> str:
    """The closing lines, worded as the local engine's footer."""
    findings = sum(summary.findings.values())
    inputs = "input" if summary.rejected == 1 else "inputs"
    return (
        f"Checked {summary.claims} claims ({summary.lines} lines) on Spark: "
        f"{summary.error} with errors, {summary.warning} with warnings, {summary.clean} clean; "
        f"{findings} findings; {summary.rejected} {inputs} rejected.\n"
        f"Findings written to {output} (a Parquet dataset)."
    )
