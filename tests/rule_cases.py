"""The rule case files and the claims they describe, shared by every test that runs them.

A case file (``tests/rules/cases/<CODE>.yaml``) holds ``defaults`` (claim, line),
``cases`` and optionally ``packs`` (user pack files, relative to ``tests/``); a case's
claim is the file's defaults with the case's overrides merged in, in the public Claims
JSON format. ``run_rule_case`` reads that claim with the real JSON
reader and evaluates the file's rule against the real bundled reference data.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from claimscrub.engine.evaluate import Evaluation, evaluate
from claimscrub.engine.prepare import prepare_lines
from claimscrub.payers.packs import Pack, load_packs
from claimscrub.readers.json_claims import read_json_claims
from claimscrub.refdata.catalog import default_refdata
from claimscrub.rules.registry import Rule, load_builtin_rules

CASES_DIR = Path(__file__).parent / "rules" / "cases"
TESTS_DIR = Path(__file__).parent


def case_files() -> list[dict[str, Any]]:
    """Every case file, parsed, in file-name order."""
    return [yaml.safe_load(path.read_text()) for path in sorted(CASES_DIR.glob("*.yaml"))]


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def jsonable(value: Any) -> Any:
    """YAML's dates as the ISO strings the JSON format carries."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    return value


def build_claim(
    spec: dict[str, Any], case: dict[str, Any], claim_id: str = "CASE-1"
) -> dict[str, Any]:
    """One claim in the public JSON format from a case file's defaults and a case."""
    defaults = spec.get("defaults", {})
    claim = _merge({"id": claim_id, "type": "professional"}, defaults.get("claim", {}))
    claim = _merge(claim, case.get("claim", {}))
    claim["lines"] = [
        _merge(_merge({"number": number}, defaults.get("line", {})), line)
        for number, line in enumerate(case.get("lines", []), start=1)
    ]
    return jsonable(claim)


def case_packs(spec: dict[str, Any]) -> dict[str, Pack]:
    """The built-in packs, plus the user pack files the case file names (``packs``, paths
    relative to ``tests/``), as ``--policy`` would read them."""
    return load_packs([TESTS_DIR / path for path in spec.get("packs", [])])


def all_case_packs() -> dict[str, Pack]:
    """The built-in packs plus every user pack file any case file names."""
    return load_packs(
        sorted({TESTS_DIR / path for spec in case_files() for path in spec.get("packs", [])})
    )


@dataclass
class RuleCaseRun:
    """The case's rule evaluated on the case's claim: the rule, prepared lines, result."""

    rule: Rule
    lines: pl.DataFrame
    result: Evaluation

    @property
    def findings(self) -> pl.DataFrame:
        """The findings of the case's rule only."""
        return self.result.findings.filter(pl.col("rule") == self.rule.code)


def run_rule_case(spec: dict[str, Any], case: dict[str, Any]) -> RuleCaseRun:
    """Read the case's claim (and history) and evaluate the file's rule on it."""
    rule = load_builtin_rules()[spec["rule"]]
    # ``earlier_claims``: claims of the same batch before the case's claim (a rule that
    # compares the claims of a batch); only the case's claim is expected to have findings.
    claims = [*jsonable(case.get("earlier_claims", [])), build_claim(spec, case)]
    document = {"claims": claims, "history": jsonable(case.get("history", []))}
    batch, history = read_json_claims(json.dumps(document).encode(), "case.json")
    assert batch.rejected.height == 0, batch.rejected.to_dicts()
    # ``x12``: claim columns only the X12 reader sets (``implementation_guide`` ...), as
    # an 837 would give them.
    for name, value in case.get("x12", {}).items():
        batch.claims = batch.claims.with_columns(pl.lit(value).alias(name))
    packs = case_packs(spec)
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
    return RuleCaseRun(rule=rule, lines=lines, result=result)
