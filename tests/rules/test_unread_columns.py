"""The engine leaves ``columns.UNREAD_BY_RULES`` out of the frames its rules query, so no rule
(nor the engine code that builds their shared facts) may name one of those columns."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

import claimscrub
from claimscrub.diagnostics import Severity
from claimscrub.engine.evaluate import evaluate
from claimscrub.model import columns as c
from claimscrub.model.schema import CLAIMS_SCHEMA, LINES_SCHEMA, conform
from claimscrub.refdata.catalog import default_refdata
from claimscrub.rules.finding import Finding
from claimscrub.rules.registry import Rule

PACKAGE = Path(claimscrub.__file__).parent
RULE_SOURCES = sorted((PACKAGE / "rules").rglob("*.py")) + [
    PACKAGE / "engine" / "evaluate.py",
    PACKAGE / "engine" / "facts_store.py",
]
CONSTANTS = {
    value: name for name, value in vars(c).items() if name.isupper() and isinstance(value, str)
}


@pytest.mark.parametrize("column", sorted(c.UNREAD_BY_RULES))
def test_no_rule_names_an_unread_column(column: str) -> None:
    # As a constant (c.CHARGE), a string ("charge") or a message placeholder ({charge}).
    pattern = re.compile(
        rf"\bc\.{CONSTANTS[column]}\b|[\"']{re.escape(column)}[\"']|\{{{re.escape(column)}\}}"
    )
    named = [
        f"{path.relative_to(PACKAGE)}:{number}"
        for path in RULE_SOURCES
        for number, text in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(text) and "UNREAD_BY_RULES" not in text
    ]
    assert not named, f"{column} is read by rules; take it off columns.UNREAD_BY_RULES"


def test_the_check_finds_a_column_rules_read() -> None:
    # The same search on a column the rules do read finds it (the test above can fail).
    pattern = re.compile(rf"\bc\.{CONSTANTS[c.HCPCS]}\b")
    assert any(pattern.search(path.read_text()) for path in RULE_SOURCES)


def test_rules_are_given_frames_without_the_unread_columns() -> None:
    seen: dict[str, list[str]] = {}

    def spy(ctx):  # noqa: ANN001, ANN202 - records the columns it is given, finds nothing
        seen["lines"] = ctx.lines.collect_schema().names()
        seen["claims"] = ctx.claims.collect_schema().names()
        return Finding(rows=ctx.lines, violated=pl.lit(False), message="never")

    lines = conform(
        pl.DataFrame({c.CLAIM_KEY: [0], c.LINE_NO: [1], c.HCPCS: ["J7507"], c.CHARGE: [10.0]}),
        LINES_SCHEMA,
    )
    claims = conform(pl.DataFrame({c.CLAIM_KEY: [0], c.PAYER_NAME: ["A payer"]}), CLAIMS_SCHEMA)
    rule = Rule(code="COD990", name="spy", severity=Severity.INFO, func=spy)
    result = evaluate([rule], lines, claims, default_refdata())
    assert result.broken == []
    assert c.HCPCS in seen["lines"] and c.CLAIM_KEY in seen["claims"]
    assert not c.UNREAD_BY_RULES & {*seen["lines"], *seen["claims"]}
