"""MCR001: the patient's transplant is not one the Medicare immunosuppressive benefit covers."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Severity
from claimscrub.model import columns as c
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.medicare import _benefit as b
from claimscrub.rules.registry import rule


@rule(
    code="MCR001",
    name="transplanted-organ-not-covered",
    severity=Severity.ERROR,
    carc="CO-96",
    requires=("hcpcs", "mue"),
    inputs=(c.HCPCS, c.DOS_FROM, c.TRANSPLANTS),
    source="LCD L33824 / policy article A52474 (covered transplants); rules.md R-MCR-1",
    applies_when=b.benefit_applies,
)
def transplanted_organ_not_covered(ctx: RuleContext) -> Finding:
    """No recorded transplant on or before the date of service is one the benefit covers.

    ## What it checks
    Immunosuppressive drug lines (CMS HCPCS type of service G on the date of service)
    under a payer policy pack that applies the Medicare immunosuppressive drug benefit
    (`medicare_immunosuppressive_benefit`, the `medicare-dme` pack). Every transplant the
    claim records for the patient (`patient.transplants`) dated on or before the line is
    compared with the curated list of covered organs: kidney, heart, liver, bone marrow,
    stem cell, lung, heart-lung; pancreas transplanted from 1999-07-01 (alone only from
    2006-04-26, before that only with or after a kidney transplant); intestine from
    2001-04-01; islet cells from 2004-10-01. Cornea, skin and bone are not covered. The
    line is reported when every such transplant is known not to qualify. An organ that is
    missing or not recognised (`other`) leaves the question open (MCR006 asks for it). A
    line with GY is left alone: GY asks for the denial another payer needs (rules.md
    R-MCR-1), and the payer's PR-96 is then the expected answer.

    ## Why it matters
    Only a covered transplant makes the drug a Part B immunosuppressive drug; otherwise it
    is a Part D (or non-Medicare) drug and the DME MAC denies the line as not covered
    (CARC 96; with GY the beneficiary is liable, PR-96).

    ## Example
    J7507 on 2025-06-10 for a patient whose only transplant is a cornea (2023-04-01).

    Use instead: bill the patient's Part D plan; bill the DME MAC with GY only when a
    Medicare denial is needed for another payer.

    ## Fix
    None: the drug belongs to another benefit.

    ## Options
    None. The covered organs and their dates are curated facts
    (`refdata/curated/immunosuppressants.yaml`: `covered_organs`,
    `medicare_benefit.organ_requirements`).

    ## Related
    MCR002 (no Part A at the transplant); MCR004 (the same line carries KX: reported there
    instead); MCR005 (every transplant is after the date of service); MCR006 (transplant
    facts missing); DGN005 (the diagnoses show only a non-covered graft). A
    Medicare-approved transplant facility (criterion 2) and the NIH trial
    for islet cells are not in claim data and are not checked.

    ## References
    - LCD L33824 / policy article A52474, Immunosuppressive Drugs; CMS Claims Processing
      Manual ch. 17 §80.3.
    - rules.md R-MCR-1, R-MCR-9; failure class BENEFIT_CRITERIA_NOT_MET.
    """
    lines = b.immuno_lines_status(ctx)
    violated = (pl.col(b.FAIL) == "organ") & ~b.has_modifier("KX") & ~b.has_modifier("GY")
    return Finding(
        rows=b.with_transplant_texts(ctx, lines.filter(violated)),
        violated=pl.lit(True),
        message=(
            "{hcpcs} on {dos_from} is billed under the Medicare immunosuppressive drug "
            "benefit, but no recorded transplant qualifies: {_not_covered_text}"
        ),
    )
