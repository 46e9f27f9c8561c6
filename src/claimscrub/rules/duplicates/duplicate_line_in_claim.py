"""DUP001: a line repeats an earlier line of the same claim exactly."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Severity
from claimscrub.model import columns as c
from claimscrub.rules.context import RuleContext
from claimscrub.rules.duplicates._common import ROW_ID, describe, lines_with_keys
from claimscrub.rules.finding import Finding
from claimscrub.rules.registry import rule


def code_repeated_in_claim(_ctx: RuleContext | None = None) -> pl.Expr:
    """Another line of the claim has the same code: the ``applies_when`` of DUP001 (a line
    whose code is alone on its claim repeats nothing, and nothing repeats it)."""
    return pl.col(c.HCPCS).is_not_null() & (pl.len().over(c.CLAIM_KEY, c.HCPCS) > 1)


@rule(
    code="DUP001",
    name="duplicate-line-in-claim",
    severity=Severity.ERROR,
    carc="CO-18",
    inputs=(c.HCPCS,),
    applies_when=code_repeated_in_claim,
    source="rules.md §8 DUPLICATE (CARC 18: exact duplicate claim/line)",
)
def duplicate_line_in_claim(ctx: RuleContext) -> Finding:
    """A line repeats an earlier line of the same claim: same code, NDC, modifiers, date and units.

    ## What it checks
    Lines of one claim with the same HCPCS code, NDC (hyphens ignored), modifiers (in
    any order and case), date of service and units. The first of them (lowest line
    number) is the original; every later one is reported, naming it. Lines that
    differ in any of these — two strengths (two NDCs) of one drug, an administered
    line and its JW line — are not duplicates.

    ## Why it matters
    Payers deny the second of two identical lines as an exact duplicate (CARC 18).
    It usually comes from a line keyed twice or a split that kept the same quantity;
    if the drug really was dispensed twice, the lines should say how they differ.

    ## Example
    Line 1 and line 2 both J7507, NDC 00469061773, 180 units on 2025-06-10, modifier KX.

    Use instead: one line, or one line per strength with its own NDC and units.

    ## Fix
    None: whether the line is a keying error or a real second dispense is for the
    biller to decide.

    ## Options
    None.

    ## Related
    DUP002 (line already billed on an earlier claim), MOD003 (59/X{EPSU} on a drug
    line, sometimes used to get a repeated line paid).

    ## References
    - rules.md §8 (CARC 18, DUPLICATE).
    """
    group = [c.CLAIM_KEY, c.HCPCS, "_ndc_key", "_mods_key", c.DOS_FROM, c.UNITS]
    lines = (
        lines_with_keys(ctx)
        .with_row_index(ROW_ID)
        .filter(code_repeated_in_claim())
        # Only lines of groups of two or more can repeat (or be repeated): the sort and the
        # windows below then run on those few lines.
        .filter(pl.len().over(group) > 1)
        .sort(c.CLAIM_KEY, c.LINE_NO, ROW_ID)  # the first of a group is the original
        .with_columns(
            pl.col(c.LINE_NO).first().over(group).alias("_first_line"),
            pl.int_range(pl.len()).over(group).alias("_nth"),
            pl.when(pl.col("_mods_key") == "")
            .then(pl.lit("none"))
            .otherwise(pl.col("_mods_key"))
            .alias("_mods"),
        )
    )
    return Finding(
        rows=lines.with_columns(describe().alias("_what")),
        violated=pl.col("_nth") > 0,
        message="line {line_no} repeats line {_first_line}: {_what}, {units|unit}, "
        "modifiers {_mods}",
    )
