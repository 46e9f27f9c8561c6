"""Run every rule case file: claims in, expected findings (and fixes) out.

Each case builds one claim in the public Claims JSON format from the file's defaults
and the case's overrides, reads it with the real JSON reader, evaluates the one rule
against the real bundled reference data, and compares the rule's findings.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from claimscrub.engine.evaluate import evaluate
from claimscrub.engine.prepare import prepare_lines
from claimscrub.payers.packs import load_packs
from claimscrub.readers.json_claims import read_json_claims
from claimscrub.refdata.catalog import default_refdata
from claimscrub.rules.registry import load_builtin_rules

CASES_DIR = Path(__file__).parent / "cases"


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


def _load_cases() -> list[Any]:
    params = []
    for path in sorted(CASES_DIR.glob("*.yaml")):
        spec = yaml.safe_load(path.read_text())
        for name, case in spec["cases"].items():
            params.append(pytest.param(spec, name, case, id=f"{spec['rule']}::{name}"))
    return params


def build_claim(spec: dict[str, Any], case: dict[str, Any]) -> dict[str, Any]:
    """One claim in the public JSON format from a case file's defaults and a case."""
    defaults = spec.get("defaults", {})
    claim = _merge({"id": "CASE-1", "type": "professional"}, defaults.get("claim", {}))
    claim = _merge(claim, case.get("claim", {}))
    lines = []
    for number, line in enumerate(case.get("lines", []), start=1):
        lines.append(_merge(_merge({"number": number}, defaults.get("line", {})), line))
    claim["lines"] = lines
    return _jsonable(claim)


def run_case(spec: dict[str, Any], case: dict[str, Any]) -> list[dict[str, Any]]:
    """The findings of the case's rule, as dicts with line, message and fix."""
    rules = load_builtin_rules()
    rule = rules[spec["rule"]]
    document = {"claims": [build_claim(spec, case)], "history": _jsonable(case.get("history", []))}
    batch, history = read_json_claims(json.dumps(document).encode(), "case.json")
    assert batch.rejected.height == 0, batch.rejected.to_dicts()
    packs = load_packs()
    claims, lines = prepare_lines(batch.lines, batch.claims, packs, case.get("pack"))
    past = None
    if history.lines.height:
        past = prepare_lines(history.lines, history.claims, packs, case.get("pack"))[1]
    result = evaluate(
        [rule],
        lines,
        claims,
        default_refdata(),
        history=past,
        options={rule.code: case.get("options", {})},
        packs=packs,
    )
    assert not result.broken, result.broken
    return [
        {
            "line": row["line_no"],
            "message": row["message"],
            "fix": json.loads(row["fix"]) if row["fix"] else None,
            "carc": row["carc"],
            "rarc": row["rarc"],
        }
        for row in result.findings.filter(result.findings["rule"] == rule.code).to_dicts()
    ]


@pytest.mark.parametrize(("spec", "name", "case"), _load_cases())
def test_case(spec: dict[str, Any], name: str, case: dict[str, Any]) -> None:
    found = run_case(spec, case)
    if name.startswith("pass_"):
        assert found == [], found
        return
    expected = case["expect"]
    assert len(found) == len(expected), found
    for got, want in zip(found, expected, strict=True):
        assert got["line"] == want["line"], got
        assert want.get("message_contains", "") in got["message"], got["message"]
        if "fix" in want:
            assert got["fix"] == want["fix"], got
        if "carc" in want:
            assert got["carc"] == want["carc"], got
        if "rarc" in want:
            assert got["rarc"] == want["rarc"], got
