"""JW/JZ on a drug outside the curated single-dose-container list, read from a real 837P.

The LinuxForHealth 837P drug example (shared/fixtures/x12/PROVENANCE.md) bills J1550 with
an NDC in loop 2410 to a commercial plan in 2004. Here it is moved to 2025, to Medicare
Part B (SBR09 MB, so the medicare-ab pack, which requires JW/JZ), and its drug line to
rituximab: J9312 (10 mg) with Rituxan 50242-0051-21 (100 mg / 10 mL vial), 10 mL = 10
units. Every other segment is the real file's.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from claimscrub.engine.scrub import make_plan, scrub
from claimscrub.readers import read_bytes

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "x12"
DRUG = FIXTURES / "lfhx12__demo.drug.example10.1.837"


@pytest.fixture(scope="module")
def rituximab() -> str:
    text = DRUG.read_text()
    for old, new in (
        ("20040711", "20251115"),
        ("******CI~", "******MB~"),
        ("SV1*HC:J1550*53.37*UN*1.00*", "SV1*HC:J9312*53.37*UN*10*"),
        ("LIN**N4*00026063512", "LIN**N4*50242005121"),
    ):
        assert text.count(old) >= 1, old
        text = text.replace(old, new)
    return text


def _rules_on_line_2(text: str) -> list[str]:
    batch = read_bytes(text.encode(), "rituximab.837")
    assert batch.rejected.height == 0, batch.rejected.to_dicts()
    result = scrub(batch, make_plan()).to_dict()
    (claim,) = result["claims"]
    return [f["rule"] for f in claim["findings"] if f["line"] == 2]


def test_rituximab_without_jw_or_jz_is_reported_as_packaging_unknown(rituximab: str) -> None:
    assert "MOD007" in _rules_on_line_2(rituximab)
    assert "MOD004" not in _rules_on_line_2(rituximab)  # not on the curated list


def test_rituximab_with_jz_passes(rituximab: str) -> None:
    with_jz = rituximab.replace("SV1*HC:J9312*", "SV1*HC:J9312:JZ*")
    assert not {"MOD004", "MOD007"} & set(_rules_on_line_2(with_jz))


def test_jz_beside_a_jw_line_of_the_same_drug(rituximab: str) -> None:
    # 712.5 mg given (line 2, JZ) and a JW line 3 for 87.5 mg discarded: JZ contradicts it.
    jw_line = (
        "LX*3~\nSV1*HC:J9312:JW*5.00*UN*9*11**1~\nDTP*472*D8*20251115~\n"
        "LIN**N4*50242005121~\nCTP****8.75*ML~\n"
    )
    text = rituximab.replace("SV1*HC:J9312*", "SV1*HC:J9312:JZ*").replace(
        "SE*31*0711~", jw_line + "SE*36*0711~"
    )
    assert "MOD008" in _rules_on_line_2(text)
    assert "MOD008" not in _rules_on_line_2(rituximab.replace("SV1*HC:J9312*", "SV1*HC:J9312:JZ*"))
