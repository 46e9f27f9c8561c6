"""DUP003 on real X12: a claim repeated in the batch is reported on its copy, and a
replacement claim (CLM05-3 = 7) that restates it is not."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from claimscrub.cli import cli

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "immunosuppressants.837"


def test_a_copy_is_reported_and_a_replacement_is_not(tmp_path: Path) -> None:
    data = EXAMPLE.read_text()
    start, end = data.index("CLM*EX-1002*"), data.index("HL*4*")
    claim = data[start:end]  # patient P0002's claim: J7507, NDC 00781210201, 2025-07-01
    replacement = claim.replace("CLM*EX-1002*96.00***12:B:1", "CLM*EX-1002R*96.00***12:B:7")
    copy = claim.replace("CLM*EX-1002*", "CLM*EX-1002B*")
    path = tmp_path / "batch.837"
    path.write_text(data[:end] + replacement + copy + data[end:])
    result = CliRunner().invoke(
        cli, ["check", str(path), "--isolated", "--select", "DUP003", "--format", "json"]
    )
    doc = json.loads(result.stdout)
    found = [(c["id"], f["line"], f["message"]) for c in doc["claims"] for f in c["findings"]]
    assert found == [
        (
            "EX-1002B",
            1,
            "J7507, NDC 00781210201, 2025-07-01 is also billed for this patient on claim "
            "EX-1002 line 1, earlier in this batch",
        )
    ]
    assert doc["summary"]["claims"] == 16
