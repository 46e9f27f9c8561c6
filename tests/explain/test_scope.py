"""``rule_scope.yaml`` covers the catalogue, names only real things, and is never narrower
than the rules: every failing rule case fires on a code and pack the scope allows."""

from __future__ import annotations

import dataclasses
import datetime as dt
from functools import cache

import pytest
from explain_cases import failing_cases, fired_on

from claimscrub.explain.facts import LEVEL_TWO, gather
from claimscrub.explain.scope import (
    applicable_rules,
    applies_under,
    field_labels,
    scope_entries,
)
from claimscrub.explain.traits import TRAITS, CodeTraits, code_traits
from claimscrub.model.schema import CLAIM_FIELDS, LINE_FIELDS
from claimscrub.payers.packs import load_packs
from claimscrub.refdata.catalog import default_refdata
from claimscrub.rules.registry import load_builtin_rules
from rule_cases import case_packs

CASES = list(failing_cases())


def test_every_rule_has_a_scope_and_every_scope_a_rule() -> None:
    assert set(scope_entries()) == set(load_builtin_rules())


def test_scope_names_real_traits_settings_options_and_fields() -> None:
    rules = load_builtin_rules()
    settings = set(load_packs()["base"].settings)
    columns = {f.name for f in (*LINE_FIELDS, *CLAIM_FIELDS)}
    labels = field_labels()
    assert set(labels) <= columns
    for code, entry in scope_entries().items():
        rule = rules[code]
        assert set(entry.requires) | set(entry.checks) <= set(labels), code
        for alt in entry.when or ():
            named = [
                *alt.get("code", ()),
                *alt.get("code_not", ()),
                *alt.get("code_not_when_option", {}),
            ]
            assert set(named) <= set(TRAITS), code
            assert set(alt.get("pack", {})) <= settings, code
            for key in ("claim_types_option", "institutional_si_option"):
                if key in alt:
                    assert alt[key] in rule.options, code
            for option in alt.get("code_not_when_option", {}).values():
                assert option in rule.options, code


@cache
def _traits(code: str, on: dt.date) -> CodeTraits | None:
    refdata = default_refdata()
    doc = gather(refdata, code, on)
    return code_traits(refdata, code, on, doc) if doc is not None else None


@pytest.mark.parametrize(
    ("spec", "name", "case"),
    [pytest.param(s, n, c, id=f"{s['rule']}::{n}") for s, n, c in CASES],
)
def test_a_failing_case_is_in_scope_for_its_code_and_pack(
    spec: dict, name: str, case: dict
) -> None:
    packs = case_packs(spec)
    rule = load_builtin_rules()[spec["rule"]]
    # The case's options are the rule's options for this run (they can widen the scope).
    rule = dataclasses.replace(rule, options={**rule.options, **case.get("options", {})})
    entry = scope_entries()[rule.code]
    checked = 0
    for lines in fired_on(spec, case):
        # explain shows well-formed Level II codes that a release lists, on a date; the
        # rest is for rules whose scope says they never fire on such a code (`never`).
        lines = [
            (c, p, d) for c, p, d in lines if d is not None and LEVEL_TWO.match(c) and _traits(c, d)
        ]
        if not lines:
            assert entry.when is None, (name, lines)
            continue
        in_scope = [
            (c, p, d)
            for c, p, d in lines
            if applicable_rules({rule.code: rule}, _traits(c, d), [packs[p]], d)
        ]
        assert in_scope, f"{rule.code} fired on {lines} outside its scope"
        checked += 1
    assert checked or entry.when is None, name


def test_the_gate_leaves_only_what_the_engine_keeps() -> None:
    packs = [p for n, p in load_packs().items() if n != "base"]
    on = dt.date(2026, 2, 2)  # J7505 terminated 2025-12-31
    kept = applicable_rules(load_builtin_rules(), _traits("J7505", on), packs, on)
    codes = {a.rule.code for a in kept}
    assert "COD001" in codes and "NDC002" in codes  # the gate and a code-independent check
    assert not {"MCR003", "NDC001", "UNT001", "MUE001"} & codes


def test_scope_depends_on_the_pack_and_the_date() -> None:
    packs = load_packs()
    rules = load_builtin_rules()
    traits = _traits("J7504", dt.date(2023, 6, 1))
    entry = scope_entries()["MOD004"]
    # JW/JZ required at the A/B MAC from 2023-07-01 only.
    assert not applies_under(
        entry, rules["MOD004"], traits, packs["medicare-ab"], dt.date(2023, 6, 1)
    )
    later = _traits("J7504", dt.date(2023, 7, 1))
    assert applies_under(entry, rules["MOD004"], later, packs["medicare-ab"], dt.date(2023, 7, 1))
    assert not applies_under(
        entry, rules["MOD004"], later, packs["medicare-dme"], dt.date(2023, 7, 1)
    )
