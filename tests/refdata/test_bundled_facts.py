"""Facts every user relies on, checked against the real bundled tables (not fixtures)."""

from __future__ import annotations

import datetime as dt

import pytest

from claimscrub.refdata.catalog import RefData

D = dt.date


@pytest.mark.parametrize(
    ("code", "on", "status"),
    [
        ("J7505", D(2025, 6, 1), "valid"),
        ("J7505", D(2025, 12, 31), "valid"),  # last day before the termination bites
        ("J7505", D(2026, 1, 1), "terminated"),  # terminated 2025-12-31
        ("J7521", D(2025, 3, 31), "not_yet_valid"),
        ("J7521", D(2025, 4, 1), "valid"),  # added 2025-04-01
        ("J7528", D(2025, 12, 31), "not_yet_valid"),
        ("J7528", D(2026, 1, 1), "valid"),
        ("J7506", D(2015, 12, 31), "valid"),
        ("J7506", D(2016, 1, 1), "terminated"),
    ],
)
def test_validity_on_date_of_service(bundled: RefData, code: str, on: dt.date, status: str) -> None:
    fact = bundled.hcpcs(code, on)
    assert fact is not None
    assert fact.status == status
    assert fact.valid is (status == "valid")
    # validity always comes from the newest release that lists the code
    assert fact.validity_source.label == "hcpcs 2026-01"


def test_j7505_dates(bundled: RefData) -> None:
    fact = bundled.hcpcs("J7505", D(2026, 1, 1))
    assert fact is not None
    assert fact.termination_date == D(2025, 12, 31)
    assert fact.record["action_code"] == "D"
    assert fact.record["long_description"] == "Muromonab-cd3, parenteral, 5 mg"
    assert (fact.record["unit_amount"], fact.record["unit_uom"]) == ("5", "mg")


@pytest.mark.parametrize(
    ("code", "amount", "uom", "route"),
    [
        ("J7504", "250", "mg", "parenteral"),
        ("J7507", "1", "mg", "oral"),
        ("J7508", "0.1", "mg", "oral"),
        ("J7503", "0.25", "mg", "oral"),
        ("J7521", "0.1", "mg", "oral"),
        ("J7525", "5", "mg", "parenteral"),
        ("J7517", "250", "mg", "oral"),
        ("J7519", "10", "mg", "injection"),
    ],
)
def test_billing_unit_and_route(
    bundled: RefData, code: str, amount: str, uom: str, route: str
) -> None:
    fact = bundled.hcpcs(code, D(2026, 2, 1))
    assert fact is not None
    record = fact.record
    assert (record["unit_amount"], record["unit_uom"], record["route"]) == (amount, uom, route)
    assert fact.source.label == "hcpcs 2026-01"


def test_j7504_is_equine_atg_not_tacrolimus(bundled: RefData) -> None:
    fact = bundled.hcpcs("J7504", D(2026, 2, 1))
    assert fact is not None
    text = fact.record["long_description"].lower()
    assert "antithymocyte globulin, equine" in text
    assert "tacrolimus" not in text
    assert fact.record["ingredient"] == "lymphocyte immune globulin"


def test_forms_distinguish_the_tacrolimus_codes(bundled: RefData) -> None:
    forms = {
        code: bundled.hcpcs(code, D(2026, 2, 1)).record["form"]
        for code in ("J7503", "J7507", "J7521")
    }  # type: ignore[union-attr]
    assert forms == {
        "J7503": "extended release",
        "J7507": "immediate release",
        "J7521": "granules, suspension",
    }
    mmf = {code: bundled.hcpcs(code, D(2026, 2, 1)).record["form"] for code in ("J7514", "J7528")}  # type: ignore[union-attr]
    assert mmf == {"J7514": "suspension", "J7528": "for suspension"}


def test_descriptor_in_force_follows_action_date(bundled: RefData) -> None:
    # J7516's descriptor changed 2024-04-01; before that the 2020 text applies
    before = bundled.hcpcs("J7516", D(2023, 6, 1))
    after = bundled.hcpcs("J7516", D(2024, 4, 1))
    assert before is not None and after is not None
    assert before.record["long_description"] == "Cyclosporin, parenteral, 250 mg"
    assert before.source.label == "hcpcs 2020-01"
    assert before.source.in_force is True
    assert after.record["long_description"] == "Injection, cyclosporine, 250 mg"
    assert after.source.label == "hcpcs 2026-01"
    # the day before the change is still the old text
    assert (
        bundled.hcpcs("J7516", D(2024, 3, 31)).record["long_description"].startswith("Cyclosporin,")
    )  # type: ignore[union-attr]


def test_record_before_any_action_date_is_flagged(bundled: RefData) -> None:
    fact = bundled.hcpcs("J7507", D(1990, 1, 1))
    assert fact is not None
    assert fact.status == "not_yet_valid"
    assert fact.source.in_force is False  # no record's action date is on or before 1990
    assert fact.source.label == "hcpcs 2020-01"  # the oldest release's record


def test_unknown_code(bundled: RefData) -> None:
    assert bundled.hcpcs("J9998", D(2026, 1, 1)) is None
    assert bundled.hcpcs("99213", D(2026, 1, 1)) is None  # CPT is not shipped


def test_every_fact_carries_its_release(bundled: RefData) -> None:
    on = D(2025, 11, 1)
    assert bundled.mue("J7507", on).source.label == "mue 2024-07-01"
    assert bundled.asp("J7504", on).source.label == "asp 2025-Q4"
    assert bundled.crosswalk_for_code("J7507", on).source.label == "ndc_hcpcs 2025-Q4"
    assert bundled.opps("J7504", on).source.label == "opps 2025-10"
    for related in bundled.related_codes("J7507", on):
        assert related.source is not None and related.source.dataset == "hcpcs"


def test_mue_per_service_type(bundled: RefData) -> None:
    facts = bundled.mue("J7507", D(2025, 1, 1))
    by_type = {row["service_type"]: (row["mue_value"], row["mai"]) for row in facts.rows}
    assert set(by_type) == {"practitioner", "outpatient_hospital", "dme_supplier"}
    assert by_type["practitioner"][0] == 0  # oral drug: not payable by a practitioner
    # codes created after the MUE release have none
    assert bundled.mue("J7521", D(2025, 6, 1)).rows == []


def test_crosswalk_units_for_key_ndcs(bundled: RefData) -> None:
    on = D(2025, 11, 1)
    rows = {row["ndc11"]: row for row in bundled.crosswalk_for_code("J7507", on).rows}
    sandoz_5mg = rows["00781210401"]
    assert (sandoz_5mg["bill_units_per_ndc"], sandoz_5mg["units_per_item"]) == (500, 5)
    prograf_half_mg = rows["00469060773"]  # the PROVENANCE quirk: BILLUNITS 100, BILLUNITSPKG 50
    assert prograf_half_mg["units_check"] == "conflict"
    assert prograf_half_mg["units_per_item"] == 0.5
    atgam = bundled.ndc("00009722402", on).rows[0]
    assert atgam["hcpcs_code"] == "J7504"
    assert atgam["units_per_item"] == 0.2  # 5 units in 5 ampules x 5 mL: per mL
    granules = {r["ndc11"]: r for r in bundled.crosswalk_for_code("J7521", on).rows}
    assert granules["00469133050"]["units_per_item"] == 10  # 1 mg packet = 10 x 0.1 mg
    assert granules["00469133050"]["units_check"] == "pkg_item_is_per_unit"


def test_related_codes(bundled: RefData) -> None:
    related = {r.code: r for r in bundled.related_codes("J7507", D(2026, 2, 1))}
    tacrolimus = {code for code, r in related.items() if r.relation == "same_ingredient"}
    assert tacrolimus == {"J7503", "J7508", "J7521", "J7525"}
    assert related["J7505"].relation == "same_family"
    assert related["J7505"].status == "terminated"
    assert "J7507" not in related
    # XREF: the temporary C-code points at its permanent J-code
    assert {r.code: r.relation for r in bundled.related_codes("C9033", D(2026, 2, 1))}[
        "J1454"
    ] == "xref_successor"
    assert {r.code: r.relation for r in bundled.related_codes("J1454", D(2026, 2, 1))}[
        "C9033"
    ] == "xref_predecessor"


def test_same_code_in_other_releases(bundled: RefData) -> None:
    records = bundled.hcpcs_records("J7516")
    assert [item.release for item, _ in records] == ["2026-01", "2020-01"]
    assert records[1][1]["long_description"] == "Cyclosporin, parenteral, 250 mg"
    assert [item.release for item, _ in bundled.hcpcs_records("J7521")] == ["2026-01"]
