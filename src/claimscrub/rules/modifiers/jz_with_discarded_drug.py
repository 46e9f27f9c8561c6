"""MOD008: JZ (nothing discarded) on a line whose drug the claim says was partly discarded."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Applicability, Severity
from claimscrub.model import columns as c
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.modifiers._common import has_modifier, normalised, with_claim_jw_line
from claimscrub.rules.registry import rule
from claimscrub.rules.units.common import number_text


def _carries_jz(_ctx: RuleContext | None = None) -> pl.Expr:
    """The line carries JZ: the ``applies_when`` of this rule."""
    return has_modifier("JZ")


@rule(
    code="MOD008",
    name="jz-with-discarded-drug",
    severity=Severity.ERROR,
    carc="CO-4",
    fix=Applicability.UNSAFE,
    inputs=(c.HCPCS, c.MODIFIERS, c.DOS_FROM),
    source="CMS JW/JZ policy for single-dose containers; rules.md §5 (JW, JZ rows), R-MOD-4; "
    "§8 MODIFIER_CONFLICT",
    applies_when=_carries_jz,
)
def jz_with_discarded_drug(ctx: RuleContext) -> Finding:
    """A line says with JZ that nothing was discarded, but the claim reports discarded drug.

    ## What it checks
    Lines with JZ (and without JW: both on one line are MOD002's) that either state a
    discarded amount above zero (`discarded.amount`), or belong to a claim with a JW line
    for the same code and date of service.

    ## Why it matters
    JZ attests that none of the drug from single-dose containers was discarded; JW
    bills the amount that was. With waste the administered amount goes on a line
    without either modifier and the discarded amount on its own JW line (rules.md
    R-MOD-4). JZ next to a JW line says both things about the same drug on the same
    day, and JZ on a line that records waste leaves the waste unbilled and the
    attestation false: the payer treats the modifiers as inconsistent (CARC 4), and an
    audit recoups.

    ## Example
    Line 1: J0485-JZ, 375 units (375 mg given); line 2: J0485-JW, 125 units (125 mg
    discarded), same date.

    Use instead: line 1 without JZ.

    ## Fix
    Unsafe, when the claim has the JW line: removes JZ from this line. When the line
    records waste and no JW line exists, none: the discarded amount needs a JW line of
    its own (UNT005 computes its units), which a fix does not add.

    ## Options
    None.

    ## Related
    MOD002 (JW and JZ on one line), MOD004 / MOD007 (JW or JZ missing), UNT005 (JW
    units), UNT007 (administered and discarded against the containers).

    ## References
    - CMS JW/JZ modifier policy (JZ from 2023-07-01); CGS JW/JZ article (2023).
    - rules.md §5 (JW, JZ rows), R-MOD-4, §8 MODIFIER_CONFLICT.
    """
    lines = with_claim_jw_line(ctx, ctx.lines.filter(has_modifier("JZ") & ~has_modifier("JW")))
    jw_line = pl.col("_jw_line")
    wasted = (pl.col(c.DISCARDED_AMOUNT) > 0).fill_null(False)
    why = (
        pl.when(jw_line)
        .then(pl.format("the claim has a JW line of {} on {}", pl.col(c.HCPCS), pl.col(c.DOS_FROM)))
        .otherwise(
            pl.format(
                "the line records {} {} discarded",
                number_text(pl.col(c.DISCARDED_AMOUNT)),
                pl.col(c.DISCARDED_UNIT).fill_null(""),
            ).str.strip_chars()
        )
    )
    without_jz = pl.col(c.MODIFIERS).list.eval(
        pl.element().filter(normalised(pl.element()) != "JZ")
    )
    return Finding(
        rows=lines.with_columns(why.alias("_why")),
        violated=jw_line | wasted,
        message="JZ on the {hcpcs} line says nothing was discarded, but {_why}: with waste the "
        "administered line carries no JZ and the discarded amount goes on its own JW line",
        fix={c.MODIFIERS: pl.when(jw_line).then(without_jz)},
        fix_title="Remove JZ (the JW line reports the waste)",
    )
