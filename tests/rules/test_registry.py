"""Meta-tests of the rule catalogue: every rule is documented, tested and well-formed."""

from __future__ import annotations

import inspect
import re
import sys
from pathlib import Path

import pytest
import yaml

from claimscrub.model.schema import CLAIMS_SCHEMA, LINES_SCHEMA
from claimscrub.refdata.catalog import default_refdata
from claimscrub.rules.registry import DOC_HEADINGS, SelectionError, load_builtin_rules, select

RULES = load_builtin_rules()
CASES_DIR = Path(__file__).parent / "cases"


@pytest.mark.parametrize("code", sorted(RULES))
def test_docstring_has_the_fixed_headings_in_order(code: str) -> None:
    headings = re.findall(r"^## (.+)$", RULES[code].doc, flags=re.MULTILINE)
    assert tuple(headings) == DOC_HEADINGS
    assert RULES[code].summary.endswith(".")


@pytest.mark.parametrize("code", sorted(RULES))
def test_rule_has_pass_and_fail_cases(code: str) -> None:
    path = CASES_DIR / f"{code}.yaml"
    assert path.is_file(), f"missing case file {path.name}"
    names = list(yaml.safe_load(path.read_text())["cases"])
    assert any(n.startswith("pass_") for n in names)
    assert any(n.startswith("fail_") for n in names)
    assert all(n.startswith(("pass_", "fail_")) for n in names)


@pytest.mark.parametrize("code", sorted(RULES))
def test_rule_declares_known_datasets_and_columns(code: str) -> None:
    rule = RULES[code]
    assert set(rule.requires) <= set(default_refdata().datasets())
    assert set(rule.inputs) <= set(LINES_SCHEMA) | set(CLAIMS_SCHEMA)
    assert rule.source, "every finding must carry a source"


@pytest.mark.parametrize("code", sorted(c for c, r in RULES.items() if r.confidence != "high"))
def test_a_confidence_below_high_says_why(code: str) -> None:
    """A rule whose default confidence is medium or low explains it: in a comment right
    above ``confidence=`` in its decorator, or in its documentation page."""
    source = inspect.getsource(sys.modules[RULES[code].func.__module__]).splitlines()
    at = next(i for i, line in enumerate(source) if line.strip().startswith("confidence="))
    commented = source[at - 1].strip().startswith("#")
    assert commented or "confidence" in RULES[code].doc.lower(), (
        f"{code}: say why its confidence is {RULES[code].confidence}, not high"
    )


def test_file_and_function_are_named_after_the_rule() -> None:
    for rule in RULES.values():
        snake = rule.name.replace("-", "_")
        assert rule.func.__name__ == snake
        assert rule.func.__module__.rsplit(".", 1)[-1] == snake


def test_selection_by_code_prefix_name_and_all() -> None:
    rules = list(RULES.values())
    assert [r.code for r in select(rules, ["COD001"])] == ["COD001"]
    assert "COD001" in [r.code for r in select(rules, ["COD"])]
    assert [r.code for r in select(rules, ["code-not-valid-on-date-of-service"])] == ["COD001"]
    assert len(select(rules, ["ALL"])) == len(rules)
    assert "COD001" not in [r.code for r in select(rules, ["ALL"], ignore=["COD001"])]
    with pytest.raises(SelectionError, match="matches no rule"):
        select(rules, ["ZZZ999"])
