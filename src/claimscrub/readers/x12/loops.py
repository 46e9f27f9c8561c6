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

Segment ids and loop qualifiers are turned into small integer codes shared by all
guides (:func:`segment_codes`, which the reader runs in its tokenizer thread), so
that every lookup is a ``gather`` from a table built once per guide (no string
keys in the hot path). The result has ``sc`` (segment code), ``qc`` (qualifier
code), ``lc`` (loop code), ``pos``, an error code ``err`` (0 = fine),
the keys of the open scopes (``k_txn``, ``k_billing``, ``k_subscriber``,
``k_patient``, ``k_claim``, ``k_line``: the ordinal of the segment that opened
each, or null) and ``_k``, the key of the scope the row's own loop belongs to,
which ``flatten.py`` uses to attach data and errors to claims.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, cached_property

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
    seg_code: dict[str, int]  # segment id -> code (0 = in no guide; see Vocabulary)
    qual_code: dict[str, int]  # opener qualifier value -> code (0 = other)
    n_seg: int
    n_qual: int
    hard: pl.Series  # [seg * n_qual + qual] -> loop code of a hard anchor
    soft: pl.Series  # [hard region * n_seg + seg] -> loop code
    leaf: pl.Series  # [(region * n_seg + seg) * n_qual + qual] -> loop code
    own: pl.Series  # [loop * n_seg + seg] -> TR3 position (segments other than the opener)
    opener_position: pl.Series  # [loop] -> position of the opener inside its loop
    position: pl.Series  # [loop] -> position of the loop inside its parent
    transitions: pl.Series  # [new loop * n_loop + previous loop] -> _T_*
    scope_opened_by: dict[str, list[int]]  # scope -> hard anchor loop codes that open it
    once_only: pl.Series  # [segment code] -> may occur only once per loop instance
    scope_of_loop: pl.Series  # [loop] -> index in SCOPE_ORDER of the scope its data is in


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


# Envelope segments: coded like the guides' segments so the reader finds them by code.
ENVELOPE_IDS = ("ISA", "GS", "ST", "SE", "GE", "IEA")


@dataclass(frozen=True)
class Vocabulary:
    """Segment ids and loop qualifiers of every guide, as small integer codes.

    Codes are shared by all guides, so a frame is coded once (in the tokenizer's
    thread) whatever guides its transactions use; 0 means "not in any guide".
    """

    seg_code: dict[str, int]
    qual_code: dict[str, int]
    # Segments whose qualifier opens a loop (NM1 by NM101, HL by HL03): the element.
    qualifier_element: dict[str, int]

    @property
    def n_seg(self) -> int:
        return len(self.seg_code) + 1

    @property
    def n_qual(self) -> int:
        return len(self.qual_code) + 1

    @cached_property
    def segment_enum(self) -> pl.Enum:
        """The segment ids as an enum whose physical values are the codes minus one."""
        return pl.Enum(sorted(self.seg_code, key=self.seg_code.__getitem__))

    @cached_property
    def qualifier_enum(self) -> pl.Enum:
        """The qualifiers as an enum whose physical values are the codes minus one."""
        return pl.Enum(sorted(self.qual_code, key=self.qual_code.__getitem__))

    @cached_property
    def qualifier_elements(self) -> pl.Series:
        """[segment code] -> the element holding its loop qualifier (null: none)."""
        table: list[int | None] = [None] * self.n_seg
        for seg_id, element in self.qualifier_element.items():
            table[self.seg_code[seg_id]] = element
        return pl.Series(table, dtype=pl.Int64)


def _code(values: pl.Expr, enum: pl.Enum) -> pl.Expr:
    """Code (1-based index in ``enum``) of each value, 0 for a value not in it or null."""
    return (values.cast(enum, strict=False).to_physical().cast(pl.Int16) + 1).fill_null(0)


@cache
def vocabulary() -> Vocabulary:
    """The shared codes of all guides in :data:`claimscrub.readers.x12.guides.GUIDES`."""
    from claimscrub.readers.x12.guides import GUIDES

    loops = [lp for g in GUIDES for lp in g.loops]
    seg_ids = sorted(
        set(ENVELOPE_IDS)
        | {lp.opener for lp in loops}
        | {s for lp in loops for s, _ in lp.segments}
    )
    quals = sorted({q for lp in loops for q in lp.qualifiers})
    qualifier_element: dict[str, int] = {}
    for lp in loops:
        if lp.qualifiers:
            known = qualifier_element.setdefault(lp.opener, lp.qualifier_element)
            if known != lp.qualifier_element:
                raise ValueError(f"{lp.opener} opens loops by two different elements")
    return Vocabulary(
        {s: i + 1 for i, s in enumerate(seg_ids)},
        {q: i + 1 for i, q in enumerate(quals)},
        qualifier_element,
    )


def segment_codes(frame: pl.DataFrame) -> pl.DataFrame:
    """Add ``sc`` (segment code) and ``qc`` (loop qualifier code) to a frame.

    ``qc`` is the code of the qualifier of a segment that opens loops by qualifier
    (NM101, HL03), else 0. ``frame`` has ``id`` and ``e`` (see ``segment_frame``).
    """
    v = vocabulary()
    frame = frame.with_columns(_code(pl.col("id"), v.segment_enum).alias("sc"))
    qualifier = pl.col("e").list.get(
        pl.lit(v.qualifier_elements).gather(pl.col("sc").cast(pl.Int64)), null_on_oob=True
    )
    return frame.with_columns(_code(qualifier, v.qualifier_enum).alias("qc"))


_TABLES: dict[int, tuple[Guide, Tables]] = {}


def tables(guide: Guide) -> Tables:
    """The codes and tables that drive :func:`assign`, built once per guide."""
    # Keyed by identity: hashing a guide (a tree of frozen dataclasses) costs more than
    # a frame's worth of lookups.
    hit = _TABLES.get(id(guide))
    if hit is None or hit[0] is not guide:
        hit = (guide, _build_tables(guide))
        _TABLES[id(guide)] = hit
    return hit[1]


def _build_tables(guide: Guide) -> Tables:
    loops = {lp.id: lp for lp in guide.loops}
    loop_ids = tuple(lp.id for lp in guide.loops)
    loop_code = {lid: i for i, lid in enumerate(loop_ids)}
    v = vocabulary()
    seg_code, qual_code, n_seg, n_qual = v.seg_code, v.qual_code, v.n_seg, v.n_qual
    n_loop = len(loop_ids)
    own_segments = {lp.opener for lp in guide.loops} | {
        s for lp in guide.loops for s, _ in lp.segments
    }

    hard: dict[int, int] = {}
    soft: dict[int, int] = {}
    leaf: dict[int, int] = {}
    for lp in guide.loops:
        sc, lc = seg_code[lp.opener], loop_code[lp.id]
        qcodes = [qual_code[q] for q in lp.qualifiers] if lp.qualifiers else list(range(n_qual))
        if lp.kind == "hard":
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
    once = tuple(seg_code[s] for s in sorted(guide.once) if s in own_segments)
    return Tables(
        loop_ids=loop_ids,
        loop_code=loop_code,
        seg_code=seg_code,
        qual_code=qual_code,
        n_seg=n_seg,
        n_qual=n_qual,
        hard=_table(n_seg * n_qual, hard, pl.Int16()),
        soft=_table(n_loop * n_seg, soft, pl.Int16()),
        leaf=_table(n_loop * n_seg * n_qual, leaf, pl.Int16()),
        own=_table(n_loop * n_seg, own, pl.Int32()),
        opener_position=pl.Series([lp.own_position for lp in guide.loops], dtype=pl.Int32),
        position=pl.Series([lp.position for lp in guide.loops], dtype=pl.Int32),
        transitions=_table(n_loop * n_loop, transitions, pl.Int8()),
        scope_opened_by=scope_opened_by,
        once_only=pl.Series([code in once for code in range(n_seg)], dtype=pl.Boolean),
        scope_of_loop=pl.Series(
            [SCOPE_ORDER.index(scopes[_data_anchor(loops[lid])]) for lid in loop_ids],
            dtype=pl.Int8,
        ),
    )


def _data_anchor(lp: Loop) -> str:
    """The anchor loop whose scope holds a loop's data (a leaf's is its parent's)."""
    return lp.id if lp.kind != "leaf" else lp.parents[0]


def _el(i: int) -> pl.Expr:
    return pl.col("e").list.get(i, null_on_oob=True)


def _gather(table: pl.Series, index: pl.Expr) -> pl.Expr:
    return pl.lit(table).gather(index)


@dataclass
class Assigned:
    """An assigned frame whose scope keys are kept per *event* (see :func:`assign`).

    ``frame`` has ``_ev``, the index of the row's last event in ``events`` (null
    before the first), instead of the ``k_<scope>`` columns; ``events`` has those
    keys, one row per event. :meth:`keys` gives them for any rows of the frame.
    """

    frame: pl.DataFrame
    events: pl.DataFrame

    def keys(self, rows: pl.DataFrame, names: tuple[str, ...] = SCOPE_KEYS) -> list[pl.Series]:
        """The scope keys ``names`` of ``rows`` (rows of the frame, with ``_ev``)."""
        index = rows["_ev"]
        return [self.events[name].gather(index) for name in names]

    def with_keys(self, rows: pl.DataFrame, names: tuple[str, ...] = SCOPE_KEYS) -> pl.DataFrame:
        """``rows`` with the scope key columns ``names`` added."""
        return rows.with_columns(self.keys(rows, names))


def assign(frame: pl.DataFrame, guide: Guide) -> pl.DataFrame:
    """Add loop codes, positions, error codes and scope keys to one guide's segments.

    ``frame`` has ``ord`` and ``e`` (elements, e[0] = the segment id), and ``sc``
    and ``qc`` (see :func:`segment_codes`; computed here from ``id`` if missing). It holds
    whole transaction sets from ST to SE (a transaction may start with carried
    context rows from an earlier block). Envelope segments other than ST/SE are not
    in it.
    """
    assigned = assign_events(frame, guide)
    return assigned.with_keys(assigned.frame).drop("_ev")


def assign_events(frame: pl.DataFrame, guide: Guide) -> Assigned:
    """:func:`assign`, with the scope keys kept per event (cheaper for the reader)."""
    t = tables(guide)
    if "qc" not in frame.columns:
        frame = segment_codes(frame)
    n_seg, n_qual = t.n_seg, t.n_qual
    i64 = pl.Int64
    scol = pl.col("sc").cast(i64)
    # Hard anchors are known from the segment (and, for HL, its level code) alone.
    df = frame.with_columns(_gather(t.hard, scol * n_qual + pl.col("qc").cast(i64)).alias("_hard"))
    df = df.with_columns(pl.col("_hard").forward_fill().alias("_hard_region"))
    soft = _gather(t.soft, pl.col("_hard_region").cast(i64) * n_seg + scol)
    df = df.with_columns(
        pl.coalesce("_hard", pl.when(pl.col("_hard").is_null()).then(soft)).alias("_anchor")
    )
    df = df.with_columns(pl.col("_anchor").forward_fill().alias("_region"))
    leaf = _gather(
        t.leaf, (pl.col("_region").cast(i64) * n_seg + scol) * n_qual + pl.col("qc").cast(i64)
    )
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
    )
    df = df.with_columns(_error_code(t).alias("err"))
    df, events = _with_scope_keys(df, t)
    df = _check_hl(Assigned(df, events), guide, t)
    return Assigned(df.drop("_hard_region", "_anchor", "_region"), events)


# Error code of a loop opener by its transition code; _T_OWN is decided by positions.
_TRANSITION_ERROR = pl.Series([OK, OK, LOOP_ORDER, LOOP_REPEAT, NO_PARENT], dtype=pl.Int8)


def _error_code(t: Tables) -> pl.Expr:
    """``err`` of every segment (see the codes at the top of this module).

    ST and SE are never misplaced here (the envelope tracker judges them). An
    opener is judged by its transition from the loop of the segment before it; any
    other segment must have a TR3 position in its loop, not lower than the last
    one seen, and a once-only segment must not repeat.
    """
    i64 = pl.Int64
    opens = pl.col("_opens").cast(i64)
    pos = pl.col("pos")
    transition = _gather(
        t.transitions, opens * len(t.loop_ids) + pl.col("prev_lc").cast(i64)
    ).fill_null(_T_PARENT)
    opener = (
        pl.when((transition == _T_OWN) & (pos.shift(1) > _gather(t.position, opens)))
        .then(pl.lit(LOOP_ORDER, pl.Int8))
        .otherwise(pl.lit(_TRANSITION_ERROR).gather(transition.cast(i64)))
    )
    other = (
        pl.when(pos.is_null())
        .then(pl.lit(NOT_EXPECTED, pl.Int8))
        .when(pos < pos.forward_fill().shift(1))
        .then(pl.lit(ORDER, pl.Int8))
        .when(_gather(t.once_only, pl.col("sc").cast(i64)) & (pl.col("sc") == pl.col("_prev_sc")))
        .then(pl.lit(DUPLICATE, pl.Int8))
        .otherwise(pl.lit(OK, pl.Int8))
    )
    boundary = (pl.col("sc") == t.seg_code["ST"]) | (pl.col("sc") == t.seg_code["SE"])
    return (
        pl.when(boundary)
        .then(pl.lit(OK, pl.Int8))
        .when(pl.col("_opens").is_not_null())
        .then(opener)
        .otherwise(other)
    )


def _with_scope_keys(df: pl.DataFrame, t: Tables) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Scope keys per event, each row's last event (``_ev``) and ``_k``.

    A key is the ordinal of the segment that opened the scope. Scopes open and
    close only at hard anchors and SE (the *events*, a few per claim): the keys
    are computed on the event rows (returned with the frame), every row takes
    those of the last event at or before it, and ``_k`` is the key of the scope of
    the row's own loop.
    """
    event = pl.col("_hard").is_not_null() | (pl.col("sc") == t.seg_code["SE"])
    is_event = df.select(event)["_hard"]
    events = df.select("ord", "sc", "_hard").filter(is_event)
    keys = events.select(_marker_exprs(t)).select(
        pl.when(pl.col(k) > 0).then(pl.col(k)).alias(k) for k in SCOPE_KEYS
    )
    if events.height == 0:
        return df.with_columns(
            pl.lit(None, pl.UInt32).alias("_ev"), pl.lit(None, pl.Int64).alias("_k")
        ), keys
    # Number of events up to each row; unsigned, as gather wants its indices.
    seen = is_event.cast(pl.UInt32).cum_sum()
    before_first = seen[0] == 0  # rows before the first event belong to no scope
    last_event = (seen.clip(lower_bound=1) if before_first else seen) - 1
    # The keys of all scopes one after the other: the row's own scope picks its key.
    stacked = pl.concat([keys[k] for k in SCOPE_KEYS])
    scope = _gather(t.scope_of_loop, pl.col("lc").cast(pl.Int64)).cast(pl.Int64)
    own_key = pl.lit(stacked).gather(scope * keys.height + last_event)
    df = df.with_columns(last_event.alias("_ev"), own_key.alias("_k"))
    if before_first:
        df = df.with_columns(
            pl.when(seen == 0).then(None).otherwise(pl.col(k)).alias(k) for k in ("_ev", "_k")
        )
    return df, keys


_MARKERS: dict[int, tuple[Tables, list[pl.Expr]]] = {}


def _marker_exprs(t: Tables) -> list[pl.Expr]:
    """Forward-filled scope markers of the event rows, one column ``k_<scope>`` each."""
    hit = _MARKERS.get(id(t))
    if hit is None or hit[0] is not t:
        exprs = [
            marker.forward_fill().alias(f"k_{scope}")
            for scope, marker in zip(SCOPE_ORDER, _scope_markers(t), strict=True)
        ]
        hit = _MARKERS[id(t)] = (t, exprs)
    return hit[1]


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


def _check_hl(assigned: Assigned, guide: Guide, t: Tables) -> pl.DataFrame:
    """HL01 must be given and HL02 must name the open HL of the parent level.

    Computed on the HL rows only (a few per claim), then written back by ordinal.
    """
    df = assigned.frame
    parents = dict(guide.hl_parents)
    hl_code = t.seg_code.get("HL")
    if not parents or hl_code is None:
        return df.with_columns(pl.lit(None, pl.String).alias("_hl_expected"))
    hl = df.select("ord", "_ev", "err", "e", "sc", "_hard").filter(
        (pl.col("sc") == hl_code) & pl.col("_hard").is_not_null()
    )
    hl = assigned.with_keys(hl, ("k_txn",)).select(
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
    rows = errors.select(
        pl.col("e").list.first().alias("id"),
        pl.col("e").list.get(1, null_on_oob=True).fill_null("").alias("q1"),
        "lc",
        "prev_lc",
        "err",
        "e",
        "_hl_expected",
    )
    for row in rows.iter_rows(named=True):
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
