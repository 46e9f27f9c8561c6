"""Bad input never stops the run: rejected rows and warnings, located, then the reader resyncs.

The inputs are real fixture files with one defect introduced (or the broken fixtures
themselves); each test checks which claims are still read, which are rejected, and
that the reason names the segment.
"""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl
import pytest
from conftest import crude_clm_ids

from claimscrub.readers.x12 import read_x12
from claimscrub.readers.x12.tokenizer import iter_segments

SDK = "x12sdk-generated__837p_seed7_5claims.x12"
IDS = ["PCN000001", "PCN000002", "PCN000003", "PCN000004", "PCN000005"]


@pytest.fixture
def sdk(fixtures_dir: Path) -> bytes:
    return (fixtures_dir / SDK).read_bytes()


def _edit(data: bytes, old: bytes, new: bytes) -> bytes:
    assert data.count(old) == 1, old
    return data.replace(old, new)


def _ordinal_of(data: bytes, text: str) -> int:
    return next(
        s.ordinal for s in iter_segments(io.BytesIO(data)) if "*".join(s.elements).startswith(text)
    )


def _read(data: bytes):  # noqa: ANN202
    batch = read_x12(data, "in.x12")
    got = batch.claims["claim_id"].to_list() + batch.rejected["claim_id"].drop_nulls().to_list()
    assert sorted(got) == sorted(crude_clm_ids(data))  # the invariant holds on every variant
    return batch


def _rejected(batch) -> dict[str, tuple[int, str]]:  # noqa: ANN001
    rows = batch.rejected.filter(pl.col("claim_id").is_not_null())
    return {r["claim_id"]: (r["seg_ordinal"], r["reason"]) for r in rows.iter_rows(named=True)}


def test_the_unmodified_file_reads_cleanly(sdk: bytes) -> None:
    batch = _read(sdk)
    assert batch.claims["claim_id"].to_list() == IDS
    assert batch.rejected.height == 0 and batch.warnings.height == 0


def test_invalid_element_rejects_only_its_claim(sdk: bytes) -> None:
    data = _edit(sdk, b"SV1*HC:99214*333.15*UN*1***1", b"SV1*HC:99214*333.15*UN*ONE***1")
    batch = _read(data)
    assert batch.claims["claim_id"].to_list() == [i for i in IDS if i != "PCN000002"]
    ordinal, reason = _rejected(batch)["PCN000002"]
    assert ordinal == _ordinal_of(data, "SV1*HC:99214")
    assert reason == f"segment {ordinal} SV1: SV104 (units) ONE is not a decimal number"
    assert batch.lines.height == 6  # the other claims keep all their lines


def test_invalid_date_and_empty_required_elements(sdk: bytes) -> None:
    data = _edit(sdk, b"DTP*472*D8*20250416", b"DTP*472*D8*20251345")
    data = _edit(data, b"CLM*PCN000004*2740.42*", b"CLM*PCN000004**")
    rejected = _rejected(_read(data))
    assert set(rejected) == {"PCN000001", "PCN000004"}
    assert "date 20251345 in format D8 is not a valid" in rejected["PCN000001"][1]
    assert "CLM02 (total charge) is empty" in rejected["PCN000004"][1]


def test_segment_out_of_place_rejects_its_claim_and_the_next_claim_is_read(sdk: bytes) -> None:
    # An SV1 in the claim header (before any LX) and an unknown segment in a later claim.
    data = _edit(sdk, b"HI*BK:J069~", b"HI*BK:J069~\nSV1*HC:99214*1*UN*1***1~")
    data = _edit(data, b"HI*BK:I10~", b"HI*BK:I10~\nXYZ*1~")
    batch = _read(data)
    rejected = _rejected(batch)
    assert set(rejected) == {"PCN000002", "PCN000004"}
    assert rejected["PCN000002"][1].endswith(
        "segment SV1 is not expected in loop 2300 (Claim information)"
    )
    assert rejected["PCN000004"][1].endswith(
        "segment XYZ is not expected in loop 2300 (Claim information)"
    )
    assert batch.claims["claim_id"].to_list() == ["PCN000001", "PCN000003", "PCN000005"]


def test_segments_out_of_order(fixtures_dir: Path) -> None:
    batch = _read((fixtures_dir / "imsweb-x12-parser__x12_segments_out_of_order.txt").read_bytes())
    reasons = batch.rejected["reason"].to_list()
    # REF before N4 in the billing provider loop: every claim under that provider is rejected.
    assert any(
        r.startswith("segment 12 N4: segment N4 is out of order in loop 2010AA") for r in reasons
    )
    assert batch.claims.height == 0


def test_error_in_a_subscriber_level_rejects_that_subscribers_claims(sdk: bytes) -> None:
    data = _edit(
        sdk, b"DMG*D8*19761119*F", b"DMG*D8*19761131*F"
    )  # 2010BA of PCN000004's subscriber
    rejected = _rejected(_read(data))
    assert list(rejected) == ["PCN000004"]
    ordinal = _ordinal_of(data, "DMG*D8*19761131")
    assert rejected["PCN000004"] == (
        ordinal,
        f"segment {ordinal} DMG: DMG02 (subscriber birth date) 19761131 is not a CCYYMMDD date",
    )


def test_header_error_rejects_every_claim_of_the_transaction(sdk: bytes) -> None:
    data = _edit(
        sdk,
        b"PER*IC*SYNTHETIC CONTACT*TE*9985559163~",
        b"PER*IC*SYNTHETIC CONTACT*TE*9985559163~\nBHT*0019~",
    )
    rejected = _rejected(_read(data))
    assert sorted(rejected) == IDS
    assert all("BHT" in reason for _, reason in rejected.values())


def test_wrong_envelope_counts_are_warnings(sdk: bytes) -> None:
    data = _edit(sdk, b"SE*110*0001", b"SE*109*0002")
    data = _edit(data, b"GE*1*1", b"GE*2*1")
    data = _edit(data, b"IEA*1*000000001", b"IEA*3*000000009")
    batch = _read(data)
    assert batch.claims["claim_id"].to_list() == IDS and batch.rejected.height == 0
    reasons = batch.warnings["reason"].to_list()
    assert reasons == [
        "SE01 says 109 segments but transaction set ST '0001' has 110 (segments 3-112)",
        "SE02 '0002' does not match ST02 '0001'",
        "GE01 says 2 transaction sets but group GS '1' has 1",
        "IEA01 says 3 functional groups but interchange ISA '000000001' has 1",
        "IEA02 '000000009' does not match ISA13 '000000001'",
    ]
    assert batch.warnings["seg_ordinal"].to_list() == [112, 112, 113, 114, 114]


def test_missing_se_rejects_the_transaction_and_the_next_one_is_read(
    sdk: bytes, fixtures_dir: Path
) -> None:
    broken = _edit(sdk, b"SE*110*0001~", b"")
    other = (
        fixtures_dir / "badx12__X222-drug-administered-in-the-physician-office.edi"
    ).read_bytes()
    batch = _read(broken + other)
    rejected = _rejected(batch)
    assert sorted(rejected) == IDS
    assert all("has no SE trailer" in reason for _, reason in rejected.values())
    assert batch.claims["claim_id"].to_list() == ["CLMNO12345"]  # the next interchange is fine


def test_truncated_file(sdk: bytes) -> None:
    cut = sdk[: sdk.index(b"LX*2~", sdk.index(b"PCN000005"))]
    batch = _read(cut)
    assert batch.claims.height == 0
    assert sorted(_rejected(batch)) == IDS
    assert batch.rejected["reason"].str.contains("the file or interchange ended").any()
    assert batch.warnings["reason"].str.contains("has no GE trailer").any()
    assert batch.warnings["reason"].str.contains("has no IEA trailer").any()


def test_isa_of_the_wrong_width_is_read_with_a_warning(sdk: bytes) -> None:
    # Hand-made files often pad an ISA element wrongly; the delimiters are still known.
    data = _edit(sdk, b"ISA*00*          *00*", b"ISA*00*         *00*")  # ISA02 9 characters
    batch = _read(data)
    assert batch.claims["claim_id"].to_list() == IDS
    assert batch.rejected.height == 0
    assert batch.warnings["reason"].to_list() == [
        "interchange header ISA (segment 1): ISA is not the fixed 106-character layout: ISA02 "
        "is 9 characters (expected 10); read by its delimiters, but a receiver may reject the "
        "interchange (TA1)"
    ]


def test_input_without_isa(fixtures_dir: Path) -> None:
    batch = _read((fixtures_dir / "imsweb-x12-parser__x12_no_isa_line.txt").read_bytes())
    assert batch.claims.height == 0
    assert batch.rejected.filter(pl.col("claim_id").is_null())["reason"].to_list() == [
        "no ISA interchange header before this input; segments 1-44 cannot be read"
    ]
    assert batch.rejected.filter(pl.col("claim_id").is_not_null())["seg_ordinal"].to_list() == [
        21,
        37,
    ]


def test_segments_between_transactions(sdk: bytes) -> None:
    data = _edit(sdk, b"SE*110*0001~", b"SE*110*0001~\nNTE*ADD*STRAY~")
    batch = _read(data)
    assert batch.claims["claim_id"].to_list() == IDS
    assert batch.rejected["reason"].to_list() == [
        "segment 113 NTE: outside any ST…SE transaction set"
    ]


def test_unsupported_implementation_guide(sdk: bytes) -> None:
    data = sdk.replace(b"005010X222A2", b"004010X098A1")
    batch = _read(data)
    assert batch.claims.height == 0
    reasons = set(batch.rejected["reason"].to_list())
    assert any(
        "uses implementation guide '004010X098A1', which this reader does not support" in r
        for r in reasons
    )


def test_component_separator_other_than_isa16_is_explained(fixtures_dir: Path) -> None:
    batch = _read((fixtures_dir / "lfhx12__demo.example6.837").read_bytes())
    assert batch.rejected["reason"].to_list() == [
        "segment 21 CLM: CLM05-3 (frequency code) is empty (element 11>B>1; ISA16 component separator is ':')"
    ]


def test_hl_pointing_to_a_missing_parent(fixtures_dir: Path) -> None:
    batch = _read((fixtures_dir / "imsweb-x12-parser__x12_complex.txt").read_bytes())
    rejected = batch.rejected.filter(pl.col("claim_id") == "A37YH667")["reason"].to_list()
    assert (
        rejected[0]
        == "segment 66 HL: HL02 '3' of HL '2' should point to the open parent level HL '1'"
    )


def test_text_before_the_first_isa_and_segments_after_an_iea(
    sdk: bytes, fixtures_dir: Path
) -> None:
    # Segments after IEA written with the same delimiters are still split, but they are
    # outside any interchange: their group and claims are rejected, the next ISA reads.
    headless = (fixtures_dir / "imsweb-x12-parser__x12_no_isa_line.txt").read_bytes()
    batch = _read(b"exported by billing system\n" + sdk + headless + b"\n" + sdk)
    assert batch.claims["claim_id"].to_list() == IDS + IDS
    stretches = batch.rejected.filter(pl.col("claim_id").is_null())["reason"].to_list()
    assert stretches == [
        "no ISA interchange header before this input; 27 bytes cannot be read",
        "functional group GS (segment 115) is outside an ISA interchange",
    ]
    assert batch.rejected["claim_id"].drop_nulls().to_list() == ["A37YH556", "A37YH556"]
    assert "IEA (segment 158) without a matching ISA" in batch.warnings["reason"].to_list()


def test_a_professional_file_declared_institutional_names_the_wrong_version(sdk: bytes) -> None:
    # A file seen in the wild: SV1 service lines under GS08/ST03 005010X223A2 (837I).
    data = sdk.replace(b"005010X222A2", b"005010X223A2")
    assert data != sdk
    batch = _read(data)
    assert batch.claims.height == 0
    reasons = set(batch.rejected["reason"].to_list())
    assert any(
        "has SV1 (the 837P service line) instead of SV2" in r and "declared 837I" in r
        for r in reasons
    ), reasons


def test_an_element_longer_than_x12_allows_rejects_its_claim(sdk: bytes) -> None:
    # A bill type written whole into the place-of-service component, and 16 digits of
    # units: a receiver's syntax check (999) rejects both, so they are not read as claims.
    data = _edit(sdk, b"CLM*PCN000001*1777.81***11:B:1", b"CLM*PCN000001*1777.81***0111:B:1")
    data = _edit(
        data, b"SV1*HC:99214*333.15*UN*1***1", b"SV1*HC:99214*333.15*UN*-1234567890.123456***1"
    )
    rejected = _rejected(_read(data))
    assert set(rejected) == {"PCN000001", "PCN000002"}
    assert rejected["PCN000001"][1].endswith(
        "CLM05-1 (place of service) '0111' is longer than X12 allows (2 characters)"
    )
    assert rejected["PCN000002"][1].endswith(
        "SV104 (units) '-1234567890.123456' is longer than X12 allows (15 digits)"
    )


def test_a_number_at_x12s_length_limit_is_read(sdk: bytes) -> None:
    # 15 digits: the sign and the decimal point do not count.
    data = _edit(
        sdk, b"SV1*HC:99214*333.15*UN*1***1", b"SV1*HC:99214*333.15*UN*-12345678901.2345***1"
    )
    batch = _read(data)
    assert batch.rejected.height == 0
    assert -12345678901.2345 in batch.lines["units"].to_list()
