"""MCR016: an immunosuppressive drug line has no days' supply to check the limit with."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Severity
from claimscrub.model import columns as c
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.medicare import _benefit as b
from claimscrub.rules.registry import rule


@rule(
    code="MCR016",
    name="days-supply-missing",
    severity=Severity.INFO,
    requires=("hcpcs", "mue"),
    inputs=(c.HCPCS, c.DOS_FROM),
    source="CMS MLN compliance tip (days' supply limit); rules.md R-MCR-4, R-MCR-5",
    applies_when=b.days_supply_limit_applies,
)
def days_supply_missing(ctx: RuleContext) -> Finding:
    """An immunosuppressive drug line does not say how many days it supplies.

    ## What it checks
    Immunosuppressive drug lines (type of service G) under a pack with a
    `max_days_supply` on the line's date, whose `days_supply` is empty.

    ## Why it matters
    The supply limit (MCR007) and the refill timing (MCR008) are computed from the days'
    supply; without it neither can be checked, and the scrubber does not guess it from
    the units (the prescribed dose per day is not on the claim).

    ## Example
    J7507, 180 units, no `days_supply`, dated 2025-06-10.

    Use instead: `days_supply: 90` (the prescription's quantity ÷ daily dose).

    ## Fix
    None: the days' supply comes from the prescription.

    ## Options
    None.

    ## Related
    MCR007 (days' supply over the limit); MCR008 (refill too early).

    ## References
    - CMS MLN compliance tip, immunosuppressive drugs.
    - rules.md R-MCR-4 (days_supply = total mg ÷ prescribed mg per day), R-MCR-5.
    """
    applies = b.days_supply_limit_applies()
    lines = b.benefit_frame(ctx, applies).filter(pl.col(b.IMMUNO_LINE))
    return Finding(
        rows=lines,
        violated=pl.col(c.DAYS_SUPPLY).is_null(),
        message=(
            "{hcpcs} on {dos_from} has no days' supply; the {pack_max_days_supply}-day limit "
            "and the refill timing cannot be checked"
        ),
    )
