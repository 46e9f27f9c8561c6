"""Every CLM segment of the input is read exactly once: as a claim or as a rejected row.

Checked on every file of the shared X12 fixtures (broken ones, 835 remittances and
999 acknowledgements included), against CLM segments counted with a plain split, and
for several block and batch sizes (the streaming cuts must not change the result).
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import polars as pl
import pytest
from conftest import ALL_FILES, crude_clm_ids

from claimscrub.model.schema import CLAIMS_SCHEMA, LINES_SCHEMA, REJECTED_SCHEMA
from claimscrub.readers.x12 import iter_x12, read_x12


def _ids(
    path: Path, block_size: int | None = None, chunk_claims: int = 50_000, parallel: bool = True
) -> tuple[Counter, list]:
    kwargs: dict = {"chunk_claims": chunk_claims, "parallel": parallel}
    if block_size:
        kwargs["block_size"] = block_size
    batches = list(iter_x12(path, path.name, **kwargs))
    claims = [i for b in batches for i in b.claims["claim_id"].to_list()]
    rejected = [i for b in batches for i in b.rejected["claim_id"].to_list() if i is not None]
    return Counter(claims + rejected), batches


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.name)
def test_every_clm_is_a_claim_or_a_rejected_row(path: Path) -> None:
    expected = Counter(crude_clm_ids(path.read_bytes()))
    got, batches = _ids(path)
    assert got == expected
    batch = read_x12(path, path.name)
    assert batch.claims.schema == CLAIMS_SCHEMA
    assert batch.lines.schema == LINES_SCHEMA
    assert batch.rejected.schema == REJECTED_SCHEMA
    assert batch.warnings.schema == REJECTED_SCHEMA
    # Claim ids in claims and rejected never overlap for the same CLM segment.
    assert batch.claims["seg_ordinal"].is_unique().all()
    # Every line belongs to a claim of the batch.
    assert set(batch.lines["claim_key"].to_list()) <= set(batch.claims["claim_key"].to_list())


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.name)
def test_streaming_cuts_do_not_change_the_result(path: Path) -> None:
    whole = read_x12(path, path.name)
    size = path.stat().st_size
    # About 40 and 7 blocks per file (at least 61 bytes, less than most segments),
    # with and without the background threads.
    variants = ((max(61, size // 40), 1, True), (max(400, size // 7), 2, False), (4096, 3, True))
    for block_size, chunk, parallel in variants:
        got, batches = _ids(path, block_size, chunk, parallel)
        assert got == Counter(crude_clm_ids(path.read_bytes()))
        claims = pl.concat([b.claims for b in batches])
        lines = pl.concat([b.lines for b in batches])
        rejected = pl.concat([b.rejected for b in batches]).sort(
            "seg_ordinal", "reason", nulls_last=True
        )
        assert claims.drop("claim_key").equals(whole.claims.drop("claim_key"))
        assert lines.drop("claim_key").equals(whole.lines.drop("claim_key"))
        assert rejected.equals(whole.rejected.sort("seg_ordinal", "reason", nulls_last=True))
        assert claims["claim_key"].is_unique().all()
        assert all(b.claims.height <= chunk for b in batches)


def test_remittances_and_acknowledgements_hold_no_claims(fixtures_dir: Path) -> None:
    for name in (
        "lfhx12__demo.835",
        "pyx12__835_mult_loops.txt",
        "imsweb-x12-parser__x12_999_accepted.txt",
    ):
        batch = read_x12(fixtures_dir / name, name)
        assert batch.claims.height == 0 and batch.rejected.height == 0
        assert batch.warnings["reason"].str.contains("is not an 837 claim").any()


DAMAGED_FROM = (
    "x12sdk-generated__837p_seed7_5claims.x12",
    "lfhx12__demo.837i",
    "badx12__X222-home-infusion-therapy-pharmacy-(adjudicated-with-HCPCS-in-loop-2400-or-NDC-in-loop-2410).edi",
    "lfhx12__demo.autoaccident.837",
)


def _damaged(data: bytes, seed: int) -> bytes:
    """A copy of a real file with a few segments dropped, repeated, swapped, blank or
    with an element emptied or garbled."""
    rng = random.Random(seed)
    at = data.find(b"ISA")
    element, terminator = data[at + 3 : at + 4], data[at + 105 : at + 106]
    segments = data.split(terminator)
    for _ in range(rng.choice((1, 3, 6))):
        i = rng.randrange(1, len(segments) - 1)
        action = rng.randrange(6)
        if action == 0:
            del segments[i]
        elif action == 1:
            segments.insert(i, segments[i])
        elif action == 2:
            segments[i], segments[i + 1] = segments[i + 1], segments[i]
        elif action == 3:
            segments.insert(i, b"\n  ")
        else:
            parts = segments[i].split(element)
            parts[rng.randrange(len(parts))] = b"" if action == 4 else b"12.5.3"
            segments[i] = element.join(parts)
    return terminator.join(segments)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("name", DAMAGED_FROM)
def test_damaged_copies_keep_every_clm_and_read_alike_in_any_cut(
    fixtures_dir: Path, name: str, seed: int
) -> None:
    data = _damaged((fixtures_dir / name).read_bytes(), seed)
    expected = Counter(crude_clm_ids(data))
    whole = read_x12(data, name)
    for block_size, chunk, parallel in ((61, 1, True), (97, 2, False), (4096, 3, True)):
        batches = list(iter_x12(data, name, chunk, block_size=block_size, parallel=parallel))
        got = [i for b in batches for i in b.claims["claim_id"].to_list()]
        rejected = [i for b in batches for i in b.rejected["claim_id"].to_list() if i is not None]
        assert Counter(got + rejected) == expected
        assert Counter(rejected) == Counter(whole.rejected["claim_id"].drop_nulls().to_list())
        claims = pl.concat([b.claims for b in batches]).drop("claim_key")
        lines = pl.concat([b.lines for b in batches]).drop("claim_key")
        assert claims.equals(whole.claims.drop("claim_key"))
        assert lines.equals(whole.lines.drop("claim_key"))
        # NOTE: the reasons are not compared: when an envelope segment turns up inside
        # a transaction set (a GS after ST), which segments count as "outside any ST…SE"
        # depends on where the input is cut.


def test_header_with_segments_missing_reads_alike_in_small_cuts(fixtures_dir: Path) -> None:
    # Regression: with no BHT and no submitter, the structural errors of one frame
    # sit next to rows of several blocks; cut into many small blocks, this once
    # made Polars fail on frame columns chunked differently from each other.
    data = (fixtures_dir / "lfhx12__demo.autoaccident.837").read_bytes()
    for segment in (b"BHT*0019*00*0125*20051111*1524*CH~", b"NM1*41*2*ASSOCIATED MEDICAL GROUP"):
        at = data.index(segment)
        data = data[:at] + data[data.index(b"~", at) + 1 :]
    expected = Counter(crude_clm_ids(data))
    whole = read_x12(data, "damaged.837")
    # The claim is rejected for the header it sits under; the error is located.
    assert whole.claims.height == 0
    assert whole.rejected.select("seg_ordinal", "claim_id", "reason").row(0) == (
        4,
        "900000032",
        "segment 4 PER: segment PER is not expected in loop ST (Transaction set)",
    )
    for parallel in (False, True):
        batches = list(iter_x12(data, "damaged.837", 1, block_size=61, parallel=parallel))
        got = [i for b in batches for i in b.claims["claim_id"].to_list()]
        got += [i for b in batches for i in b.rejected["claim_id"].to_list() if i is not None]
        assert Counter(got) == expected
        rejected = pl.concat([b.rejected for b in batches]).sort("seg_ordinal", "reason")
        assert rejected.equals(whole.rejected.sort("seg_ordinal", "reason"))


def test_837p_and_837i_in_one_input_read_as_they_do_apart(fixtures_dir: Path) -> None:
    # Both guides in one frame: each transaction set is read by its own guide.
    names = ("lfhx12__demo.drug.example10.3.837", "lfhx12__institutional-claim.837i")
    apart = [read_x12(fixtures_dir / n, n) for n in names]
    both = read_x12(b"".join((fixtures_dir / n).read_bytes() for n in names), "both")
    columns = ["claim_id", "claim_type", "total_charge", "diagnoses", "service_date"]
    assert both.claims.select(columns).equals(pl.concat([b.claims.select(columns) for b in apart]))
    columns = ["claim_id", "line_no", "hcpcs", "revenue_code", "units", "ndc", "dos_from"]
    assert both.lines.select(columns).equals(pl.concat([b.lines.select(columns) for b in apart]))
    assert both.rejected.height == sum(b.rejected.height for b in apart) == 0
