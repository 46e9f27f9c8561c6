"""Findings as a Parquet table, for batches too big to read as text.

One row per finding, then one per rejected input, one per input warning and one per rule
that failed to run, with the columns of the CSV format typed: ``line``, ``x12_ordinal``
and ``row`` are integers, ``rarc`` is a list of remark codes and ``fix`` is the JSON text
of the corrected field values. ``claim_status`` repeats the claim's status on each of its
findings; clean claims have no rows (:func:`claim_rows` lists every claim with its status).

The Spark runner (``claimscrub.spark``) produces the same rows with the same function,
so a table written by ``claimscrub check -o OUT.parquet`` and one written by
``claimscrub check --engine spark -o OUT.parquet`` compare row for row.
"""

from __future__ import annotations

import io
import json
from typing import Any, TextIO

import polars as pl

from claimscrub.reporters.csv_report import finding_records

FINDING_SCHEMA = pl.Schema(
    {
        "claim_id": pl.String(),
        # error / warning / clean; "rejected" for a rejected input, null for an input warning
        "claim_status": pl.String(),
        "input": pl.String(),  # the file the claim was read from
        "line": pl.Int64(),
        "rule": pl.String(),
        "name": pl.String(),
        "severity": pl.String(),
        "confidence": pl.String(),  # high / medium / low
        "message": pl.String(),
        "carc": pl.String(),
        "rarc": pl.List(pl.String()),
        "fix": pl.String(),  # JSON object of corrected field values, or null
        "fix_title": pl.String(),
        "applicability": pl.String(),
        "source": pl.String(),
        "x12_loop": pl.String(),
        "x12_segment": pl.String(),
        "x12_ordinal": pl.Int64(),
        "row": pl.Int64(),
        "json_path": pl.String(),
    }
)
CLAIM_SCHEMA = pl.Schema({"input": pl.String(), "claim_id": pl.String(), "status": pl.String()})
ENGINE_RULE = "ENG001"


def finding_rows(result: dict[str, Any]) -> pl.DataFrame:
    """The table of a result document (``Report.to_dict()``), in :data:`FINDING_SCHEMA`."""
    records = finding_records(result)
    for record in records:
        fix = record.get("fix")
        record["fix"] = (
            json.dumps(fix, ensure_ascii=False, separators=(",", ":")) if fix is not None else None
        )
    for e in result.get("engine_errors", []):
        records.append(
            {
                "rule": ENGINE_RULE,
                "name": "rule-failed",
                "severity": "error",
                "confidence": "high",
                "message": f"rule {e['rule']} failed and was not applied: {e['error']}",
            }
        )
    return pl.DataFrame(records, schema=FINDING_SCHEMA)


def claim_rows(result: dict[str, Any]) -> pl.DataFrame:
    """Every checked claim with its status (rejected inputs are in :func:`finding_rows`)."""
    records = [
        {"input": claim.get("source"), "claim_id": claim["id"], "status": claim["status"]}
        for claim in result["claims"]
    ]
    return pl.DataFrame(records, schema=CLAIM_SCHEMA)


def render(result: dict[str, Any], stream: TextIO, fmt: str) -> None:
    """Write the findings table as Parquet (zstd) to the binary buffer under ``stream``.

    Raises:
        ValueError: ``stream`` is a text-only stream (Parquet is binary).
    """
    target = getattr(stream, "buffer", None)
    if target is None:
        raise ValueError("Parquet is binary: write it to a file (-o OUT.parquet)")
    data = io.BytesIO()
    finding_rows(result).write_parquet(data, compression="zstd")
    stream.flush()
    target.write(data.getvalue())
    target.flush()
