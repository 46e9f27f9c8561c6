"""Shared pieces of the DGN rules: the diagnoses each line points to, and set matching.

Not a rule module (the leading underscore keeps it out of the catalogue's naming test);
the DGN rules import it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from claimscrub.model import columns as c
from claimscrub.refdata import curated
from claimscrub.rules.batch import lines_with
from claimscrub.rules.modifier_terms import has_modifier as has_modifier

if TYPE_CHECKING:
    from claimscrub.rules.context import RuleContext

ROW_ID = "_row"  # a per-line id added by the rules (line numbers may repeat in bad input)
MEDICARE_CONTRACTORS = ("dme_mac", "ab_mac")
# ICD-10-CM codes always start with a letter; a code of three to five digits can only be
# an ICD-9-CM diagnosis (ICD-9 V and E codes are not told apart from ICD-10 by shape).
ICD9_SHAPE = r"^[0-9]{3,5}$"
NOT_SUPPORTING_SET = "not_supporting_immunosuppressive_benefit"
TRANSPLANT_SET = "transplant_covered_organ"


def dx_key(expr: pl.Expr) -> pl.Expr:
    """A diagnosis as the ICD-10-CM table keys it: no dot, no spaces, upper case."""
    return expr.str.strip_chars().str.replace_all(".", "", literal=True).str.to_uppercase()


def is_medicare(payer_type: pl.Expr | None = None) -> pl.Expr:
    """True for Original Medicare lines: payer type ``medicare``, or no payer type and a
    Medicare contractor in the payer pack (Medicare Advantage is not Original Medicare)."""
    payer = pl.col(c.PAYER_TYPE) if payer_type is None else payer_type
    contractor = pl.col("pack_contractor").is_in(list(MEDICARE_CONTRACTORS))
    return (
        pl.when(payer.is_not_null())
        .then(payer == "medicare")
        .otherwise(contractor.fill_null(False))
    )


def line_diagnoses(lines: pl.LazyFrame) -> pl.LazyFrame:
    """One row per (line, diagnosis the line points to): ``_row``, ``_ptr``, ``_dx``, ``_dx_key``.

    A line with diagnosis pointers (837P SV107, JSON ``diagnosis_pointers``) uses the
    diagnoses they point to; pointers outside the claim's list are dropped here (DGN003
    reports them). A line without pointers uses all the claim's diagnoses. ``lines``
    must carry ``_row``.
    """
    diagnoses = pl.col(c.DIAGNOSES).fill_null(pl.lit([], dtype=pl.List(pl.String)))
    pointers = pl.col(c.DIAGNOSIS_POINTERS).fill_null(pl.lit([], dtype=pl.List(pl.Int64)))
    has_pointers = pointers.list.len() > 0
    pointed = (
        lines.filter(has_pointers)
        .select(ROW_ID, diagnoses.alias("_all"), pointers.alias("_ptr"))
        .explode("_ptr")
        .select(
            ROW_ID,
            "_ptr",
            pl.when(pl.col("_ptr") >= 1)
            .then(pl.col("_all").list.get(pl.col("_ptr") - 1, null_on_oob=True))
            .alias("_dx"),
        )
    )
    unpointed = (
        lines.filter(~has_pointers)
        .select(
            ROW_ID,
            diagnoses.alias("_dx"),
            pl.int_ranges(1, diagnoses.list.len() + 1, dtype=pl.Int64).alias("_ptr"),
        )
        .explode("_dx", "_ptr")
        .select(ROW_ID, "_ptr", "_dx")
    )
    both = pl.concat([pointed, unpointed], how="vertical_relaxed")
    return both.filter(pl.col("_dx").str.strip_chars().str.len_chars() > 0).with_columns(
        dx_key(pl.col("_dx")).alias("_dx_key")
    )


def match_diagnosis_sets(dx: pl.LazyFrame) -> pl.LazyFrame:
    """Rows of ``dx`` (with ``_dx_key``) joined to every curated diagnosis set they fall in.

    Adds ``set``, ``organ`` and ``kind``. An exact entry matches its code; a prefix entry
    matches every code that starts with it. Done as equality joins on the code and on its
    prefixes of the lengths the sets use, so it stays a join however many lines there are.
    """
    table = curated.diagnosis_sets()
    entries = table.lazy().select("set", "dx", "is_prefix", "organ", "kind")
    key = pl.col("_dx_key")
    exact = dx.join(
        entries.filter(~pl.col("is_prefix")), left_on="_dx_key", right_on="dx", how="inner"
    )
    # One equality join per prefix length the sets use (no per-row lists to explode).
    lengths = sorted(set(table.filter(pl.col("is_prefix"))["dx"].str.len_chars().to_list()))
    by_prefix = [
        dx.with_columns(key.str.slice(0, n).alias("_probe"))
        .join(
            entries.filter(pl.col("is_prefix") & (pl.col("dx").str.len_chars() == n)),
            left_on="_probe",
            right_on="dx",
            how="inner",
        )
        .drop("_probe")
        for n in lengths
    ]
    return pl.concat([exact, *by_prefix], how="vertical_relaxed").drop("is_prefix")


def supporting_text() -> pl.DataFrame:
    """Per HCPCS code with curated diagnosis sets: ``hcpcs``, ``_has_transplant_set`` (the
    covered-organ transplant set supports it) and ``_supported_by``, a text of what supports it (each set's title and codes; a trailing ``-`` marks a prefix)."""
    doc = curated.facts()
    rows = []
    for code, sets in _sets_by_code().items():
        parts = []
        for name in sets:
            dx_set = doc["diagnosis_sets"][name]
            codes = [e.get("code") or f"{e['prefix']}-" for e in dx_set["entries"]]
            parts.append(f"{dx_set['title'].lower()}: {', '.join(codes)}")
        rows.append(
            {
                "hcpcs": code,
                "_has_transplant_set": TRANSPLANT_SET in sets,
                "_supported_by": "; ".join(parts),
            }
        )
    return pl.DataFrame(
        rows,
        schema={"hcpcs": pl.String, "_has_transplant_set": pl.Boolean, "_supported_by": pl.String},
    )


def _sets_by_code() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for row in curated.code_diagnosis_sets().iter_rows(named=True):
        out.setdefault(row["hcpcs"], [])
        if row["set"] not in out[row["hcpcs"]]:
            out[row["hcpcs"]].append(row["set"])
    return out


def line_support(ctx: RuleContext) -> pl.LazyFrame:
    """Lines whose code has curated diagnosis sets, with what their diagnoses say.

    See :func:`_line_support`; computed once per batch (DGN001 and DGN005 share it), per
    distinct (code, date, diagnoses, pointers): nothing else of the line matters.
    """
    keys = (c.HCPCS, c.DOS_FROM, c.DIAGNOSES, c.DIAGNOSIS_POINTERS)
    return (
        lines_with(
            ctx,
            "diagnosis.line_support",
            [(keys, lambda k: _support_by_key(ctx, k))],
            classed=(c.DOS_FROM, ("icd10cm",)),  # the date is only the lookup's as_of
        )
        .filter(pl.col(_IN_SUPPORT))
        .drop(_IN_SUPPORT)
    )


_IN_SUPPORT = "_in_support"


def _support_by_key(ctx: RuleContext, keys: pl.LazyFrame) -> pl.LazyFrame:
    """:func:`_line_support` of each key row, and ``_IN_SUPPORT`` (it has a row there)."""
    numbered = keys.with_row_index(ROW_ID)
    support = _line_support(ctx, numbered).drop(*(col for col in keys.collect_schema()))
    return (
        numbered.join(
            support.with_columns(pl.lit(True).alias(_IN_SUPPORT)),
            on=ROW_ID,
            how="left",
            maintain_order="left",
        )
        .with_columns(pl.col(_IN_SUPPORT).fill_null(False))
        .drop(ROW_ID)
    )


def _line_support(ctx: RuleContext, lines: pl.LazyFrame) -> pl.LazyFrame:
    """Lines whose code has curated diagnosis sets, with what their diagnoses say.

    One row per line of ``lines`` (with ``_row``) that points to at least one diagnosis,
    with the line's columns plus:
    ``_dx_list`` (the diagnoses as submitted, in pointer order), ``_supported`` (one of
    them is in a set that supports the code), ``_all_valid`` (every one is a billable
    ICD-10-CM code in the release in force, so DGN002 / DGN004 have nothing to say),
    ``_not_covered`` (the ones in the "does not support the immunosuppressive benefit"
    set, described), ``_off_label`` (nothing on the label supports the line, but one of
    its diagnoses is in a set the code is used for off its label) and ``_off_label_dx``
    (those diagnoses, described), ``_has_transplant_set`` (the code is an immunosuppressive that the
    covered-organ set supports), ``_supported_by`` (text) and ``icd10cm_release``.
    ``_dx_list``, ``_not_covered``, ``_supported_by`` and ``_off_label_dx`` are null on
    supported lines.
    """
    codes = supporting_text().lazy()
    pairs = curated.code_diagnosis_sets().lazy().select(c.HCPCS, "set").unique()
    off_pairs = curated.code_off_label_sets().lazy().select(c.HCPCS, "set").unique()
    # Only the columns the DGN rules read travel through the joins (wide rows are slow).
    lines = lines.join(codes, on=c.HCPCS, how="inner")
    dx = line_diagnoses(lines).join(
        lines.select(ROW_ID, c.DOS_FROM, c.HCPCS), on=ROW_ID, how="inner"
    )
    dx = ctx.refdata.lookup(
        dx, "icd10cm", on={"_dx_key": "code"}, as_of=c.DOS_FROM, columns={"billable": "_billable"}
    )
    per_dx = dx.group_by(ROW_ID).agg(
        pl.col("_dx").sort_by("_ptr").unique(maintain_order=True).alias("_dx_list"),
        (pl.col("_billable").fill_null(False) & ~pl.col("_dx_key").str.contains(ICD9_SHAPE))
        .all()
        .alias("_all_valid"),
        pl.col("icd10cm_release").first(),
    )
    described = (
        pl.when(pl.col("kind") == "awaiting_transplant")
        .then(pl.format("{} (awaiting a transplant)", pl.col("_dx")))
        .otherwise(
            pl.format(
                "{} ({} transplant {})",
                pl.col("_dx"),
                pl.col("organ").str.replace_all("_", " "),
                pl.col("kind"),
            )
        )
    )
    not_covered = pl.col("set") == NOT_SUPPORTING_SET
    off_label = pl.col("_off").fill_null(False)
    per_match = (
        match_diagnosis_sets(dx.select(ROW_ID, "_ptr", "_dx", "_dx_key", c.HCPCS))
        .join(pairs.with_columns(pl.lit(True).alias("_ok")), on=[c.HCPCS, "set"], how="left")
        .join(off_pairs.with_columns(pl.lit(True).alias("_off")), on=[c.HCPCS, "set"], how="left")
        .sort(ROW_ID, "_ptr")
        .group_by(ROW_ID)
        .agg(
            pl.col("_ok").fill_null(False).any().alias("_supported"),
            off_label.any().alias("_off_label"),
            described.filter(not_covered).unique(maintain_order=True).alias("_not_covered"),
            pl.when(pl.col("kind") == "gvhd")
            .then(pl.format("{} (graft-versus-host disease)", pl.col("_dx")))
            .otherwise(described)
            .filter(off_label)
            .unique(maintain_order=True)
            .str.join(", ")
            .alias("_off_label_dx"),
        )
    )
    return (
        lines.join(per_dx, on=ROW_ID, how="inner")
        .join(per_match, on=ROW_ID, how="left")
        .with_columns(
            pl.col("_supported").fill_null(False),
            # off-label use only counts where nothing on the label supports the line
            (pl.col("_off_label").fill_null(False) & ~pl.col("_supported").fill_null(False)),
            pl.col("_not_covered").fill_null(pl.lit([], dtype=pl.List(pl.String))),
        )
        # The texts are for lines no diagnosis supports, the only ones the DGN rules
        # report; kept off the others, they take no memory on millions of lines.
        .with_columns(
            pl.when(~pl.col("_supported")).then(pl.col(name)).alias(name)
            for name in ("_dx_list", "_not_covered", "_supported_by", "_off_label_dx")
        )
    )
