"""837P: claims and lines in the canonical frames, with locations back to the segments."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import polars as pl
import pytest

from claimscrub.readers.x12 import read_x12
from claimscrub.readers.x12.tokenizer import iter_segments

DRUG_OFFICE = [
    "lfhx12__demo.drug.example10.1.837",
    "badx12__X222-drug-administered-in-the-physician-office.edi",
]
HOME_INFUSION = "badx12__X222-home-infusion-therapy-pharmacy-(adjudicated-with-HCPCS-in-loop-2400-or-NDC-in-loop-2410).edi"


def _segments(path: Path) -> dict[int, tuple[str, ...]]:
    with path.open("rb") as fh:
        return {s.ordinal: s.elements for s in iter_segments(fh)}


@pytest.mark.parametrize(
    "name",
    [
        *DRUG_OFFICE,
        HOME_INFUSION,
        "lfhx12__demo.cob.example3.A.837",
        "x12sdk-generated__837p_seed7_5claims.x12",
    ],
)
def test_locations_point_at_the_clm_and_sv1_segments(fixtures_dir: Path, name: str) -> None:
    path = fixtures_dir / name
    batch = read_x12(path, name)
    segments = _segments(path)
    assert batch.claims.height and batch.lines.height
    for row in batch.claims.iter_rows(named=True):
        seg = segments[row["seg_ordinal"]]
        assert (row["src"], row["x12_loop"], row["x12_seg"]) == (name, "2300", "CLM")
        assert seg[0] == "CLM" and seg[1] == row["claim_id"]
    with path.open("rb") as fh:
        comp = next(iter_segments(fh)).separators.component
    for row in batch.lines.iter_rows(named=True):
        seg = segments[row["seg_ordinal"]]
        assert (row["x12_loop"], row["x12_seg"]) == ("2400", "SV1")
        assert seg[0] == "SV1" and seg[1].split(comp)[1] == row["hcpcs"]
        assert float(seg[4]) == row["units"]
        # the LX that opens the line is the nearest LX before the SV1
        lx = max(o for o, s in segments.items() if s[0] == "LX" and o < row["seg_ordinal"])
        assert int(segments[lx][1]) == row["line_no"]


@pytest.mark.parametrize("name", DRUG_OFFICE)
def test_drug_in_office_line_carries_ndc_and_quantity(fixtures_dir: Path, name: str) -> None:
    batch = read_x12(fixtures_dir / name, name)
    assert batch.rejected.height == 0
    claim = batch.claims.row(0, named=True)
    assert claim["claim_id"] == "CLMNO12345"
    assert claim["total_charge"] == 103.37
    assert claim["place_of_service"] == "11" and claim["frequency_code"] == "1"
    assert claim["billing_npi"] == "1234567893" and claim["payer_id"] == "PLANID12345"
    assert claim["claim_filing_indicator"] == "CI"
    assert claim["birth_date"] == dt.date(1943, 5, 1) and claim["sex"] == "M"
    assert claim["diagnoses"] == ["03591"] and claim["diagnosis_qualifiers"] == ["BK"]
    assert claim["icd9_diagnoses"] is True  # BK is the ICD-9 principal qualifier
    assert claim["service_date"] == dt.date(2004, 7, 11)  # earliest line date
    drug = batch.lines.filter(pl.col("hcpcs") == "J1550").row(0, named=True)
    assert (drug["ndc_qualifier"], drug["ndc"], drug["ndc_qty"], drug["ndc_unit"]) == (
        "N4",
        "00026063512",
        10.0,
        "ML",
    )
    assert (drug["units"], drug["unit_basis"], drug["charge"]) == (1.0, "UN", 53.37)
    assert drug["dos_from"] == drug["dos_to"] == dt.date(2004, 7, 11)  # D8
    assert drug["diagnosis_pointers"] == [1] and drug["line_place_of_service"] == "11"


@pytest.mark.parametrize("name", [HOME_INFUSION, "lfhx12__demo.drug.example10.3.837"])
def test_home_infusion_lines_ndc_ctp_and_noc_description(fixtures_dir: Path, name: str) -> None:
    batch = read_x12(fixtures_dir / name, name)
    assert batch.rejected.height == 0
    lines = batch.lines.sort("line_no")
    assert lines["hcpcs"].to_list() == ["S9500", "J0696", "J7051", "J3490", "J3490", "J3490"]
    assert lines["units"].to_list() == [7.0, 56.0, 28.0, 7.0, 14.0, 7.0]
    assert lines["charge"].to_list() == [1400.0, 682.5, 15.12, 67.69, 57.12, 10.5]
    assert lines["ndc"].to_list() == [
        None,
        "00004196501",
        "63323024910",
        "00338004938",
        "08290033010",
        "08290038005",
    ]
    assert lines["ndc_qty"].to_list() == [None, 7.0, 14.0, 7.0, 14.0, 7.0]
    assert lines["ndc_unit"].to_list() == [None, "UN", "UN", "UN", "UN", "UN"]
    assert lines["prescription_number"].to_list() == [
        None,
        "2530001",
        "2530001",
        "2530001",
        "2530002",
        "2530003",
    ]
    assert lines["drug_description"].to_list()[3:] == [
        "Sod Chl 0.9%see NDC#",
        "Sod Chl 0.9% see NDC#",
        "Hep Lock see NDC#",
    ]
    assert lines["modifiers"].to_list() == [[]] * 6  # SV101-3..6 empty before the description
    # RD8 line dates: 2004-02-01 .. 2004-02-07
    assert set(lines["dos_from"].to_list()) == {dt.date(2004, 2, 1)}
    assert set(lines["dos_to"].to_list()) == {dt.date(2004, 2, 7)}
    assert batch.claims["total_charge"].to_list() == [2232.93]


@pytest.mark.parametrize(
    "name",
    [
        "lfhx12__demo.drug.example10.2.837",
        "badx12__X222-home-infusion-therapy-pharmacy-(adjudicated-with-NDC-in-loop-2410).edi",
    ],
)
def test_home_infusion_ndcs_on_s_codes(fixtures_dir: Path, name: str) -> None:
    batch = read_x12(fixtures_dir / name, name)
    assert batch.rejected.height == 0
    drug = batch.lines.filter(pl.col("ndc").is_not_null()).sort("line_no")
    assert drug["hcpcs"].to_list() == ["S5001"] + ["S5000"] * 4
    assert drug["ndc"].to_list() == [
        "00004196501",
        "63323024910",
        "00338004938",
        "08290033010",
        "08290038005",
    ]
    assert drug["ndc_qty"].to_list() == [7.0, 14.0, 7.0, 14.0, 7.0]
    assert drug["ndc_unit"].to_list() == ["UN"] * 5
    assert drug["units"].to_list() == [7.0, 14.0, 7.0, 14.0, 7.0]


def _corrected_all_fields(fixtures_dir: Path) -> bytes:
    """pyedi's every-field 837P minus its two out-of-place segments (kept real otherwise)."""
    data = (fixtures_dir / "pyedi__837P-all-fields.dat").read_bytes()
    data = data.replace(b"DTP*314*RD8*20050608-20050609~\n", b"")  # after PWK: out of order
    return data.replace(
        b"SVD*43*55*HC:84550**3~\nLIN**N4*01234567891~\n", b"SVD*43*55*HC:84550**3~\n"
    )


def test_every_field_claim(fixtures_dir: Path) -> None:
    original = read_x12(fixtures_dir / "pyedi__837P-all-fields.dat", "pyedi")
    assert original.claims.height == 0
    assert "DTP*314 is out of order" in original.rejected["reason"][0]
    batch = read_x12(_corrected_all_fields(fixtures_dir), "pyedi-fixed")
    assert batch.rejected.height == 0
    claim = batch.claims.row(0, named=True)
    assert claim["claim_id"] == "36463774"
    assert claim["prior_authorization"] == "PriorAuth"  # 2300 REF*G1, not the 2330B or 2400 ones
    assert claim["diagnoses"] == ["J0300", "Z1159"] and claim["diagnosis_qualifiers"] == [
        "ABK",
        "ABF",
    ]
    assert claim["icd9_diagnoses"] is False
    assert claim["admission_date"] == dt.date(2005, 5, 8) and claim["discharge_date"] == dt.date(
        2005, 6, 8
    )
    # patient level 2000C: names and demographics of the patient, id of the subscriber
    assert (claim["patient_last_name"], claim["patient_first_name"]) == ("SMITH", "TED")
    assert claim["birth_date"] == dt.date(1973, 5, 1) and claim["sex"] == "M"
    # 5010 sends no patient id in 2010CA: the member id with the dependant's name and birth
    assert claim["subscriber_id"] == "JS00111223333"
    assert claim["patient_id"] == "JS00111223333/SMITH/TED/1973-05-01"
    assert claim["payer_name"] == "KEY INSURANCECOMPANY"  # 2010BB, not the COB payer of 2330B
    # ST03 005010X222 (the base guide) is read with the 837P tables, without a warning.
    assert not batch.warnings["reason"].str.contains("ST03").any()
    line = batch.lines.filter(pl.col("line_no") == 1).row(0, named=True)
    assert line["modifiers"] == ["26", "27", "28", "29"]
    assert line["diagnosis_pointers"] == [1, 2]
    assert (
        line["narrative"]
        == "PATIENT GOAL TO BE OFF OXYGEN BY END OF MONTH | STATE REGULATION 123 WAS APPLIED DURING THE PRICING OF THIS PROF CLAIM"
    )
    assert (line["ndc"], line["ndc_qty"], line["ndc_unit"], line["link_sequence"]) == (
        "00002143481",
        1.01,
        "UN",
        "123456",
    )
    assert line["dos_from"] == dt.date(2005, 3, 14) and line["dos_to"] == dt.date(2005, 3, 25)
    # 837P has no claim date and requires DTP*472 on every line: a line without it does not
    # take another line's date (the claim's service_date is only the earliest line date).
    no_date = batch.lines.filter(pl.col("line_no") == 3).row(0, named=True)
    assert no_date["dos_from"] is None and no_date["dos_to"] is None
    assert claim["service_date"] == dt.date(2005, 3, 14)


def test_subscriber_and_dependent_claims(fixtures_dir: Path) -> None:
    batch = read_x12(fixtures_dir / "x12sdk-generated__837p_seed7_5claims.x12", "sdk")
    assert batch.rejected.height == 0 and batch.claims.height == 5
    claims = batch.claims.sort("seg_ordinal")
    # Two claims are for the subscriber (no 2000C): the member id. Three are for dependants
    # (2000C), whose 2010CA has no id in 5010: the member id with the dependant's name and
    # birth date, so two dependants of one subscriber are two patients.
    expected = pl.concat_str(
        "subscriber_id",
        "patient_last_name",
        "patient_first_name",
        pl.col("birth_date").cast(pl.String),
        separator="/",
    )
    assert (claims["patient_id"] == claims["subscriber_id"]).to_list() == [1, 1, 0, 0, 0]
    assert claims.filter(pl.col("patient_id") == expected).height == 3
    assert claims["claim_key"].to_list() == list(range(5))


def test_two_dependants_of_one_subscriber_are_two_patients(fixtures_dir: Path) -> None:
    # The LinuxForHealth 837P demo bills for TED, a dependant (2000C) of JANE. A second
    # 2000C loop, for his sister ANN with a claim of the same services, is added after it.
    data = (fixtures_dir / "lfhx12__demo.837").read_text()
    first, last = data.index("HL*3*2*23*0~"), data.index("SE*41*0021~")
    sister = (
        data[first:last]
        .replace("HL*3*2*23*0~", "HL*4*2*23*0~")
        .replace("NM1*QC*1*SMITH*TED~", "NM1*QC*1*SMITH*ANN~")
        .replace("DMG*D8*19730501*M~", "DMG*D8*19750202*F~")
        .replace("CLM*26463774*", "CLM*26463775*")
    )
    count = data[data.index("ST*837") : last].count("~") + sister.count("~") + 1
    text = data[:last] + sister + f"SE*{count}*0021~" + data[last + len("SE*41*0021~") :]
    batch = read_x12(text.encode(), "family")
    assert batch.rejected.height == 0 and batch.warnings.height == 0
    assert batch.claims.sort("seg_ordinal")["patient_id"].to_list() == [
        "JS00111223333/SMITH/TED/1973-05-01",
        "JS00111223333/SMITH/ANN/1975-02-02",
    ]


def test_units_and_money_keep_their_submitted_decimals(fixtures_dir: Path) -> None:
    data = (fixtures_dir / DRUG_OFFICE[1]).read_bytes()
    data = data.replace(b"SV1*HC:J1550*53.37*UN*1*", b"SV1*HC:J1550*53.37*UN*2.125*")
    data = data.replace(b"CTP****10*ML", b"CTP****10.375*ML")
    line = read_x12(data, "x").lines.filter(pl.col("hcpcs") == "J1550").row(0, named=True)
    assert line["units"] == 2.125 and line["ndc_qty"] == 10.375


def test_multiple_interchanges_in_one_file(fixtures_dir: Path) -> None:
    a = (fixtures_dir / DRUG_OFFICE[1]).read_bytes()
    b = (fixtures_dir / HOME_INFUSION).read_bytes()
    c = (fixtures_dir / "lfhx12__demo.drug.example10.3.837").read_bytes()
    batch = read_x12(io.BytesIO(a + b + c), "three")
    assert batch.rejected.height == 0
    # the copies (and samples from one generator) share sender, receiver and ISA13
    assert batch.warnings["reason"].str.contains("repeats the interchange").all()
    assert batch.claims["implementation_guide"].to_list() == [
        "005010X222A1",
        "005010X222A1",
        "005010X222A2",
    ]
    n_a = len(list(iter_segments(io.BytesIO(a))))
    assert (
        batch.claims["seg_ordinal"].to_list()[1] == n_a + 21
    )  # ordinals continue across interchanges
    assert batch.lines.height == 2 + 6 + 6


def test_separators_differing_between_interchanges(fixtures_dir: Path) -> None:
    """The same claims written with other delimiters in a second interchange read the same."""
    star = (fixtures_dir / DRUG_OFFICE[1]).read_bytes()
    assert not any(ch in star for ch in (b"|", b"{", b"^"))
    # ISA keeps its fixed width: element "|", repetition "{", component "^", terminator LF.
    piped = star.replace(b"*", b"|").replace(b">", b"{").replace(b":", b"^").replace(b"~", b"\n")
    batch = read_x12(io.BytesIO(star + piped + star), "mixed")
    assert batch.rejected.height == 0
    # the copies (and samples from one generator) share sender, receiver and ISA13
    assert batch.warnings["reason"].str.contains("repeats the interchange").all()
    claims = batch.claims.drop("claim_key", "seg_ordinal")
    assert claims.height == 3 and claims.unique().height == 1
    lines = batch.lines.drop("claim_key", "seg_ordinal").sort("line_no")
    assert lines.height == 6 and lines.unique().height == 2
    n = len(list(iter_segments(io.BytesIO(star))))
    assert batch.claims["seg_ordinal"].to_list() == [20, n + 20, 2 * n + 20]


def test_several_groups_and_transactions_in_one_interchange(fixtures_dir: Path) -> None:
    data = (fixtures_dir / "x12sdk-generated__837p_seed7_5claims.x12").read_bytes()
    start, end = data.index(b"ST*837"), data.index(b"GE*1*1~")
    transaction = data[start:end]
    second = transaction.replace(b"ST*837*0001*", b"ST*837*0002*").replace(
        b"SE*110*0001", b"SE*110*0002"
    )
    group = data[data.index(b"GS*") : data.index(b"IEA*")]
    two_st = group.replace(transaction, transaction + second).replace(b"GE*1*1~", b"GE*2*1~")
    next_group = two_st.replace(b"*1*X*005010X222A2", b"*2*X*005010X222A2").replace(
        b"GE*2*1~", b"GE*2*2~"
    )
    interchange = data[: data.index(b"GS*")] + two_st + next_group + b"IEA*2*000000001~\n"
    batch = read_x12(interchange, "groups")
    assert batch.rejected.height == 0 and batch.warnings.height == 0
    assert batch.claims.height == 20  # 2 groups x 2 transactions x 5 claims
    assert batch.claims["claim_key"].to_list() == list(range(20))
    wrong = interchange.replace(b"GE*2*2~", b"GE*3*2~")
    assert read_x12(wrong, "x").warnings["reason"].to_list() == [
        "GE01 says 3 transaction sets but group GS '2' has 2"
    ]


def test_the_same_interchange_twice_is_read_with_a_warning(fixtures_dir: Path) -> None:
    data = (fixtures_dir / "lfhx12__demo.drug.example10.3.837").read_bytes()
    batch = read_x12(io.BytesIO(data + data), "twice")
    assert batch.claims.height == 2 and batch.rejected.height == 0
    (reason,) = batch.warnings["reason"].to_list()
    assert reason.startswith("interchange control number ISA13 '000000907' from the same sender")
