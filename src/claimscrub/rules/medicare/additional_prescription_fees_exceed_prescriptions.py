"""MCR019: more additional-prescription supply fees than additional prescriptions."""

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
    code="MCR019",
    name="additional-prescription-fees-exceed-prescriptions",
    scope="patient",
    severity=Severity.ERROR,
    carc="CO-151",
    fix=Applicability.UNSAFE,
    requires=("hcpcs", "mue"),
    inputs=(c.HCPCS, c.DOS_FROM),
    source="CGS JB DME immunosuppressive drugs fact sheet (Q0512 per additional prescription); NGS (one line per strength); rules.md R-MCR-7",
    applies_when=b.supply_fees_apply,
)
def additional_prescription_fees_exceed_prescriptions(ctx: RuleContext) -> Finding:
    """A claim bills more Q0512 units than it has additional prescriptions.

    ## What it checks
    Claims under a pack with `supply_fees` that bill the additional-prescription fee
    (curated role `additional_in_period`: Q0512). The qualifying prescriptions are the
    claim's immunosuppressive and oral drug lines (one per `prescription_number` when
    given, else one per line: each strength is its own line). One of them is the first
    prescription of the 30-day period — unless an initial or first-prescription fee
    (Q0510 / Q0511) for the patient was billed on another claim within the period before
    this one (history or batch) and none is on this claim. The remaining ones are the
    additional prescriptions; the claim's Q0512 units must not exceed them. The finding
    is on the claim's first Q0512 line.

    ## Why it matters
    Q0512 pays one unit per additional prescription in the period; more units than
    prescriptions are denied (CARC 151). Combining two strengths on one drug line makes a
    correct second fee look excessive (NGS: J7507 is the most mis-billed code for this).

    ## Example
    J7507 and J7517 lines with Q0511 × 1 and Q0512 × 2 on 2025-06-10.

    Use instead: Q0512 × 1 (two prescriptions: one first, one additional).

    ## Fix
    Unsafe: Q0512 units = the additional prescriptions, when the claim has one Q0512 line
    and at least one additional prescription. Otherwise none.

    ## Options
    None.

    ## Related
    MCR018 (Q0511 repeated in the period); MCR011 (fee without a drug line); MUE rules
    (DME-supplier MUE for Q0512 is 4 per date).

    ## References
    - CGS JB DME, immunosuppressive drugs fact sheet; NGS, billing for immunosuppressive
      drugs (one line per strength, second supply fee).
    - rules.md R-MCR-7, R-UNIT-2; failure class SUPPLY_FEE_INCONSISTENT.
    """
    initial = curated.supply_fee_code("initial")
    first = curated.supply_fee_code("first_in_period")
    applies = b.supply_fees_apply()
    lines = b.benefit_frame(ctx, applies)
    claim = c.CLAIM_KEY
    is_additional = pl.col(b.FEE_ROLE) == "additional_in_period"
    lines = lines.with_columns(
        b.prescriptions_on_claim().alias("_n_rx"),
        pl.col(c.UNITS).filter(is_additional).sum().over(claim).alias("_fee_units"),
        pl.col(c.LINE_NO).filter(is_additional).min().over(claim).alias("_first_fee_line"),
        is_additional.sum().over(claim).alias("_fee_lines"),
        pl.col(b.FEE_ROLE)
        .is_in(["initial", "first_in_period"])
        .any()
        .over(claim)
        .alias("_first_here"),
    ).filter(is_additional & (pl.col(c.LINE_NO) == pl.col("_first_fee_line")))
    lines = lines.with_row_index("_r")
    days_apart = (pl.col(c.DOS_FROM) - pl.col(b.P_DOS)).dt.total_days()
    before = (
        lines.select("_r", c.PATIENT_ID, c.CLAIM_KEY, c.LINE_NO, c.DOS_FROM, b.FEE_PERIOD_DAYS)
        .join(b.fee_pool(ctx, [initial, first]), on=c.PATIENT_ID, how="inner")
        .filter(
            (pl.col(b.P_HISTORY) | (pl.col(b.P_CLAIM) != pl.col(c.CLAIM_KEY)))
            & b.pool_line_is_earlier()
            & (days_apart < pl.col(b.FEE_PERIOD_DAYS))
        )
        .group_by("_r")
        .agg(pl.col(b.P_DOS).max().alias("_first_before"))
    )
    lines = lines.join(before, on="_r", how="left", maintain_order="left")
    earlier_first_counts = pl.col("_first_before").is_not_null() & ~pl.col("_first_here")
    allowed = pl.max_horizontal(
        pl.col("_n_rx").fill_null(0) - pl.when(earlier_first_counts).then(0).otherwise(1),
        pl.lit(0),
    )
    basis = (
        pl.when(pl.col("_first_here"))
        .then(pl.lit("one of them takes the first-prescription fee billed on this claim"))
        .when(earlier_first_counts)
        .then(
            pl.format(
                "the period's first-prescription fee was billed on {}", pl.col("_first_before")
            )
        )
        .otherwise(pl.format("one of them is the period's first prescription ({})", pl.lit(first)))
    )
    return Finding(
        rows=lines.with_columns(allowed.alias("_allowed"), basis.alias("_basis")),
        violated=(pl.col("_fee_units") > pl.col("_allowed")).fill_null(False),
        message=(
            "{_fee_units|unit} of {hcpcs} on the claim for {_n_rx|drug prescription} "
            "on {dos_from}; {_basis}, so {_allowed|additional-prescription fee} can be billed"
        ),
        fix={
            "units": pl.when((pl.col("_fee_lines") == 1) & (pl.col("_allowed") > 0)).then(
                pl.col("_allowed").cast(pl.Int64)
            )
        },
        fix_title="Bill {_allowed|unit} of {hcpcs}",
    )
