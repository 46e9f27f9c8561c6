"""Run every rule case file: claims in, expected findings (and fixes) out.

Each case builds one claim in the public Claims JSON format from the file's defaults
and the case's overrides, reads it with the real JSON reader, evaluates the one rule
against the real bundled reference data, and compares the rule's findings.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from rule_cases import case_files, run_rule_case


def _load_cases() -> list[Any]:
    return [
        pytest.param(spec, name, case, id=f"{spec['rule']}::{name}")
        for spec in case_files()
        for name, case in spec["cases"].items()
    ]


def run_case(spec: dict[str, Any], case: dict[str, Any]) -> list[dict[str, Any]]:
    """The findings of the case's rule, as dicts with line, message and fix."""
    return [
        {
            "line": row["line_no"],
            "message": row["message"],
            "fix": json.loads(row["fix"]) if row["fix"] else None,
            "fix_title": row["fix_title"],
            "carc": row["carc"],
            "rarc": row["rarc"],
        }
        for row in run_rule_case(spec, case).findings.to_dicts()
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
        if "message_not_contains" in want:
            assert want["message_not_contains"] not in got["message"], got["message"]
        if "fix" in want:
            assert got["fix"] == want["fix"], got
        if "fix_title" in want:
            assert got["fix_title"] == want["fix_title"], got
        if "carc" in want:
            assert got["carc"] == want["carc"], got
        if "rarc" in want:
            assert got["rarc"] == want["rarc"], got
