"""RTE001: a self-administered oral immunosuppressive drug is billed to the A/B MAC."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Applicability, Severity
from claimscrub.model import columns as c
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.medicare import _benefit as b
from claimscrub.rules.registry import rule


def _checked(ctx: RuleContext) -> pl.Expr:
    """The lines this rule checks: billed to an A/B MAC, of a claim type it checks."""
    claim_types = list(ctx.options["claim_types"])
    return b.billed_to("ab_mac") & pl.col(c.CLAIM_TYPE).is_in(claim_types).fill_null(False)


@rule(
    code="RTE001",
    name="oral-immunosuppressive-billed-to-ab-mac",
    severity=Severity.ERROR,
    carc="CO-109",
    fix=Applicability.DISPLAY_ONLY,
    requires=("hcpcs", "mue"),
    inputs=(c.HCPCS, c.DOS_FROM),
    options={"claim_types": ["professional"]},
    source="CMS DMEPOS jurisdiction list (J7500-J7599); CGS Part B; rules.md R-MCR-2",
    applies_when=_checked,
)
def oral_immunosuppressive_billed_to_ab_mac(ctx: RuleContext) -> Finding:
    """An oral immunosuppressive drug line is on a claim to the Medicare A/B MAC.

    ## What it checks
    Lines under a pack whose `contractor` is `ab_mac` (the `medicare-ab` pack) on claims
    of the types in the option `claim_types` (professional: 837P), whose code is valid on
    the date of service, typed an immunosuppressive drug by CMS (type of service G) and
    oral by its descriptor (J7500, J7502, J7503, J7507, J7508, J7509, J7510, J7512, J7514,
    J7515, J7517, J7518, J7520, J7521, J7527, J7528 ...). The message adds the CMS
    practitioner MUE when it is 0 ("oral medication; not payable"), which makes the same
    point in CMS's own data.

    ## Why it matters
    Original Medicare pays self-administered oral immunosuppressive drugs through the DME
    MAC (pharmacy or supplier, with the NDC and supply fee) — also when a physician
    dispenses a take-home supply or an OPPS hospital does. The A/B MAC returns such lines
    as billed to the wrong contractor (CARC 109); through the practitioner MUE of 0 they
    can also deny as CARC 151 + N362.

    ## Example
    J7507 × 60 on a professional claim to the A/B MAC, dated 2025-06-10.

    Use instead: the same line on an 837P to the DME MAC (payer policy `medicare-dme`),
    with NDC and days' supply.

    ## Fix
    Display only: the payer policy of the DME MAC (`payer.policy`, the one pack whose
    contractor is `dme_mac`).

    ## Options
    - `claim_types` (list, default `["professional"]`): claim types checked. Institutional
      claims are left out by default: a critical access hospital (not under OPPS) bills
      take-home supplies to the A/B MAC, and an oral dose given during an outpatient visit
      is packaged on the hospital claim.

    ## Related
    RTE002 (injected drug billed to the DME MAC); the MUE rules (units over the
    practitioner MUE of 0 report the same line as CARC 151).

    ## References
    - CMS DMEPOS jurisdiction list (J7500-J7599: Part B MAC when incident to a physician
      service, otherwise DME MAC); CGS Part B (oral immunosuppressives not payable by the
      A/B MAC); CMS Claims Processing Manual ch. 17 §80.3.
    - rules.md R-MCR-2, section 6; failure class WRONG_CONTRACTOR.
    """
    lines = b.benefit_lines_with_mue(ctx, "practitioner", b.PRACTITIONER_MUE).filter(_checked(ctx))
    value = pl.col(f"{b.PRACTITIONER_MUE}_value")
    mue_note = (
        pl.when(value == 0)
        .then(
            pl.format(
                "; its CMS practitioner MUE ({}) is 0 ({})",
                pl.col(f"{b.PRACTITIONER_MUE}_release"),
                pl.col(f"{b.PRACTITIONER_MUE}_rationale").str.to_lowercase(),
            )
        )
        .otherwise(pl.lit(""))
    )
    return Finding(
        rows=lines.with_columns(
            b.pack_for_contractor(ctx.packs, "dme_mac").alias("_target"),
            mue_note.alias("_mue_note"),
        ),
        violated=pl.col("hcpcs_valid").fill_null(False)
        & pl.col(b.IMMUNO)
        & (pl.col(b.ROUTE) == "oral").fill_null(False),
        message=(
            "{hcpcs} ({_descriptor}) is a self-administered oral immunosuppressive drug "
            "billed to the Medicare A/B MAC{_mue_note}; Original Medicare pays it through "
            "the DME MAC"
        ),
        fix={"payer.policy": pl.col("_target")},
        fix_title="Bill the DME MAC (payer policy {_target})",
    )
