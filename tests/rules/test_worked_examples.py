"""The worked unit examples of rules.md (R-UNIT-1, R-UNIT-4, R-MOD-4, section 10), end to end.

Each test builds a claim in the public Claims JSON format with real NDCs from the
bundled CMS ASP NDC–HCPCS crosswalk, reads it with the real JSON reader, runs every
UNT and MUE rule against the real bundled reference data, and states exactly which
findings come out (rule, line, message, fix) — including "none".
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from claimscrub.engine.evaluate import evaluate
from claimscrub.engine.prepare import prepare_lines
from claimscrub.payers.packs import load_packs
from claimscrub.readers.json_claims import read_json_claims
from claimscrub.refdata.catalog import default_refdata
from claimscrub.rules.registry import load_builtin_rules

RULES = load_builtin_rules()
UNITS_RULES = [RULES[code] for code in sorted(RULES) if code.startswith(("UNT", "MUE"))]


class Seen(NamedTuple):
    """One finding as a user sees it."""

    rule: str
    line: int
    message: str
    fix: dict[str, Any] | None


def scrub(claim: dict[str, Any], extra_rules: tuple[str, ...] = ()) -> list[Seen]:
    """Findings of the UNT and MUE rules (plus ``extra_rules``) for one claim."""
    rules = UNITS_RULES + [RULES[code] for code in extra_rules]
    document = {"claims": [claim], "history": []}
    batch, _ = read_json_claims(json.dumps(document).encode(), "example.json")
    assert batch.rejected.height == 0, batch.rejected.to_dicts()
    packs = load_packs()
    claims, lines = prepare_lines(batch.lines, batch.claims, packs)
    result = evaluate(rules, lines, claims, default_refdata(), packs=packs)
    assert not result.broken, result.broken
    return [
        Seen(
            row["rule"],
            row["line_no"],
            row["message"],
            json.loads(row["fix"]) if row["fix"] else None,
        )
        for row in result.findings.to_dicts()
    ]


def dme_claim(*lines: dict[str, Any], service_date: str = "2025-11-03") -> dict[str, Any]:
    """A Medicare DME MAC claim (pharmacy, POS 12) for a kidney transplant recipient."""
    return {
        "id": "EX-DME",
        "type": "professional",
        "payer": {"type": "medicare"},
        "service_date": service_date,
        "place_of_service": "12",
        "diagnoses": ["Z94.0"],
        "lines": [{"number": n, "modifiers": ["KX"], **line} for n, line in enumerate(lines, 1)],
    }


def office_claim(*lines: dict[str, Any], service_date: str = "2025-11-03") -> dict[str, Any]:
    """A Medicare A/B MAC claim for drugs given in the office (POS 11)."""
    return {
        "id": "EX-OFFICE",
        "type": "professional",
        "payer": {"type": "medicare"},
        "service_date": service_date,
        "place_of_service": "11",
        "diagnoses": ["T86.11"],
        "lines": [{"number": n, "modifiers": ["JZ"], **line} for n, line in enumerate(lines, 1)],
    }


def dispensed(
    hcpcs: str, ndc: str, quantity: float, units: float, unit: str = "UN"
) -> dict[str, Any]:
    """A drug line with its NDC quantity."""
    return {"hcpcs": hcpcs, "ndc": ndc, "ndc_quantity": quantity, "ndc_unit": unit, "units": units}


def test_half_milligram_tacrolimus_capsules_are_half_units_of_j7507() -> None:
    # Sixty 0.5 mg capsules are 30 mg: 30 units of J7507 (1 mg), not 60.
    sandoz = "00781210201"
    assert scrub(dme_claim(dispensed("J7507", sandoz, 60, 60))) == [
        Seen(
            "UNT001",
            1,
            "60 × 0.5 mg = 30 mg is 30 units of J7507 (1 mg); 60 were billed",
            {"units": 30},
        )
    ]
    assert scrub(dme_claim(dispensed("J7507", sandoz, 60, 30))) == []
    # Prograf 0.5 mg (00469-0607-73) is a crosswalk quirk row: the per-NDC figure is used
    # and the message says so.
    [prograf] = scrub(dme_claim(dispensed("J7507", "00469060773", 60, 60)))
    assert prograf.message.startswith(
        "60 × 0.5 mg = 30 mg is 30 units of J7507 (1 mg); 60 were billed (the crosswalk row"
    )
    assert prograf.fix == {"units": 30}


def test_envarsus_three_quarter_milligram_tablet_is_three_units_of_j7503() -> None:
    envarsus = "68992307503"  # Envarsus XR 0.75 mg, 30 tablets
    assert scrub(dme_claim(dispensed("J7503", envarsus, 30, 30))) == [
        Seen(
            "UNT001",
            1,
            "30 × 0.75 mg = 22.5 mg is 90 units of J7503 (0.25 mg); 30 were billed",
            {"units": 90},
        )
    ]
    assert scrub(dme_claim(dispensed("J7503", envarsus, 30, 90))) == []


def test_astagraf_half_milligram_is_five_units_and_five_milligrams_fifty_of_j7508() -> None:
    half, five = "00469064773", "00469068773"  # Astagraf XL 0.5 mg and 5 mg, 30 capsules
    assert (
        scrub(dme_claim(dispensed("J7508", half, 30, 150), dispensed("J7508", five, 30, 1500)))
        == []
    )
    assert scrub(dme_claim(dispensed("J7508", half, 30, 15))) == [
        Seen(
            "UNT001",
            1,
            "30 × 0.5 mg = 15 mg is 150 units of J7508 (0.1 mg); 15 were billed",
            {"units": 150},
        )
    ]


def test_atgam_is_billed_in_250_mg_units_not_millilitres() -> None:
    # 20 mL of Atgam 50 mg/mL = 1,000 mg = 4 units of J7504 (250 mg), not 20.
    # Billing the 20 mL as units also breaks J7504's practitioner MUE of 15 units per day.
    atgam = "00009722402"
    over_mue = Seen(
        "MUE002",
        1,
        "20 units of J7504 on 2025-11-03 (line 1) exceed the practitioner MUE of 15 per date of "
        "service [MUE release 2024-07-01] (MAI 3, a clinical date-of-service limit: the day's units are denied, and an "
        "appeal with medical records may pay them; CMS rationale: Prescribing Information)",
        None,
    )
    assert scrub(office_claim(dispensed("J7504", atgam, 20, 20, unit="ML"))) == [
        over_mue,
        Seen(
            "UNT001",
            1,
            "20 mL × 50 mg/mL = 1000 mg is 4 units of J7504 (250 mg); 20 were billed",
            {"units": 4},
        ),
    ]
    by_dose = {"hcpcs": "J7504", "units": 20, "dose": {"amount": 1000, "unit": "mg"}}
    assert scrub(office_claim(by_dose)) == [
        over_mue,
        Seen("UNT002", 1, "1000 mg is 4 units of J7504 (250 mg); 20 were billed", {"units": 4}),
    ]
    assert scrub(office_claim(dispensed("J7504", atgam, 20, 4, unit="ML"))) == []


def test_azathioprine_75_mg_is_rounded_up_once_on_the_line_total() -> None:
    # 31 tablets × 1.5 units = 46.5 units: bill 47, not 31 × 2 = 62 and not 46.
    azasan = "65649023141"
    assert scrub(dme_claim(dispensed("J7500", azasan, 31, 47))) == []
    assert scrub(dme_claim(dispensed("J7500", azasan, 31, 62))) == [
        Seen(
            "UNT001",
            1,
            "31 × 75 mg = 2325 mg is 46.5 units of J7500 (50 mg), rounded up to 47; 62 were billed",
            {"units": 47},
        )
    ]
    [rounded_down] = scrub(dme_claim(dispensed("J7500", azasan, 31, 46)))
    assert (rounded_down.rule, rounded_down.fix) == ("UNT001", {"units": 47})
    # Without an NDC quantity the fraction itself is the finding, rounded up.
    assert scrub(dme_claim({"hcpcs": "J7500", "units": 46.5})) == [
        Seen(
            "UNT003",
            1,
            "46.5 units of J7500 were billed; billing units are whole numbers and a partial unit is rounded up, to 47",
            {"units": 47},
        )
    ]


def test_tacrolimus_granules_one_milligram_packet_is_ten_units_of_j7521() -> None:
    granules = "00469133050"  # Prograf granules 1 mg, 50 packets
    assert scrub(dme_claim(dispensed("J7521", granules, 50, 500))) == []
    assert scrub(dme_claim(dispensed("J7521", granules, 50, 50))) == [
        Seen(
            "UNT001",
            1,
            "50 × 1 mg = 50 mg is 500 units of J7521 (0.1 mg); 50 were billed",
            {"units": 500},
        )
    ]


def test_belatacept_250_mg_vial_is_250_units_of_j0485() -> None:
    nulojix = "00003037113"
    assert scrub(office_claim(dispensed("J0485", nulojix, 1, 250))) == []
    assert scrub(office_claim(dispensed("J0485", nulojix, 1, 1))) == [
        Seen(
            "UNT001",
            1,
            "1 × 250 mg = 250 mg is 250 units of J0485 (1 mg); 1 was billed",
            {"units": 250},
        )
    ]


def test_iv_mycophenolate_500_mg_vial_is_50_units_of_j7519() -> None:
    cellcept_iv = "00004029809"
    assert scrub(office_claim(dispensed("J7519", cellcept_iv, 1, 50))) == []
    assert scrub(office_claim(dispensed("J7519", cellcept_iv, 1, 500))) == [
        Seen(
            "UNT001",
            1,
            "1 × 500 mg = 500 mg is 50 units of J7519 (10 mg); 500 were billed",
            {"units": 50},
        )
    ]


def test_rabbit_atg_partly_used_last_vial_needs_no_jw_line() -> None:
    # R-MOD-4: J7511 is one 25 mg vial; 60 mg administered is 3 units, which already
    # cover the 15 mg left in the third vial.
    administered = {
        "hcpcs": "J7511",
        "modifiers": [],
        "units": 3,
        "dose": {"amount": 60, "unit": "mg"},
    }
    wasted = {
        "hcpcs": "J7511",
        "modifiers": ["JW"],
        "units": 1,
        "discarded": {"amount": 15, "unit": "mg"},
    }
    assert scrub(office_claim(administered, wasted)) == [
        Seen(
            "UNT005",
            2,
            "60 mg administered + 15 mg discarded = 75 mg is 3 units of J7511 (25 mg); the "
            "administered units are 3, so no units are left to bill as discarded; on the JW line 1 was billed",
            None,
        )
    ]


def test_codes_terminated_after_2025_leave_the_units_rules_silent() -> None:
    # J7505 (muromonab-CD3, 5 mg) and J7513 (daclizumab, 25 mg) ended on 2025-12-31.
    # Wrong units and MUE-breaking counts on them are COD001's business, not ours.
    claim = office_claim(
        {"hcpcs": "J7505", "units": 3, "dose": {"amount": 5, "unit": "mg"}},
        {"hcpcs": "J7513", "units": 0.5},
        service_date="2026-01-02",
    )
    assert scrub(claim) == []
    assert [(f.rule, f.line) for f in scrub(claim, extra_rules=("COD001",))] == [
        ("COD001", 1),
        ("COD001", 2),
    ]


def test_seed_articles_j7504_for_oral_tacrolimus_leaves_the_units_rules_silent() -> None:
    # The seed article's mistake: oral tacrolimus (here Prograf 1 mg, 00469-0617-73) billed
    # under J7504, which is equine antithymocyte globulin, parenteral, 250 mg. The NDC
    # belongs to J7507 (1 mg), so the code is wrong and no unit count under J7504 means
    # anything.
    line = dispensed("J7504", "00469061773", 60, 60) | {"dose": {"amount": 60, "unit": "mg"}}
    assert scrub(dme_claim(line)) == []
    assert scrub(office_claim(line)) == []
    # The code rules report it instead (product of another code, or of another route).
    reported = {f.rule for f in scrub(office_claim(line), extra_rules=("COD003", "COD004"))}
    assert reported and reported <= {"COD003", "COD004"}
