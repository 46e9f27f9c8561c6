"""DGN002: a claim diagnosis is a category heading or not an ICD-10-CM code."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Severity
from claimscrub.model import columns as c
from claimscrub.rules.batch import frame_with
from claimscrub.rules.context import RuleContext
from claimscrub.rules.diagnosis._common import ICD9_SHAPE, dx_key
from claimscrub.rules.finding import Finding
from claimscrub.rules.registry import rule


@rule(
    code="DGN002",
    name="diagnosis-not-billable",
    severity=Severity.ERROR,
    carc="CO-16",
    rarc=("M76",),
    requires=("icd10cm",),
    inputs=(c.DIAGNOSES,),
    scope="claim",
    options={"max_choices": 12},
    source="ICD-10-CM tabular (billable codes); rules.md R-DX-2; §8 DX_NOT_BILLABLE",
)
def diagnosis_not_billable(ctx: RuleContext) -> Finding:
    """A diagnosis on the claim is an ICD-10-CM category heading, or no ICD-10-CM code at all.

    ## What it checks
    Every diagnosis of the claim (837P/837I 2300 HI, JSON `diagnoses`, CSV dx1–dx12),
    compared without its dot with the ICD-10-CM release in force on the claim's date of
    service (dataset `icd10cm`; bundled: FY2021-01, FY2022-10, FY2023-10, FY2024-10,
    FY2025-04, FY2026-04). Only the tabular's billable codes (codes no other code
    extends) may be reported: headings such as Z94, T86.1 or D61.8 are refused, and so
    is a code the release does not have. (FY2024-10 comes from CDC's list of billable
    codes, so its headings carry no title in the message.) One finding per such
    diagnosis. The message says when the code belongs to another release: not yet a
    code on that date (first billable in a later release), or deleted before it
    (billable in an earlier release, CARC 146).

    A date no installed release covers (April to September 2022 and 2023, as April
    updates of those years are not known; the months before the April updates of 2025
    and 2026) is judged by the releases either side of it: the diagnosis is refused
    only when neither lists it as billable, and the message names both. Import the
    fiscal year's release to check such claims exactly.

    Left to DGN004: claims that use ICD-9 qualifiers and diagnoses made only of digits
    (ICD-9 codes).

    ## Why it matters
    Payers return a claim with a heading or unknown diagnosis as missing or invalid
    information (CARC 16 with RARC M76); a code deleted for the fiscal year of the
    service comes back as CARC 146 instead (the code no longer exists on that date).
    The claim must be corrected and sent again.

    ## Example
    Diagnoses Z94 (transplanted organ and tissue status, a heading) and Z79.621.

    Use instead: the billable code below the heading that the record supports,
    e.g. Z94.0 (kidney transplant status).

    ## Fix
    None: which billable code is right comes from the medical record. When the heading
    has at most `max_choices` billable codes below it, the message lists them.

    ## Options
    - `max_choices` (integer, default 12): the most billable codes the message lists.

    ## Related
    DGN001 (diagnosis does not support the code), DGN003 (pointer out of range),
    DGN004 (ICD-9 code after the ICD-10 date).

    ## References
    - ICD-10-CM tabular list (CDC/NCHS), dataset `icd10cm`: `billable`, `category`,
      every installed release (for codes added or deleted between releases).
    - rules.md R-DX-2 (billable-code check; CO-16 + M76, CO-146).
    """
    max_choices = int(ctx.options.get("max_choices", 12))
    icd9_claim = pl.col(c.ICD9_DIAGNOSES).fill_null(False)
    diagnoses = pl.col(c.DIAGNOSES).fill_null(pl.lit([], dtype=pl.List(pl.String)))
    dx = (
        ctx.claims.filter(~icd9_claim)
        .select(
            c.CLAIM_KEY,
            c.SERVICE_DATE,
            diagnoses.alias("_dx"),
            pl.int_ranges(1, diagnoses.list.len() + 1, dtype=pl.Int64).alias("_pos"),
        )
        .explode("_dx", "_pos")
        .filter(pl.col("_dx").str.strip_chars().str.len_chars() > 0)
        .with_columns(dx_key(pl.col("_dx")).alias("_dx_key"))
        .filter(~pl.col("_dx_key").str.contains(ICD9_SHAPE))
    )
    # Everything below depends on the code and the date only: judged once per distinct
    # (code, date), and kept across small batches.
    judged = frame_with(
        ctx,
        "diagnosis.billable",
        dx,
        ("_dx_key", c.SERVICE_DATE),
        lambda keys: _judged(ctx, keys),
        # The date is only the lookups' as_of and compared with the release windows.
        classed=(c.SERVICE_DATE, ("icd10cm",)),
    )
    # The date itself is named here, outside the facts kept per date class.
    judged = judged.with_columns(
        pl.when(pl.col("icd10cm_in_force").fill_null(True))
        .then(pl.col("_release_text"))
        .otherwise(
            pl.format(
                "{}; the release in force on {} is not installed, so the nearest were read",
                "_release_text",
                c.SERVICE_DATE,
            )
        )
        .alias("_release_text")
    )
    bad = judged.filter(pl.col("_violated"))
    rows = bad.sort(c.CLAIM_KEY, "_pos")  # findings of one claim in diagnosis order
    count = pl.col("_children").list.len()
    heading = pl.col("_billable").is_not_null()
    deleted = pl.col("_last_rank") < pl.col("_used_rank")
    # A release built from CDC's code-descriptions file (FY2024-10) has no heading titles.
    titled = pl.format(" ({})", pl.col("_description")).fill_null("")
    # The choices are named in the message: no claim field holds them, so they are no fix.
    listed = pl.when((count > 0) & (count <= max_choices)).then(
        pl.format(
            ": {}; report the one the medical record supports",
            pl.col("_children").list.join(", "),
        )
    )
    heading_text = pl.format(
        "is a category heading{}, not a billable code; {} below it{}",
        titled,
        pl.when(count == 1)
        .then(pl.lit("1 billable code lies"))
        .otherwise(pl.format("{} billable codes lie", count)),
        listed.fill_null(""),
    )
    what = (
        pl.when(heading & deleted)
        .then(
            pl.format(
                "{}; as a billable code it was deleted before {} (billable in ICD-10-CM {})",
                heading_text,
                pl.col(c.SERVICE_DATE),
                pl.col("_last_release"),
            )
        )
        .when(heading)
        .then(heading_text)
        .when(deleted)
        .then(
            pl.format(
                "was deleted from ICD-10-CM before {} (billable in ICD-10-CM {})",
                pl.col(c.SERVICE_DATE),
                pl.col("_last_release"),
            )
        )
        .when(pl.col("_first_rank") > pl.col("_used_rank"))
        .then(
            pl.format(
                "was not yet an ICD-10-CM code on {} (first billable in ICD-10-CM {})",
                pl.col(c.SERVICE_DATE),
                pl.col("_first_release"),
            )
        )
        .otherwise(pl.lit("is not an ICD-10-CM code"))
    )
    return Finding(
        rows=rows.with_columns(what.alias("_what")),
        violated=pl.lit(True),
        message="diagnosis {_pos} {_dx} {_what} ({_release_text})",
        # R-DX-2: a code deleted for the fiscal year of the service comes back as CARC 146.
        carc=pl.when(deleted.fill_null(False)).then(pl.lit("CO-146")).otherwise(pl.lit("CO-16")),
        rarc=pl.when(deleted.fill_null(False))
        .then(pl.lit([], dtype=pl.List(pl.String)))
        .otherwise(pl.lit(["M76"], dtype=pl.List(pl.String))),
    )


def _judged(ctx: RuleContext, keys: pl.LazyFrame) -> pl.LazyFrame:
    """The distinct (``_dx_key``, date of service) rows with the release in force, the
    verdict of :func:`_judge` and, for refused headings, ``_children``: the billable
    codes below them in that release (empty list otherwise)."""
    dx = ctx.refdata.lookup(
        keys,
        "icd10cm",
        on={"_dx_key": "code"},
        as_of=c.SERVICE_DATE,
        columns={"billable": "_billable", "description": "_description"},
    )
    judged = _judge(ctx, dx).cache()
    # Billable codes below a heading share its first three characters (its category).
    # They depend on the code and the release only: look them up once per (code,
    # release), on any one date the release covers.
    release = "icd10cm_release"
    headings = (
        judged.filter(pl.col("_violated"))
        .select("_dx_key", pl.col(release).alias("_release"), c.SERVICE_DATE)
        .unique(["_dx_key", "_release"])
    )
    below = ctx.refdata.lookup(
        headings.with_columns(pl.col("_dx_key").str.slice(0, 3).alias("_category")),
        "icd10cm",
        on={"_category": "category"},
        as_of=c.SERVICE_DATE,
        columns={"code": "_child_key", "code_dotted": "_child", "billable": "_child_billable"},
    )
    children = (
        below.filter(
            pl.col("_child_billable").fill_null(False)
            & pl.col("_child_key").str.starts_with(pl.col("_dx_key"))
            & (pl.col("_child_key") != pl.col("_dx_key"))
        )
        .group_by("_dx_key", "_release")
        .agg(pl.col("_child").sort().alias("_children"))
        .rename({"_release": release})
    )
    return judged.join(children, on=["_dx_key", release], how="left").with_columns(
        pl.col("_children").fill_null(pl.lit([], dtype=pl.List(pl.String)))
    )


def _judge(ctx: RuleContext, dx: pl.LazyFrame) -> pl.LazyFrame:
    """Decide, per diagnosis, whether it was a billable code on the date of service.

    Adds ``_violated``, ``_release_text`` (the release(s) that decided, for the message),
    ``_used_rank`` (rank of ``icd10cm_release``), and the first and last releases listing
    the code as billable (``_first_rank`` / ``_first_release``, ``_last_rank`` /
    ``_last_release``; null when no release does).

    A date inside a release's window is judged by that release alone. A date between two
    installed releases (or before the first, after the last) is judged by the releases
    either side of it: the diagnosis is refused only when none of them lists it as
    billable, since a code billable in one of them may well have been valid on that date.
    """
    windows = ctx.refdata.release_windows("icd10cm")
    history = (
        ctx.refdata.history(dx, "icd10cm", on={"_dx_key": "code"}, columns={"billable": "_hb"})
        .filter(pl.col("_hb"))
        .sort("icd10cm_rank")
        .group_by("_dx_key")
        .agg(
            pl.col("icd10cm_rank").alias("_ranks"),
            pl.col("icd10cm_rank").first().alias("_first_rank"),
            pl.col("icd10cm_release").first().alias("_first_release"),
            pl.col("icd10cm_rank").last().alias("_last_rank"),
            pl.col("icd10cm_release").last().alias("_last_release"),
        )
    )
    day = pl.col(c.SERVICE_DATE)
    sides = (
        dx.select(day.cast(pl.Date))
        .unique()
        .drop_nulls()
        .join(windows, how="cross")
        .group_by(c.SERVICE_DATE)
        .agg(
            pl.col("rank").filter(pl.col("in_force_until") < day).max().alias("_before"),
            pl.col("rank").filter(pl.col("effective_from") > day).min().alias("_after"),
        )
    )
    names = windows.select("rank", "release")
    sides = sides.join(
        names.rename({"rank": "_before", "release": "_before_release"}), on="_before", how="left"
    ).join(names.rename({"rank": "_after", "release": "_after_release"}), on="_after", how="left")
    in_force = pl.col("icd10cm_in_force").fill_null(True)
    billable_nearby = _billable_in(pl.col("_before")) | _billable_in(pl.col("_after"))
    either_side = pl.concat_str(
        pl.col("_before_release"), pl.col("_after_release"), separator=" and ", ignore_nulls=True
    )
    return (
        dx.join(history, on="_dx_key", how="left")
        .join(sides, on=c.SERVICE_DATE, how="left")
        .join(
            names.rename({"rank": "_used_rank", "release": "icd10cm_release"}),
            on="icd10cm_release",
            how="left",
        )
        .with_columns(
            pl.when(in_force)
            .then(~pl.col("_billable").fill_null(False))
            .otherwise(~billable_nearby)
            .alias("_violated"),
            pl.when(in_force)
            .then(pl.format("ICD-10-CM {}", pl.col("icd10cm_release")))
            .otherwise(pl.format("ICD-10-CM {}", either_side))
            .alias("_release_text"),
        )
    )


def _billable_in(rank: pl.Expr) -> pl.Expr:
    """True when the release of that rank lists the diagnosis as billable (false if none)."""
    return pl.col("_ranks").list.contains(rank).fill_null(False)
