"""PAU001: the payer requires prior authorisation for the code and the claim names none."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Confidence, Severity
from claimscrub.model import columns as c
from claimscrub.payers.packs import PACK
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.policy._common import (
    has_authorization,
    listed_in,
    pack_list,
    patient_organs,
)
from claimscrub.rules.registry import rule


@rule(
    code="PAU001",
    name="prior-authorization-missing",
    severity=Severity.ERROR,
    # which drugs need authorisation is a payer pattern in the pack, not
    # a dated CMS file.
    confidence=Confidence.MEDIUM,
    carc="CO-197",
    inputs=(c.HCPCS,),
    source="payer policy pack `prior_authorization` (e.g. UHC / Humana MA Envarsus XR, UHC ATG); "
    "rules.md §7; §8 PA_MISSING",
    applies_when=listed_in("prior_authorization"),
)
def prior_authorization_missing(ctx: RuleContext) -> Finding:
    """The payer requires prior authorisation for the drug and the claim names no authorisation.

    ## What it checks
    Lines whose code is in their payer policy pack's `prior_authorization` list
    (commercial: J7503 Envarsus XR, J7504 Atgam, J7511 Thymoglobulin; Medicare
    Advantage: J7503; Medicaid: J7508 Astagraf XL, a non-preferred product) on claims
    with no authorisation: no prior authorisation number (837P/837I 2300 REF*G1, JSON
    `prior_authorization`) and no `authorization` answer with a number or a status.
    A denied or pending authorisation is PAU002's.

    When the pack's entry names the organs its criteria cover (`organs`, e.g. kidney
    for Envarsus XR) and the patient's transplants are known and include none of
    them, the message says so: the request is then likely to be refused as well.

    ## Why it matters
    Commercial plans, Medicare Advantage plans and Medicaid programs deny a drug that
    needs prior authorisation when none was obtained (CARC 197). Original Medicare has
    no such requirement for these drugs (rules.md §9).

    ## Example
    J7503 (tacrolimus, extended release (Envarsus XR), oral, 0.25 mg) to a commercial
    plan with no prior authorisation number.

    Use instead: request the authorisation (kidney transplant recipient, not a
    candidate for immediate-release tacrolimus or already stable on Envarsus XR) and
    report its number in REF*G1.

    ## Fix
    None: the number comes from the payer.

    ## Options
    None. The codes and their criteria come from the payer policy packs
    (`prior_authorization: [{hcpcs, organs, reason}]`).

    ## Related
    PAU002 (authorisation denied, pending, exceeded or not matching), PAU003 (step
    therapy not met), PAU005 (non-preferred product).

    ## References
    - rules.md §7 (commercial payer patterns: UnitedHealthcare Envarsus XR criteria,
      Humana Medicare Advantage Envarsus XR, UnitedHealthcare ATG policy, Oregon PDL).
    - rules.md §8 CARC 197.
    """
    required = pack_list(
        ctx,
        "prior_authorization",
        {"hcpcs": pl.String(), "organs": pl.List(pl.String()), "reason": pl.String()},
    ).unique([PACK, "hcpcs"], keep="first", maintain_order=True)
    lines = ctx.lines.join(required, on=[PACK, c.HCPCS], how="inner").with_columns(
        patient_organs().alias("_patient_organs")
    )
    organs = pl.col("organs").fill_null(pl.lit([], dtype=pl.List(pl.String)))
    outside = (
        (organs.list.len() > 0)
        & (pl.col("_patient_organs").list.len() > 0)
        & (organs.list.set_intersection(pl.col("_patient_organs")).list.len() == 0)
    )
    criteria = pl.when(outside).then(
        pl.format(
            "; the criteria cover {} transplant recipients and this patient's transplants are {}",
            organs.list.join(", "),
            pl.col("_patient_organs").list.join(", "),
        )
    )
    return Finding(
        rows=lines.with_columns(
            pl.col("reason").fill_null("prior authorisation required").alias("_reason"),
            criteria.fill_null("").alias("_criteria"),
        ),
        violated=~has_authorization(),
        message="{hcpcs} needs prior authorisation under payer policy {pack} ({_reason}) and "
        "the claim has no authorisation number{_criteria}",
    )
