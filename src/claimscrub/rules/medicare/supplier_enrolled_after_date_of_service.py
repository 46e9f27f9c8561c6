"""MCR020: the supplier's Medicare enrolment starts after the claim's dates of service."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Severity
from claimscrub.model import columns as c
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.medicare import _benefit as b
from claimscrub.rules.registry import rule


@rule(
    code="MCR020",
    name="supplier-enrolled-after-date-of-service",
    severity=Severity.ERROR,
    carc="CO-B7",
    scope="claim",
    inputs=(c.HCPCS, c.DOS_FROM, c.SUPPLIER_ENROLLED_SINCE),
    source="X12 CARC B7 (provider not certified/eligible on the date of service); rules.md section 8",
    applies_when=b.benefit_applies,
)
def supplier_enrolled_after_date_of_service(ctx: RuleContext) -> Finding:
    """Lines are dated before the supplier's Medicare enrolment took effect.

    ## What it checks
    Claims under a pack with the Medicare immunosuppressive drug benefit that give the
    supplier's enrolment date (`supplier.enrolled_since`): the lines dated before it. One
    finding per claim lists them.

    ## Why it matters
    A DME supplier is paid only for items furnished while its Medicare enrolment is in
    effect; earlier dates are denied because the supplier was not eligible on the date of
    service (CARC B7).

    ## Example
    Supplier enrolled since 2025-07-01; J7507 dated 2025-06-10.

    Use instead: bill only dates of service from the enrolment's effective date.

    ## Fix
    None.

    ## Options
    None.

    ## Related
    None in this category.

    ## References
    - X12 CARC B7; CMS-855S supplier enrolment (effective date of billing privileges).
    - rules.md section 8; failure class PROVIDER_NOT_ELIGIBLE.
    """
    lines = ctx.lines.filter(b.benefit_applies() & pl.col(c.SUPPLIER_ENROLLED_SINCE).is_not_null())
    early = pl.col(c.DOS_FROM) < pl.col(c.SUPPLIER_ENROLLED_SINCE)
    per_claim = (
        lines.filter(early.fill_null(False))
        .group_by(c.CLAIM_KEY)
        .agg(
            pl.col(c.LINE_NO).sort().cast(pl.String).str.join(", ").alias("_lines"),
            pl.col(c.DOS_FROM).min().alias("_first_dos"),
            pl.col(c.SUPPLIER_ENROLLED_SINCE).first(),
            pl.col(c.SUPPLIER_NPI).first().fill_null("(no NPI given)"),
        )
    )
    return Finding(
        rows=per_claim,
        violated=pl.lit(True),
        message=(
            "The supplier {supplier_npi} is enrolled in Medicare from "
            "{supplier_enrolled_since}; line(s) {_lines} are dated before that (from "
            "{_first_dos})"
        ),
    )
