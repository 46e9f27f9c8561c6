"""Every CLM segment of the input is read exactly once: as a claim or as a rejected row.

Checked on every file of the shared X12 fixtures (broken ones, 835 remittances and
999 acknowledgements included), against CLM segments counted with a plain split, and
for several block and batch sizes (the streaming cuts must not change the result).
"""

from __future__ import annotations

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
