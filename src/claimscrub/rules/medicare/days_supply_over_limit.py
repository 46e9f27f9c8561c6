"""MCR007: one dispense is more than the days' supply the payer allows on its date."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Severity
from claimscrub.model import columns as c
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.medicare import _benefit as b
from claimscrub.rules.registry import rule


@rule(
    code="MCR007",
    name="days-supply-over-limit",
    severity=Severity.ERROR,
    carc="CO-50",
    requires=("hcpcs", "mue"),
    inputs=(c.HCPCS, c.DOS_FROM, c.DAYS_SUPPLY),
    source="CMS MLN compliance tip (30 days to 2024-12-31, 90 days from 2025-01-01); rules.md R-MCR-4",
    applies_when=b.days_supply_limit_applies,
)
def days_supply_over_limit(ctx: RuleContext) -> Finding:
    """An immunosuppressive drug line dispenses more days than the limit on its date.

    ## What it checks
    Immunosuppressive drug lines (type of service G) with a `days_supply`, under a pack
    whose `max_days_supply` is set on the line's date. The `medicare-dme` pack allows a
    30-day supply for dates up to 2024-12-31 and a 90-day supply from 2025-01-01, so the
    same 90-day fill passes in 2025 and fails in 2024.

    ## Why it matters
    Medicare pays at most the supply its policy allows per dispense; the excess is denied
    as not reasonable and necessary (CARC 50, or PR-50 when a valid ABN is on file and
    the line carries GA; some contractors answer CARC 151 + N362), and the supply fee
    billed with it is denied too.

    ## Example
    J7507, 180 units (1 mg capsules, 2 a day), `days_supply` 90, dated 2024-11-15.

    Use instead: a 30-day supply (60 units) in 2024; 90 days is allowed from 2025-01-01.

    ## Fix
    None: the quantity dispensed has already left the pharmacy; bill what the limit
    allows and split future fills.

    ## Options
    None; the limit is the pack setting `max_days_supply` (effective-dated `periods`).

    ## Related
    MCR016 (days' supply missing); MCR008 (refill too early); MUE rules (units per day).

    ## References
    - CMS MLN compliance tip, immunosuppressive drugs (90-day supply from 2025-01-01);
      CMS Claims Processing Manual ch. 17 §80.3 and CGS 2016 (30-day supply).
    - rules.md R-MCR-4; failure class QTY_OVER_SUPPLY_LIMIT.
    """
    applies = b.days_supply_limit_applies()
    lines = b.benefit_frame(ctx, applies).filter(pl.col(b.IMMUNO_LINE))
    days = pl.col(c.DAYS_SUPPLY)
    return Finding(
        rows=lines,
        violated=(days > 0) & (days > pl.col(b.MAX_DAYS_SETTING)),
        message=(
            "{hcpcs} dispenses a {days_supply}-day supply on {dos_from}; the limit on that "
            "date is {pack_max_days_supply} days"
        ),
        carc=pl.when(b.has_modifier("GA")).then(pl.lit("PR-50")).otherwise(pl.lit("CO-50")),
    )
