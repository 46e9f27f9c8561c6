"""Line dates and code qualifiers on real X12, read by the real reader, checked by every rule.

COD006 (no date of service) and COD007 (code of another code set than HCPCS) depend on
what only an 837 says: whether a line has its own DTP*472, the 837I statement period
(DTP*434), the SV101-1 / SV202-1 qualifier. The LinuxForHealth 837P drug example (line 2:
J1550 with NDC 00026063512) and the two-claim 837I example (see
shared/fixtures/x12/PROVENANCE.md) are changed one element at a time; the 837P dates are
moved to 2025 so that the code rules judge the line against the bundled HCPCS releases.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from claimscrub.engine.evaluate import evaluate
from claimscrub.engine.prepare import prepare_lines
from claimscrub.payers.packs import load_packs
from claimscrub.readers import read_bytes
from claimscrub.refdata.catalog import default_refdata
from claimscrub.rules.registry import load_builtin_rules

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "x12"
DRUG = FIXTURES / "lfhx12__demo.drug.example10.1.837"
INSTITUTIONAL = FIXTURES / "lfhx12__two-claims-single-provider.837i"
DRUG_SV1 = "SV1*HC:J1550*"
DRUG_DATE = "DTP*472*D8*20250711~\n"  # the second of the two line dates is the drug line's


def _findings(text: str) -> list[dict[str, Any]]:
    """Every rule's findings on the claims of ``text`` (after the engine's line gates)."""
    batch = read_bytes(text.encode(), "variant.837")
    assert batch.rejected.height == 0, batch.rejected.to_dicts()
    packs = load_packs()
    claims, lines = prepare_lines(batch.lines, batch.claims, packs)
    rules = load_builtin_rules()
    result = evaluate(list(rules.values()), lines, claims, default_refdata(), packs=packs)
    assert not result.broken, result.broken
    return [
        {
            "rule": row["rule"],
            "line": row["line_no"],
            "severity": row["severity"],
            "message": row["message"],
            "carc": row["carc"],
            "rarc": row["rarc"],
        }
        for row in result.findings.to_dicts()
    ]


def _on_line(found: list[dict[str, Any]], line: int) -> list[str]:
    return [f["rule"] for f in found if f["line"] == line]


@pytest.fixture(scope="module")
def drug() -> str:
    text = DRUG.read_text().replace("20040711", "20250711")
    assert text.count(DRUG_DATE) == 2 and DRUG_SV1 in text
    return text


def test_the_dated_hcpcs_line_is_checked(drug: str) -> None:
    # J1550 is not in the bundled HCPCS releases: the code rules do judge the line.
    assert _on_line(_findings(drug), 2) == ["COD002"]


def test_837p_line_without_dtp472_is_reported_and_not_dated_by_the_other_line(drug: str) -> None:
    at = drug.rindex(DRUG_DATE)
    text = drug[:at] + drug[at + len(DRUG_DATE) :]
    found = _findings(text)
    line2 = [f for f in found if f["line"] == 2]
    # Only COD006: the line's other verdicts (here COD002) would be judged as of no date.
    assert line2 == [
        {
            "rule": "COD006",
            "line": 2,
            "severity": "error",
            "message": "line 2 (J1550) has no date of service: neither the line nor its claim "
            "gives one, so nothing on the line can be checked as of a date",
            "carc": "CO-16",
            "rarc": ["M52"],
        }
    ]
    assert _on_line(found, 1) == []  # line 1 keeps its own date and passes


def test_837p_without_any_line_date_reports_every_line(drug: str) -> None:
    found = _findings(drug.replace(DRUG_DATE, ""))
    assert [(f["rule"], f["line"]) for f in found] == [("COD006", 1), ("COD006", 2)]


def test_837i_lines_without_dtp472_take_the_statement_period() -> None:
    text = INSTITUTIONAL.read_text()
    assert "DTP*472*D8*20050315~\n" in text
    assert _on_line(_findings(text.replace("DTP*472*D8*20050315~\n", "")), 1) == []
    assert not [f for f in _findings(text) if f["rule"] == "COD006"]


def test_837i_line_without_dtp472_on_a_claim_without_statement_period() -> None:
    text = INSTITUTIONAL.read_text()
    for segment in ("DTP*434*RD8*20050315-20050315~\n", "DTP*472*D8*20050315~\n"):
        assert segment in text
        text = text.replace(segment, "")
    cod006 = [(f["rule"], f["line"]) for f in _findings(text) if f["rule"] == "COD006"]
    assert cod006 == [("COD006", 1), ("COD006", 2)]  # the first claim's two lines


@pytest.mark.parametrize(
    ("sv1", "hcpcs_error"),
    [("SV1*WK:ABC12*", "COD005"), ("SV1*IV:J7526*", "COD002"), ("SV1*ER:J1550*", "COD002")],
)
def test_code_of_another_code_set_is_reported_as_not_checked(
    drug: str, sv1: str, hcpcs_error: str
) -> None:
    # With HC the same code is a HCPCS error; with another qualifier it is not HCPCS at all.
    code = sv1.split(":")[1].rstrip("*")
    assert hcpcs_error in _on_line(_findings(drug.replace(DRUG_SV1, f"SV1*HC:{code}*")), 2)
    qualifier = sv1[4:6]
    found = [f for f in _findings(drug.replace(DRUG_SV1, sv1)) if f["line"] == 2]
    assert found == [
        {
            "rule": "COD007",
            "line": 2,
            "severity": "info",
            "message": f"{code} is sent with procedure code qualifier {qualifier}, not HC: it is "
            "not a HCPCS code, so the code, NDC crosswalk, unit and limit checks do not apply "
            "and the line was not checked",
            "carc": None,
            "rarc": [],
        }
    ]


def test_hipps_code_on_an_837i_line() -> None:
    text = INSTITUTIONAL.read_text()
    assert "SV2*0305*HC:85025*" in text
    found = _findings(text.replace("SV2*0305*HC:85025*", "SV2*0022*HP:1AFK1*"))
    assert [(f["rule"], f["line"], f["severity"]) for f in found if f["line"] == 1] == [
        ("COD007", 1, "info")
    ]


def test_cyclosporine_25_mg_on_the_100_mg_code(drug: str) -> None:
    # Teva cyclosporine 25 mg capsules, 180 of them, billed as 45 units of J7502 (100 mg):
    # the crosswalk lists the NDC under J7502 and J7515; its strength is J7515's unit.
    text = drug.replace("SV1*HC:J1550*53.37*UN*1.00*", "SV1*HC:J7502*53.37*UN*45*").replace(
        "LIN**N4*00026063512~\nCTP****10.00*ML~", "LIN**N4*00093901865~\nCTP****180*UN~"
    )
    found = [f for f in _findings(text) if f["line"] == 2]
    assert [f["rule"] for f in found if f["rule"].startswith(("COD", "UNT"))] == ["COD009"]
    (cod009,) = (f for f in found if f["rule"] == "COD009")
    assert "180 UN × 1 = 180 units of J7515" in cod009["message"]
    right_code = text.replace("SV1*HC:J7502*53.37*UN*45*", "SV1*HC:J7515*53.37*UN*180*")
    assert "COD009" not in _on_line(_findings(right_code), 2)
