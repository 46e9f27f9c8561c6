"""Run the failing cases of ``tests/rules/cases`` and say on which (code, pack, date) each fired.

Shared by the scope test: a rule that fires on a code under a pack must be in the
explanation's scope for that code and pack. The claim is built the way
``tests/rules/test_cases.py`` builds it (file defaults + case overrides, public JSON format).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import polars as pl

from rule_cases import case_files, run_rule_case


def failing_cases() -> Iterator[tuple[dict[str, Any], str, dict[str, Any]]]:
    """(spec, case name, case) for every case that expects findings."""
    for spec in case_files():
        for name, case in spec["cases"].items():
            if not name.startswith("pass_") and case.get("expect"):
                yield spec, name, case


def fired_on(spec: dict[str, Any], case: dict[str, Any]) -> list[list[tuple[str, str, dt.date]]]:
    """For each finding of the case's rule, the (HCPCS code, pack, date) of its line(s).

    A line finding gives one line; a claim-level finding gives every line of its claim
    (at least one of them is what the rule looked at).
    """
    run = run_rule_case(spec, case)
    lines = run.lines
    found = run.findings
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
