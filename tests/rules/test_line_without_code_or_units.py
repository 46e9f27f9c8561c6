"""A line without a code or units is reported, never counted clean (COD008, UNT008).

End to end through ``check``: the gate of a missing code (COD008) leaves the missing
units (UNT008) reported beside it, and a batch where no line has a code or units still
runs both rules (they need no input column to hold data).
"""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from claimscrub.cli import cli


def _check(tmp_path: Path, lines: list[dict]) -> tuple[int, dict]:
    doc = {
        "claims": [
            {
                "id": "N1",
                "service_date": "2026-03-02",
                "place_of_service": "11",
                "payer": {"type": "commercial"},
                "diagnoses": ["Z94.0"],
                "lines": lines,
            }
        ]
    }
    path = tmp_path / "claims.json"
    path.write_text(json.dumps(doc))
    result = CliRunner().invoke(cli, ["check", str(path), "--isolated", "--format", "json"])
    return result.exit_code, json.loads(result.stdout)


def test_a_line_with_neither_code_nor_units_gets_both_findings(tmp_path: Path) -> None:
    code, doc = _check(
        tmp_path, [{"number": 1, "ndc": "00469061773", "ndc_quantity": 60, "ndc_unit": "UN"}]
    )
    assert code == 1
    (claim,) = doc["claims"]
    assert claim["status"] == "error"
    found = {f["rule"]: f for f in claim["findings"]}
    assert set(found) == {"COD008", "UNT008"}
    assert found["COD008"]["fix"] == {"hcpcs": "J7507"}
    assert found["UNT008"]["message"].startswith("line 1 (?) states no units")
    assert "fix" not in found["UNT008"]  # no code, so no billing unit to count in


def test_a_line_without_units_is_not_clean(tmp_path: Path) -> None:
    code, doc = _check(
        tmp_path,
        [
            {
                "number": 1,
                "hcpcs": "J7507",
                "ndc": "00469061773",
                "ndc_quantity": 60,
                "ndc_unit": "UN",
            }
        ],
    )
    assert code == 1
    (claim,) = doc["claims"]
    assert [(f["rule"], f.get("fix")) for f in claim["findings"]] == [("UNT008", {"units": 60})]
