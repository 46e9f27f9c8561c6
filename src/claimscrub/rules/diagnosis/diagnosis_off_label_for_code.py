"""DGN006: the line's diagnosis is an off-label use of the drug, covered by payer policy."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Confidence, Severity
from claimscrub.model import columns as c
from claimscrub.refdata import curated
from claimscrub.rules.context import RuleContext
from claimscrub.rules.diagnosis._common import has_modifier, is_medicare, line_support
from claimscrub.rules.finding import Finding
from claimscrub.rules.registry import rule


def off_label_code(_ctx: RuleContext | None = None) -> pl.Expr:
    """The line's code has curated off-label diagnosis sets: the rule's ``applies_when``
    (a claim without such a code builds no query)."""
    return pl.col(c.HCPCS).is_in(curated.code_off_label_sets().get_column("hcpcs").to_list())


@rule(
    code="DGN006",
    name="diagnosis-off-label-for-code",
    severity=Severity.WARNING,
    # whether the use is paid is each payer's policy, which no bundled file holds
    confidence=Confidence.LOW,
    carc="CO-11",
    requires=("icd10cm",),
    inputs=(c.HCPCS, c.DIAGNOSES),
    source="rules.md R-DX-3 (J7511: other organs / GVHD off-label, payer-specific)",
    applies_when=off_label_code,
)
def diagnosis_off_label_for_code(ctx: RuleContext) -> Finding:
    """The line's diagnoses support its drug only off the label, which payers cover by their own policy.

    ## What it checks
    Lines whose HCPCS code has curated off-label diagnosis sets (`off_label_sets` in
    `refdata/curated/immunosuppressants.yaml`) where no diagnosis the line points to is
    on the label, but one is in such a set. Today that is rabbit antithymocyte globulin
    (J7511, Thymoglobulin): labelled for kidney transplant (Z94.0 at induction, T86.11
    for acute rejection), and used off-label for the other covered organs' transplant
    status and complications (heart, lung, liver ...) and for graft-versus-host disease
    (D89.810–D89.813), which rules.md R-DX-3 calls payer-specific. Lines with GY are left
    alone.

    ## Why it matters
    Whether such use is paid is each payer's policy: some cover it with prior
    authorisation, some deny it as a diagnosis that does not fit the drug (commercial
    plans, Medicaid and Medicare Advantage with CARC 11; Original Medicare as not
    reasonable and necessary, CARC 50). The claim is not wrong as billed, so this is a
    low-confidence warning where DGN001 would report an error: read the payer's policy
    and get the authorisation before the infusion.

    ## Example
    J7511 (rabbit antithymocyte globulin, 25 mg) for heart transplant rejection, T86.21.

    Use instead: nothing to change on the claim when the payer covers the use; keep the
    policy or authorisation on file (JSON `prior_authorization`, 837 REF*G1).

    ## Fix
    None: the diagnosis comes from the medical record.

    ## Options
    None.

    ## Related
    DGN001 (no diagnosis supports the code), PAU001 (prior authorisation missing).

    ## References
    - rules.md R-DX-3 (rabbit ATG: kidney on label; other organs and GVHD off-label,
      payer-specific); R-DX-1 (GVHD codes D89.810–D89.813).
    - Thymoglobulin label (kidney transplant prophylaxis and treatment of acute rejection).
    - ICD-10-CM tabular (billable codes), dataset `icd10cm`.
    """
    lines = line_support(ctx).filter(~has_modifier("GY"))
    return Finding(
        rows=lines,
        violated=pl.col("_off_label") & pl.col("_all_valid"),
        message="{hcpcs} for {_off_label_dx} is off-label use, which payers cover by their own "
        "policy; the label supports it for {_supported_by}: check the payer's policy and "
        "prior authorisation",
        carc=pl.when(is_medicare()).then(pl.lit("CO-50")).otherwise(pl.lit("CO-11")),
    )
