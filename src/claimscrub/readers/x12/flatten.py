"""Loops → canonical claim and line rows, with X12 locations and per-claim errors.

Input is a frame from :mod:`claimscrub.readers.x12.loops`: every segment knows
its loop and the keys of the scopes it sits in (transaction, billing provider,
subscriber, patient, claim, line). The guide's picks say which element of which
segment feeds which column. Extraction works on whole columns: the frame is
partitioned once by (loop, segment) (:func:`segments`, which the reader runs in
its own thread); each pick group is one lazy query that computes its values and
validity flags in one pass over its partition, and all of a frame's queries are
collected together. The first row per scope key is then lined up with the claims
or lines (mostly without a join: see ``_Columns``); error messages are built only
for failing rows.

A claim is rejected when any segment in it, or in a scope above it (its patient,
subscriber, billing provider or transaction header), has a structural error or an
invalid element that a pick reads. Errors in scopes that hold no claim are returned
as *context errors* for the reader to report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from claimscrub.model import columns as c
from claimscrub.model.schema import CLAIMS_SCHEMA, LINES_SCHEMA
from claimscrub.readers.x12.guides.spec import DatePick, Guide, Pick
from claimscrub.readers.x12.loops import SCOPE_KEYS, Assigned, Tables, describe, tables

_DECIMAL = r"^[+-]?(\d+\.?\d*|\.\d+)$"
_INTEGER = r"^[+-]?\d+$"
_KEYS = list(SCOPE_KEYS)
_ERROR_SCHEMA = {"ord": pl.Int64, "reason": pl.String, **{k: pl.Int64 for k in _KEYS}}
_STRING = pl.String()
_KINDS = {"R": "a decimal number", "N0": "an integer", "D8": "a CCYYMMDD date"}
_NO_SUBPLAN_CACHE = pl.QueryOptFlags(comm_subplan_elim=False)


@dataclass
class Flat:
    """What one frame of segments yields.

    ``claims`` / ``lines`` are the canonical columns plus ``_clm`` (ordinal of the
    CLM), ``_txn`` (ordinal of the ST) and, for lines, ``_lx`` (ordinal of the LX).
    ``rejected`` holds one row per claim that cannot be read (``_clm``, ``_txn``,
    claim_id, seg_ordinal, reason). ``context_errors`` holds errors outside any
    claim (``key``: ordinal of the segment that opened their scope; ``ord``;
    ``reason``; ``_txn``).
    """

    claims: pl.DataFrame
    lines: pl.DataFrame
    rejected: pl.DataFrame
    context_errors: pl.DataFrame
    guide: Guide


def scope_of_loop(guide: Guide, loop_id: str) -> str:
    """The scope (txn, billing, subscriber, patient, claim, line) a loop's data belongs to."""
    lp = guide.loop(loop_id)
    anchor = loop_id if lp.kind != "leaf" else lp.parents[0]
    return dict(guide.scopes)[anchor]


def _null_if_empty(expr: pl.Expr) -> pl.Expr:
    return pl.when(expr == "").then(None).otherwise(expr)


def _element(i: int) -> pl.Expr:
    return pl.col("e").list.get(i, null_on_oob=True)


def _value(p: Pick) -> pl.Expr:
    """The picked value of one segment row; composites are pre-split into ``_c<element>``."""
    if p.components:
        first, n = p.components[0] - 1, len(p.components)
        composite = pl.col(f"_c{p.element}")
        if p.components == tuple(range(first + 1, first + 1 + n)):
            parts = composite.list.slice(first, n)  # contiguous: cheaper than a gather
        else:
            parts = composite.list.gather([i - 1 for i in p.components], null_on_oob=True)
        # Non-empty components, in order (a null fails the comparison and is dropped too).
        return parts.list.filter(pl.element() != "")
    if p.component:
        return _null_if_empty(pl.col(f"_c{p.element}").list.get(p.component - 1, null_on_oob=True))
    return _null_if_empty(_element(p.element))


def _label(p: Pick) -> str:
    if p.label:
        return p.label
    name = f"{p.segment}{p.element:02d}"
    return f"{name}-{p.component}" if p.component else name


def _cast(p: Pick, value: pl.Expr) -> pl.Expr:
    if p.components:
        return value.cast(pl.List(pl.Int64), strict=False) if p.kind == "N0" else value
    if p.kind == "R":
        return value.cast(pl.Float64, strict=False)
    if p.kind == "N0":
        return value.cast(pl.Int64, strict=False)
    if p.kind == "D8":
        return value.str.strptime(pl.Date, "%Y%m%d", strict=False)
    return value


def _checks(p: Pick, comp: str, v: pl.Expr) -> list[tuple[pl.Expr, pl.Expr]]:
    """(failure condition, message) pairs for one pick whose value (``_value``) is ``v``."""
    label = _label(p)
    out: list[tuple[pl.Expr, pl.Expr]] = []
    if p.required:
        empty = v.list.len() == 0 if p.components else v.is_null()
        if p.component:
            # Name the whole composite and the declared separator: a wrong ISA16 is common.
            msg = pl.format(
                f"{label} is empty (element {{}}; ISA16 component separator is {comp!r})",
                _element(p.element).fill_null(""),
            )
        else:
            msg = pl.lit(f"{label} is empty")
        out.append((empty, msg))
    if p.kind in _KINDS:
        if p.components:
            bad = v.list.eval(~pl.element().str.contains(r"^\d+$")).list.any()
            shown = v.list.join(":")
        else:
            pattern = {"R": _DECIMAL, "N0": _INTEGER, "D8": r"^\d{8}$"}[p.kind]
            bad = v.is_not_null() & ~v.str.contains(pattern)
            if p.kind == "D8":
                bad = bad | (
                    v.is_not_null() & v.str.strptime(pl.Date, "%Y%m%d", strict=False).is_null()
                )
            shown = v
        out.append((bad, pl.format(f"{label} {{}} is not {_KINDS[p.kind]}", shown.cast(pl.String))))
    if p.max_length and not p.components:
        # X12 counts a number's digits, not its sign or decimal point.
        counted = v.str.replace_all(r"[+\-.]", "") if p.kind in ("R", "N0") else v
        what = "digits" if p.kind in ("R", "N0") else "characters"
        too_long = counted.str.len_chars() > p.max_length
        if p.component:
            # A composite read as one component (its separator is not ISA16's) is explained
            # by the empty components after it, naming the separator, not by its length.
            too_long &= pl.col(f"_c{p.element}").list.len() > 1
        out.append(
            (
                too_long.fill_null(False),
                pl.format(f"{label} '{{}}' is longer than X12 allows ({p.max_length} {what})", v),
            )
        )
    return out


def _first_per_key(key: str) -> pl.Expr:
    """First row of each key: rows are in file order and scope keys never decrease."""
    return pl.col(key).is_not_null() & (pl.col(key) != pl.col(key).shift(1)).fill_null(True)


@dataclass(frozen=True)
class _GroupPlan:
    """Lazy queries of one pick group, built once per (guide, group, separator).

    ``part`` and ``qualifier`` select the group's segment rows (``_k`` is the key of
    the scope each row belongs to). Each pick's value is computed once per row
    (``values``), then feeds both the checks (``flags``) and the output: one row per
    scope key. Error messages are built later, and only for the (rare) rows where a
    check fails.
    """

    segment: str
    key: str
    scope: str
    part: int  # partition (loop code * n_seg + segment code) of the rows it reads
    qualifier: tuple[str, ...]
    composite: tuple[pl.Expr, ...]
    values: tuple[pl.Expr, ...]  # "_v<k>": the value of pick k
    flags: tuple[pl.Expr, ...]  # "_f<j>": check j fails
    messages: tuple[pl.Expr, ...]  # message of check j, over failing rows
    output: tuple[pl.Expr, ...]
    columns: tuple[str, ...]  # value columns of the output
    join: bool

    def query(self, rows: pl.LazyFrame) -> pl.LazyFrame:
        """The group's rows with their values and check flags (or directly the output)."""
        if self.qualifier:
            rows = rows.filter(_element(1).is_in(list(self.qualifier)))
        if self.composite:
            rows = rows.with_columns(self.composite)
        if self.flags:
            return (
                rows.with_columns(self.values)
                .with_columns(self.flags)
                .with_columns(
                    pl.any_horizontal(pl.col("^_f\\d+$")).alias("_bad"),
                    _first_per_key("_k").alias("_first"),
                )
            )
        return self._output(rows)

    def _output(self, rows: pl.LazyFrame) -> pl.LazyFrame:
        if self.join:
            return (
                rows.filter(pl.col("_k").is_not_null())
                .group_by("_k", maintain_order=True)
                .agg(self.output)
                .rename({"_k": self.key})
            )
        return rows.filter(_first_per_key("_k")).select(self.output)

    def finish(self, result: pl.DataFrame, errors: list) -> pl.DataFrame:
        """Values per scope key, from :meth:`query`'s result; failing checks go to ``errors``.

        One error row (ord, reason) per failing check, in check order, rows in file order.
        """
        if not self.flags:
            return result
        if result["_bad"].any():
            failing = result.filter(pl.col("_bad"))
            for j, msg in enumerate(self.messages):
                hit = failing.filter(pl.col(f"_f{j}"))
                if hit.height:
                    reason = pl.format("segment {} {}: {}", "ord", pl.lit(self.segment), msg)
                    errors.append(hit.select("ord", reason.alias("reason"), "_ev"))
        if self.join:
            return self._output(result.lazy()).collect(engine="in-memory")
        if not result["_first"].all():  # usually one row per key: nothing to drop
            result = result.filter(pl.col("_first"))
        return result.select(self.output)


def _part_key(t: Tables, loop: str, segment: str) -> int:
    """The partition holding the segments ``segment`` of loop ``loop`` (-1: none)."""
    if loop not in t.loop_code or segment not in t.seg_code:
        return -1
    return t.loop_code[loop] * t.n_seg + t.seg_code[segment]


def _group_plan(guide: Guide, picks: tuple[Pick, ...], comp: str) -> _GroupPlan:
    first = picks[0]
    scope = scope_of_loop(guide, first.loop)
    key = f"k_{scope}"
    composite = sorted({p.element for p in picks if p.component or p.components})
    join = any(p.join for p in picks)
    checks = [check for k, p in enumerate(picks) for check in _checks(p, comp, pl.col(f"_v{k}"))]
    if join:
        output = tuple(_value(p).drop_nulls().str.join(p.join or "").alias(p.column) for p in picks)
    else:
        # With checks the values are computed (once) before the output; without, directly.
        value = (lambda k, p: pl.col(f"_v{k}")) if checks else (lambda k, p: _value(p))
        output = (
            pl.col("_k").alias(key),
            pl.col("ord").alias(f"_ord_{first.segment}"),
            *[_cast(p, value(k, p)).alias(p.column) for k, p in enumerate(picks)],
        )
    return _GroupPlan(
        segment=first.segment,
        key=key,
        scope=scope,
        part=_part_key(tables(guide), first.loop, first.segment),
        qualifier=first.qualifier,
        composite=tuple(_element(el).str.split(comp).alias(f"_c{el}") for el in composite),
        values=tuple(_value(p).alias(f"_v{k}") for k, p in enumerate(picks)),
        flags=tuple(cond.fill_null(False).alias(f"_f{j}") for j, (cond, _) in enumerate(checks)),
        messages=tuple(msg for _, msg in checks),
        output=output,
        columns=tuple(p.column for p in picks),
        join=join,
    )


@dataclass(frozen=True)
class _Plan:
    """Everything :func:`flatten` asks of a frame, built once per (guide, separator)."""

    groups: tuple[_GroupPlan, ...]
    claim_columns: frozenset[str]  # columns of the claims frame before _derive
    line_columns: frozenset[str]  # columns of the lines frame before _derive
    final_claims: frozenset[str]  # columns of the claims frame after _derive
    final_lines: frozenset[str]  # columns of the lines frame after _derive


_PLANS: dict[tuple[int, str], tuple[Guide, _Plan]] = {}


def _frame_plan(guide: Guide, comp: str) -> _Plan:
    """The plan of a guide for a component separator, built once."""
    # Keyed by the guide's identity: hashing a guide costs more than a small frame.
    hit = _PLANS.get((id(guide), comp))
    if hit is None or hit[0] is not guide:
        hit = _PLANS[(id(guide), comp)] = (guide, _build_plan(guide, comp))
    return hit[1]


def _build_plan(guide: Guide, comp: str) -> _Plan:
    # Pick groups: the same loop, segment and qualifier read the same rows.
    grouped: dict[tuple[str, str, tuple[str, ...], bool], list[Pick]] = {}
    for p in guide.picks:
        grouped.setdefault((p.loop, p.segment, p.qualifier, p.join is not None), []).append(p)
    groups = tuple(_group_plan(guide, tuple(picks), comp) for picks in grouped.values())
    claim_cols = {"_clm", "_txn", *_KEYS[:5], "_raw_claim_id"}
    line_cols = {"_lx", "_clm", "_txn", *_KEYS}
    for g in groups:
        target = line_cols if g.scope == "line" else claim_cols
        target.update(g.columns)
        if g.scope == "line" and not g.join:
            target.add(f"_ord_{g.segment}")
    for d in guide.dates:
        target = line_cols if scope_of_loop(guide, d.loop) == "line" else claim_cols
        target.update((d.from_column, d.to_column))
    claim_cols.update((c.ICD9_DIAGNOSES, c.DIAGNOSES, c.DIAGNOSIS_QUALIFIERS))
    derived_claims = {
        c.CLAIM_ID, c.PATIENT_ID, c.PATIENT_LAST_NAME, c.PATIENT_FIRST_NAME, c.BIRTH_DATE, c.SEX,
        c.CLAIM_TYPE, c.ICD9_DIAGNOSES, c.X12_LOOP, c.X12_SEG, c.SEG_ORDINAL, c.SERVICE_DATE,
        c.PLACE_OF_SERVICE if guide.clm05_1 == "place_of_service" else c.BILL_TYPE,
    }  # fmt: skip
    derived_lines = {c.DOS_FROM, c.DOS_TO, c.CLAIM_ID, c.X12_LOOP, c.X12_SEG, c.SEG_ORDINAL}
    return _Plan(
        groups,
        frozenset(claim_cols),
        frozenset(line_cols),
        frozenset(claim_cols | derived_claims),
        frozenset(line_cols | derived_lines),
    )


def _dates(rows: pl.LazyFrame) -> pl.LazyFrame:
    """DTP rows with their D8 / RD8 / DT dates parsed (TM and other formats give no date).

    Adds ``_start``, ``_end``, ``_bad`` (not a valid date of its format) and ``_ok``
    (a date); :func:`_date_values` turns the result into one from/to pair per key.
    """
    rows = rows.with_columns(
        _element(2).fill_null("").alias("_fmt"), _element(3).fill_null("").alias("_val")
    )
    fmt, val = pl.col("_fmt"), pl.col("_val")
    n = val.str.len_bytes()
    rows = rows.with_columns(
        val.str.slice(0, 8).str.strptime(pl.Date, "%Y%m%d", strict=False).alias("_start"),
        pl.when(fmt == "RD8")
        .then(val.str.slice(9, 8))
        .otherwise(val.str.slice(0, 8))
        .str.strptime(pl.Date, "%Y%m%d", strict=False)
        .alias("_end"),
        pl.when(fmt == "D8")
        .then(n == 8)
        .when(fmt == "RD8")
        .then((n == 17) & (val.str.slice(8, 1) == "-"))
        .when(fmt == "DT")
        .then(n == 12)
        .otherwise(fmt == "TM")
        .alias("_shape_ok"),
        fmt.is_in(["D8", "RD8", "DT"]).alias("_dated"),
    )
    bad = ~pl.col("_shape_ok") | (
        pl.col("_dated")
        & (pl.col("_start").is_null() | pl.col("_end").is_null() | ~val.str.contains(r"^[0-9-]+$"))
    )
    ok = pl.col("_dated") & pl.col("_shape_ok") & pl.col("_start").is_not_null()
    return rows.with_columns(bad.fill_null(False).alias("_bad"), ok.alias("_ok"))


def _date_values(rows: pl.DataFrame, key: str, d: DatePick, errors: list) -> pl.DataFrame:
    """The first valid date per key of :func:`_dates` rows; invalid ones go to ``errors``."""
    if rows["_bad"].any():
        msg = pl.format(
            "date {} in format {} is not a valid D8/RD8/DT date", pl.col("_val"), pl.col("_fmt")
        )
        errors.append(
            rows.filter(pl.col("_bad")).select(
                "ord", pl.format("segment {} DTP: {}", "ord", msg).alias("reason"), "_ev"
            )
        )
    return (
        rows.lazy()
        .filter(pl.col("_ok"))
        .filter(_first_per_key("_k"))
        .select(
            pl.col("_k").alias(key),
            pl.col("_start").alias(d.from_column),
            pl.col("_end").alias(d.to_column),
        )
        .collect(engine="in-memory")
    )


def _diagnosis_codes(rows: pl.LazyFrame, guide: Guide, comp: str) -> pl.LazyFrame:
    """HI rows → one row per non-empty composite: qualifier, code and ``_bad``."""
    x = (
        rows.select(
            "ord",
            pl.col("_k").alias("k_claim"),
            "_ev",
            pl.col("e").list.slice(1).alias("_c"),
            pl.int_ranges(1, pl.col("e").list.len()).alias("_i"),
        )
        .explode("_c", "_i")
        .filter(pl.col("_c").is_not_null() & (pl.col("_c") != ""))
    )
    parts = pl.col("_c").str.split(comp)
    x = x.with_columns(
        parts.list.get(0, null_on_oob=True).alias("_q"),
        _null_if_empty(parts.list.get(1, null_on_oob=True)).alias("_code"),
    )
    bad = ~pl.col("_q").is_in(list(guide.diagnoses.known)) | pl.col("_code").is_null()
    return x.with_columns(bad.fill_null(False).alias("_bad"))


def _diagnoses(x: pl.DataFrame, guide: Guide, errors: list) -> pl.DataFrame:
    """Diagnosis list (principal first), qualifiers and ICD-9 flag per claim."""
    dx = guide.diagnoses
    if x["_bad"].any():
        msg = pl.format(
            "element HI{} {} needs a known qualifier and a code",
            pl.col("_i").cast(pl.String).str.zfill(2),
            "_c",
        )
        errors.append(
            x.filter(pl.col("_bad")).select(
                "ord", pl.format("segment {} HI: {}", "ord", msg).alias("reason"), "_ev"
            )
        )
    lf = x.lazy().filter(pl.col("k_claim").is_not_null())
    icd9 = lf.group_by("k_claim", maintain_order=True).agg(
        pl.col("_q").is_in(list(dx.icd9)).any().alias(c.ICD9_DIAGNOSES)
    )
    lists = (
        lf.filter(pl.col("_q").is_in([*dx.principal, *dx.other]) & pl.col("_code").is_not_null())
        .with_columns((~pl.col("_q").is_in(list(dx.principal))).alias("_rank"))
        .sort("k_claim", "_rank", "ord", "_i")
        .group_by("k_claim", maintain_order=True)
        .agg(pl.col("_code").alias(c.DIAGNOSES), pl.col("_q").alias(c.DIAGNOSIS_QUALIFIERS))
    )
    return icd9.join(lists, on="k_claim", how="left", maintain_order="left").collect(
        engine="in-memory"
    )


@dataclass
class Segments:
    """What extraction needs of an assigned frame, so that the frame itself can go.

    ``parts``: one narrow frame per (loop, segment) with the rows' ordinals,
    elements, ``_k`` (the key of the scope their loop belongs to) and ``_ev`` (their
    last event, whose scope keys are in ``events``); ``errors``: the rows with a
    structural error, with their keys.
    """

    parts: dict[tuple[int], pl.DataFrame]
    errors: pl.DataFrame
    events: pl.DataFrame

    def with_keys(self, rows: pl.DataFrame, names: tuple[str, ...] = SCOPE_KEYS) -> pl.DataFrame:
        """``rows`` (with ``_ev``) with the scope keys ``names`` of their segment."""
        return Assigned(rows, self.events).with_keys(rows, names)


def segments(assigned: Assigned | pl.DataFrame, guide: Guide) -> Segments:
    """Split an assigned frame (see :mod:`claimscrub.readers.x12.loops`)."""
    if isinstance(assigned, pl.DataFrame):  # keys on every row: each row its own event
        rows = assigned.with_row_index("_ev")
        assigned = Assigned(rows.drop(_KEYS), rows.select(_KEYS))
    df, t = assigned.frame, tables(guide)
    parts = df.select(
        "ord",
        "e",
        "_k",
        "_ev",
        (pl.col("lc").cast(pl.Int32) * t.n_seg + pl.col("sc")).alias("_pk"),
    ).partition_by("_pk", as_dict=True, include_key=False)
    errors = df.select("ord", "lc", "prev_lc", "err", "e", "_hl_expected", "_ev").filter(
        pl.col("err") != 0
    )
    return Segments(
        parts=parts,  # type: ignore[arg-type]
        errors=assigned.with_keys(errors).drop("_ev"),
        events=assigned.events,
    )


def flatten(frame: pl.DataFrame | Segments, guide: Guide, component: str) -> Flat:
    """Extract canonical claim and line columns from an assigned frame.

    ``frame`` is the frame from :func:`claimscrub.readers.x12.loops.assign` or the
    :func:`segments` of one. Every pick group, date and the diagnoses is a lazy
    query over its partition of the segment rows; all are collected together. Error
    messages are formatted only for the rows that fail a check.
    """
    seg = frame if isinstance(frame, Segments) else segments(frame, guide)
    plan = _frame_plan(guide, component)
    errors: list[pl.DataFrame] = []
    structural = seg.errors
    if structural.height:
        errors.append(
            structural.with_columns(
                pl.Series("_why", describe(structural, guide), dtype=pl.String)
            ).select(
                "ord",
                pl.format(
                    "segment {} {}: {}", "ord", pl.col("e").list.first(), pl.col("_why")
                ).alias("reason"),
                *_KEYS,
            )
        )
    t = tables(guide)
    parts = seg.parts
    empty = seg.errors.select(
        "ord", "e", pl.col("k_txn").alias("_k"), pl.lit(None, pl.UInt32).alias("_ev")
    ).clear()

    def rows(loop: str, seg_id: str) -> pl.LazyFrame:
        return parts.get((_part_key(t, loop, seg_id),), empty).lazy()

    queries = [g.query(parts.get((g.part,), empty).lazy()) for g in plan.groups]
    for d in guide.dates:
        queries.append(_dates(rows(d.loop, "DTP").filter(_element(1) == d.qualifier)))
    queries.append(_diagnosis_codes(rows("2300", "HI"), guide, component))
    # The queries share no work worth caching: common-subplan search only costs time.
    results = iter(pl.collect_all(queries, engine="in-memory", optimizations=_NO_SUBPLAN_CACHE))

    picked: list[tuple[_GroupPlan | None, str, pl.DataFrame]] = [
        (g, g.scope, g.finish(next(results), errors)) for g in plan.groups
    ]
    for d in guide.dates:
        scope = scope_of_loop(guide, d.loop)
        picked.append((None, scope, _date_values(next(results), f"k_{scope}", d, errors)))
    dx_df = _diagnoses(next(results), guide, errors)
    clm = seg.with_keys(rows("2300", "CLM").collect(), tuple(_KEYS[:5]))
    claims = clm.select(
        pl.col("ord").alias("_clm"),
        pl.col("k_txn").alias("_txn"),
        *_KEYS[:5],
        _null_if_empty(_element(1)).alias("_raw_claim_id"),
    )
    lines = seg.with_keys(rows("2400", "LX").collect()).select(
        pl.col("ord").alias("_lx"),
        pl.col("k_claim").alias("_clm"),
        pl.col("k_txn").alias("_txn"),
        *_KEYS,
    )

    svc = guide.service_segment
    sv_keys = next(
        (
            out["k_line"]
            for g, _, out in picked
            if g is not None and g.scope == "line" and g.segment == svc and not g.join
        ),
        pl.Series([], dtype=pl.Int64),
    )
    missing = lines.filter(~pl.col("k_line").is_in(sv_keys.implode()))
    if missing.height:
        errors.append(_missing_service(missing, rows("2400", _OTHER_SERVICE[svc]), guide))

    # --- errors → rejected claims and context errors -----------------------------
    errors = [seg.with_keys(e).drop("_ev") if "_ev" in e.columns else e for e in errors]
    rejected, context_errors = _rejections(claims, errors)
    # Joining and deriving run here too, in the reader's worker thread: measured on
    # two cores, the reading thread has less spare time than the worker.
    values = [(scope, frame) for _, scope, frame in picked]
    claims_lf, lines_lf = _assemble(claims, lines, values, dx_df, guide)
    claims, lines = _derive(claims_lf, lines_lf, guide, plan, rejected["_clm"])
    return Flat(claims, lines, compact(rejected), compact(context_errors), guide)


# A line of the other claim type's guide carries this segment instead.
_OTHER_SERVICE = {"SV1": "SV2", "SV2": "SV1"}


def _missing_service(missing: pl.DataFrame, other: pl.LazyFrame, guide: Guide) -> pl.DataFrame:
    """Errors for lines (``missing``: their LX rows) without the guide's service segment.

    A line that carries the other claim type's segment (SV1 in a transaction declared
    837I, SV2 in one declared 837P) is said to: the file's version (GS08 / ST03) names
    the wrong guide, which is the fix.
    """
    svc, other_svc = guide.service_segment, _OTHER_SERVICE[guide.service_segment]
    with_other = other.select(pl.col("_k").alias("k_line")).unique().collect()
    return missing.join(
        with_other.with_columns(pl.lit(True).alias("_other")),
        on="k_line",
        how="left",
        maintain_order="left",
    ).select(
        pl.col("_lx").alias("ord"),
        pl.when(pl.col("_other"))
        .then(
            pl.format(
                f"segment {{}} LX: service line has {other_svc} (the "
                f"{'837P' if other_svc == 'SV1' else '837I'} service line) instead of "
                f"{svc}: the transaction is declared {guide.name} ({'/'.join(guide.versions)}) "
                "in GS08/ST03; send it with the version of the claim type it holds",
                "_lx",
            )
        )
        .otherwise(pl.format(f"segment {{}} LX: service line has no {svc} segment", "_lx"))
        .alias("reason"),
        *_KEYS,
    )


class _Columns:
    """Columns of frames keyed by scope (at most one row per key), aligned to a base frame.

    The result equals a left join on the key, mostly without one: a frame with
    exactly the base's keys in order (every line has its SV1) is taken as it is; a
    frame whose keys are a subset of the base's own unique keys, both in file order
    (the lines that have a drug), is gathered through an index that the next frame
    with the same keys reuses; other keys (a subscriber's, shared by its claims) are
    looked up.
    """

    def __init__(self, base: pl.DataFrame, own_key: str) -> None:
        self.base = base
        self.own_key = own_key  # the base's own key: unique and in file order
        self.columns: list[pl.Series] = []
        self.nulls: dict[str, pl.DataType] = {}
        self._index: tuple[pl.Series, pl.Series] | None = None  # (frame keys, base -> row)

    def add(self, frame: pl.DataFrame, key: str, keep: Callable[[str], bool]) -> None:
        """Add the columns of ``frame`` (but ``key``) for which ``keep`` is true."""
        values = [v for v in frame.get_columns() if v.name != key and keep(v.name)]
        if frame.height == 0:
            self.nulls.update((v.name, v.dtype) for v in values)
        elif frame.height == self.base.height and frame[key].equals(self.base[key]):
            self.columns.extend(values)
        else:
            index = self._index_of(frame[key]) if key == self.own_key else None
            if index is None:
                index = self.base[key].replace_strict(
                    frame[key], pl.int_range(0, frame.height, eager=True), default=None
                )
            self.columns.extend(v.gather(index) for v in values)

    def _index_of(self, keys: pl.Series) -> pl.Series | None:
        """For every base row, the row of ``keys`` with its key (null if none)."""
        if self._index is not None and self._index[0].equals(keys):
            return self._index[1]
        own = self.base[self.own_key]
        found = own.is_in(keys.implode())
        # Both are in file order, so the i-th base row found holds the i-th key.
        if found.sum() != keys.len() or not (keys.is_sorted() and own.is_sorted()):
            return None
        index = pl.select(pl.when(found).then(found.cum_sum() - 1)).to_series()
        self._index = (keys, index)
        return index

    def frame(self) -> pl.LazyFrame:
        """The base frame with all added columns."""
        out = self.base.hstack(self.columns).lazy()
        if self.nulls:
            out = out.with_columns(pl.lit(None, t).alias(n) for n, t in self.nulls.items())
        return out


def _assemble(
    claims: pl.DataFrame,
    lines: pl.DataFrame,
    picked: list[tuple[str, pl.DataFrame]],
    dx: pl.DataFrame,
    guide: Guide,
) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """Join the picked values onto the claims and lines."""
    service_ord = f"_ord_{guide.service_segment}"  # the lines' location; other _ord_ go

    def for_lines(name: str) -> bool:
        return not name.startswith("_ord_") or name == service_ord

    def for_claims(name: str) -> bool:
        return not name.startswith("_ord_")

    to_claims, to_lines = _Columns(claims, "k_claim"), _Columns(lines, "k_line")
    for scope, frame in picked:
        if scope == "line":
            to_lines.add(frame, frame.columns[0], for_lines)
        else:
            to_claims.add(frame, frame.columns[0], for_claims)
    to_claims.add(dx, "k_claim", for_claims)
    return to_claims.frame(), to_lines.frame()


# Columns set from literals or built anew: they hold no view into the block's text.
LITERAL_COLUMNS = frozenset(
    {c.X12_LOOP, c.X12_SEG, c.CLAIM_TYPE, c.BILL_TYPE, c.IMPLEMENTATION_GUIDE}
)


def _final(
    df: pl.LazyFrame, columns: frozenset[str], schema: pl.Schema, internal: tuple[str, ...]
) -> pl.LazyFrame:
    """The canonical columns the frame has plus the reader's own.

    Their strings are still views into the block's text: the reader compacts them
    (see :func:`compact`) when it takes the result over.
    """
    return df.select(*(n for n in schema if n in columns), *internal)


def _compacted(name: str, dtype: pl.DataType) -> pl.Expr:
    if dtype == pl.String:
        return pl.concat_str(pl.col(name), pl.lit("")).alias(name)
    return pl.col(name).list.eval(pl.concat_str(pl.element(), pl.lit(""))).alias(name)


def compact(df: pl.DataFrame, skip: frozenset[str] = frozenset()) -> pl.DataFrame:
    """Copy string values out of the block's buffers.

    Polars strings are views into shared buffers: a claim's few short strings would
    otherwise keep the whole split block (megabytes) alive for as long as the claim
    is held, which multiplies the memory of a streaming read.
    """
    exprs = []
    for name, dtype in df.schema.items():
        if name in skip:
            continue
        if dtype in (pl.String, pl.List(pl.String)):
            exprs.append(_compacted(name, dtype))
    return df.with_columns(exprs) if exprs else df


_REJECTED = {
    "_clm": pl.Int64,
    "_txn": pl.Int64,
    c.CLAIM_ID: pl.String,
    c.SEG_ORDINAL: pl.Int64,
    "reason": pl.String,
}
_CONTEXT = {"key": pl.Int64, "ord": pl.Int64, "reason": pl.String, "_txn": pl.Int64}


def _rejections(
    claims: pl.DataFrame, errors: list[pl.DataFrame]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rejected claims, errors outside claims) from the error rows of one frame.

    A claim is rejected by its first error in its own segments, or else by the
    first error in the scopes above it (patient, subscriber, billing provider,
    transaction header).
    """
    if not errors:
        return pl.DataFrame(schema=_REJECTED), pl.DataFrame(schema=_CONTEXT)
    err = pl.concat([e.cast(_ERROR_SCHEMA) for e in errors]).sort("ord")  # type: ignore[arg-type]
    claim_err = (
        err.filter(pl.col("k_claim").is_not_null())
        .group_by("k_claim", maintain_order=True)
        .agg(pl.col("ord").first().alias("_err_ord"), pl.col("reason").first().alias("_reason"))
        .rename({"k_claim": "_clm"})
    )
    ctx = err.filter(pl.col("k_claim").is_null()).with_columns(
        pl.coalesce("k_patient", "k_subscriber", "k_billing", "k_txn").alias("key")
    )
    ctx_first = ctx.filter(pl.col("key").is_not_null()).group_by("key", maintain_order=True).first()
    via_ctx = (
        claims.select(
            "_clm", pl.concat_list("k_patient", "k_subscriber", "k_billing", "k_txn").alias("key")
        )
        .explode("key")
        .join(ctx_first.select("key", "ord", "reason"), on="key", how="inner")
        .sort("_clm", "ord")
        .group_by("_clm", maintain_order=True)
        .agg(pl.col("ord").first().alias("_ctx_ord"), pl.col("reason").first().alias("_ctx_reason"))
    )
    status = (
        claims.select("_clm", "_txn", "_raw_claim_id")
        .join(claim_err, on="_clm", how="left")
        .join(via_ctx, on="_clm", how="left")
    )
    rejected = status.filter(
        pl.col("_err_ord").is_not_null() | pl.col("_ctx_ord").is_not_null()
    ).select(
        "_clm",
        "_txn",
        pl.col("_raw_claim_id").alias(c.CLAIM_ID),
        pl.coalesce("_ctx_ord", "_err_ord").alias(c.SEG_ORDINAL),
        pl.coalesce("_ctx_reason", "_reason").alias("reason"),
    )
    return rejected, ctx.select("key", "ord", "reason", pl.col("k_txn").alias("_txn"))


def _derive(
    claims: pl.LazyFrame,
    lines: pl.LazyFrame,
    guide: Guide,
    plan: _Plan,
    rejected: pl.Series,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Columns computed from several picks (patient, bill type, service dates, locations);
    rejected claims dropped; canonical and internal columns only, strings compacted.
    """
    have_c, have_l = plan.claim_columns, plan.line_columns

    def col(have: frozenset[str], name: str, dtype: pl.DataType = _STRING) -> pl.Expr:
        return pl.col(name) if name in have else pl.lit(None, dtype=dtype)

    has_patient = pl.col("k_patient").is_not_null()

    def person(field: str, dtype: pl.DataType = _STRING) -> pl.Expr:
        pat, sub = col(have_c, f"_pat_{field}", dtype), col(have_c, f"_sub_{field}", dtype)
        return pl.when(has_patient).then(pat).otherwise(sub)

    if guide.clm05_1 == "place_of_service":
        clm05 = [col(have_c, "_clm05_1").alias(c.PLACE_OF_SERVICE)]
    else:
        clm05 = [
            pl.concat_str(col(have_c, "_clm05_1"), col(have_c, c.FREQUENCY_CODE)).alias(c.BILL_TYPE)
        ]
    if rejected.len():
        ids = rejected.implode()
        claims = claims.filter(~pl.col("_clm").is_in(ids))
        lines = lines.filter(~pl.col("_clm").is_in(ids))
    earliest = lines.group_by("_clm").agg(
        col(have_l, c.DOS_FROM, pl.Date()).min().alias("_first_line_date")
    )
    derived_claims = (
        claims.join(earliest, on="_clm", how="left", maintain_order="left")
        .with_columns(
            pl.col("_raw_claim_id").alias(c.CLAIM_ID),
            _patient_id(
                has_patient, col(have_c, "_pat_id"), col(have_c, c.SUBSCRIBER_ID), person
            ).alias(c.PATIENT_ID),
            person("last").alias(c.PATIENT_LAST_NAME),
            person("first").alias(c.PATIENT_FIRST_NAME),
            person("birth", pl.Date()).alias(c.BIRTH_DATE),
            person("sex").alias(c.SEX),
            pl.lit(guide.claim_type).alias(c.CLAIM_TYPE),
            col(have_c, c.ICD9_DIAGNOSES, pl.Boolean()).fill_null(False).alias(c.ICD9_DIAGNOSES),
            pl.lit("2300").alias(c.X12_LOOP),
            pl.lit("CLM").alias(c.X12_SEG),
            pl.col("_clm").alias(c.SEG_ORDINAL),
            *clm05,
            pl.coalesce(
                col(have_c, "_statement_from", pl.Date()), pl.col("_first_line_date")
            ).alias(c.SERVICE_DATE),
        )
        .collect(engine="in-memory")
    )
    # A line without its own DTP*472 takes the claim's statement period (837I DTP*434). It
    # never takes another line's date: 837P has no claim date and requires DTP*472 on every
    # line, so such a line stays undated and COD006 reports it.
    statement_from = col(have_c, "_statement_from", pl.Date())
    claim_dates = derived_claims.lazy().select(
        "_clm",
        statement_from.alias("_claim_from"),
        pl.coalesce(col(have_c, "_statement_to", pl.Date()), statement_from).alias("_claim_to"),
        pl.col(c.CLAIM_ID).alias("_claim_id"),
    )
    own_date = col(have_l, c.DOS_FROM, pl.Date()).is_not_null()
    derived_lines = lines.join(
        claim_dates, on="_clm", how="left", maintain_order="left"
    ).with_columns(
        pl.when(own_date)
        .then(col(have_l, c.DOS_FROM, pl.Date()))
        .otherwise(pl.col("_claim_from"))
        .alias(c.DOS_FROM),
        pl.when(own_date)
        .then(col(have_l, c.DOS_TO, pl.Date()))
        .otherwise(pl.col("_claim_to"))
        .alias(c.DOS_TO),
        pl.col("_claim_id").alias(c.CLAIM_ID),
        pl.lit("2400").alias(c.X12_LOOP),
        pl.lit(guide.service_segment).alias(c.X12_SEG),
        pl.col(f"_ord_{guide.service_segment}").alias(c.SEG_ORDINAL),
    )
    return pl.collect_all(
        [
            _final(derived_claims.lazy(), plan.final_claims, CLAIMS_SCHEMA, ("_clm", "_txn")),
            _final(derived_lines, plan.final_lines, LINES_SCHEMA, ("_clm", "_txn", "_lx")),
        ],
        engine="in-memory",
        optimizations=_NO_SUBPLAN_CACHE,
    )


def _patient_id(
    has_patient: pl.Expr,
    patient_id: pl.Expr,
    subscriber_id: pl.Expr,
    person: Callable[..., pl.Expr],
) -> pl.Expr:
    """The patient's id: 2010CA NM109 where sent (4010), else the subscriber's member id
    (2010BA NM109); for a dependant in loop 2000C without one (5010 has no patient id),
    the member id with the dependant's name and birth date, so that a subscriber's
    spouse and children on the same drug are not one patient to the look-back rules."""
    dependant = pl.concat_str(
        subscriber_id,
        person("last").str.strip_chars().str.to_uppercase(),
        person("first").str.strip_chars().str.to_uppercase(),
        person("birth", pl.Date()).cast(pl.String),
        separator="/",
        ignore_nulls=True,
    )
    return pl.coalesce(
        patient_id,
        pl.when(has_patient & subscriber_id.is_not_null()).then(dependant),
        subscriber_id,
    )
