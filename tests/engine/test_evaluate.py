"""The engine: findings from several rules, a broken rule isolated, numbers printed plainly."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

import claimscrub.engine.evaluate as engine
from claimscrub.diagnostics import Severity
from claimscrub.engine.evaluate import evaluate, format_template
from claimscrub.model.schema import CLAIMS_SCHEMA, LINES_SCHEMA, conform
from claimscrub.refdata.catalog import default_refdata
from claimscrub.rules.finding import Finding
from claimscrub.rules.registry import Rule, load_builtin_rules


def _frames() -> tuple[pl.DataFrame, pl.DataFrame]:
    lines = conform(
        pl.DataFrame(
            {
                "claim_key": [0, 0, 1],
                "claim_id": ["A", "A", "B"],
                "line_no": [1, 2, 1],
                "hcpcs": ["J7505", "J7507", "J7513"],
                "units": [1.0, 0.5, 2.0],
                "dos_from": [dt.date(2026, 1, 2), dt.date(2026, 1, 2), dt.date(2026, 2, 1)],
            }
        ),
        LINES_SCHEMA,
    )
    claims = conform(pl.DataFrame({"claim_key": [0, 1], "claim_id": ["A", "B"]}), CLAIMS_SCHEMA)
    return lines, claims


def _broken(ctx):  # noqa: ANN001, ANN202 - a deliberately broken rule
    raise RuntimeError("boom")


def _lazy_broken(ctx):  # noqa: ANN001, ANN202 - fails only when collected
    return Finding(
        rows=ctx.lines.with_columns(bad=pl.col("hcpcs").cast(pl.Int64, strict=True)),
        violated=pl.col("bad") > 0,
        message="never",
    )


@pytest.mark.parametrize("big", [False, True], ids=["small batch", "big batch"])
def test_broken_rules_are_reported_and_do_not_hide_others(
    big: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if big:  # all plans as one query, which fails, then each on its own to find the culprit
        monkeypatch.setattr(engine, "SMALL_BATCH_LINES", 0)
    lines, claims = _frames()
    rules = [
        load_builtin_rules()["COD001"],
        Rule(code="COD900", name="broken-at-plan", severity=Severity.ERROR, func=_broken),
        Rule(code="COD901", name="broken-at-collect", severity=Severity.ERROR, func=_lazy_broken),
    ]
    result = evaluate(rules, lines, claims, default_refdata())
    assert [code for code, _ in result.broken] == ["COD900", "COD901"]
    cod = result.findings.filter(pl.col("rule") == "COD001")
    assert cod.select("claim_key", "line_no").rows() == [(0, 1), (1, 1)]
    eng = result.findings.filter(pl.col("rule") == "ENG001")["message"].to_list()
    assert any("COD900" in m and "boom" in m for m in eng)
    # a broken rule is a certain finding, whatever the rule's own confidence
    assert set(result.findings.filter(pl.col("rule") == "ENG001")["confidence"]) == {"high"}


def test_rules_without_input_data_are_skipped_not_silently_dropped() -> None:
    lines, claims = _frames()
    rules = [load_builtin_rules()["COD001"]]
    result = evaluate(
        rules,
        lines.with_columns(pl.lit(None, pl.Date).alias("dos_from")),
        claims,
        default_refdata(),
    )
    assert result.skipped == [("COD001", "no data in dos_from")]
    assert result.findings.height == 0


def test_message_numbers_print_without_trailing_zeros() -> None:
    frame = pl.DataFrame({"units": [30.0, 0.5, None], "hcpcs": ["J7507", "J7507", "J7507"]})
    out = frame.select(format_template("{units} units of {hcpcs}", frame.schema))
    assert out.to_series().to_list() == [
        "30 units of J7507",
        "0.5 units of J7507",
        "? units of J7507",
    ]


def test_counted_placeholder_says_unit_for_one_and_units_otherwise() -> None:
    frame = pl.DataFrame({"units": [1.0, 25.0, 0.5, None], "fee": [1, 2, 0, 1]})
    out = frame.select(format_template("Bill {units|unit} and {fee|fee}", frame.schema))
    assert out.to_series().to_list() == [
        "Bill 1 unit and 1 fee",
        "Bill 25 units and 2 fees",
        "Bill 0.5 units and 0 fees",
        "Bill ? units and 1 fee",
    ]


def test_a_few_lines_are_keyed_by_dictionary_as_by_column_codes() -> None:
    # Nulls, repeats, lists and structs: the dictionary (a claim's lines) and the column
    # codes (big batches) find the same distinct keys and give each line an equal one.
    framed = pl.DataFrame(
        {
            "hcpcs": ["J7507", "J7507", None, "J7517", None, "J7507"],
            "modifiers": [["KX"], ["KX"], [], ["KX", "GY"], [], None],
            "auth": [{"n": "A1"}, {"n": "A1"}, None, {"n": "B"}, None, {"n": "A1"}],
        }
    )
    small_rows, small_index = engine._small_key_index(framed)
    codes = [engine._value_codes(framed.get_column(name)) for name in framed.columns]
    big_rows, big_index = engine._key_index(framed, codes)
    assert small_rows.height == big_rows.height == 4
    assert small_index.dtype == big_index.dtype
    assert small_rows[small_index.to_list()].equals(framed)
    assert big_rows[big_index.to_list()].equals(framed)


def test_an_interrupt_waits_for_the_plans_already_started(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A big batch starts each plan as it is built. A plan still running when the run is
    # interrupted must be waited for: Polars aborts the process when a started query's
    # handle is dropped before it ends.
    monkeypatch.setattr(engine, "SMALL_BATCH_LINES", 0)
    lines, claims = _frames()

    def slow(ctx):  # noqa: ANN001, ANN202 - a plan that runs for a while
        many = pl.LazyFrame({"claim_key": pl.int_range(0, 3_000_000, eager=True)})
        rows = ctx.lines.join(many.sort("claim_key", descending=True), on="claim_key")
        return Finding(rows=rows, violated=pl.lit(True), message="slow")

    def interrupted(ctx):  # noqa: ANN001, ANN202
        raise KeyboardInterrupt

    rules = [
        Rule(code="COD980", name="slow", severity=Severity.INFO, func=slow),
        Rule(code="COD981", name="interrupted", severity=Severity.INFO, func=interrupted),
    ]
    with pytest.raises(KeyboardInterrupt):
        evaluate(rules, lines, claims, default_refdata())


def test_a_code_finding_on_a_line_removes_the_findings_that_depend_on_the_code() -> None:
    # COD001 (a gate) on claim 0 line 1: UNT001 there goes, UNT001 on line 2 and NDC002
    # (which does not depend on the code) stay.
    found = pl.DataFrame(
        {
            "claim_key": [0, 0, 0, 0],
            "line_no": [1, 1, 2, 1],
            "rule": ["COD001", "UNT001", "UNT001", "NDC002"],
        },
        schema_overrides={"claim_key": pl.Int64, "line_no": pl.Int64},
    )
    kept = engine._apply_gates(found, ["COD001"], ["NDC002"])
    assert kept.select("line_no", "rule").sort("rule", "line_no").rows() == [
        (1, "COD001"),
        (1, "NDC002"),
        (2, "UNT001"),
    ]
    # No gate finding: nothing is removed.
    ungated = found.filter(pl.col("rule") != "COD001")
    assert engine._apply_gates(ungated, ["COD001"], ["NDC002"]).equals(ungated)
