"""Diagnoses for rabbit ATG, read from a real 837P.

The LinuxForHealth 837P drug example (shared/fixtures/x12/PROVENANCE.md) bills J1550 with
an NDC in loop 2410 and an ICD-9 diagnosis (HI*BK) in 2004. Here it is moved to 2025, its
diagnosis to ICD-10-CM (HI*ABK) and its drug line to Thymoglobulin: J7511 (25 mg) with
58468-0080-01 (one 25 mg vial), 6 vials = 6 units, JZ. Every other segment is the real
file's, including its commercial payer (SBR09 CI).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from claimscrub.engine.scrub import make_plan, scrub
from claimscrub.readers import read_bytes

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "x12"
DRUG = FIXTURES / "lfhx12__demo.drug.example10.1.837"


def _thymoglobulin(diagnosis: str) -> str:
    text = DRUG.read_text()
    for old, new in (
        ("20040711", "20251115"),
        ("HI*BK:03591~", f"HI*ABK:{diagnosis}~"),
        ("SV1*HC:J1550*53.37*UN*1.00*", "SV1*HC:J7511:JZ*53.37*UN*6*"),
        ("LIN**N4*00026063512~\nCTP****10.00*ML~", "LIN**N4*58468008001~\nCTP****6*UN~"),
    ):
        assert text.count(old) >= 1, old
        text = text.replace(old, new)
    return text


def _line_2(text: str) -> dict[str, dict]:
    batch = read_bytes(text.encode(), "thymoglobulin.837")
    assert batch.rejected.height == 0, batch.rejected.to_dicts()
    (claim,) = scrub(batch, make_plan()).to_dict()["claims"]
    return {f["rule"]: f for f in claim["findings"] if f["line"] == 2}


@pytest.mark.parametrize("diagnosis", ["T8621", "D89811"])
def test_off_label_use_is_a_warning_not_an_error(diagnosis: str) -> None:
    found = _line_2(_thymoglobulin(diagnosis))
    assert "DGN001" not in found
    assert found["DGN006"]["severity"] == "warning"
    assert found["DGN006"]["carc"] == "CO-11"  # SBR09 CI: a commercial plan


def test_kidney_rejection_is_on_the_label() -> None:
    found = _line_2(_thymoglobulin("T8611"))
    assert not {"DGN001", "DGN006"} & set(found)


def test_a_diagnosis_no_payer_covers_stays_an_error() -> None:
    found = _line_2(_thymoglobulin("M3214"))
    assert "DGN006" not in found
    assert "supports J7511 (M3214)" in found["DGN001"]["message"]


def test_a_diagnosis_sent_with_its_decimal_point() -> None:
    batch = read_bytes(_thymoglobulin("T86.11").encode(), "dotted.837")
    (claim,) = scrub(batch, make_plan()).to_dict()["claims"]
    (dgn007,) = (f for f in claim["findings"] if f["rule"] == "DGN007")
    assert dgn007["line"] is None and dgn007["fix"] == {"diagnoses": ["T8611"]}
    # every other rule reads the code without its dot: the label still supports the line
    assert not {"DGN001", "DGN002", "DGN006"} & {f["rule"] for f in claim["findings"]}
    undotted = read_bytes(_thymoglobulin("T8611").encode(), "plain.837")
    (claim,) = scrub(undotted, make_plan()).to_dict()["claims"]
    assert "DGN007" not in {f["rule"] for f in claim["findings"]}
