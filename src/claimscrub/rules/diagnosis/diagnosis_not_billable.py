"""DGN002: a claim diagnosis is a category heading or not an ICD-10-CM code."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Applicability, Severity
from claimscrub.model import columns as c
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
    fix=Applicability.DISPLAY_ONLY,
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
    service (dataset `icd10cm`). Only the tabular's billable codes (codes no other
    code extends) may be reported: headings such as Z94, T86.1 or D61.8 are refused,
    and so is a code the tabular does not have. One finding per such diagnosis.
    For a date outside every installed release the nearest release answers (the
    bundled one is FY2026-04), so a code added or deleted since that date may be
    misjudged; import the fiscal year's release to check older claims exactly.

    Left to DGN004: claims that use ICD-9 qualifiers and diagnoses made only of digits
    (ICD-9 codes).

    ## Why it matters
    Payers return a claim with a heading or unknown diagnosis as missing or invalid
    information (CARC 16 with RARC M76); a code deleted for the fiscal year of the
    service may also come back as CARC 146. The claim must be corrected and sent
    again.

    ## Example
    Diagnoses Z94 (transplanted organ and tissue status, a heading) and Z79.621.

    Use instead: the billable code below the heading that the record supports,
    e.g. Z94.0 (kidney transplant status).

    ## Fix
    Display only. When the heading has at most `max_choices` billable codes below it,
    the fix lists them as `diagnosis_choices`; the biller picks the one the medical
    record supports. Nothing is applied.

    ## Options
    - `max_choices` (integer, default 12): the most billable codes listed as choices.

    ## Related
    DGN001 (diagnosis does not support the code), DGN003 (pointer out of range),
    DGN004 (ICD-9 code after the ICD-10 date).

    ## References
    - ICD-10-CM tabular list (CDC/NCHS), dataset `icd10cm`: `billable`, `category`.
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
    dx = ctx.refdata.lookup(
        dx,
        "icd10cm",
        on={"_dx_key": "code"},
        as_of=c.SERVICE_DATE,
        columns={"billable": "_billable", "description": "_description"},
    )
    bad = dx.filter(~pl.col("_billable").fill_null(False))
    # Billable codes below a heading share its first three characters (its category).
    # They depend on the code and the release only: look them up once per (code,
    # release), on any one date the release covers, not once per claim.
    release = "icd10cm_release"
    headings = bad.select("_dx_key", pl.col(release).alias("_release"), c.SERVICE_DATE).unique(
        ["_dx_key", "_release"]
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
    rows = (
        bad.join(children, on=["_dx_key", release], how="left")
        .with_columns(pl.col("_children").fill_null(pl.lit([], dtype=pl.List(pl.String))))
        .sort(c.CLAIM_KEY, "_pos")  # findings of one claim in diagnosis order
    )
    count = pl.col("_children").list.len()
    heading = pl.col("_billable").is_not_null()
    what = (
        pl.when(heading)
        .then(
            pl.format(
                "is a category heading ({}), not a billable code; {} billable code(s) lie below it",
                pl.col("_description"),
                count,
            )
        )
        .otherwise(pl.lit("is not an ICD-10-CM code"))
    )
    return Finding(
        rows=rows.with_columns(what.alias("_what")),
        violated=pl.lit(True),
        message="diagnosis {_pos} {_dx} {_what} (ICD-10-CM {icd10cm_release})",
        fix={
            "diagnosis_choices": pl.when(heading & (count > 0) & (count <= max_choices)).then(
                pl.col("_children")
            )
        },
        fix_title="Replace {_dx} with the billable code the record supports: {_children}",
    )
