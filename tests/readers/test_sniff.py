"""Format sniffing by content, and read_claims over several inputs (X12 included)."""

from __future__ import annotations

import io
import shutil
import sys
from pathlib import Path

import polars as pl
import pytest

from claimscrub.readers import InputError, read_bytes, read_claims, sniff_format

TESTS = Path(__file__).resolve().parent.parent
CLAIMS = TESTS / "fixtures" / "claims"
X12 = TESTS.parent.parent / "shared" / "fixtures" / "x12"
X12_DRUG = X12 / "lfhx12__demo.drug.example10.3.837"


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"ISA*00*          *00*          *ZZ*", "x12"),
        (b"\xef\xbb\xbf\r\n  ISA*00*", "x12"),
        (b'{"claims": []}', "json"),
        (b'\xef\xbb\xbf\n\t {"claims": []}', "json"),
        (b"[1, 2]", "json"),
        (b"claim_id\nC1\n", "csv"),
        (b"\xef\xbb\xbfclaim_id,hcpcs\r\nC1,J7507\r\n", "csv"),
        (b"foo,bar\n1,2\n", "csv"),  # a CSV whose columns are all wrong: the reader names them
        (b"hello world\n", None),
        (b"%PDF-1.7", None),
        (b"", None),
    ],
)
def test_sniff_by_content(head: bytes, expected: str | None) -> None:
    assert sniff_format(head) == expected


def test_real_x12_fixture_sniffs_as_x12() -> None:
    assert sniff_format(X12_DRUG.read_bytes()[:4096]) == "x12"


def test_format_comes_from_content_not_file_name(tmp_path: Path) -> None:
    csv_named_json = tmp_path / "claims.json"
    shutil.copy(CLAIMS / "csv" / "all-columns.csv", csv_named_json)
    json_named_csv = tmp_path / "claims.csv"
    shutil.copy(CLAIMS / "json" / "all-fields.json", json_named_csv)
    x12_named_txt = tmp_path / "claims.txt"
    shutil.copy(X12_DRUG, x12_named_txt)

    from_csv = read_claims(csv_named_json)
    assert from_csv.claims["row"].to_list() == [1, 3]  # CSV locations
    from_json = read_claims(json_named_csv)
    assert from_json.claims["json_path"].to_list() == ["claims[0]", "claims[1]"]
    from_x12 = read_claims(x12_named_txt)
    assert from_x12.claims["claim_id"].to_list() == ["CLMNO12345"]
    assert from_x12.claims["seg_ordinal"].null_count() == 0  # X12 locations


def test_unknown_content_is_a_rejected_input_with_a_reason() -> None:
    batch = read_bytes(b"hello world\n", "notes.txt")
    assert batch.claims.is_empty()
    assert batch.rejected.row(0, named=True)["src"] == "notes.txt"
    assert "cannot tell the format" in batch.rejected["reason"].item()
    utf16 = read_bytes("claim_id,hcpcs\n".encode("utf-16"), "u16.csv")
    assert "UTF-16" in utf16.rejected["reason"].item()
    pdf = read_bytes(b"%PDF-1.7 ...", "claims.pdf")
    assert "binary document" in pdf.rejected["reason"].item()


def test_empty_input_is_a_warning_not_a_rejection() -> None:
    batch = read_bytes(b"\n\n", "empty.csv")
    assert batch.rejected.is_empty()
    assert batch.warnings["reason"].to_list() == ["the file is empty"]


def test_forced_format_overrides_sniffing() -> None:
    batch = read_bytes(b'{"claims": []}', "x.csv", input_format="csv")
    assert "unknown column(s)" in batch.rejected["reason"].item()
    with pytest.raises(InputError, match="unknown input format 'fhir'"):
        read_bytes(b"", "x", input_format="fhir")


def test_x12_is_read_through_read_claims() -> None:
    batch = read_claims(X12_DRUG)
    assert batch.rejected.is_empty()
    assert batch.claims["claim_id"].to_list() == ["CLMNO12345"]
    assert batch.lines["hcpcs"].to_list() == ["S9500", "J0696", "J7051", "J3490", "J3490", "J3490"]
    assert batch.lines.filter(pl.col("hcpcs") == "J0696")["ndc"].item() == "00004196501"
    assert batch.claims["src"].item() == str(X12_DRUG)


def test_several_inputs_keep_claim_keys_unique_and_history_apart() -> None:
    batch = read_claims(
        [X12_DRUG, CLAIMS / "csv" / "all-columns.csv", CLAIMS / "json" / "all-fields.json"],
        history=[CLAIMS / "csv" / "all-columns.csv"],
    )
    assert batch.claims["claim_id"].to_list() == ["CLMNO12345", "C2001", "C2002", "C1001", "C1002"]
    assert batch.claims["claim_key"].to_list() == [0, 1, 2, 3, 4]
    # history: the JSON file's history array, then the file passed as history
    assert batch.history.claims["claim_id"].to_list() == ["H0901", "C2001", "C2002"]
    assert batch.history.claims["claim_key"].to_list() == [5, 6, 7]
    lines_keys = set(batch.lines["claim_key"]) | set(batch.history.lines["claim_key"])
    assert lines_keys == set(range(8))


def test_problems_of_history_inputs_are_reported_with_the_others() -> None:
    batch = read_claims(
        CLAIMS / "json" / "all-fields.json", history=[CLAIMS / "csv" / "broken.csv"]
    )
    assert batch.history.rejected.is_empty()
    assert set(batch.rejected["src"]) == {str(CLAIMS / "csv" / "broken.csv")}
    assert "C3001" in batch.history.claims["claim_id"].to_list()


def test_missing_inputs_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_claims(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="is a directory"):
        read_claims(tmp_path)
    with pytest.raises(InputError, match="only once"):
        read_claims(["-"], history=["-"])


def test_standard_input(monkeypatch: pytest.MonkeyPatch) -> None:
    data = (CLAIMS / "csv" / "all-columns.csv").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    batch = read_claims("-")
    assert batch.claims["claim_id"].to_list() == ["C2001", "C2002"]
    assert set(batch.claims["src"]) == {"-"}
