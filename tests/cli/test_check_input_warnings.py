"""What a reader noticed but read anyway reaches the user of ``check``, located.

A real fixture with an implementation-guide id the reader does not know in ST03 (its GS08
is known, so the claims are read by GS08's guide): the claims are checked and the report
says why, in the text report and in the result JSON, whole and in chunks.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from claimscrub.cli import cli

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "x12"
SDK = FIXTURES / "x12sdk-generated__837p_seed7_5claims.x12"


@pytest.fixture
def unknown_st03(tmp_path: Path) -> Path:
    data = SDK.read_bytes()
    assert data.count(b"ST*837*0001*005010X222A2") == 1
    path = tmp_path / "unknown_st03.x12"
    path.write_bytes(data.replace(b"ST*837*0001*005010X222A2", b"ST*837*0001*005010X299A9"))
    return path


def _check(path: Path, *args: str, chunked: bool = False) -> tuple[int, str]:
    config = path.with_name(f"{path.stem}.claimscrub.toml")
    config.write_text(f"[streaming]\nmin-size-mb = {0 if chunked else 1000}\n")
    result = CliRunner().invoke(cli, ["check", str(path), "--config", str(config), *args])
    return result.exit_code, result.stdout


@pytest.mark.parametrize("chunked", [False, True])
def test_the_text_report_lists_input_warnings(unknown_st03: Path, chunked: bool) -> None:
    code, out = _check(unknown_st03, chunked=chunked)
    assert code in (0, 1)
    assert (
        f"{unknown_st03}:3: input warning: ST03 '005010X299A9' is not a known implementation "
        "guide; read as GS08 '005010X222A2'"
    ) in out
    assert "Checked 5 claims" in out


@pytest.mark.parametrize("chunked", [False, True])
def test_the_result_json_carries_input_warnings(unknown_st03: Path, chunked: bool) -> None:
    _, out = _check(unknown_st03, "--format", "json", chunked=chunked)
    doc = json.loads(out)
    assert doc["summary"]["claims"] == 5
    assert doc["input_warnings"] == [
        {
            "src": str(unknown_st03),
            "seg_ordinal": 3,
            "reason": "ST03 '005010X299A9' is not a known implementation guide; "
            "read as GS08 '005010X222A2'",
        }
    ]


def test_a_clean_input_has_no_input_warnings(tmp_path: Path) -> None:
    clean = tmp_path / SDK.name
    clean.write_bytes(SDK.read_bytes())
    _, out = _check(clean, "--format", "json")
    assert json.loads(out)["input_warnings"] == []
