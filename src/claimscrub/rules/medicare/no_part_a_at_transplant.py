"""MCR002: the patient did not have Part A when the covered transplant was done."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Severity
from claimscrub.model import columns as c
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.medicare import _benefit as b
from claimscrub.rules.registry import rule


@rule(
    code="MCR002",
    name="no-part-a-at-transplant",
    severity=Severity.ERROR,
    carc="CO-96",
    requires=("hcpcs", "mue"),
    inputs=(c.HCPCS, c.DOS_FROM, c.TRANSPLANTS),
    source="Policy article A52474 (Part A at the time of the transplant); rules.md R-MCR-1",
    applies_when=b.benefit_applies,
)
def no_part_a_at_transplant(ctx: RuleContext) -> Finding:
    """Part A was not in effect at any covered transplant before the date of service.

    ## What it checks
    Immunosuppressive drug lines under a pack that applies the Medicare immunosuppressive
    drug benefit, for patients whose recorded covered transplants (on or before the
    line's date) all say `part_a_at_transplant: false`. When one of them says true, or
    is unknown, or another transplant's organ is unknown, the line is not reported. Nor
    is a line with GY: GY asks for the denial another payer needs (rules.md R-MCR-1), and
    the payer's PR-96 is then the expected answer.

    ## Why it matters
    The Part B benefit requires Part A entitlement at the time of the transplant
    (Medicare need not have paid for it). Without it the drug is a Part D drug: the DME
    MAC denies the line as not covered (CARC 96; PR-96 with GY).

    ## Example
    J7503 on 2025-03-02 for a kidney transplant of 2019-05-20 done while the patient had
    employer coverage and no Part A.

    Use instead: bill the patient's Part D plan.

    ## Fix
    None: the drug belongs to another benefit.

    ## Options
    None.

    ## Related
    MCR001 (organ not covered); MCR004 (the line carries KX anyway: reported there);
    MCR006 (Part A at transplant not recorded).

    ## References
    - Policy article A52474; CMS MLN compliance tip, immunosuppressive drugs.
    - rules.md R-MCR-1 criterion 3, R-MCR-9; failure class BENEFIT_CRITERIA_NOT_MET.
    """
    lines = b.immuno_lines_status(ctx)
    violated = (pl.col(b.FAIL) == "part_a") & ~b.has_modifier("KX") & ~b.has_modifier("GY")
    return Finding(
        rows=b.with_transplant_texts(ctx, lines.filter(violated)),
        violated=pl.lit(True),
        message=(
            "{hcpcs} on {dos_from}: Part A was not in effect at the covered transplant "
            "({_covered_text}), so the drug is not a Part B immunosuppressive drug"
        ),
    )
