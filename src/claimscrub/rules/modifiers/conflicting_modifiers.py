"""MOD002: two modifiers on one line that contradict each other."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Severity
from claimscrub.model import columns as c
from claimscrub.refdata import curated
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.modifiers._common import carries_modifiers, modifier_list
from claimscrub.rules.registry import rule


@rule(
    code="MOD002",
    name="conflicting-modifiers",
    severity=Severity.ERROR,
    carc="CO-4",
    inputs=(c.MODIFIERS,),
    source="rules.md §5 (KX with GY, JW with JZ, GA with GZ); §8 MODIFIER_CONFLICT",
    applies_when=carries_modifiers,
)
def conflicting_modifiers(ctx: RuleContext) -> Finding:
    """The line carries two modifiers that say opposite things.

    ## What it checks
    The modifiers of each line (837P SV101-3..6, 837I SV202-3..6, JSON `modifiers`)
    against the curated pairs of contradicting modifiers
    (`refdata/curated/immunosuppressants.yaml`, `modifier_conflicts`):

    - KX (coverage criteria met and documented) with GY (item outside the benefit);
    - JW (amount discarded) with JZ (nothing discarded);
    - GA (advance beneficiary notice on file) with GZ (no notice on file).

    One finding per contradicting pair on a line.

    ## Why it matters
    A line cannot both attest coverage and declare the item excluded, or report waste
    and no waste; the payer cannot tell which is meant and denies the line as an
    inconsistent modifier combination (CARC 4).

    ## Example
    J7507 with modifiers KX and GY.

    Use instead: KX when the coverage criteria are met and documented; GY alone when a
    Medicare denial is wanted for a secondary payer.

    ## Fix
    None: which modifier is right depends on the facts of the case.

    ## Options
    None.

    ## Related
    MOD001 (modifier not valid on the date), MOD003 (modifier not applicable to a drug
    line), MOD005 (JW/JZ on a self-administered drug line); MCR rules on when KX is
    required or misused.

    ## References
    - rules.md §5 (modifier table, "Invalid / conflicts" column), R-MCR-3 (KX / GY).
    - CMS JW/JZ guidance (HHS guidance document, 2023).
    """
    lines = ctx.lines.with_columns(modifier_list().alias("_mods"))
    # One filter per curated pair (a handful), in the file's order: a cross join with the
    # pairs filtered afterwards becomes a nested-loop join, which the in-memory engine of
    # Polars 2.1 can fail on when messages are formatted from it.
    per_pair = [
        lines.filter(
            pl.col("_mods").list.contains(pl.lit(first))
            & pl.col("_mods").list.contains(pl.lit(second))
        ).with_columns(
            pl.lit(first, pl.String).alias("first"),
            pl.lit(second, pl.String).alias("second"),
            pl.lit(reason, pl.String).alias("reason"),
        )
        for first, second, reason in curated.modifier_conflicts()
        .select("first", "second", "reason")
        .iter_rows()
    ]
    rows = (
        pl.concat(per_pair, how="vertical")
        if per_pair
        else lines.filter(pl.lit(False)).with_columns(
            pl.lit(None, pl.String).alias(name) for name in ("first", "second", "reason")
        )
    )
    return Finding(
        rows=rows,
        violated=pl.lit(True),
        message="{first} and {second} are both on the {hcpcs} line: {reason}",
    )
