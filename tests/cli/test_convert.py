"""``claimscrub convert``: outputs, stderr report, exit codes."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner, Result

from claimscrub.cli import cli

TESTS = Path(__file__).resolve().parent.parent
CLAIMS = TESTS / "fixtures" / "claims"
ALL_FIELDS = CLAIMS / "json" / "all-fields.json"
ALL_COLUMNS = CLAIMS / "csv" / "all-columns.csv"
BROKEN_CSV = CLAIMS / "csv" / "broken.csv"
BROKEN_JSON = CLAIMS / "json" / "broken.json"
X12_DRUG = TESTS.parent.parent / "shared" / "fixtures" / "x12" / "lfhx12__demo.drug.example10.3.837"


def run(*args: str, stdin: bytes | None = None) -> Result:
    return CliRunner().invoke(cli, ["convert", *args], input=stdin)


def test_json_to_csv_to_json(tmp_path: Path) -> None:
    out_csv = tmp_path / "claims.csv"
    first = run(str(ALL_FIELDS), "-o", str(out_csv))
    assert first.exit_code == 0, first.output
    rows = list(csv.DictReader(io.StringIO(out_csv.read_text())))
    assert [(r["claim_id"], r["line_number"], r["hcpcs"]) for r in rows] == [
        ("C1001", "1", "J7507"),
        ("C1001", "2", "J7517"),
        ("C1002", "1", "J7511"),
    ]
    assert "no column for payer_name (2 claims)" in first.stderr
    assert first.stderr.strip().endswith(
        "2 claims, 3 lines, 0 rejected (and 1 history claims, 1 lines)"
    )

    out_json = tmp_path / "back.json"
    second = run(str(out_csv), "-o", str(out_json))
    assert second.exit_code == 0, second.output
    document = json.loads(out_json.read_text())
    assert [c["id"] for c in document["claims"]] == ["C1001", "C1002"]
    assert document["claims"][0]["lines"][0]["units"] == 180
    assert document["history"] == []


def test_json_out_round_trips_through_the_reader(tmp_path: Path) -> None:
    once, twice = tmp_path / "once.json", tmp_path / "twice.json"
    assert run(str(ALL_FIELDS), "-o", str(once)).exit_code == 0
    assert run(str(once), "-o", str(twice)).exit_code == 0
    assert once.read_text() == twice.read_text()
    original = json.loads(ALL_FIELDS.read_text())
    del original["x_synthetic"]
    assert json.loads(once.read_text()) == original


def test_csv_out_round_trips(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    result = run(str(ALL_COLUMNS), "-o", str(out))
    assert result.exit_code == 0
    assert out.read_text() == ALL_COLUMNS.read_text()


def test_x12_to_json_keeps_x12_only_facts_as_an_extension(tmp_path: Path) -> None:
    out = tmp_path / "x12.json"
    result = run(str(X12_DRUG), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "1 claims, 6 lines, 0 rejected" in result.stderr
    claim = json.loads(out.read_text())["claims"][0]
    assert claim["id"] == "CLMNO12345" and claim["type"] == "professional"
    j0696 = next(line for line in claim["lines"] if line["hcpcs"] == "J0696")
    assert (j0696["units"], j0696["ndc"], j0696["ndc_quantity"], j0696["ndc_unit"]) == (
        56,
        "00004196501",
        7,
        "UN",
    )
    assert j0696["x_x12"]["ndc_qualifier"] == "N4"
    assert "billing_npi" in claim["x_x12"]
    again = tmp_path / "again.json"
    assert run(str(out), "-o", str(again)).exit_code == 0
    assert again.read_text() == out.read_text()


@pytest.mark.parametrize("suffix", [".json", ".csv"])
def test_x12_converted_checks_as_the_837_does(tmp_path: Path, suffix: str) -> None:
    # SBR09 says the payer type only in X12: convert writes the type check derives from
    # it, so the converted file gets the same packs and the same findings.
    out = tmp_path / f"x12{suffix}"
    assert run(str(X12_DRUG), "-o", str(out)).exit_code == 0
    if suffix == ".json":
        assert json.loads(out.read_text())["claims"][0]["payer"]["type"] == "commercial"

    def findings(path: Path) -> list[tuple[str, int, str]]:
        result = CliRunner().invoke(cli, ["check", str(path), "--format", "json", "--isolated"])
        (claim,) = json.loads(result.stdout)["claims"]
        return [(f["rule"], f["line"], f["message"]) for f in claim["findings"]]

    # The CSV format has no column for the SV101-7 drug description (convert says so),
    # which NOC002 accepts in place of a narrative on the J3490 lines.
    lost = {"NOC002"} if suffix == ".csv" else set()
    assert [f for f in findings(out) if f[0] not in lost] == findings(X12_DRUG)


def test_parquet_is_a_flat_line_table(tmp_path: Path) -> None:
    out = tmp_path / "lines.parquet"
    result = run(str(ALL_FIELDS), str(X12_DRUG), "-o", str(out))
    assert result.exit_code == 0, result.output
    table = pl.read_parquet(out)
    assert table.height == 3 + 1 + 6  # claim lines, history line, X12 lines
    for column in (
        "claim_id",
        "history",
        "hcpcs",
        "units",
        "ndc",
        "ndc11",
        "ndc_qty",
        "ndc_unit",
        "service_date",
        "dos_from",
        "patient_id",
        "payer_type",
        "diagnoses",
        "modifiers",
    ):
        assert column in table.columns
    assert table.schema["modifiers"] == pl.List(pl.String)
    assert table.schema["diagnosis_pointers"] == pl.List(pl.Int64)
    assert table.schema["transplants"].inner.fields[1].name == "date"  # type: ignore[attr-defined]
    history = table.filter(pl.col("history"))
    assert history["claim_id"].to_list() == ["H0901"]
    tacrolimus = table.filter(pl.col("hcpcs") == "J7507", ~pl.col("history"))
    assert tacrolimus.select("claim_id", "payer_type", "ndc", "ndc11", "ndc_qty").row(0) == (
        "C1001",
        "medicare",
        "00469060773",
        "00469060773",
        180.0,
    )
    assert table.filter(pl.col("hcpcs") == "J0696")["ndc11"].item() == "00004196501"


def test_rejected_inputs_are_listed_and_exit_code_is_1(tmp_path: Path) -> None:
    out = tmp_path / "good.json"
    result = run(str(BROKEN_CSV), "-o", str(out))
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert (
        f"{BROKEN_CSV}:row 4: rejected claim C3002: row 4, column units: 'abc' is not a number"
        in lines
    )
    assert f"{BROKEN_CSV}:row 8: rejected: row 8, column claim_id: empty" in lines
    assert lines[-1] == "2 claims, 4 lines, 7 rejected"
    # the rest is still written
    assert [c["id"] for c in json.loads(out.read_text())["claims"]] == ["C3008", "C3001"]


def test_json_rejections_carry_the_json_path(tmp_path: Path) -> None:
    result = run(str(BROKEN_JSON), "-o", str(tmp_path / "out.json"))
    assert result.exit_code == 1
    expected = "claims[1]: rejected claim B2: claims[1].lines[0].units: 'abc' is not a number"
    assert f"{BROKEN_JSON}:{expected}" in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "2 claims, 3 lines, 8 rejected (and 1 history claims, 1 lines)"
    )


def test_stdout_and_stdin() -> None:
    result = run("-", stdin=ALL_COLUMNS.read_bytes())
    assert result.exit_code == 0
    assert [c["id"] for c in json.loads(result.stdout)["claims"]] == ["C2001", "C2002"]
    as_csv = run(str(ALL_FIELDS), "--format", "csv")
    assert as_csv.exit_code == 0
    assert as_csv.stdout.splitlines()[0].startswith("claim_id,claim_type,payer_type")
    parquet = run(str(ALL_FIELDS), "--format", "parquet")  # not a terminal here
    assert parquet.exit_code == 0
    assert pl.read_parquet(io.BytesIO(parquet.stdout_bytes)).height == 4


def test_format_option_wins_over_the_extension(tmp_path: Path) -> None:
    out = tmp_path / "claims.txt"
    result = run(str(ALL_FIELDS), "-o", str(out), "--format", "csv")
    assert result.exit_code == 0
    assert out.read_text().startswith("claim_id,")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.json", "-o", "out.json"], "missing.json: no such file"),
        ([str(ALL_FIELDS), "-o", "out.txt"], "cannot tell the output format from 'out.txt'"),
        ([str(ALL_FIELDS), "-o", "no/such/dir/out.json"], "does not exist"),
        ([str(ALL_FIELDS), "--format", "xml"], "Invalid value for '--format'"),
        ([], "Missing argument"),
    ],
)
def test_usage_errors_exit_2(args: list[str], message: str, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert not (tmp_path / "out.json").exists()


def test_history_option(tmp_path: Path) -> None:
    out = tmp_path / "with-history.json"
    result = run(str(ALL_COLUMNS), "--history", str(X12_DRUG), "-o", str(out))
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text())
    assert [c["id"] for c in document["claims"]] == ["C2001", "C2002"]
    assert [c["id"] for c in document["history"]] == ["CLMNO12345"]


def test_unreadable_input_is_rejected_not_a_crash(tmp_path: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\x01 not claims")
    result = run(str(junk), str(ALL_COLUMNS), "-o", str(tmp_path / "out.json"))
    assert result.exit_code == 1
    assert f"{junk}: rejected: cannot tell the format" in result.stderr
    assert json.loads((tmp_path / "out.json").read_text())["claims"][0]["id"] == "C2001"
