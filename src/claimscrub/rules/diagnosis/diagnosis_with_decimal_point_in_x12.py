"""DGN007: an 837 sends a diagnosis code with its decimal point."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Applicability, Severity
from claimscrub.model import columns as c
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.registry import rule


def read_from_x12(_ctx: RuleContext | None = None) -> pl.Expr:
    """The claim was read from an 837 (it names its implementation guide): the rule's
    ``applies_when``."""
    return pl.col(c.IMPLEMENTATION_GUIDE).is_not_null()


@rule(
    code="DGN007",
    name="diagnosis-with-decimal-point-in-x12",
    severity=Severity.ERROR,
    carc="CO-16",
    rarc=("M76",),
    fix=Applicability.SAFE,
    inputs=(c.DIAGNOSES,),  # JSON and CSV claims are left out by applies_when, not skipped
    scope="claim",
    source="ASC X12 005010X222A1 / X223A2 loop 2300 HI (diagnosis codes without the decimal point)",
    applies_when=read_from_x12,
)
def diagnosis_with_decimal_point_in_x12(ctx: RuleContext) -> Finding:
    """An 837 carries a diagnosis code written with its decimal point.

    ## What it checks
    Claims read from an 837P or 837I (loop 2300 HI) whose diagnosis codes contain a
    decimal point (`HI*ABK:Z94.0`). The 5010 implementation guides send ICD codes
    without it (`Z940`). Claims JSON and CSV write codes with the dot, as ICD-10-CM
    prints them, and are not checked.

    ## Why it matters
    Clearinghouse and payer front-end edits read the code as sent: `Z94.0` is no
    ICD-10-CM code to them, and the claim is rejected before adjudication, or denied
    as an invalid diagnosis (CARC 16 with RARC M76). Every rule of claimscrub reads it
    without the dot, so the other findings are right; the file still has to be fixed.

    ## Example
    `HI*ABK:Z94.0*ABF:Z79.621`.

    Use instead: `HI*ABK:Z940*ABF:Z79621`.

    ## Fix
    Safe: the diagnoses without their decimal points (the same codes, written as X12
    sends them). The corrected file of an 837 is Claims JSON, which reads either form;
    the 837 itself has to be corrected where it is produced.

    ## Options
    None.

    ## Related
    DGN002 (diagnosis not billable), DGN004 (ICD-9 code after the ICD-10 date).

    ## References
    - ASC X12 005010X222A1 (837P) and 005010X223A2 (837I), loop 2300 HI: the diagnosis
      code is sent without the decimal point.
    - rules.md §8 DX_NOT_BILLABLE (CO-16 + M76).
    """
    diagnoses = pl.col(c.DIAGNOSES).fill_null(pl.lit([], dtype=pl.List(pl.String)))
    dotted = diagnoses.list.eval(pl.element().filter(pl.element().str.contains(".", literal=True)))
    rows = ctx.claims.filter(read_from_x12()).with_columns(
        dotted.alias("_dotted"),
        dotted.list.join(", ").alias("_dotted_text"),
        diagnoses.list.eval(pl.element().str.replace_all(".", "", literal=True)).alias("_undotted"),
    )
    return Finding(
        rows=rows,
        violated=pl.col("_dotted").list.len() > 0,
        message="diagnosis code(s) {_dotted_text} sent with the decimal point; X12 sends "
        "ICD codes without it",
        fix={"diagnoses": pl.col("_undotted")},
        fix_title="Send the diagnoses without decimal points",
    )
