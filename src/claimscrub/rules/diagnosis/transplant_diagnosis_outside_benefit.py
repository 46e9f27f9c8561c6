"""DGN005: the line's only transplant diagnoses are grafts or a wait the benefit does not cover."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Severity
from claimscrub.model import columns as c
from claimscrub.rules.context import RuleContext
from claimscrub.rules.diagnosis._common import has_modifier, is_medicare, line_support
from claimscrub.rules.finding import Finding
from claimscrub.rules.registry import rule


@rule(
    code="DGN005",
    name="transplant-diagnosis-outside-benefit",
    severity=Severity.ERROR,
    carc="CO-11",
    requires=("icd10cm",),
    inputs=(c.HCPCS, c.DIAGNOSES),
    source="rules.md R-DX-1 (not supporting: Z94.5-Z94.7, T86.82-T86.84, Z76.82), R-MCR-1, R-MCR-9",
)
def transplant_diagnosis_outside_benefit(ctx: RuleContext) -> Finding:
    """An immunosuppressive line's only transplant diagnoses are skin, bone or cornea grafts, or awaiting a transplant.

    ## What it checks
    Lines of the maintenance immunosuppressives that the covered-organ diagnosis set
    supports (J7500–J7599 and the parenteral J7501, J7516, J7519, J7525; rules.md R-DX-1)
    where no diagnosis the line points to supports the code and at least one of them is a
    transplant diagnosis that the Medicare immunosuppressive drug benefit does not cover:
    Z94.5 (skin), Z94.6 (bone), Z94.7 (cornea) transplant status, their graft
    complications T86.82-, T86.83-, T86.84-, or Z76.82 (awaiting organ transplant,
    i.e. no transplant yet). Lines with GY are left alone: GY asks for exactly this
    denial.

    ## Why it matters
    The Part B immunosuppressive drug benefit follows a covered organ transplant
    (kidney, heart, lung, heart-lung, liver, bone marrow or stem cells, pancreas,
    intestine, islet cells). After a skin, bone or cornea graft, or before any
    transplant, the drug is a Part D drug (or a pharmacy-benefit drug for other
    plans), not a medical-benefit line: Original Medicare denies it as outside the
    benefit (CARC 96); other payers deny the medical claim (CARC 11).

    ## Example
    J7507 (tacrolimus, immediate release, oral, 1 mg) for a patient whose only
    transplant diagnosis is Z94.7 (corneal transplant status).

    Use instead: bill the prescription to the patient's Part D plan or pharmacy
    benefit; to obtain a Medicare denial for a secondary payer, add GY.

    ## Fix
    None: the claim belongs to another benefit.

    ## Options
    None.

    ## Related
    DGN001 (no supporting diagnosis, in general); MCR rules on the covered organ and
    Part A at the time of the transplant (the transplant facts rather than the
    diagnoses); MOD002 (KX with GY).

    ## References
    - rules.md R-DX-1 ("not supporting the Medicare immunosuppressive benefit"),
      R-MCR-1 (covered transplants), R-MCR-9 (Part D covers what Part B does not).
    - Policy article A52474; LCD L33824.
    """
    lines = line_support(ctx).filter(~has_modifier("GY"))
    icd9_claim = pl.col(c.ICD9_DIAGNOSES).fill_null(False)
    return Finding(
        rows=lines,
        violated=~pl.col("_supported")
        & pl.col("_all_valid")
        & ~icd9_claim
        & pl.col("_has_transplant_set")
        & (pl.col("_not_covered").list.len() > 0),
        message="{hcpcs} is billed with {_dx_list}; its transplant diagnoses, {_not_covered}, "
        "are not a covered organ transplant, so the drug falls under Part D or the pharmacy "
        "benefit, not a Part B or medical-benefit line",
        carc=pl.when(is_medicare()).then(pl.lit("CO-96")).otherwise(pl.lit("CO-11")),
    )
