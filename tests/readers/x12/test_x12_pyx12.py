"""Cross-check against pyx12, an independent and mature X12 implementation.

For every 837 fixture pyx12 can read, each claim we accept must be a claim pyx12
finds at the same CLM segment ordinal, with the same claim id and the same lines:
procedure codes, modifiers, units, NDCs and NDC quantities. Claims we reject must be
claims pyx12 found too. pyx12 4.0.0 has maps only for 837P 005010X222A1 and 837I
005010X223A2; the A2/A3 files are also checked through a copy relabelled to those
versions (the loops and elements compared are the same in both errata).
"""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl
import pytest
import pyx12.error_handler
import pyx12.errors
import pyx12.params
import pyx12.x12context
from conftest import ALL_FILES, crude_clm_ids

from claimscrub.readers.x12 import read_x12
from claimscrub.readers.x12.guides import guide_for
from claimscrub.readers.x12.loops import assign, tables
from claimscrub.readers.x12.tokenizer import iter_blocks, iter_segments, segment_frame

RELABEL = {
    b"005010X222A2": b"005010X222A1",
    b"005010X223A3": b"005010X223A2",
}


def _versions(data: bytes) -> tuple[set[str], set[str]]:
    """(ST01 values, GS08 values) of a file, from our tokenizer."""
    segs = list(iter_segments(io.BytesIO(data)))
    return {s.element(1) for s in segs if s.id == "ST"}, {
        s.element(8) for s in segs if s.id == "GS"
    }


CLAIM_FILES = [p for p in ALL_FILES if "837" in _versions(p.read_bytes())[0]]


def _pyx12_claims(data: bytes) -> dict[int, dict]:
    """CLM ordinal -> claim as pyx12 parses it (raises pyx12 EngineError when it cannot)."""
    param = pyx12.params.params()
    errh = pyx12.error_handler.errh_null()
    claims: dict[int, dict] = {}
    src = pyx12.x12context.X12ContextReader(param, errh, io.StringIO(data.decode("latin-1")))
    for node in src.iter_segments("2300"):
        if node.id != "2300":
            continue
        lines = []
        for line in node.select("2400"):
            sv, proc, units = (
                ("SV1", "SV101", "SV104") if line.exists("SV1") else ("SV2", "SV202", "SV205")
            )
            mods = [line.get_value(f"{proc}-{i}") for i in range(3, 7)]
            qty = line.get_value("2410/CTP04")
            lines.append(
                {
                    "hcpcs": line.get_value(f"{proc}-2") or None,
                    "modifiers": [m for m in mods if m],
                    "units": float(line.get_value(units)) if line.get_value(units) else None,
                    "ndc": line.get_value("2410/LIN03") or None,
                    "ndc_qty": float(qty) if qty else None,
                    "seg": sv,
                }
            )
        claims[node.cur_line_number] = {"claim_id": node.get_value("CLM01"), "lines": lines}
    return claims


class Pyx12CannotRead(Exception):
    """pyx12 stops on the file or finds fewer CLM segments than it holds."""


def _compare(data: bytes, name: str) -> tuple[int, int]:
    try:
        theirs = _pyx12_claims(data)
    except (pyx12.errors.X12Error, pyx12.errors.EngineError) as exc:
        raise Pyx12CannotRead(f"pyx12: {exc}".splitlines()[0][:160]) from exc
    expected = len(crude_clm_ids(data))
    if len(theirs) != expected:
        raise Pyx12CannotRead(f"pyx12 finds {len(theirs)} of {expected} CLM segments")
    ours = read_x12(data, name)
    rejected_ids = ours.rejected["claim_id"].drop_nulls().to_list()
    # pyx12 finds every CLM that we read or reject
    assert len(theirs) == ours.claims.height + len(rejected_ids)
    assert sorted(c["claim_id"] for c in theirs.values()) == sorted(
        ours.claims["claim_id"].to_list() + rejected_ids
    )
    cols = ["hcpcs", "modifiers", "units", "ndc", "ndc_qty"]
    for claim in ours.claims.iter_rows(named=True):
        other = theirs[claim["seg_ordinal"]]
        assert other["claim_id"] == claim["claim_id"]
        lines = ours.lines.filter(ours.lines["claim_key"] == claim["claim_key"]).sort("seg_ordinal")
        assert lines.height == len(other["lines"])
        for mine, theirs_line in zip(
            lines.select(*cols, "x12_seg").iter_rows(named=True), other["lines"], strict=True
        ):
            assert {k: mine[k] for k in cols} == {k: theirs_line[k] for k in cols}, (
                claim["claim_id"],
                theirs_line,
            )
            assert mine["x12_seg"] == theirs_line["seg"]
    return ours.claims.height, len(rejected_ids)


@pytest.mark.parametrize("path", CLAIM_FILES, ids=lambda p: p.name)
def test_claims_and_lines_match_pyx12(path: Path) -> None:
    data = path.read_bytes()
    _, gs08 = _versions(data)
    if gs08 & {v.decode() for v in RELABEL}:
        pytest.skip(f"pyx12 has no map for {sorted(gs08)} (checked through the relabelled copy)")
    try:
        _compare(data, path.name)
    except Pyx12CannotRead as exc:
        pytest.skip(str(exc))


@pytest.mark.parametrize(
    "path",
    [p for p in CLAIM_FILES if _versions(p.read_bytes())[1] & {v.decode() for v in RELABEL}],
    ids=lambda p: p.name,
)
def test_a2_a3_files_relabelled_match_pyx12(path: Path) -> None:
    data = path.read_bytes()
    for old, new in RELABEL.items():
        data = data.replace(old, new)
    try:
        _compare(data, path.name)
    except Pyx12CannotRead as exc:
        pytest.skip(str(exc))


def _pyx12_loops(data: bytes) -> dict[int, str]:
    """Segment ordinal -> innermost loop pyx12 places the segment in."""
    src = pyx12.x12context.X12ContextReader(
        pyx12.params.params(), pyx12.error_handler.errh_null(), io.StringIO(data.decode("latin-1"))
    )
    loops = {}
    for node in src.iter_segments():
        parts = [p.split("[")[0] for p in node.cur_path.split("/") if p]
        if len(parts) >= 2:
            loops[node.cur_line_number] = "ST" if parts[-2] == "ST_LOOP" else parts[-2]
    return loops


@pytest.mark.parametrize("path", CLAIM_FILES, ids=lambda p: p.name)
def test_every_segment_sits_in_the_loop_pyx12_puts_it_in(path: Path) -> None:
    """Loop assignment, segment by segment, for every segment we do not flag as misplaced."""
    data = path.read_bytes()
    for old, new in RELABEL.items():
        data = data.replace(old, new)
    try:
        theirs = _pyx12_loops(data)
    except (pyx12.errors.X12Error, pyx12.errors.EngineError) as exc:
        pytest.skip(f"pyx12: {exc}".splitlines()[0][:160])
    frames, ordinal = [], 0
    for block in iter_blocks(io.BytesIO(data)):
        frame = segment_frame(block, ordinal + 1)
        ordinal += frame.height
        frames.append(frame)
    segments = pl.concat(frames)
    guide = guide_for(_versions(data)[1].pop())
    assert guide is not None
    assigned = assign(segments.filter(~pl.col("id").is_in(["ISA", "GS", "GE", "IEA"])), guide)
    names = tables(guide).loop_ids
    compared = 0
    for ordinal, seg_id, lc, err in assigned.select("ord", "id", "lc", "err").iter_rows():
        if err or seg_id in ("ST", "SE") or ordinal not in theirs:
            continue  # misplaced segments and the envelope are judged elsewhere
        assert names[lc] == theirs[ordinal], (ordinal, seg_id)
        compared += 1
    if compared == 0:
        pytest.skip("pyx12 places no segment of this file")
