"""Findings as CSV for spreadsheets: one row per finding, then one per rejected input and
one per input warning (what a reader noticed but read anyway)."""

from __future__ import annotations

import csv
import json
from typing import Any, TextIO

COLUMNS = (
    "claim_id", "claim_status", "input", "line", "rule", "name", "severity", "confidence", "message",
    "carc", "rarc", "fix", "fix_title", "applicability", "source", "x12_loop", "x12_segment",
    "x12_ordinal", "row", "json_path",
)  # fmt: skip
INPUT_RULE = "INPUT"  # the rule column of a rejected input's row and of an input warning's
REJECTED_NAME = "rejected-input"  # the name column tells the two apart
WARNING_NAME = "input-warning"


def finding_records(result: dict[str, Any]) -> list[dict[str, Any]]:
    """One flat record per finding, then one per rejected input and one per input warning,
    in the CSV columns.

    ``rarc`` is the list of remark codes and ``fix`` the corrected values (a dict, or
    None; both absent on an input's record); each table format writes them its own way
    (CSV here, Parquet in :mod:`claimscrub.reporters.parquet_report`). An input warning's
    claim, when it names one, is checked all the same: its status is on its findings.
    """
    out = []
    for claim in result["claims"]:
        for f in claim["findings"]:
            loc = f.get("location") or {}
            x12 = loc.get("x12") or {}
            out.append(
                {
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
                    "fix": f.get("fix"),
                    "fix_title": f.get("fix_title"),
                    "applicability": f.get("applicability"),
                    "source": f.get("source"),
                    "x12_loop": x12.get("loop"),
                    "x12_segment": x12.get("segment"),
                    "x12_ordinal": x12.get("ordinal"),
                    "row": loc.get("row"),
                    "json_path": loc.get("json_path"),
                }
            )
    out.extend(_input_record(r, rejected=True) for r in result.get("rejected", []))
    out.extend(_input_record(r, rejected=False) for r in result.get("input_warnings", []))
    return out


def _input_record(item: dict[str, Any], *, rejected: bool) -> dict[str, Any]:
    """The record of a rejected input or of an input warning (located like a finding)."""
    return {
        "claim_id": item.get("claim_id"),
        "claim_status": "rejected" if rejected else None,
        "input": item.get("src"),
        "rule": INPUT_RULE,
        "name": REJECTED_NAME if rejected else WARNING_NAME,
        "severity": "error" if rejected else "warning",
        "confidence": "high",  # the reader certainly saw it
        "message": item.get("reason"),
        "x12_ordinal": item.get("seg_ordinal"),
        "row": item.get("row"),
        "json_path": item.get("json_path"),
    }


def rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The CSV rows of a result document."""
    out = finding_records(result)
    for record in out:
        record["rarc"] = ";".join(record.get("rarc") or [])
        fix = record.get("fix")
        record["fix"] = json.dumps(fix, ensure_ascii=False) if fix is not None else None
    return out


def render(result: dict[str, Any], stream: TextIO, fmt: str) -> None:
    """Write the findings CSV (header always, even with no findings)."""
    writer = csv.DictWriter(stream, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows(result))
