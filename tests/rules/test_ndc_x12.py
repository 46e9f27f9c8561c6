"""NDC rules on real X12: what only an 837 can carry (LIN02, any CTP05-1 text).

The Claims JSON format has no NDC qualifier and only accepts the five NDC unit codes,
so the LIN02 check of NDC004 and the unknown-unit checks of NDC005 are exercised here
on the LinuxForHealth 837P drug example (J1550 with NDC 00026063512, CTP 10 ML; see
shared/fixtures/x12/PROVENANCE.md), read by the real X12 reader. Each test changes one
element of that file to make the broken variant it needs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from claimscrub.engine.evaluate import evaluate
from claimscrub.engine.prepare import prepare_lines
from claimscrub.payers.packs import load_packs
from claimscrub.readers import read_bytes
from claimscrub.refdata.catalog import default_refdata
from claimscrub.rules.registry import load_builtin_rules

FIXTURE = (
    Path(__file__).resolve().parents[3]
    / "shared"
    / "fixtures"
    / "x12"
    / "lfhx12__demo.drug.example10.1.837"
)
ORIGINAL_LIN = "LIN**N4*00026063512~"
ORIGINAL_CTP = "CTP****10.00*ML~"


def _findings(text: str, codes: list[str]) -> list[dict[str, Any]]:
    batch = read_bytes(text.encode(), "variant.837")
    assert batch.rejected.height == 0, batch.rejected.to_dicts()
    packs = load_packs()
    claims, lines = prepare_lines(batch.lines, batch.claims, packs)
    rules = load_builtin_rules()
    result = evaluate(
        [rules[code] for code in codes], lines, claims, default_refdata(), packs=packs
    )
    assert not result.broken, result.broken
    return [
        {
            "rule": row["rule"],
            "line": row["line_no"],
            "message": row["message"],
            "fix": json.loads(row["fix"]) if row["fix"] else None,
        }
        for row in result.findings.to_dicts()
    ]


@pytest.fixture(scope="module")
def original() -> str:
    text = FIXTURE.read_text()
    assert ORIGINAL_LIN in text and ORIGINAL_CTP in text
    return text


def test_the_fixture_as_published_passes_the_format_rules(original: str) -> None:
    assert _findings(original, ["NDC002", "NDC004", "NDC005", "NDC006", "NDC008"]) == []


def test_lin02_other_than_n4_is_reported_without_a_fix(original: str) -> None:
    text = original.replace(ORIGINAL_LIN, "LIN**UP*00026063512~")
    assert _findings(text, ["NDC004"]) == [
        {
            "rule": "NDC004",
            "line": 2,
            "message": "the NDC qualifier (LIN02) is 'UP'; an NDC is reported with qualifier N4",
            "fix": None,
        }
    ]


def test_unit_code_outside_the_nucc_list(original: str) -> None:
    text = original.replace(ORIGINAL_CTP, "CTP****10.00*CC~")
    found = _findings(text, ["NDC005"])
    assert [(f["line"], f["fix"]) for f in found] == [(2, None)]
    assert "'CC' is not an NDC unit of measure (UN, ML, GR, F2, ME)" in found[0]["message"]


def test_lower_case_unit_code_is_fixed(original: str) -> None:
    text = original.replace(ORIGINAL_CTP, "CTP****10.00*ml~")
    found = _findings(text, ["NDC005"])
    assert [(f["line"], f["fix"]) for f in found] == [(2, {"ndc_unit": "ML"})]


def test_seven_digit_ndc_cannot_be_read(original: str) -> None:
    text = original.replace(ORIGINAL_LIN, "LIN**N4*3920293~")
    found = _findings(text, ["NDC002", "NDC003", "NDC008"])
    assert found == [
        {
            "rule": "NDC002",
            "line": 2,
            "message": "NDC '3920293' cannot be read as an NDC: 7 digits; an NDC has 10 or 11",
            "fix": None,
        }
    ]


def test_zero_quantity(original: str) -> None:
    text = original.replace(ORIGINAL_CTP, "CTP****0*ML~")
    found = _findings(text, ["NDC006"])
    assert [(f["line"], f["message"]) for f in found] == [
        (2, "NDC 00026063512: the NDC quantity 0 is not greater than zero")
    ]


def test_tacrolimus_capsules_in_milliliters(original: str) -> None:
    # The drug line made a tacrolimus dispense: J7507, Sandoz 1 mg capsules, 120 "ML".
    text = (
        original.replace("20040711", "20251103")
        .replace("SV1*HC:J1550*53.37*UN*1.00*", "SV1*HC:J7507*53.37*UN*120*")
        .replace(ORIGINAL_LIN, "LIN**N4*00781210301~")
        .replace(ORIGINAL_CTP, "CTP****120*ML~")
    )
    found = _findings(text, ["NDC005", "NDC009"])
    assert found == [
        {
            "rule": "NDC009",
            "line": 2,
            "message": "NDC 00781210301: J7507 products are capsules, counted as items (UN), "
            "but the NDC quantity is in ML",
            "fix": {"ndc_unit": "UN"},
        }
    ]
    counted = text.replace("CTP****120*ML~", "CTP****120*UN~")
    assert _findings(counted, ["NDC009"]) == []
