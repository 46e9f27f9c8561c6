"""The loop tables agree with an independent implementation's maps (pyx12).

Our guide modules are typed from the TR3; pyx12 ships its own XML maps of the same
guides (837P 005010X222A1, 837I 005010X223A2). For every loop we declare, pyx12 must
know a loop of that id whose segments include ours at the same TR3 positions, opened
by the same segment with the same qualifiers.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import pyx12

from claimscrub.readers.x12.guides import X222, X223, guide_for
from claimscrub.readers.x12.guides.spec import ROOT, Guide

MAPS = Path(pyx12.__file__).parent / "map"


def _pyx12_loops(map_file: str) -> dict[str, list[dict]]:
    """loop id -> variants of {opener, qualifiers, segments: {id: {positions}}}."""
    loops: dict[str, list[dict]] = {}
    for loop in ET.parse(MAPS / map_file).getroot().iter("loop"):
        segs = loop.findall("segment")
        if not segs:
            continue
        first = segs[0]
        quals: set[str] = set()
        for el in first.findall("element"):
            codes = el.find("valid_codes")
            if codes is not None and el.findtext("usage") == "R":
                quals = {c.text or "" for c in codes.findall("code")}
                break
        positions: dict[str, set[int]] = {}
        for seg in segs:
            positions.setdefault(seg.get("xid", ""), set()).add(int(seg.findtext("pos") or 0))
        loops.setdefault(loop.get("xid", ""), []).append(
            {"opener": first.get("xid"), "qualifiers": quals, "segments": positions}
        )
    return loops


@pytest.mark.parametrize(
    ("guide", "map_file"), [(X222, "837.5010.X222.A1.xml"), (X223, "837Q3.I.5010.X223.A1.xml")]
)
def test_loop_tables_match_pyx12_maps(guide: Guide, map_file: str) -> None:
    theirs = _pyx12_loops(map_file)
    for loop in guide.loops:
        if loop.id in (ROOT, "HEADER"):
            continue  # pyx12 models the envelope and header differently
        assert loop.id in theirs, loop.id
        variant = theirs[loop.id][0]
        assert loop.opener == variant["opener"], loop.id
        if loop.qualifiers and loop.opener != "HL":
            assert set(loop.qualifiers) == variant["qualifiers"], loop.id
        opener_positions = variant["segments"][loop.opener]
        assert loop.own_position in opener_positions, (loop.id, loop.own_position, opener_positions)
        for seg, pos in loop.segments:
            assert pos in variant["segments"].get(seg, set()), (
                loop.id,
                seg,
                pos,
                variant["segments"].get(seg),
            )


def test_versions_resolve_to_their_guide() -> None:
    assert guide_for("005010X222A1") is X222
    assert guide_for("005010X222A2") is X222
    assert guide_for("005010X223A2") is X223
    assert guide_for("005010X223A3") is X223
    assert guide_for("004010X098A1") is None
    # The base 5010 guides and the 837I addenda read with the same tables.
    assert guide_for("005010X222") is X222
    assert guide_for("005010X223") is X223
    assert guide_for("005010X223A1") is X223


def test_st03_names_the_guide_when_gs08_names_another() -> None:
    # Seen in a public sample: GS08 says 837P, ST03 the 837I addenda, SV2 lines.
    from claimscrub.readers.x12 import read_x12

    fixtures = Path(__file__).resolve().parents[4] / "shared" / "fixtures" / "x12"
    data = (fixtures / "lfhx12__institutional-claim.837i").read_bytes()
    # GS08 comes first in the file, then ST03.
    mixed = data.replace(b"*005010X223A3~", b"*005010X222A1~", 1)
    mixed = mixed.replace(b"*005010X223A3~", b"*005010X223A1~", 1)
    assert mixed.count(b"005010X222A1") == 1 and mixed.count(b"005010X223A1") == 1
    batch = read_x12(mixed, "mixed.837i")
    assert batch.rejected.height == 0 and batch.warnings.height == 0
    assert batch.claims["claim_type"].unique().to_list() == ["institutional"]
    assert batch.lines.height > 0
