"""Loops → canonical claim and line rows, with X12 locations and per-claim errors.

Input is a frame from :func:`claimscrub.readers.x12.loops.assign`: every segment
knows its loop and the keys of the scopes it sits in (transaction, billing
provider, subscriber, patient, claim, line). The guide's picks say which element
of which segment feeds which column. Extraction works on whole columns: the frame
is partitioned once by (loop, segment), each pick group computes its values and
validity flags in one pass, keeps the first row per scope key, and is joined onto
the claims or lines by that key; error messages are built only for failing rows.

A claim is rejected when any segment in it, or in a scope above it (its patient,
subscriber, billing provider or transaction header), has a structural error or an
invalid element that a pick reads. Errors in scopes that hold no claim are returned
as *context errors* for the reader to report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import polars as pl

from claimscrub.model import columns as c
from claimscrub.readers.x12.guides.spec import DatePick, Guide, Pick
from claimscrub.readers.x12.loops import SCOPE_KEYS, describe, tables

_DECIMAL = r"^[+-]?(\d+\.?\d*|\.\d+)$"
_INTEGER = r"^[+-]?\d+$"
_KEYS = list(SCOPE_KEYS)
_ERROR_SCHEMA = {"ord": pl.Int64, "reason": pl.String, **{k: pl.Int64 for k in _KEYS}}
_STRING = pl.String()
_KINDS = {"R": "a decimal number", "N0": "an integer", "D8": "a CCYYMMDD date"}


@dataclass
class Flat:
    """What one frame of segments yields.

    ``claims`` / ``lines`` carry ``_clm`` (ordinal of the CLM), ``_txn`` (ordinal
    of the ST) and the scope keys; :func:`assemble` joins the picked values and
    adds the derived columns. ``rejected`` holds one row per claim
    that cannot be read (``_clm``, ``_txn``, claim_id, seg_ordinal, reason).
    ``context_errors`` holds errors outside any claim (``key``: ordinal of the
    segment that opened their scope; ``ord``; ``reason``; ``_txn``).
    """

    claims: pl.DataFrame
    lines: pl.DataFrame
    rejected: pl.DataFrame
    context_errors: pl.DataFrame
    guide: Guide
    # Picked values not yet joined (scope, key, frame) and diagnoses; see assemble().
    picked: list[tuple[str, str, pl.DataFrame]] = field(default_factory=list)
    dx: pl.DataFrame | None = None


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
        parts = pl.col(f"_c{p.element}").list.gather(
            [i - 1 for i in p.components], null_on_oob=True
        )
        return parts.list.eval(
            pl.element().filter(pl.element().is_not_null() & (pl.element() != ""))
        )
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
        return (
            value.list.eval(pl.element().cast(pl.Int64, strict=False)) if p.kind == "N0" else value
        )
    if p.kind == "R":
        return value.cast(pl.Float64, strict=False)
    if p.kind == "N0":
        return value.cast(pl.Int64, strict=False)
    if p.kind == "D8":
        return value.str.strptime(pl.Date, "%Y%m%d", strict=False)
    return value


def _checks(p: Pick, comp: str) -> list[tuple[pl.Expr, pl.Expr]]:
    """(failure condition, message) pairs for one pick, evaluated on segment rows."""
    v = _value(p)
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
    return out


def _first_per_key(key: str) -> pl.Expr:
    """First row of each key: rows are in file order and scope keys never decrease."""
    return pl.col(key).is_not_null() & (pl.col(key) != pl.col(key).shift(1)).fill_null(True)


def _errors_where(
    rows: pl.DataFrame, flags: list[tuple[pl.Expr, pl.Expr]], segment: str, errors: list
) -> None:
    """Append error rows for the (rare) rows where a check fails; one pass when none does."""
    if not flags:
        return
    if not rows.select(
        pl.any_horizontal([cond.fill_null(False) for cond, _ in flags]).any()
    ).item():
        return
    for cond, msg in flags:
        failing = rows.filter(cond.fill_null(False))
        if failing.height:
            reason = pl.format("segment {} {}: {}", "ord", pl.lit(segment), msg)
            errors.append(failing.select(pl.col("ord"), reason.alias("reason"), *_KEYS))


@dataclass(frozen=True)
class _GroupPlan:
    """Expressions of one pick group, built once per (guide, group, separator)."""

    segment: str
    key: str
    composite: tuple[pl.Expr, ...]
    checks: tuple[tuple[pl.Expr, pl.Expr], ...]
    flags: tuple[pl.Expr, ...]  # one boolean column per check, "_f<j>"
    output: tuple[pl.Expr, ...]
    join: bool


@cache
def _plan(picks: tuple[Pick, ...], key: str, comp: str) -> _GroupPlan:
    composite = sorted({p.element for p in picks if p.component or p.components})
    checks = tuple(check for p in picks for check in _checks(p, comp))
    if any(p.join for p in picks):
        output = tuple(_value(p).drop_nulls().str.join(p.join or "").alias(p.column) for p in picks)
    else:
        output = (
            pl.col(key),
            pl.col("ord").alias(f"_ord_{picks[0].segment}"),
            *[_cast(p, _value(p)).alias(p.column) for p in picks],
        )
    return _GroupPlan(
        segment=picks[0].segment,
        key=key,
        composite=tuple(_element(el).str.split(comp).alias(f"_c{el}") for el in composite),
        checks=checks,
        flags=tuple(cond.fill_null(False).alias(f"_f{j}") for j, (cond, _) in enumerate(checks)),
        output=output,
        join=any(p.join for p in picks),
    )


def _pick_group(rows: pl.DataFrame, plan: _GroupPlan, errors: list) -> pl.DataFrame:
    """Values of picks that read the same segment, one row per scope key.

    Two Polars calls in the common case: values and check flags together, then the
    first row per key; error messages are built only when a flag is set.
    """
    lf = rows.lazy()
    if plan.composite:
        lf = lf.with_columns(plan.composite)
    rows = lf.with_columns(plan.flags).collect(engine="in-memory")
    for j, (_, msg) in enumerate(plan.checks):
        if rows[f"_f{j}"].any():
            reason = pl.format("segment {} {}: {}", "ord", pl.lit(plan.segment), msg)
            errors.append(
                rows.filter(pl.col(f"_f{j}")).select(pl.col("ord"), reason.alias("reason"), *_KEYS)
            )
    if plan.join:
        return (
            rows.filter(pl.col(plan.key).is_not_null())
            .group_by(plan.key, maintain_order=True)
            .agg(plan.output)
        )
    return (
        rows.lazy().filter(_first_per_key(plan.key)).select(plan.output).collect(engine="in-memory")
    )


def _dates(rows: pl.DataFrame, key: str, d: DatePick, errors: list) -> pl.DataFrame:
    """DTP D8 / RD8 / DT into a from/to pair (TM and other time-only formats give no date)."""
    fmt = _element(2).fill_null("")
    val = _element(3).fill_null("")
    n = val.str.len_bytes()
    rows = rows.with_columns(
        fmt.alias("_fmt"),
        val.alias("_val"),
        val.str.slice(0, 8).str.strptime(pl.Date, "%Y%m%d", strict=False).alias("_start"),
        pl.when(fmt == "RD8")
        .then(val.str.slice(9, 8))
        .otherwise(val.str.slice(0, 8))
        .alias("_end_text"),
        pl.when(fmt == "D8")
        .then(n == 8)
        .when(fmt == "RD8")
        .then((n == 17) & (val.str.slice(8, 1) == "-"))
        .when(fmt == "DT")
        .then(n == 12)
        .otherwise(fmt == "TM")
        .alias("_shape_ok"),
    ).with_columns(pl.col("_end_text").str.strptime(pl.Date, "%Y%m%d", strict=False).alias("_end"))
    dated = pl.col("_fmt").is_in(["D8", "RD8", "DT"])
    bad = ~pl.col("_shape_ok") | (
        dated
        & (
            pl.col("_start").is_null()
            | pl.col("_end").is_null()
            | ~pl.col("_val").str.contains(r"^[0-9-]+$")
        )
    )
    msg = pl.format(
        "date {} in format {} is not a valid D8/RD8/DT date", pl.col("_val"), pl.col("_fmt")
    )
    _errors_where(rows, [(bad, msg)], "DTP", errors)
    ok = dated & pl.col("_shape_ok") & pl.col("_start").is_not_null()
    return (
        rows.filter(ok)
        .filter(_first_per_key(key))
        .select(key, pl.col("_start").alias(d.from_column), pl.col("_end").alias(d.to_column))
    )


def _diagnoses(rows: pl.DataFrame, guide: Guide, comp: str, errors: list) -> pl.DataFrame:
    """HI composites → diagnosis list (principal first), qualifiers, ICD-9 flag."""
    dx = guide.diagnoses
    x = (
        rows.select(
            "ord",
            *_KEYS,
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
    msg = pl.format(
        "element HI{} {} needs a known qualifier and a code",
        pl.col("_i").cast(pl.String).str.zfill(2),
        "_c",
    )
    _errors_where(
        x, [(~pl.col("_q").is_in(list(dx.known)) | pl.col("_code").is_null(), msg)], "HI", errors
    )
    x = x.filter(pl.col("k_claim").is_not_null())
    icd9 = x.group_by("k_claim", maintain_order=True).agg(
        pl.col("_q").is_in(list(dx.icd9)).any().alias(c.ICD9_DIAGNOSES)
    )
    lists = (
        x.filter(pl.col("_q").is_in([*dx.principal, *dx.other]) & pl.col("_code").is_not_null())
        .with_columns((~pl.col("_q").is_in(list(dx.principal))).alias("_rank"))
        .sort("k_claim", "_rank", "ord", "_i")
        .group_by("k_claim", maintain_order=True)
        .agg(pl.col("_code").alias(c.DIAGNOSES), pl.col("_q").alias(c.DIAGNOSIS_QUALIFIERS))
    )
    return icd9.join(lists, on="k_claim", how="left")


def flatten(df: pl.DataFrame, guide: Guide, component: str) -> Flat:
    """Extract canonical claim and line columns from an assigned frame."""
    t = tables(guide)
    errors: list[pl.DataFrame] = []
    structural = df.select(
        "ord", "id", "q1", "lc", "prev_lc", "err", "e", "_hl_expected", *_KEYS
    ).filter(pl.col("err") != 0)
    if structural.height:
        errors.append(
            structural.with_columns(
                pl.Series("_why", describe(structural, guide), dtype=pl.String)
            ).select(
                "ord",
                pl.format("segment {} {}: {}", "ord", pl.col("id"), pl.col("_why")).alias("reason"),
                *_KEYS,
            )
        )
    parts = df.select("ord", "sc", "lc", "q1", "e", *_KEYS).partition_by("lc", "sc", as_dict=True)
    empty = df.select("ord", "sc", "lc", "q1", "e", *_KEYS).clear()

    def rows(loop: str, seg: str) -> pl.DataFrame:
        return parts.get((t.loop_code[loop], t.seg_code[seg]), empty)  # type: ignore[call-overload]

    # Pick groups: the same loop, segment and qualifier read one sub-frame.
    groups: dict[tuple[str, str, tuple[str, ...], bool], list[Pick]] = {}
    for p in guide.picks:
        groups.setdefault((p.loop, p.segment, p.qualifier, p.join is not None), []).append(p)
    picked: list[tuple[str, str, pl.DataFrame]] = []
    for (loop, seg, qual, _), picks in groups.items():
        r = rows(loop, seg)
        if qual and r.height:
            r = r.filter(pl.col("q1").is_in(list(qual)))
        scope = scope_of_loop(guide, loop)
        plan = _plan(tuple(picks), f"k_{scope}", component)
        picked.append((scope, f"k_{scope}", _pick_group(r, plan, errors)))
    for d in guide.dates:
        scope = scope_of_loop(guide, d.loop)
        r = rows(d.loop, "DTP")
        r = r.filter(pl.col("q1") == d.qualifier) if r.height else r
        picked.append((scope, f"k_{scope}", _dates(r, f"k_{scope}", d, errors)))
    svc = guide.service_segment
    claims = rows("2300", "CLM").select(
        pl.col("ord").alias("_clm"),
        pl.col("k_txn").alias("_txn"),
        *_KEYS[:5],
        _null_if_empty(_element(1)).alias("_raw_claim_id"),
    )
    lines = rows("2400", "LX").select(
        pl.col("ord").alias("_lx"),
        pl.col("k_claim").alias("_clm"),
        pl.col("k_txn").alias("_txn"),
        *_KEYS,
    )
    dx_df = _diagnoses(rows("2300", "HI"), guide, component, errors)
    sv_ord = f"_ord_{svc}"
    with_sv = [f for scope, _, f in picked if scope == "line" and sv_ord in f.columns]
    has_sv = with_sv[0]["k_line"].implode() if with_sv else pl.Series([], dtype=pl.Int64).implode()
    missing = lines.filter(~pl.col("k_line").is_in(has_sv))
    if missing.height:
        errors.append(
            missing.select(
                pl.col("_lx").alias("ord"),
                pl.format(f"segment {{}} LX: service line has no {svc} segment", "_lx").alias(
                    "reason"
                ),
                *_KEYS,
            )
        )

    # --- errors → rejected claims and context errors -----------------------------
    rejected, context_errors = _rejections(claims, errors)
    if rejected.height:
        ids = rejected["_clm"].implode()
        claims = claims.filter(~pl.col("_clm").is_in(ids))
        lines = lines.filter(~pl.col("_clm").is_in(ids))
    return Flat(claims, lines, compact(rejected), compact(context_errors), guide, picked, dx_df)


def assemble(flat: Flat) -> Flat:
    """Join the picked values onto the claims and lines; add derived columns.

    Kept apart from :func:`flatten` so that the reader can run it in another thread
    than the extraction (it balances the stages of its pipeline). Claims rejected by
    :func:`flatten` are already gone from ``flat.claims``; their values drop out here.
    """
    claims, lines = flat.claims, flat.lines
    for scope, key, frame in flat.picked:
        if scope == "line":
            lines = lines.join(frame, on=key, how="left", coalesce=True)
        else:
            keep = [col for col in frame.columns if not col.startswith("_ord_")]
            claims = claims.join(frame.select(*keep), on=key, how="left", coalesce=True)
    if flat.dx is not None:
        claims = claims.join(flat.dx, on="k_claim", how="left")
    sv_ord = f"_ord_{flat.guide.service_segment}"
    if sv_ord not in lines.columns:
        lines = lines.with_columns(pl.lit(None, pl.Int64).alias(sv_ord))
    claims, lines = _derive(claims, lines, flat.guide)
    return Flat(compact(claims), compact(lines), flat.rejected, flat.context_errors, flat.guide)


def compact(df: pl.DataFrame) -> pl.DataFrame:
    """Copy string values out of the block's buffers.

    Polars strings are views into shared buffers: a claim's few short strings would
    otherwise keep the whole split block (megabytes) alive for as long as the claim
    is held, which multiplies the memory of a streaming read.
    """
    exprs = []
    for name, dtype in df.schema.items():
        if dtype == pl.String:
            exprs.append(pl.concat_str(pl.col(name), pl.lit("")).alias(name))
        elif dtype == pl.List(pl.String):
            exprs.append(
                pl.col(name).list.eval(pl.concat_str(pl.element(), pl.lit(""))).alias(name)
            )
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
    claims: pl.DataFrame, lines: pl.DataFrame, guide: Guide
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Columns computed from several picks: patient, bill type, service dates, locations."""
    have_c, have_l = set(claims.columns), set(lines.columns)

    def col(have: set[str], name: str, dtype: pl.DataType = _STRING) -> pl.Expr:
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
    earliest = lines.group_by("_clm").agg(
        col(have_l, c.DOS_FROM, pl.Date()).min().alias("_first_line_date")
    )
    claims = (
        claims.lazy()
        .join(earliest.lazy(), on="_clm", how="left")
        .with_columns(
            pl.col("_raw_claim_id").alias(c.CLAIM_ID),
            pl.coalesce(col(have_c, "_pat_id"), col(have_c, c.SUBSCRIBER_ID)).alias(c.PATIENT_ID),
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
    # A line without its own DTP*472 takes the claim's dates (statement period for 837I).
    claim_dates = claims.select(
        "_clm",
        pl.col(c.SERVICE_DATE).alias("_claim_from"),
        pl.coalesce(col(have_c, "_statement_to", pl.Date()), pl.col(c.SERVICE_DATE)).alias(
            "_claim_to"
        ),
        pl.col(c.CLAIM_ID).alias("_claim_id"),
    )
    own_date = col(have_l, c.DOS_FROM, pl.Date()).is_not_null()
    lines = (
        lines.lazy()
        .join(claim_dates.lazy(), on="_clm", how="left")
        .with_columns(
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
        .collect(engine="in-memory")
    )
    return claims, lines
