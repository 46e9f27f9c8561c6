"""Scale-out: the same engine on Spark, with the same findings as a local run.

Partitions are formed by patient, so look-back rules see each patient's whole history;
each executor runs the unchanged Polars engine on Arrow batches (``mapInArrow``), with a
plan built once per Python worker. Reference data ships inside the installed package;
payer policy packs travel with the job. See ``docs/spark.md``.

>>> from claimscrub.spark import scrub_paths, spark_session  # doctest: +SKIP
>>> run = scrub_paths(spark_session("local[2]"), ["claims/"], history=["billed/"])  # doctest: +SKIP
>>> run.findings.write.parquet("findings.parquet")  # doctest: +SKIP

Needs the ``spark`` extra (``pip install 'claimscrub[spark]'``).
"""

from __future__ import annotations

from claimscrub.spark.runner import (
    SparkInputError,
    SparkScrub,
    Summary,
    scrub_lines,
    scrub_paths,
)
from claimscrub.spark.session import spark_session

__all__ = [
    "SparkInputError",
    "SparkScrub",
    "Summary",
    "scrub_lines",
    "scrub_paths",
    "spark_session",
]
