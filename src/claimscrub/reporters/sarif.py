"""SARIF 2.1.0: the rule catalogue under ``tool.driver.rules``, one result per finding.

Each result names its file (``physicalLocation``; CSV rows as line numbers, the header
being line 1) and, as SARIF's ``logicalLocations``, the claim and line it concerns; the
payer's likely answer, the finding's confidence and the fix travel in ``properties``
(the rule's default confidence in its descriptor's ``properties``).

What is not a finding is a notification of the run's one ``invocation``
(``toolExecutionNotifications``), located the same way: each rejected input (level
``error``, descriptor ``rejected-input``), each input warning (``warning``,
``input-warning``) and each rule that failed to run (``error``, its rule associated).
So every input claim is accounted for here too: as a result's claim or as a rejection.
"""

from __future__ import annotations

import json
from typing import Any, TextIO

from claimscrub.reporters.csv_report import REJECTED_NAME, WARNING_NAME
from claimscrub.rules.registry import load_builtin_rules

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def _rule_descriptors() -> list[dict[str, Any]]:
    out = []
    for rule in sorted(load_builtin_rules().values(), key=lambda r: r.code):
        out.append(
            {
                "id": rule.code,
                "name": rule.name,
                "shortDescription": {"text": rule.summary},
                "fullDescription": {"text": rule.doc},
                "help": {"text": rule.doc, "markdown": rule.doc},
                "helpUri": f"docs/rules/{rule.code}.md",
                "defaultConfiguration": {"level": _LEVEL[rule.severity.value]},
                "properties": {
                    "carc": rule.carc,
                    "rarc": list(rule.rarc),
                    "category": rule.category,
                    "confidence": rule.confidence.value,
                },
            }
        )
    return out


def _physical(uri: str, row: int | None) -> dict[str, Any]:
    """A file and, for a CSV data row, its line (the header is line 1)."""
    physical: dict[str, Any] = {"artifactLocation": {"uri": uri}}
    if row is not None:
        physical["region"] = {"startLine": int(row) + 1}
    return physical


def _location(claim: dict[str, Any], finding: dict[str, Any]) -> dict[str, Any]:
    loc = finding.get("location") or {}
    physical = _physical(claim["source"], loc.get("row"))
    line = finding.get("line")
    name = f"{claim['id']}/line {line}" if line is not None else claim["id"]
    logical = {
        "name": name,
        "fullyQualifiedName": f"{claim['source']}::{name}",
        "kind": "claim line" if line else "claim",
    }
    return {"physicalLocation": physical, "logicalLocations": [logical]}


def _input_notification(item: dict[str, Any], level: str, kind: str) -> dict[str, Any]:
    physical = _physical(item.get("src", ""), item.get("row"))
    where = {
        key: item[key] for key in ("claim_id", "seg_ordinal", "row", "json_path") if key in item
    }
    return {
        "level": level,
        "descriptor": {"id": kind},
        "message": {"text": item.get("reason", "")},
        "locations": [{"physicalLocation": physical}],
        "properties": where,
    }


def _invocation(result: dict[str, Any], index: dict[str, int]) -> dict[str, Any]:
    """The run's invocation: whether every rule ran, and its notifications."""
    notes = [_input_notification(r, "error", REJECTED_NAME) for r in result["rejected"]]
    notes += [
        _input_notification(w, "warning", WARNING_NAME) for w in result.get("input_warnings", [])
    ]
    failed = result.get("engine_errors", [])
    for e in failed:
        rule: dict[str, Any] = {"id": e["rule"]}
        if e["rule"] in index:
            rule["index"] = index[e["rule"]]
        notes.append(
            {
                "level": "error",
                "descriptor": {"id": "rule-failed"},
                "associatedRule": rule,
                "message": {"text": f"rule {e['rule']} failed and was not applied: {e['error']}"},
            }
        )
    return {"executionSuccessful": not failed, "toolExecutionNotifications": notes}


def document(result: dict[str, Any]) -> dict[str, Any]:
    """The SARIF log of a result document."""
    rules = _rule_descriptors()
    index = {r["id"]: i for i, r in enumerate(rules)}
    results = []
    for claim in result["claims"]:
        for f in claim["findings"]:
            item: dict[str, Any] = {
                "ruleId": f["rule"],
                "level": _LEVEL[f["severity"]],
                "message": {"text": f["message"]},
                "locations": [_location(claim, f)],
                "properties": {
                    "claim": claim["id"],
                    "line": f.get("line"),
                    "confidence": f.get("confidence"),
                    "carc": f.get("carc"),
                    "rarc": f.get("rarc", []),
                    "source": f.get("source"),
                    "x12": (f.get("location") or {}).get("x12"),
                    "json_path": (f.get("location") or {}).get("json_path"),
                },
            }
            if f["rule"] in index:
                item["ruleIndex"] = index[f["rule"]]
            if "fix" in f:
                item["properties"]["fix"] = f["fix"]
                item["properties"]["fix_title"] = f.get("fix_title")
                item["properties"]["applicability"] = f.get("applicability")
            results.append(item)
    meta = result["claimscrub"]
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "claimscrub",
                        "version": meta["version"],
                        "rules": rules,
                    }
                },
                "invocations": [_invocation(result, index)],
                "results": results,
                "properties": {
                    "refdata": meta["refdata"],
                    "rules_hash": meta.get("rules_hash"),
                    # --min-confidence: the level, and how many findings below it are absent
                    "min_confidence": meta.get("min_confidence", "low"),
                    "hidden_findings": result["summary"].get("hidden_findings", 0),
                },
            }
        ],
    }


def render(result: dict[str, Any], stream: TextIO, fmt: str) -> None:
    """Write the SARIF log."""
    json.dump(document(result), stream, indent=2, ensure_ascii=False)
    stream.write("\n")
