"""MCR012: the initial supply fee is billed after the first month following the transplant."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Applicability, Severity
from claimscrub.model import columns as c
from claimscrub.refdata import curated
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.medicare import _benefit as b
from claimscrub.rules.registry import rule


@rule(
    code="MCR012",
    name="initial-supply-fee-after-first-month",
    severity=Severity.ERROR,
    carc="CO-B15",
    fix=Applicability.UNSAFE,
    requires=("hcpcs", "mue"),
    inputs=(c.HCPCS, c.DOS_FROM, c.TRANSPLANTS),
    source="CGS JB DME immunosuppressive drugs fact sheet (Q0510); rules.md R-MCR-7",
    applies_when=b.supply_fees_apply,
)
def initial_supply_fee_after_first_month(ctx: RuleContext) -> Finding:
    """The initial supply fee is dated after the first month following the transplant.

    ## What it checks
    Initial supply fee lines (curated role `initial`: Q0510) under a pack with
    `supply_fees`, against the patient's latest recorded transplant dated on or before
    the line: the line must be dated no later than one month (curated
    `months_after_transplant`) after that transplant. Lines without a dated transplant on
    or before them are left to MCR006 / MCR005.

    ## Why it matters
    Q0510 pays the supplier for the first immunosuppressive prescription in the first
    month after a transplant; later prescriptions take Q0511 (first in a 30-day period)
    or Q0512 (each additional one). A Q0510 outside the first month is denied (CARC B15;
    some contractors answer CARC 16).

    ## Example
    Q0510 dated 2025-06-10 with J7507; the kidney transplant was on 2021-03-14.

    Use instead: Q0511.

    ## Fix
    Unsafe: the first-prescription fee code (Q0511) instead, when the claim has no other
    first-prescription fee line; otherwise none.

    ## Options
    None.

    ## Related
    MCR017 (Q0510 billed twice for one transplant); MCR018 (Q0511 once per 30 days);
    MCR011 (fee without a drug line).

    ## References
    - CGS JB DME, immunosuppressive drugs fact sheet (supply fees).
    - rules.md R-MCR-7; failure class SUPPLY_FEE_INCONSISTENT.
    """
    first_fee = curated.supply_fee_code("first_in_period")
    applies = b.supply_fees_apply()
    lines = b.benefit_lines_status(ctx).filter(applies.fill_null(False))
    lines = lines.with_columns(
        (pl.col(c.HCPCS) == first_fee).any().over(c.CLAIM_KEY).alias("_has_first_fee")
    ).filter(pl.col(b.FEE_ROLE) == "initial")
    window_end = pl.col(b.TX_LATEST).dt.offset_by(pl.format("{}mo", pl.col(b.FEE_MONTHS)))
    return Finding(
        rows=lines.with_columns(window_end.alias("_window_end")),
        violated=(pl.col(c.DOS_FROM) > pl.col("_window_end")).fill_null(False),
        message=(
            "{hcpcs} is dated {dos_from}, after the first month following the transplant of "
            "{_tx_latest} (it ended {_window_end})"
        ),
        fix={"hcpcs": pl.when(~pl.col("_has_first_fee")).then(pl.lit(first_fee))},
        fix_title=f"Bill {first_fee} (the first-prescription fee) instead",
    )
