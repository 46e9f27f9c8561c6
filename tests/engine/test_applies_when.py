"""Rules that can report only on some lines (``applies_when``) are left out of a batch
without such a line, and that never changes a finding.

The Medicare benefit rules look only at lines whose payer pack applies the benefit, the
routing rules at lines of one contractor, the payer-policy rules at codes their pack
lists, most modifier rules at lines with modifiers: a claim for a commercial plan needs
none of the first. Every rule case of such a rule
gives the same findings with the test switched off.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import polars as pl
import pytest
from test_evaluate import _frames

import claimscrub.engine.evaluate as engine
from claimscrub.engine.evaluate import evaluate
from claimscrub.refdata.catalog import default_refdata
from claimscrub.rules.registry import load_builtin_rules
from rule_cases import case_files, run_rule_case

GATED = {code for code, rule in load_builtin_rules().items() if rule.applies_when is not None}


def _gated_cases() -> list[Any]:
    return [
        pytest.param(spec, case, id=f"{spec['rule']}::{name}")
        for spec in case_files()
        if spec["rule"] in GATED
        for name, case in spec["cases"].items()
    ]


def test_the_benefit_routing_and_policy_rules_declare_the_lines_they_check() -> None:
    prefixes = {code[:3] for code in GATED}
    assert {"MCR", "RTE", "PAU", "MOD", "DUP", "NDC", "COD", "DGN", "UNT"} <= prefixes
    assert all(code in GATED for code in load_builtin_rules() if code.startswith("MCR"))


@pytest.mark.parametrize(("spec", "case"), _gated_cases())
def test_findings_are_the_same_when_every_rule_runs(
    spec: dict[str, Any], case: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    gated = run_rule_case(spec, case).findings
    monkeypatch.setattr(engine, "APPLIES_WHEN", False)
    assert run_rule_case(spec, case).findings.equals(gated)


def test_a_rule_is_not_run_where_it_applies_to_no_line(monkeypatch: pytest.MonkeyPatch) -> None:
    lines, claims = _frames()  # J7505 and J7513 are not valid on their 2026 dates
    cod001 = load_builtin_rules()["COD001"]
    only_j9999 = dataclasses.replace(cod001, applies_when=lambda ctx: pl.col("hcpcs") == "J9999")
    result = evaluate([only_j9999], lines, claims, default_refdata())
    assert result.findings.height == 0
    assert result.skipped == []  # it had its data: nothing to report as skipped
    monkeypatch.setattr(engine, "APPLIES_WHEN", False)
    assert evaluate([only_j9999], lines, claims, default_refdata()).findings.height == 2


def test_a_test_that_cannot_be_evaluated_leaves_the_rule_to_run() -> None:
    lines, claims = _frames()
    cod001 = load_builtin_rules()["COD001"]
    rules = [
        dataclasses.replace(cod001, applies_when=lambda ctx: pl.col("no_such_column")),
        dataclasses.replace(
            load_builtin_rules()["COD002"], applies_when=lambda ctx: pl.col("hcpcs") == "J7507"
        ),
    ]
    result = evaluate(rules, lines, claims, default_refdata())
    assert not result.broken
    assert result.findings.filter(pl.col("rule") == "COD001").height == 2


def test_a_big_batch_answers_the_tests_on_its_first_lines_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Sample of one line: "J7505" is settled by it, "J7513" (the last line) and "J9999"
    # (no line) are answered on the whole batch.
    monkeypatch.setattr(engine, "APPLIES_SAMPLE_LINES", 1)
    lines, claims = _frames()
    cod001 = load_builtin_rules()["COD001"]

    def only(code: str, name: str) -> Any:
        return dataclasses.replace(
            cod001, code=name, applies_when=lambda ctx: pl.col("hcpcs") == code
        )

    rules = [only("J7505", "COD991"), only("J7513", "COD992"), only("J9999", "COD993")]
    found = evaluate(rules, lines, claims, default_refdata()).findings
    by_rule = found.group_by("rule").len().sort("rule").rows()
    assert by_rule == [("COD991", 2), ("COD992", 2)]  # each runs over the whole batch
