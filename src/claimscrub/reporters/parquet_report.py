"""Findings as a Parquet table, for batches too big to read as text.

One row per finding, then one per rejected input and one per rule that failed to run,
with the columns of the CSV format typed: ``line``, ``x12_ordinal`` and ``row`` are
integers, ``rarc`` is a list of remark codes and ``fix`` is the JSON text of the corrected
field values. ``claim_status`` repeats the claim's status on each of its findings; clean
claims have no rows (:func:`claim_rows` lists every claim with its status).

The Spark runner (``claimscrub.spark``) produces the same rows with the same function,
so a table written by ``claimscrub check -o OUT.parquet`` and one written by
``claimscrub check --engine spark -o OUT.parquet`` compare row for row.
"""

from __future__ import annotations

import io
import json
from typing import Any, TextIO

import polars as pl

FINDING_SCHEMA = pl.Schema(
    {
        "claim_id": pl.String(),
        "claim_status": pl.String(),  # error / warning / clean, or "rejected" for an input
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
INPUT_RULE, ENGINE_RULE = "INPUT", "ENG001"


def _finding(claim: dict[str, Any], f: dict[str, Any]) -> dict[str, Any]:
    loc = f.get("location") or {}
    x12 = loc.get("x12") or {}
    return {
        "claim_id": claim["id"],
        "claim_status": claim["status"],
        "input": claim.get("source"),
        "line": f.get("line"),
        "rule": f["rule"],
        "name": f["name"],
        "severity": f["severity"],
        "confidence": f.get("confidence"),
        "message": f["message"],
        "carc": f.get("carc"),
        "rarc": list(f.get("rarc") or []),
        "fix": (
            json.dumps(f["fix"], ensure_ascii=False, separators=(",", ":")) if "fix" in f else None
        ),
        "fix_title": f.get("fix_title"),
        "applicability": f.get("applicability"),
        "source": f.get("source"),
        "x12_loop": x12.get("loop"),
        "x12_segment": x12.get("segment"),
        "x12_ordinal": x12.get("ordinal"),
        "row": loc.get("row"),
        "json_path": loc.get("json_path"),
    }


def finding_rows(result: dict[str, Any]) -> pl.DataFrame:
    """The table of a result document (``Report.to_dict()``), in :data:`FINDING_SCHEMA`."""
    records = [_finding(claim, f) for claim in result["claims"] for f in claim["findings"]]
    for r in result.get("rejected", []):
        records.append(
            {
                "claim_id": r.get("claim_id"),
                "claim_status": "rejected",
                "input": r.get("src"),
                "rule": INPUT_RULE,
                "name": "rejected-input",
                "severity": "error",
                "confidence": "high",
                "message": r.get("reason"),
                "x12_ordinal": r.get("seg_ordinal"),
                "row": r.get("row"),
                "json_path": r.get("json_path"),
            }
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
