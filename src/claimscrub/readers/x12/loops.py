"""Assign every segment to its loop, from a guide's loop table, and find misplaced segments.

Works on a Polars frame of segments (one row each, in file order) in a few
vectorised passes instead of a per-segment state machine:

1. *hard anchors* (ST, BHT, HL by HL03, CLM, LX) are recognised by their own
   content; the innermost open hard anchor is a forward fill.
2. *soft anchors* (SBR → 2320) count only while their hard parent is open.
3. *leaf* loops (NM1*85 → 2010AA, LIN → 2410 ...) are looked up by
   (enclosing anchor, segment id, qualifier).
4. every other segment belongs to the loop opened last; its TR3 position must be
   allowed in that loop and must not go backwards; a loop may open only where its
   parent is open and not before an earlier sibling (a static transition table).
5. HL02 must point at the open HL of the parent level (HL03 20 → 22 → 23).

Segment ids, qualifiers and loops are turned into small integer codes so that
every lookup is a ``gather`` from a table built once per guide (no string keys in
the hot path). The result adds ``sc`` (segment code), ``q1``, ``lc`` (loop code),
``pos``, an error code ``err`` (0 = fine) and the keys of the open scopes
(``k_txn``, ``k_billing``, ``k_subscriber``, ``k_patient``, ``k_claim``,
``k_line``: the ordinal of the segment that opened each, or null), which
``flatten.py`` uses to attach data and errors to claims.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import polars as pl

from claimscrub.readers.x12.guides.spec import Guide, Loop

SCOPE_ORDER = ("txn", "billing", "subscriber", "patient", "claim", "line")
SCOPE_KEYS = tuple(f"k_{s}" for s in SCOPE_ORDER)

# Error codes (numeric in the hot path; text is built for error rows only).
OK, NOT_EXPECTED, ORDER, DUPLICATE, LOOP_ORDER, LOOP_REPEAT, NO_PARENT, HL_POINTER = range(8)

# Transition codes for (new loop, loop of the previous segment).
_T_OK, _T_OWN, _T_ORDER, _T_REPEAT, _T_PARENT = range(5)


@dataclass(frozen=True)
class Tables:
    """Integer codes and gather tables derived once from a guide's loop list."""

    loop_ids: tuple[str, ...]  # loop code -> loop id
    loop_code: dict[str, int]
    seg_code: dict[str, int]  # segment id -> code (0 = not in this guide)
    qual_code: dict[str, int]  # opener qualifier value -> code (0 = other)
    n_seg: int
    n_qual: int
    hard: pl.Series  # [seg * n_qual + qual] -> loop code of a hard anchor
    hard_qualified: tuple[
        tuple[str, int], ...
    ]  # (opener, qualifier element) of qualified hard anchors
    qualified_leaf_openers: tuple[int, ...]  # segment codes that open a leaf loop by qualifier
    soft: pl.Series  # [hard region * n_seg + seg] -> loop code
    leaf: pl.Series  # [(region * n_seg + seg) * n_qual + qual] -> loop code
    own: pl.Series  # [loop * n_seg + seg] -> TR3 position (segments other than the opener)
    opener_position: pl.Series  # [loop] -> position of the opener inside its loop
    position: pl.Series  # [loop] -> position of the loop inside its parent
    transitions: pl.Series  # [new loop * n_loop + previous loop] -> _T_*
    scope_opened_by: dict[str, list[int]]  # scope -> hard anchor loop codes that open it
    once: tuple[int, ...]  # segment codes that may occur once per loop instance


def _chains(loop_id: str, loops: dict[str, Loop]) -> list[list[str]]:
    """Every path from ``loop_id`` up to the root (2300 has two parents, so paths branch)."""
    lp = loops[loop_id]
    if not lp.parents:
        return [[loop_id]]
    return [[loop_id, *chain] for p in lp.parents for chain in _chains(p, loops)]


def _transition(new: Loop, prev_id: str, loops: dict[str, Loop]) -> int:
    best = _T_PARENT
    for parent in new.parents:
        if prev_id == parent:
            code = _T_OWN
        else:
            code = _T_PARENT
            for chain in _chains(prev_id, loops):
                if parent in chain[1:]:
                    child = chain[chain.index(parent) - 1]
                    if child == new.id:
                        code = min(code, _T_OK if new.repeatable else _T_REPEAT)
                    elif loops[child].position <= new.position:
                        code = _T_OK
                    else:
                        code = min(code, _T_ORDER)
        best = min(best, code)
    return best


def _table(size: int, entries: dict[int, int], dtype: pl.DataType) -> pl.Series:
    values: list[int | None] = [None] * size
    for index, value in entries.items():
        values[index] = value
    return pl.Series(values, dtype=dtype)


@cache
def tables(guide: Guide) -> Tables:
    """Build (once per guide) the codes and tables that drive :func:`assign`."""
    loops = {lp.id: lp for lp in guide.loops}
    loop_ids = tuple(lp.id for lp in guide.loops)
    loop_code = {lid: i for i, lid in enumerate(loop_ids)}
    seg_ids = sorted(
        {lp.opener for lp in guide.loops} | {s for lp in guide.loops for s, _ in lp.segments}
    )
    seg_code = {s: i + 1 for i, s in enumerate(seg_ids)}
    quals = sorted({q for lp in guide.loops for q in lp.qualifiers})
    qual_code = {q: i + 1 for i, q in enumerate(quals)}
    n_seg, n_qual, n_loop = len(seg_ids) + 1, len(quals) + 1, len(loop_ids)

    hard: dict[int, int] = {}
    hard_qualified: set[tuple[str, int]] = set()
    soft: dict[int, int] = {}
    leaf: dict[int, int] = {}
    for lp in guide.loops:
        sc, lc = seg_code[lp.opener], loop_code[lp.id]
        qcodes = [qual_code[q] for q in lp.qualifiers] if lp.qualifiers else list(range(n_qual))
        if lp.kind == "hard":
            if lp.qualifiers:
                hard_qualified.add((lp.opener, lp.qualifier_element))
            for qc in qcodes:
                hard[sc * n_qual + qc] = lc
        elif lp.kind == "soft":
            for p in lp.parents:
                soft[loop_code[p] * n_seg + sc] = lc
        else:
            for p in lp.parents:
                for qc in qcodes:
                    leaf[(loop_code[p] * n_seg + sc) * n_qual + qc] = lc
    own = {
        loop_code[lp.id] * n_seg + seg_code[s]: pos for lp in guide.loops for s, pos in lp.segments
    }
    transitions = {
        loop_code[new.id] * n_loop + loop_code[prev]: _transition(new, prev, loops)
        for new in guide.loops
        if new.parents
        for prev in loops
    }
    scopes = dict(guide.scopes)
    # A hard anchor opens a scope key only when it starts a new scope (BHT stays in "txn").
    scope_opened_by: dict[str, list[int]] = {s: [] for s in SCOPE_ORDER}
    for lp in guide.loops:
        if (
            lp.kind == "hard"
            and lp.id in scopes
            and all(scopes.get(p) != scopes[lp.id] for p in lp.parents)
        ):
            scope_opened_by[scopes[lp.id]].append(loop_code[lp.id])
    return Tables(
        loop_ids=loop_ids,
        loop_code=loop_code,
        seg_code=seg_code,
        qual_code=qual_code,
        n_seg=n_seg,
        n_qual=n_qual,
        hard=_table(n_seg * n_qual, hard, pl.Int16()),
        hard_qualified=tuple(sorted(hard_qualified)),
        qualified_leaf_openers=tuple(
            sorted(
                {seg_code[lp.opener] for lp in guide.loops if lp.kind != "hard" and lp.qualifiers}
            )
        ),
        soft=_table(n_loop * n_seg, soft, pl.Int16()),
        leaf=_table(n_loop * n_seg * n_qual, leaf, pl.Int16()),
        own=_table(n_loop * n_seg, own, pl.Int32()),
        opener_position=pl.Series([lp.own_position for lp in guide.loops], dtype=pl.Int32),
        position=pl.Series([lp.position for lp in guide.loops], dtype=pl.Int32),
        transitions=_table(n_loop * n_loop, transitions, pl.Int8()),
        scope_opened_by=scope_opened_by,
        once=tuple(seg_code[s] for s in sorted(guide.once) if s in seg_code),
    )


def _el(i: int) -> pl.Expr:
    return pl.col("e").list.get(i, null_on_oob=True)


def _gather(table: pl.Series, index: pl.Expr) -> pl.Expr:
    return pl.lit(table).gather(index)


def assign(frame: pl.DataFrame, guide: Guide) -> pl.DataFrame:
    """Add loop codes, positions, error codes and scope keys to one guide's segments.

    ``frame`` has ``ord``, ``id``, ``e`` (elements, e[0] = id) and holds whole
    transaction sets from ST to SE (a transaction may start with carried context
    rows from an earlier block). Envelope segments other than ST/SE are not in it.
    """
    t = tables(guide)
    n_seg, n_qual, n_loop = t.n_seg, t.n_qual, len(t.loop_ids)
    n = frame.height
    e = frame["e"]
    sc = frame["id"].replace_strict(t.seg_code, default=0, return_dtype=pl.Int64)
    q1 = e.list.get(1, null_on_oob=True).fill_null("")
    # Qualifier codes matter only on rows that may open a qualified loop (NM1, HL):
    # look them up there and scatter, instead of hashing every row.
    qc = pl.zeros(n, pl.Int64, eager=True)
    rows = sc.is_in(t.qualified_leaf_openers).arg_true()
    if rows.len():
        qc = qc.scatter(
            rows, q1.gather(rows).replace_strict(t.qual_code, default=0, return_dtype=pl.Int64)
        )
    hard = t.hard.gather(sc * n_qual)
    for opener, qe in t.hard_qualified:
        rows = (sc == t.seg_code[opener]).arg_true()
        if rows.len():
            codes = (
                e.gather(rows)
                .list.get(qe, null_on_oob=True)
                .replace_strict(t.qual_code, default=0, return_dtype=pl.Int64)
            )
            hard = hard.scatter(rows, t.hard.gather(sc.gather(rows) * n_qual + codes))
    df = frame.with_columns(
        sc.cast(pl.Int16).alias("sc"), q1.alias("q1"), qc.alias("_qc"), hard.alias("_hard")
    )
    i64 = pl.Int64
    scol = pl.col("sc").cast(i64)
    df = df.with_columns(pl.col("_hard").forward_fill().alias("_hard_region"))
    soft = _gather(t.soft, pl.col("_hard_region").cast(i64) * n_seg + scol)
    df = df.with_columns(
        pl.coalesce("_hard", pl.when(pl.col("_hard").is_null()).then(soft)).alias("_anchor")
    )
    df = df.with_columns(pl.col("_anchor").forward_fill().alias("_region"))
    leaf = _gather(t.leaf, (pl.col("_region").cast(i64) * n_seg + scol) * n_qual + pl.col("_qc"))
    df = df.with_columns(pl.coalesce("_anchor", leaf).alias("_opens"))
    is_opener = pl.col("_opens").is_not_null()
    opens = pl.col("_opens").cast(i64)
    df = df.with_columns(pl.col("_opens").forward_fill().alias("lc"))
    df = df.with_columns(
        pl.when(is_opener)
        .then(_gather(t.opener_position, opens))
        .otherwise(_gather(t.own, pl.col("lc").cast(i64) * n_seg + scol))
        .alias("pos"),
        pl.col("lc").shift(1).alias("prev_lc"),
        pl.col("sc").shift(1).alias("_prev_sc"),
        *_scope_markers(t),
    )
    st_code, se_code = t.seg_code["ST"], t.seg_code.get("SE", -1)
    boundary = (pl.col("sc") == st_code) | (pl.col("sc") == se_code)
    trans = _gather(t.transitions, opens * n_loop + pl.col("prev_lc").cast(i64))
    err = (
        pl.when(boundary)
        .then(pl.lit(OK))
        .when(~is_opener & pl.col("pos").is_null())
        .then(pl.lit(NOT_EXPECTED))
        .when(~is_opener & (pl.col("pos") < pl.col("pos").forward_fill().shift(1)))
        .then(pl.lit(ORDER))
        .when(~is_opener & pl.col("sc").is_in(t.once) & (pl.col("sc") == pl.col("_prev_sc")))
        .then(pl.lit(DUPLICATE))
        .when(is_opener & (trans.is_null() | (trans == _T_PARENT)))
        .then(pl.lit(NO_PARENT))
        .when(is_opener & (trans == _T_REPEAT))
        .then(pl.lit(LOOP_REPEAT))
        .when(is_opener & (trans == _T_ORDER))
        .then(pl.lit(LOOP_ORDER))
        .when(is_opener & (trans == _T_OWN) & (pl.col("pos").shift(1) > _gather(t.position, opens)))
        .then(pl.lit(LOOP_ORDER))
        .otherwise(pl.lit(OK))
        .cast(pl.Int8)
    )
    df = df.with_columns(
        err.alias("err"), *[pl.col(f"_m_{s}").forward_fill().alias(f"k_{s}") for s in SCOPE_ORDER]
    )
    df = df.with_columns(*[pl.when(pl.col(k) > 0).then(pl.col(k)).alias(k) for k in SCOPE_KEYS])
    df = _check_hl(df, guide, t)
    return df.drop("_qc", "_hard_region", "_anchor", "_region", *[f"_m_{s}" for s in SCOPE_ORDER])


def _scope_markers(t: Tables) -> list[pl.Expr]:
    """Per scope: the ordinal where a hard anchor opens it, 0 where a higher one closes it.

    A forward fill of the marker gives the key of the open scope (0 = none).
    """
    se = pl.col("sc") == t.seg_code.get("SE", -1)
    exprs = []
    for i, scope in enumerate(SCOPE_ORDER):
        kind: list[int | None] = [None] * len(t.loop_ids)
        for lc in t.scope_opened_by[scope]:
            kind[lc] = 1
        if scope != "txn":
            for s in SCOPE_ORDER[:i]:
                for lc in t.scope_opened_by[s]:
                    kind[lc] = 2
        mark = _gather(pl.Series(kind, dtype=pl.Int8), pl.col("_hard").cast(pl.Int64))
        expr = pl.when(mark == 1).then(pl.col("ord")).when(mark == 2).then(pl.lit(0, pl.Int64))
        if scope != "txn":
            expr = expr.when(se).then(pl.lit(0, pl.Int64))
        exprs.append(expr.alias(f"_m_{scope}"))
    return exprs


def _check_hl(df: pl.DataFrame, guide: Guide, t: Tables) -> pl.DataFrame:
    """HL01 must be given and HL02 must name the open HL of the parent level.

    Computed on the HL rows only (a few per claim), then written back by ordinal.
    """
    parents = dict(guide.hl_parents)
    hl_code = t.seg_code.get("HL")
    if not parents or hl_code is None:
        return df.with_columns(pl.lit(None, pl.String).alias("_hl_expected"))
    hl = df.select("ord", "k_txn", "err", "e", "sc", "_hard").filter(
        (pl.col("sc") == hl_code) & pl.col("_hard").is_not_null()
    )
    hl = hl.select(
        "ord",
        "k_txn",
        "err",
        _el(1).fill_null("").alias("hl01"),
        _el(2).fill_null("").alias("hl02"),
        _el(3).fill_null("").alias("level"),
    )
    if hl.height == 0:
        return df.with_columns(pl.lit(None, pl.String).alias("_hl_expected"))
    opened = {}
    for code in parents:
        ancestors, up = [], parents[code]
        while up:
            ancestors.append(up)
            up = parents.get(up, "")
        opened[code] = (
            pl.when(pl.col("level") == code)
            .then(pl.col("hl01"))
            .when(pl.col("level").is_in(ancestors))
            .then(pl.lit(""))
            .otherwise(None)
            .forward_fill()
            .shift(1)
            .over("k_txn")
            .fill_null("")
        )
    expected = pl.lit("")
    for code, parent in parents.items():
        if parent:
            expected = pl.when(pl.col("level") == code).then(opened[parent]).otherwise(expected)
    hl = hl.with_columns(expected.alias("_hl_expected"))
    bad = hl.filter(
        (pl.col("err") == OK)
        & (
            (pl.col("hl01") == "")
            | (pl.col("hl02") != pl.col("_hl_expected"))
            | ((pl.col("_hl_expected") == "") & (pl.col("level") != "20"))
        )
    )
    df = df.with_columns(pl.lit(None, pl.String).alias("_hl_expected"))
    if bad.height == 0:
        return df
    ords = bad["ord"].implode()
    exp = dict(zip(bad["ord"].to_list(), bad["_hl_expected"].to_list(), strict=True))
    return df.with_columns(
        pl.when(pl.col("ord").is_in(ords))
        .then(pl.lit(HL_POINTER, pl.Int8))
        .otherwise(pl.col("err"))
        .alias("err"),
        pl.when(pl.col("ord").is_in(ords))
        .then(pl.col("ord").replace_strict(exp, default=None, return_dtype=pl.String))
        .alias("_hl_expected"),
    )


def describe(errors: pl.DataFrame, guide: Guide) -> list[str]:
    """Readable reasons for the (few) rows whose ``err`` is not OK."""
    t = tables(guide)
    names = {lp.id: lp.name for lp in guide.loops}
    out = []
    for row in errors.select("id", "q1", "lc", "prev_lc", "err", "e", "_hl_expected").iter_rows(
        named=True
    ):
        loop = t.loop_ids[row["lc"]] if row["lc"] is not None else None
        prev = t.loop_ids[row["prev_lc"]] if row["prev_lc"] is not None else None
        out.append(_reason(row, loop, prev, names))
    return out


def _reason(row: dict, loop: str | None, prev: str | None, names: dict[str, str]) -> str:
    seg = row["id"] or "(empty segment id)"
    q = row.get("q1") or ""
    label = f"{seg}*{q}" if seg in ("NM1", "REF", "DTP", "HL", "SBR") and q else seg
    where = f"loop {loop} ({names.get(loop or '', '?')})" if loop else "no loop"
    code = row["err"]
    e = row["e"]
    if code == NOT_EXPECTED:
        if seg == "HL":
            hl03 = e[3] if len(e) > 3 else ""
            return f"HL03 level code {hl03!r} is not a level of this guide (20, 22, 23)"
        return f"segment {label} is not expected in {where}"
    if code == ORDER:
        return f"segment {label} is out of order in {where} (it belongs before the segment preceding it)"
    if code == DUPLICATE:
        return f"segment {seg} appears twice in {where}"
    name = names.get(loop or "", "?")
    if code == NO_PARENT:
        return (
            f"segment {label} opens loop {loop} ({name}) but its parent loop is not open "
            f"(previous segment is in loop {prev})"
        )
    if code == LOOP_REPEAT:
        return f"loop {loop} ({name}) may occur only once here (segment {label})"
    if code == LOOP_ORDER:
        return f"loop {loop} ({name}) opened by {label} comes after loop {prev}, out of order"
    if code == HL_POINTER:
        hl01 = e[1] if len(e) > 1 else ""
        hl02 = e[2] if len(e) > 2 else ""
        expected = row.get("_hl_expected") or ""
        if not hl01:
            return "HL01 (hierarchical id) is empty"
        if not expected and (len(e) <= 3 or e[3] != "20"):
            return f"HL {hl01!r} (level {e[3] if len(e) > 3 else '?'}) has no open parent level"
        return f"HL02 {hl02!r} of HL {hl01!r} should point to the open parent level HL {expected!r}"
    return f"segment {label}: structural error {code}"
