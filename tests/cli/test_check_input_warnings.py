"""What a reader noticed but read anyway reaches the user of ``check``, located.

A real fixture with an implementation-guide id the reader does not know in ST03 (its GS08
is known, so the claims are read by GS08's guide): the claims are checked and the report
says why, in the text report and in the result JSON, whole and in chunks.
"""

from __future__ import annotations

import csv
import io
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


_REASON = "ST03 '005010X299A9' is not a known implementation guide; read as GS08 '005010X222A2'"


@pytest.mark.parametrize("chunked", [False, True])
def test_json_lines_end_with_the_input_warnings(unknown_st03: Path, chunked: bool) -> None:
    _, out = _check(unknown_st03, "--format", "jsonl", chunked=chunked)
    items = [json.loads(line) for line in out.splitlines()]
    assert items[-1] == {
        "input_warning": {"src": str(unknown_st03), "seg_ordinal": 3, "reason": _REASON}
    }
    assert sum("input_warning" in item for item in items) == 1


@pytest.mark.parametrize("chunked", [False, True])
def test_the_csv_has_a_row_for_each_input_warning(unknown_st03: Path, chunked: bool) -> None:
    _, out = _check(unknown_st03, "--format", "csv", chunked=chunked)
    rows = list(csv.DictReader(io.StringIO(out)))
    noticed = [r for r in rows if r["name"] == "input-warning"]
    assert len(noticed) == 1
    assert noticed[0]["rule"] == "INPUT"
    assert noticed[0]["severity"] == "warning"
    assert noticed[0]["claim_status"] == ""  # the claims were read and checked
    assert noticed[0]["message"] == _REASON
    assert noticed[0]["x12_ordinal"] == "3"
    assert noticed[0]["input"] == str(unknown_st03)


@pytest.mark.parametrize("chunked", [False, True])
def test_sarif_notifies_input_warnings_and_rejections(
    unknown_st03: Path, tmp_path: Path, chunked: bool
) -> None:
    # A second file (ST03 known) whose first claim cannot be read: CLM without its amount.
    broken = tmp_path / "broken.x12"
    data = SDK.read_bytes().decode()
    first_clm = data.index("CLM*")
    amount_end = data.index("*", data.index("*", first_clm + 4) + 1)
    broken.write_text(data[: data.index("*", first_clm + 4) + 1] + data[amount_end:])
    config = tmp_path / "stream.claimscrub.toml"
    config.write_text(f"[streaming]\nmin-size-mb = {0 if chunked else 1000}\n")
    result = CliRunner().invoke(
        cli,
        ["check", str(unknown_st03), str(broken), "--config", str(config), "--format", "sarif"],
    )
    assert result.exit_code == 1  # a rejected input fails the run, as in every format
    doc = json.loads(result.stdout)
    (invocation,) = doc["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is True  # every rule ran
    notes = invocation["toolExecutionNotifications"]
    assert [(n["level"], n["descriptor"]["id"]) for n in notes] == [
        ("error", "rejected-input"),
        ("warning", "input-warning"),
    ]
    rejected = notes[0]
    assert rejected["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == str(broken)
    assert "CLM02" in rejected["message"]["text"]
    assert rejected["properties"]["seg_ordinal"] > 0
    assert notes[1]["message"]["text"] == _REASON


def test_a_rejected_csv_row_is_located_at_its_file_line_and_names_its_claim(
    tmp_path: Path,
) -> None:
    path = tmp_path / "claims.csv"
    path.write_text(
        "claim_id,hcpcs,units,service_date\n"
        "C1,J7507,30,2026-03-02\n"
        'C2,J7507,"1,80",2026-03-02\n'  # file line 3, data row 2
    )
    code, out = _check(path, "--isolated")
    assert code == 1
    assert f"{path}:3: rejected input claim C2: row 2, column units: '1,80' is not a number" in out


def test_an_input_warning_about_a_whole_file_has_no_position(tmp_path: Path) -> None:
    path = tmp_path / "claims.csv"
    path.write_text("claim_id,hcpcs,units,service_date,,\nC1,J7507,30,2026-03-02,,\n")
    _, out = _check(path, "--isolated")
    assert f"{path}: input warning: header column(s) 5, 6 have no name" in out


def test_two_claims_with_one_id_are_told_apart_by_their_location(tmp_path: Path) -> None:
    claim = {
        "id": "X",
        "service_date": "2026-03-02",
        "place_of_service": "11",
        "payer": {"type": "commercial"},
        "diagnoses": ["Z94.0"],
        "lines": [{"number": 1, "hcpcs": "J7507", "units": 30}],
    }
    path = tmp_path / "claims.json"
    path.write_text(json.dumps({"claims": [claim, {**claim, "lines": [{"number": 1}]}]}))
    _, out = _check(path, "--isolated", "--format", "json")
    doc = json.loads(out)
    assert [(c["id"], c["location"]["json_path"]) for c in doc["claims"]] == [
        ("X", "claims[0]"),
        ("X", "claims[1]"),
    ]
    assert doc["claims"][1]["status"] == "error"  # its line has no code and no units
    assert any("X" in w["reason"] for w in doc["input_warnings"])
