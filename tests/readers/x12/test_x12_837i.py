"""837I: bill type, revenue codes, statement dates and SV2 lines."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import polars as pl

from claimscrub.readers.x12 import read_x12
from claimscrub.readers.x12.tokenizer import iter_segments

TWO = "lfhx12__two-claims-single-provider.837i"


def test_bill_type_revenue_codes_and_statement_date(fixtures_dir: Path) -> None:
    batch = read_x12(fixtures_dir / TWO, TWO)
    assert batch.rejected.height == 0 and batch.warnings.height == 0
    claims = batch.claims.sort("seg_ordinal")
    assert claims["claim_id"].to_list() == ["756048Q", "756049Q"]
    assert claims["claim_type"].to_list() == ["institutional"] * 2
    assert claims["implementation_guide"].to_list() == ["005010X223A3"] * 2
    assert claims["bill_type"].to_list() == ["131", "131"]  # CLM05-1 13 + CLM05-3 1
    assert claims["place_of_service"].to_list() == [None, None]
    assert claims["service_date"].to_list() == [
        dt.date(2005, 3, 15),
        dt.date(2005, 4, 1),
    ]  # DTP*434
    assert claims["diagnoses"].to_list() == [["3669", "4019", "79431"], ["30000"]]
    lines = batch.lines.sort("seg_ordinal")
    assert lines["x12_seg"].to_list() == ["SV2"] * 3
    assert lines["revenue_code"].to_list() == ["0305", "0730", "0300"]
    assert lines["hcpcs"].to_list() == ["85025", "93005", "85087"]
    assert lines["units"].to_list() == [1.0, 3.0, 1.0]
    assert lines["charge"].to_list() == [13.39, 76.56, 50.0]
    with (fixtures_dir / TWO).open("rb") as fh:
        segments = {s.ordinal: s.elements for s in iter_segments(fh)}
    for row in lines.iter_rows(named=True):
        assert segments[row["seg_ordinal"]][:2] == ("SV2", row["revenue_code"])


def test_lines_without_dates_take_the_statement_period(fixtures_dir: Path) -> None:
    data = (fixtures_dir / TWO).read_bytes()
    data = data.replace(b"DTP*434*RD8*20050315-20050315", b"DTP*434*RD8*20050315-20050320")
    data = data.replace(b"DTP*472*D8*20050315~\n", b"")
    batch = read_x12(data, "x")
    first = batch.lines.filter(pl.col("claim_id") == "756048Q")
    assert first["dos_from"].to_list() == [dt.date(2005, 3, 15)] * 2
    assert first["dos_to"].to_list() == [dt.date(2005, 3, 20)] * 2


def test_patient_level_and_other_837i_examples(fixtures_dir: Path) -> None:
    sdk = read_x12(fixtures_dir / "x12sdk-generated__837i_seed7_3claims.x12", "sdk")
    assert sdk.rejected.height == 0
    third = sdk.claims.filter(pl.col("claim_id") == "PCN000003").row(0, named=True)
    assert (third["patient_last_name"], third["patient_first_name"]) == (
        "WHITE",
        "ROBERT",
    )  # 2010CA
    assert third["birth_date"] == dt.date(2021, 8, 5)
    assert third["subscriber_id"] == "X850539557"
    assert third["patient_id"] == "X850539557/WHITE/ROBERT/2021-08-05"  # a 2000C dependant
    ims = read_x12(fixtures_dir / "imsweb-x12-parser__x223-test.txt", "ims")
    claim = ims.claims.row(0, named=True)
    assert claim["admission_date"] == dt.date(2015, 3, 30) and claim["service_date"] == dt.date(
        2012, 3, 30
    )
    assert ims.lines["dos_to"].to_list() == [dt.date(2005, 3, 25)]  # DTP*472 RD8 end
    assert ims.warnings["reason"].str.contains("SE01 says 25 segments").all()


def test_professional_and_institutional_transactions_in_one_file(fixtures_dir: Path) -> None:
    p = (fixtures_dir / "badx12__X222-drug-administered-in-the-physician-office.edi").read_bytes()
    i = (fixtures_dir / TWO).read_bytes()
    batch = read_x12(io.BytesIO(i + p + i), "mixed")
    assert (
        batch.claims["claim_type"].to_list()
        == ["institutional"] * 2 + ["professional"] + ["institutional"] * 2
    )
    assert batch.lines.group_by("x12_seg").len().sort("x12_seg")["len"].to_list() == [2, 6]
