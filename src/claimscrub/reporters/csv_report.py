"""Findings as CSV for spreadsheets: one row per finding, then one per rejected input."""

from __future__ import annotations

import csv
import json
from typing import Any, TextIO

COLUMNS = (
    "claim_id", "claim_status", "input", "line", "rule", "name", "severity", "confidence", "message",
    "carc", "rarc", "fix", "fix_title", "applicability", "source", "x12_loop", "x12_segment",
    "x12_ordinal", "row", "json_path",
)  # fmt: skip


def rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The CSV rows of a result document."""
    out = []
    for claim in result["claims"]:
        for f in claim["findings"]:
            loc = f.get("location") or {}
            x12 = loc.get("x12") or {}
            out.append(
                {
                    "claim_id": claim["id"],
                    "claim_status": claim["status"],
                    "input": claim["source"],
                    "line": f.get("line"),
                    "rule": f["rule"],
                    "name": f["name"],
                    "severity": f["severity"],
                    "confidence": f.get("confidence"),
                    "message": f["message"],
                    "carc": f.get("carc"),
                    "rarc": ";".join(f.get("rarc") or []),
                    "fix": json.dumps(f["fix"], ensure_ascii=False) if "fix" in f else None,
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
    for r in result["rejected"]:
        out.append(
            {
                "claim_id": r.get("claim_id"),
                "claim_status": "rejected",
                "input": r.get("src"),
                "rule": "INPUT",
                "name": "rejected-input",
                "severity": "error",
                "confidence": "high",  # the input certainly could not be read
                "message": r.get("reason"),
                "x12_ordinal": r.get("seg_ordinal"),
                "row": r.get("row"),
                "json_path": r.get("json_path"),
            }
        )
    return out


def render(result: dict[str, Any], stream: TextIO, fmt: str) -> None:
    """Write the findings CSV (header always, even with no findings)."""
    writer = csv.DictWriter(stream, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows(result))
