"""MCR009: the place of service is not one the DME MAC accepts for the drug."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Applicability, Severity
from claimscrub.model import columns as c
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.medicare import _benefit as b
from claimscrub.rules.registry import rule


@rule(
    code="MCR009",
    name="place-of-service-not-valid-for-dme",
    severity=Severity.ERROR,
    carc="CO-5",
    rarc=("M77",),
    fix=Applicability.UNSAFE,
    requires=("hcpcs", "mue", "pos"),
    inputs=(c.HCPCS, c.DOS_FROM),
    source="Noridian DME place of service; rules.md R-MCR-6",
    applies_when=b.benefit_applies,
)
def place_of_service_not_valid_for_dme(ctx: RuleContext) -> Finding:
    """An immunosuppressive drug or supply fee line has a place of service the DME MAC refuses.

    ## What it checks
    Immunosuppressive drug lines and pharmacy supply fee lines under a pack with the
    Medicare immunosuppressive drug benefit. The place of service (the line's SV105 when
    given, else the claim's CLM05-1) must be one of the curated DME places of service:
    01, 04, 09, 12, 13, 14, 27, 33, 54, 55, 56; 31 (SNF) and 32 (nursing facility) only
    when the patient is not in a Part A-covered SNF stay (`part_a_snf_stay`). POS 21
    (inpatient hospital) and 65 (parenteral nutrition only) are refused. When
    `part_a_snf_stay` is not given, 31 and 32 are not reported.

    ## Why it matters
    For DMEPOS the place of service is where the beneficiary uses the item. During a Part
    A SNF stay the SNF bills the drug (consolidated billing); an inpatient stay is paid
    by Part A. Such lines are denied (CARC 5 + RARC M77).

    ## Example
    J7507 dated 2025-06-10 (the discharge date), place of service 21.

    Use instead: place of service 12 (home) with the discharge date as the date of service
    (pre-discharge delivery).

    ## Fix
    Unsafe: place of service 12, only when the date of service is the claim's discharge
    date (the pre-discharge delivery exception; the code is the curated
    `medicare_benefit.pre_discharge_delivery.place_of_service`). Otherwise none: where the patient uses
    the drug is for the biller to state.

    ## Options
    None. The accepted codes are curated facts
    (`medicare_benefit.dme_places_of_service`).

    ## Related
    MCR010 (date of service around an inpatient stay). A claim with POS 21 and no
    explicit payer policy falls under the `medicare-ab` pack (its `default_for` lists DME
    places of service only): RTE001 then reports the oral drug.

    ## References
    - Noridian DME, place of service; policy article A52474.
    - rules.md R-MCR-6, R-MCR-5; failure class POS_INVALID.
    """
    facts = b.setting("dme_places_of_service")
    accepted = list(facts["accepted"])
    outside_snf = list(facts["accepted_unless_part_a_snf_stay"])
    home = b.setting("pre_discharge_delivery")["place_of_service"]
    lines = b.benefit_frame(ctx, b.benefit_applies()).filter(
        pl.col(b.IMMUNO_LINE) | pl.col(b.FEE_ROLE).is_not_null()
    )
    lines = lines.with_columns(
        pl.coalesce(c.LINE_PLACE_OF_SERVICE, c.PLACE_OF_SERVICE).str.strip_chars().alias("_pos")
    )
    lines = ctx.refdata.lookup(
        lines, "pos", on={"_pos": "pos_code"}, as_of=c.DOS_FROM, columns={"pos_name": "_pos_name"}
    )
    pos = pl.col("_pos")
    snf_stay = pl.col(c.PART_A_SNF_STAY).fill_null(False)
    in_snf = pos.is_in(outside_snf) & snf_stay
    violated = pos.is_not_null() & ~pos.is_in(accepted) & (~pos.is_in(outside_snf) | snf_stay)
    why = (
        pl.when(in_snf)
        .then(pl.lit("the patient is in a Part A-covered SNF stay, so the SNF bills the drug"))
        .otherwise(pl.lit("it is not a place of service the DME MAC accepts for this line"))
    )
    name = pl.when(pl.col("_pos_name").is_not_null()).then(pl.format(" ({})", pl.col("_pos_name")))
    # A refused place of service on the discharge date: the pre-discharge delivery exception.
    pre_discharge = ~in_snf & (pl.col(c.DOS_FROM) == pl.col(c.DISCHARGE_DATE))
    return Finding(
        rows=lines.with_columns(why.alias("_why"), name.fill_null("").alias("_name")),
        violated=violated,
        message="{hcpcs} on {dos_from} has place of service {_pos}{_name}; {_why}",
        fix={"place_of_service": pl.when(pre_discharge.fill_null(False)).then(pl.lit(home))},
        fix_title=f"Use place of service {home}: a pre-discharge delivery dated the discharge date",
    )
