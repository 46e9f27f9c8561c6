"""MCR004: KX attests to benefit criteria that the recorded transplant facts contradict."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Applicability, Severity
from claimscrub.model import columns as c
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.medicare import _benefit as b
from claimscrub.rules.modifier_terms import normalised
from claimscrub.rules.registry import rule


@rule(
    code="MCR004",
    name="kx-modifier-without-benefit-criteria",
    severity=Severity.ERROR,
    carc="CO-96",
    fix=Applicability.UNSAFE,
    requires=("hcpcs", "mue"),
    inputs=(c.HCPCS, c.DOS_FROM, c.TRANSPLANTS, c.MODIFIERS),
    source="Noridian JD DME (KX misuse); OIG work plan; rules.md R-MCR-3",
    applies_when=b.benefit_applies,
)
def kx_modifier_without_benefit_criteria(ctx: RuleContext) -> Finding:
    """A line carries KX although the recorded transplant facts show the criteria fail.

    ## What it checks
    Immunosuppressive drug lines with KX under a pack with the Medicare immunosuppressive
    drug benefit, when the claim's transplant facts show one of: every recorded transplant
    is dated after the line; no transplant on or before the line is a covered one; Part A
    was not in effect at any covered transplant. (Without KX these are MCR005, MCR001 and
    MCR002; with KX they are reported here only, once.)

    ## Why it matters
    KX says the supplier documented a covered transplant before the date of service and
    Part A at the time of it. Noridian found KX used for patients without Part A at the
    transplant; the OIG lists KX misuse. Such lines are denied as not covered (CARC 96)
    or, when paid, recouped on review.

    ## Example
    J7517 with KX on 2025-02-03; the only transplant is a kidney (2018-11-07) done
    without Part A.

    Use instead: no KX; bill the patient's Part D plan (or GY when a Medicare denial is
    needed).

    ## Fix
    Unsafe: removes KX from the modifiers. Whether to bill Part D or to add GY is the
    biller's decision.

    ## Options
    None.

    ## Related
    MCR001, MCR002, MCR005 (the same criteria without KX); MCR003 (KX missing).

    ## References
    - Noridian JD DME, immunosuppressive drugs (KX not to be used without Part A at the
      transplant); OIG work plan, KX modifier on immunosuppressive drug claims.
    - rules.md R-MCR-1, R-MCR-3; failure class KX_INVALID_ATTESTATION.
    """
    lines = b.immuno_lines_status(ctx)
    fail = pl.col(b.FAIL)
    why = (
        pl.when(fail == "after_dos")
        .then(pl.format("every recorded transplant ({}) is after that date", pl.col(b.AFTER_TEXT)))
        .when(fail == "organ")
        .then(pl.format("no recorded transplant qualifies: {}", pl.col(b.NOT_COVERED_TEXT)))
        .otherwise(
            pl.format(
                "Part A was not in effect at the covered transplant ({})", pl.col(b.COVERED_TEXT)
            )
        )
    )
    without_kx = pl.col(c.MODIFIERS).list.filter(normalised(pl.element()) != "KX")
    violated = fail.is_not_null() & b.has_modifier("KX")
    return Finding(
        rows=b.with_transplant_texts(ctx, lines.filter(violated)).with_columns(why.alias("_why")),
        violated=pl.lit(True),
        message="{hcpcs} on {dos_from} carries KX, but {_why}",
        fix={"modifiers": without_kx},
        fix_title="Remove KX; bill Part D, or GY when a Medicare denial is needed",
    )
