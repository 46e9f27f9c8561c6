"""A big batch is checked the way a small one is: same findings, line for line.

On big batches the engine works shared facts out once per distinct key and spreads them
to the lines by position, runs a rule that judges each line alone (``distinct_on``)
once per distinct combination of its columns, and collects all rules as one query; on
small ones it does all of that on the lines themselves, rule by rule (and keeps the
answers of reference-data lookups by date class, not by date); facts that read the date
only through lookups are worked out per date class on both. All must agree
on every rule case: here every case claim of the rule case files (without history or
options) goes into one batch per forced payer pack, and the whole catalogue runs both
ways.
"""

from __future__ import annotations

import json
from typing import Any

import polars as pl
import pytest

import claimscrub.engine.evaluate as engine
import claimscrub.engine.prepare as preparation
import claimscrub.rules.batch as batch_facts
import claimscrub.rules.querying as querying
from claimscrub.engine.evaluate import evaluate
from claimscrub.engine.prepare import prepare_lines
from claimscrub.readers.json_claims import read_json_claims
from claimscrub.refdata.catalog import default_refdata
from claimscrub.rules.context import RuleContext
from claimscrub.rules.registry import load_builtin_rules
from rule_cases import all_case_packs, build_claim, case_files


def _case_claims() -> dict[str | None, list[dict[str, Any]]]:
    """Case claims by forced pack (None: each claim's own pack)."""
    groups: dict[str | None, list[dict[str, Any]]] = {}
    for spec in case_files():
        for case in spec["cases"].values():
            if case.get("history") or case.get("options"):
                continue
            group = groups.setdefault(case.get("pack"), [])
            group.append(build_claim(spec, case, claim_id=f"CASE-{len(group) + 1}"))
    return groups


GROUPS = _case_claims()


@pytest.mark.parametrize("pack", sorted(GROUPS, key=str))
def test_distinct_evaluation_matches_line_by_line(
    pack: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = {"claims": GROUPS[pack]}
    batch, _ = read_json_claims(json.dumps(document).encode(), "cases.json")
    packs = all_case_packs()  # the cases' user packs too
    rules = list(load_builtin_rules().values())
    assert any(r.distinct_on for r in rules)
    prepared = {}

    def run(small_below: int) -> pl.DataFrame:
        monkeypatch.setattr(engine, "DISTINCT_MIN_LINES", small_below)
        monkeypatch.setattr(engine, "SMALL_BATCH_LINES", small_below)
        monkeypatch.setattr(batch_facts, "SMALL_BATCH", small_below)
        monkeypatch.setattr(preparation, "SMALL_BATCH", small_below)
        claims, lines = prepare_lines(batch.lines, batch.claims, packs, pack)
        prepared[small_below] = (claims, lines)
        result = evaluate(rules, lines, claims, default_refdata(), packs=packs)
        assert not result.broken, result.broken
        return result.findings

    per_line, per_combination = run(10**12), run(0)
    for small, big in zip(prepared[10**12], prepared[0], strict=True):
        assert big.equals(small)
    assert per_line.height > 0
    assert per_combination.equals(per_line)
    # Small batches keep lookup answers by date class, and facts that read the date only
    # through lookups are worked out per date class on batches of any size; keyed by the
    # date itself instead, every finding is the same.
    monkeypatch.setattr(engine, "LOOKUP_DATE_CLASSES", False)
    monkeypatch.setattr(engine, "FACTS_DATE_CLASSES", False)
    assert run(10**12).equals(per_line)
    assert run(0).equals(per_line)
    # Rules that apply to no line of a batch are left out of it (a forced commercial pack
    # has no Medicare benefit line); run anyway, they find nothing more.
    monkeypatch.setattr(engine, "APPLIES_WHEN", False)
    assert run(10**12).equals(per_line)
    # A small batch's queries are not optimised by Polars; optimised, nothing changes.
    monkeypatch.setattr(querying, "OPTIMISE_SMALL", True)
    assert run(10**12).equals(per_line)
    monkeypatch.setattr(querying, "OPTIMISE_SMALL", False)
    # Small queries run on Polars' thread pool; collected where they are built instead,
    # nothing changes.
    monkeypatch.setattr(querying, "POOL_QUERIES", False)
    assert run(10**12).equals(per_line)
    assert run(0).equals(per_line)


def test_rules_give_the_same_findings_without_the_engine_memo() -> None:
    """Rule helpers also run on plain reference data (joins instead of the engine's
    per-batch memo), as a rule-pack author calling a rule directly would: same rows."""
    document = {"claims": GROUPS[None]}
    batch, _ = read_json_claims(json.dumps(document).encode(), "cases.json")
    packs = all_case_packs()  # the cases' user packs too
    claims, lines = prepare_lines(batch.lines, batch.claims, packs, None)
    refdata = default_refdata()
    key = ["claim_key", "line_no", "rule", "message", "fix"]
    for rule in load_builtin_rules().values():
        via_engine = evaluate([rule], lines, claims, refdata, packs=packs)
        if via_engine.skipped:
            continue
        ctx = RuleContext(
            lines=lines.lazy(),
            claims=claims.lazy(),
            refdata=refdata,
            options=dict(rule.options),
            packs=packs,
        )
        direct = engine._plan(rule, rule.func(ctx)).collect()
        found = via_engine.findings.filter(pl.col("rule") == rule.code)
        assert (
            direct.select(key)
            .sort(key, nulls_last=True)
            .equals(found.select(key).sort(key, nulls_last=True))
        ), rule.code
