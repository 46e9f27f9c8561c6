"""MCR006: the transplant facts needed to apply the benefit rules are not on the claim."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Severity
from claimscrub.model import columns as c
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.medicare import _benefit as b
from claimscrub.rules.registry import rule


@rule(
    code="MCR006",
    name="transplant-facts-missing",
    severity=Severity.INFO,
    scope="claim",
    requires=("hcpcs", "mue"),
    inputs=(c.HCPCS, c.DOS_FROM),
    source="Policy article A52474 (coverage criteria); rules.md R-MCR-1, R-MCR-3, section 9",
    applies_when=b.benefit_applies,
)
def transplant_facts_missing(ctx: RuleContext) -> Finding:
    """The claim lacks the transplant facts that decide whether the benefit applies.

    ## What it checks
    Claims with immunosuppressive drug lines under a pack with the Medicare
    immunosuppressive drug benefit for which the recorded facts neither show the criteria
    met (a covered transplant with Part A, on or before the line) nor show them failing.
    One finding per claim names the lines and what is missing: the transplant itself,
    the organ (one of kidney, heart, lung, heart_lung, liver, pancreas, intestine,
    bone_marrow, stem_cell, islet, skin, bone, cornea), the transplant date, or whether
    Part A was in effect at the transplant.

    ## Why it matters
    The benefit rules (MCR001, MCR002, MCR004, MCR005) never guess: without these facts
    they cannot tell a Part B immunosuppressive drug from a Part D one, and the supplier
    must hold them anyway (order, transplant date and facility, Part A at transplant).

    ## Example
    J7507 on 2025-06-10 for a patient with no `transplants` recorded.

    Use instead: `"transplants": [{"organ": "kidney", "date": "2021-03-14",
    "medicare_paid": true, "part_a_at_transplant": true}]`.

    ## Fix
    None: the facts come from the transplant records.

    ## Options
    None.

    ## Related
    MCR001, MCR002, MCR004, MCR005 (what the facts decide); MCR003 (KX is required while
    the transplant payer is unknown).

    ## References
    - Policy article A52474 and LCD L33824 (documentation of the transplant).
    - rules.md R-MCR-1, R-MCR-3, section 9.
    """
    lines = b.immuno_lines_status(ctx)
    per_claim = (
        b.with_transplant_texts(ctx, lines.filter(pl.col(b.UNDETERMINED)))
        .group_by(c.CLAIM_KEY)
        .agg(
            pl.col(c.LINE_NO).sort().cast(pl.String).str.join(", ").alias("_lines"),
            pl.col(b.MISSING_TEXT).sort().first().alias("_missing"),
        )
    )
    return Finding(
        rows=per_claim,
        violated=pl.lit(True),
        message=(
            "Transplant facts needed to apply the Medicare immunosuppressive drug benefit "
            "to line(s) {_lines}: {_missing}"
        ),
    )
