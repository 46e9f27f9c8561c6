"""DGN003: a line's diagnosis pointer names no diagnosis of the claim."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Applicability, Severity
from claimscrub.model import columns as c
from claimscrub.rules.context import RuleContext
from claimscrub.rules.diagnosis._common import ROW_ID
from claimscrub.rules.finding import Finding
from claimscrub.rules.registry import rule


def pointer_out_of_range(_ctx: RuleContext | None = None) -> pl.Expr:
    """The line points below 1 or past its claim's last diagnosis: the lines DGN003
    reports, and its ``applies_when``."""
    pointers = pl.col(c.DIAGNOSIS_POINTERS)
    count = pl.col(c.DIAGNOSES).list.len().fill_null(0)
    return (pointers.list.min() < 1) | (pointers.list.max() > count)


@rule(
    code="DGN003",
    name="diagnosis-pointer-out-of-range",
    severity=Severity.ERROR,
    carc="CO-16",
    rarc=("M76",),
    fix=Applicability.UNSAFE,
    inputs=(c.DIAGNOSIS_POINTERS,),
    source="ASC X12 837P 005010X222A1 SV107 (diagnosis code pointers); rules.md §8 DX_NOT_BILLABLE",
    applies_when=pointer_out_of_range,
)
def diagnosis_pointer_out_of_range(ctx: RuleContext) -> Finding:
    """A diagnosis pointer on the line points past the claim's list of diagnoses.

    ## What it checks
    Each diagnosis pointer of a line (837P SV107-1 to SV107-4, JSON
    `diagnosis_pointers`, CSV `diagnosis_pointers`) is a 1-based position in the
    claim's diagnoses (2300 HI). A pointer below 1 or above the number of diagnoses
    names nothing.

    ## Why it matters
    A line whose pointer names no diagnosis has, for the payer, no diagnosis: it is
    rejected at the front end or returned as missing information (CARC 16 with RARC
    M76). It usually means a diagnosis was dropped from the claim while the lines
    kept their pointers.

    ## Example
    Diagnoses Z94.0 and Z79.621; the line points to 1 and 3.

    Use instead: pointers 1 and 2, or add the missing third diagnosis.

    ## Fix
    Unsafe. Keeps the pointers that name a diagnosis (in their order) when at least one
    does. The dropped pointer may have stood for a diagnosis that is missing from the
    claim, so check the record before applying it.

    ## Options
    None.

    ## Related
    DGN001 (diagnosis does not support the code), DGN002 (diagnosis not billable).

    ## References
    - ASC X12 837P 005010X222A1, 2400 SV107 (composite diagnosis code pointer).
    - NUCC CMS-1500 instructions, item 24E (diagnosis pointer).
    """
    lines = ctx.lines.with_row_index(ROW_ID)
    count = pl.col(c.DIAGNOSES).list.len().fill_null(0)
    pointers = (
        lines.filter(pl.col(c.DIAGNOSIS_POINTERS).list.len() > 0)
        .select(ROW_ID, count.alias("_count"), pl.col(c.DIAGNOSIS_POINTERS).alias("_ptr"))
        .explode("_ptr")
        .with_columns(((pl.col("_ptr") >= 1) & (pl.col("_ptr") <= pl.col("_count"))).alias("_ok"))
        .group_by(ROW_ID, maintain_order=True)
        .agg(
            pl.col("_ptr").filter(~pl.col("_ok")).alias("_bad"),
            pl.col("_ptr").filter(pl.col("_ok")).alias("_good"),
            pl.col("_count").first(),
        )
    )
    rows = lines.join(pointers, on=ROW_ID, how="inner")
    has_dx = pl.col("_count") > 0
    return Finding(
        rows=rows.with_columns(
            pl.when(has_dx)
            .then(pl.format("the claim has {} diagnosis(es)", pl.col("_count")))
            .otherwise(pl.lit("the claim has no diagnoses"))
            .alias("_has")
        ),
        violated=pl.col("_bad").list.len() > 0,
        message="diagnosis pointer(s) {_bad} of {hcpcs} name no diagnosis: {_has}",
        fix={"diagnosis_pointers": pl.when(pl.col("_good").list.len() > 0).then(pl.col("_good"))},
        fix_title="Point only to existing diagnoses: {_good}",
    )
