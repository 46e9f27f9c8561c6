"""MCR005: every recorded transplant is dated after the drug's date of service."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Severity
from claimscrub.model import columns as c
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.medicare import _benefit as b
from claimscrub.rules.registry import rule


@rule(
    code="MCR005",
    name="transplant-after-date-of-service",
    severity=Severity.ERROR,
    carc="CO-96",
    requires=("hcpcs", "mue"),
    inputs=(c.HCPCS, c.DOS_FROM, c.TRANSPLANTS),
    source="Policy article A52474 (drugs following a covered transplant); rules.md R-MCR-1, R-MCR-3",
    applies_when=b.benefit_applies,
)
def transplant_after_date_of_service(ctx: RuleContext) -> Finding:
    """The drug is dated before every transplant the claim records for the patient.

    ## What it checks
    Immunosuppressive drug lines under a pack with the Medicare immunosuppressive drug
    benefit whose patient has at least one recorded transplant, every one of them dated
    after the line's date of service. Undated transplants leave the question open.

    ## Why it matters
    The benefit pays for drugs furnished *following* a covered transplant; KX attests a
    transplant date before the date of service. A drug dated before the transplant is not
    a Part B immunosuppressive drug (denied as not covered, CARC 96; some contractors
    answer CARC 50). Most often one of the two dates is simply wrong.

    ## Example
    J7507 on 2025-06-10; the kidney transplant is recorded as 2025-08-01.

    Use instead: the correct transplant date (or date of service).

    ## Fix
    None: which date is wrong is for the biller to find.

    ## Options
    None.

    ## Related
    MCR004 (the same line carries KX: reported there); MCR001, MCR002; MCR010 (drugs
    delivered before discharge).

    ## References
    - Policy article A52474; CMS Claims Processing Manual ch. 17 §80.3 (KX: transplant
      date before the date of service).
    - rules.md R-MCR-1, R-MCR-3; failure class BENEFIT_CRITERIA_NOT_MET.
    """
    lines = b.immuno_lines_status(ctx)
    violated = (pl.col(b.FAIL) == "after_dos") & ~b.has_modifier("KX")
    return Finding(
        rows=b.with_transplant_texts(ctx, lines.filter(violated)),
        violated=pl.lit(True),
        message="{hcpcs} is dated {dos_from}, before every recorded transplant ({_after_text})",
    )
