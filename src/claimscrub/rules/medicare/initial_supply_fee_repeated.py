"""MCR017: the initial supply fee is billed more than once for one transplant."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Applicability, Severity
from claimscrub.model import columns as c
from claimscrub.refdata import curated
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.medicare import _benefit as b
from claimscrub.rules.registry import rule
from claimscrub.rules.units.common import counted_text


@rule(
    code="MCR017",
    name="initial-supply-fee-repeated",
    scope="patient",
    severity=Severity.ERROR,
    carc="CO-151",
    fix=Applicability.UNSAFE,
    requires=("hcpcs", "mue"),
    inputs=(c.HCPCS, c.DOS_FROM),
    source="CGS JB DME immunosuppressive drugs fact sheet (Q0510 once per transplant); rules.md R-MCR-7",
    applies_when=b.supply_fees_apply,
)
def initial_supply_fee_repeated(ctx: RuleContext) -> Finding:
    """The initial supply fee is billed with more than one unit or twice for a transplant.

    ## What it checks
    Initial supply fee lines (curated role `initial`: Q0510) under a pack with
    `supply_fees`: more units than the curated maximum (1), or another initial fee for the
    same patient (`patient.id`) billed earlier — in the history or earlier in this batch —
    on or after the patient's latest transplant dated on or before the line. A
    multi-organ transplant done at once counts as one.

    ## Why it matters
    Q0510 is paid once per transplant, to one supplier, for the first prescription after
    it; extra units or a second Q0510 are denied (CARC 151; the DME-supplier MUE is 1 per
    date, MAI 2).

    ## Example
    Q0510 on 2025-04-02, and Q0510 already billed on 2025-03-20 after the kidney
    transplant of 2025-03-12.

    Use instead: Q0511 for the first prescription of the new 30-day period, Q0512 for
    each additional one.

    ## Fix
    Unsafe: 1 unit, when the only problem is the unit count. Otherwise none.

    ## Options
    None.

    ## Related
    MCR012 (Q0510 after the first month); MCR018 (Q0511); MCR019 (Q0512); MUE rules
    (units per date).

    ## References
    - CGS JB DME, immunosuppressive drugs fact sheet (supply fees).
    - rules.md R-MCR-7, section 6; failure class SUPPLY_FEE_INCONSISTENT.
    """
    initial = curated.supply_fee_code("initial")
    applies = b.supply_fees_apply()
    lines = (
        b.benefit_lines_status(ctx)
        .filter(applies.fill_null(False) & (pl.col(b.FEE_ROLE) == "initial"))
        .with_row_index("_r")
    )
    prior = (
        lines.select("_r", c.PATIENT_ID, c.CLAIM_KEY, c.LINE_NO, c.DOS_FROM, b.TX_LATEST)
        .join(b.fee_pool(ctx, [initial]), on=c.PATIENT_ID, how="inner")
        .filter(
            b.pool_line_is_other()
            & b.pool_line_is_earlier()
            & (pl.col(b.P_DOS) >= pl.col(b.TX_LATEST))
        )
        .group_by("_r")
        .agg(pl.col(b.P_DOS).max().alias("_prior_dos"))
    )
    lines = lines.join(prior, on="_r", how="left", maintain_order="left")
    too_many = (pl.col(c.UNITS) > pl.col(b.FEE_MAX_UNITS)).fill_null(False)
    repeated = pl.col("_prior_dos").is_not_null()
    why = (
        pl.when(repeated)
        .then(
            pl.format(
                "{} was already billed on {} for the transplant of {}; it is paid once per transplant",
                pl.col(c.HCPCS),
                pl.col("_prior_dos"),
                pl.col(b.TX_LATEST),
            )
        )
        .otherwise(
            pl.format(
                "{} of {} billed; at most {} per transplant",
                counted_text(pl.col(c.UNITS), "unit"),
                pl.col(c.HCPCS),
                pl.col(b.FEE_MAX_UNITS),
            )
        )
    )
    return Finding(
        rows=lines.with_columns(why.alias("_why")),
        violated=too_many | repeated,
        message="{_why} (line dated {dos_from})",
        fix={"units": pl.when(too_many & ~repeated).then(pl.col(b.FEE_MAX_UNITS))},
        fix_title="Bill {_fee_max_units|unit}",
    )
