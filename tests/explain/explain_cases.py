"""Run the failing cases of ``tests/rules/cases`` and say on which (code, pack, date) each fired.

Shared by the scope test: a rule that fires on a code under a pack must be in the
explanation's scope for that code and pack. The claim is built the way
``tests/rules/test_cases.py`` builds it (file defaults + case overrides, public JSON format).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from claimscrub.engine.evaluate import evaluate
from claimscrub.engine.prepare import prepare_lines
from claimscrub.payers.packs import load_packs
from claimscrub.readers.json_claims import read_json_claims
from claimscrub.refdata.catalog import default_refdata
from claimscrub.rules.registry import load_builtin_rules

CASES_DIR = Path(__file__).resolve().parents[1] / "rules" / "cases"


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def failing_cases() -> Iterator[tuple[dict[str, Any], str, dict[str, Any]]]:
    """(spec, case name, case) for every case that expects findings."""
    for path in sorted(CASES_DIR.glob("*.yaml")):
        spec = yaml.safe_load(path.read_text())
        for name, case in spec["cases"].items():
            if not name.startswith("pass_") and case.get("expect"):
                yield spec, name, case


def fired_on(spec: dict[str, Any], case: dict[str, Any]) -> list[list[tuple[str, str, dt.date]]]:
    """For each finding of the case's rule, the (HCPCS code, pack, date) of its line(s).

    A line finding gives one line; a claim-level finding gives every line of its claim
    (at least one of them is what the rule looked at).
    """
    defaults = spec.get("defaults", {})
    claim = _merge({"id": "CASE-1", "type": "professional"}, defaults.get("claim", {}))
    claim = _merge(claim, case.get("claim", {}))
    claim["lines"] = [
        _merge(_merge({"number": n}, defaults.get("line", {})), line)
        for n, line in enumerate(case.get("lines", []), start=1)
    ]
    document = {"claims": [_jsonable(claim)], "history": _jsonable(case.get("history", []))}
    batch, history = read_json_claims(json.dumps(document).encode(), "case.json")
    packs = load_packs()
    claims, lines = prepare_lines(batch.lines, batch.claims, packs, case.get("pack"))
    past = None
    if history.lines.height:
        past = prepare_lines(history.lines, history.claims, packs, case.get("pack"))[1]
    rule = load_builtin_rules()[spec["rule"]]
    result = evaluate(
        [rule],
        lines,
        claims,
        default_refdata(),
        history=past,
        options={rule.code: case.get("options", {})},
        packs=packs,
    )
    found = result.findings.filter(pl.col("rule") == rule.code)
    out = []
    for row in found.iter_rows(named=True):
        mine = lines.filter(pl.col("claim_key") == row["claim_key"])
        if row["line_no"] is not None:
            mine = mine.filter(pl.col("line_no") == row["line_no"])
        out.append(
            [
                (line["hcpcs"], line["pack"], line["dos_from"])
                for line in mine.iter_rows(named=True)
                if line["hcpcs"]
            ]
        )
    return out
