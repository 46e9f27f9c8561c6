"""RTE002: an injected drug the DME MAC does not pay is billed to the DME MAC."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Applicability, Severity
from claimscrub.model import columns as c
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.medicare import _benefit as b
from claimscrub.rules.registry import rule


def _checked(_ctx: RuleContext) -> pl.Expr:
    """The lines this rule checks: billed to a DME MAC."""
    return b.billed_to("dme_mac")


@rule(
    code="RTE002",
    name="injected-drug-billed-to-dme-mac",
    severity=Severity.ERROR,
    carc="CO-109",
    fix=Applicability.DISPLAY_ONLY,
    requires=("hcpcs", "mue"),
    inputs=(c.HCPCS, c.DOS_FROM),
    source="CMS MUE DME-supplier table (value 0); CMS DMEPOS jurisdiction list; rules.md R-MCR-2, R-MCR-10",
    applies_when=_checked,
)
def injected_drug_billed_to_dme_mac(ctx: RuleContext) -> Finding:
    """An injected or infused drug with a DME-supplier MUE of 0 is billed to the DME MAC.

    ## What it checks
    Lines under a pack whose `contractor` is `dme_mac` (the `medicare-dme` pack) whose
    code is valid on the date of service, is given by injection or infusion according to
    its CMS descriptor (parenteral, injection, infusion, intravenous, intramuscular,
    subcutaneous, intradermal), and has a DME-supplier MUE of 0 in the MUE release in
    force (CMS: the DME MAC does not pay it). Among the transplant drugs that is J7504
    (equine ATG), J7511 (rabbit ATG), J7516 (cyclosporine injection), J7525 (tacrolimus
    injection), J0480 (basiliximab) and J0485 (belatacept). J7501 (azathioprine,
    parenteral) and J7519 (mycophenolate mofetil injection) have DME-supplier MUEs above
    0 and are not reported.

    ## Why it matters
    Infused transplant drugs given in a physician's office or a hospital outpatient
    department are Part B drugs paid by the A/B MAC (837P with POS 11, or 837I with
    revenue code 0636); the DME MAC returns them as billed to the wrong contractor (CARC
    109), and its MUE of 0 denies any units (CARC 151 + N362).

    ## Example
    J7511 × 5 (Thymoglobulin 25 mg vials, NDC 58468008001) on a claim to the DME MAC.

    Use instead: the A/B MAC (payer policy `medicare-ab`), billed by the practitioner or
    hospital that gave the infusion.

    ## Fix
    Display only: the payer policy of the A/B MAC (`payer.policy`, the one pack whose
    contractor is `ab_mac`).

    ## Options
    None.

    ## Related
    RTE001 (oral immunosuppressive billed to the A/B MAC); the MUE rules (units over the
    DME-supplier MUE of 0 report the same line as CARC 151); the MCR rules leave these
    lines alone.

    ## References
    - CMS NCCI MUE tables, DME supplier services (2024-07-01 release); CMS DMEPOS
      jurisdiction list; NCD 260.7 (J7504).
    - rules.md R-MCR-2, R-MCR-10, section 6; failure class WRONG_CONTRACTOR.
    """
    # The shared benefit lines carry the code facts and the DME-supplier MUE.
    lines = b.benefit_lines(ctx).filter(_checked(ctx))
    return Finding(
        rows=lines.with_columns(
            b.pack_for_contractor(ctx.packs, "ab_mac").alias("_target"),
            pl.col(f"{b.DME_MUE}_rationale").str.to_lowercase(),
        ),
        violated=b.injected_not_paid_by_dme_mac(),
        message=(
            "{hcpcs} ({_descriptor}) is given by injection or infusion; its CMS "
            "DME-supplier MUE ({_dme_mue_release}) is 0 ({_dme_mue_rationale}), so the "
            "DME MAC does not pay it; given in a practitioner's office or hospital "
            "outpatient department it is billed to the A/B MAC"
        ),
        fix={"payer.policy": pl.col("_target")},
        fix_title="Bill the A/B MAC (payer policy {_target})",
    )
