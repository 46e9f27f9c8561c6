"""MCR018: the first-prescription supply fee is billed twice in one 30-day period."""

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
    code="MCR018",
    name="first-prescription-supply-fee-repeated",
    scope="patient",
    severity=Severity.ERROR,
    carc="CO-151",
    fix=Applicability.UNSAFE,
    requires=("hcpcs", "mue"),
    inputs=(c.HCPCS, c.DOS_FROM),
    source="CGS JB DME immunosuppressive drugs fact sheet (Q0511 / Q0512); rules.md R-MCR-7",
    applies_when=b.supply_fees_apply,
)
def first_prescription_supply_fee_repeated(ctx: RuleContext) -> Finding:
    """A first-prescription fee follows another first fee within the same 30-day period.

    ## What it checks
    First-prescription supply fee lines (curated role `first_in_period`: Q0511) under a
    pack with `supply_fees`: more units than the curated maximum (1), or an initial or
    first-prescription fee (Q0510 / Q0511) for the same patient billed earlier within the
    curated period (30 days: dated less than 30 days before) — in the history, earlier in
    this batch, or on the same date before it. A Q0510 on the same date always counts as
    the earlier one.

    ## Why it matters
    Q0511 pays the first covered prescription of a 30-day period; each further
    prescription in that period takes Q0512, and in the first month after a transplant
    Q0510 takes the place of Q0511 (three drugs in the first month: one Q0510 and two
    Q0512). A second Q0511 is denied (CARC 151; DME-supplier MUE 1 per date, MAI 2).

    ## Example
    Q0511 on 2025-06-20; Q0511 was billed on 2025-06-10 with the patient's J7507.

    Use instead: Q0512 for the 2025-06-20 prescription.

    ## Fix
    Unsafe: Q0512 (same units) when an earlier first fee is in the period and the claim
    has a prescription that no fee on it pays yet (another Q0510 or Q0511 on the claim
    pays one, each Q0512 unit one); without one the line is not billable, which the
    message says, and there is no fix. When the claim already has a Q0512 line, the
    message asks to count the prescription there (a second Q0512 line would be a
    duplicate line), and there is no fix either. Otherwise, for extra units only, 1 unit of Q0511
    (add the further prescriptions as Q0512).

    ## Options
    None.

    ## Related
    MCR019 (more Q0512 than additional prescriptions); MCR017 / MCR012 (Q0510); MCR011
    (fee without a drug line).

    ## References
    - CGS JB DME, immunosuppressive drugs fact sheet (supply fees).
    - rules.md R-MCR-7, section 6; failure class SUPPLY_FEE_INCONSISTENT.
    """
    initial = curated.supply_fee_code("initial")
    first = curated.supply_fee_code("first_in_period")
    additional = curated.supply_fee_code("additional_in_period")
    applies = b.supply_fees_apply()
    role = pl.col(b.FEE_ROLE)
    lines = (
        b.benefit_frame(ctx, applies)
        .with_columns(
            b.prescriptions_on_claim().alias("_n_rx"),
            role.is_in(["initial", "first_in_period"]).sum().over(c.CLAIM_KEY).alias("_firsts"),
            pl.col(c.UNITS)
            .filter(role == "additional_in_period")
            .sum()
            .over(c.CLAIM_KEY)
            .alias("_extra_units"),
        )
        .filter(role == "first_in_period")
        .with_row_index("_r")
    )
    days_apart = (pl.col(c.DOS_FROM) - pl.col(b.P_DOS)).dt.total_days()
    same_day_initial = (pl.col(b.P_DOS) == pl.col(c.DOS_FROM)) & (pl.col(b.P_HCPCS) == initial)
    prior = (
        lines.select("_r", c.PATIENT_ID, c.CLAIM_KEY, c.LINE_NO, c.DOS_FROM, b.FEE_PERIOD_DAYS)
        .join(b.fee_pool(ctx, [initial, first]), on=c.PATIENT_ID, how="inner")
        .filter(
            b.pool_line_is_other()
            & (b.pool_line_is_earlier() | same_day_initial)
            & (days_apart < pl.col(b.FEE_PERIOD_DAYS))
        )
        .sort(b.P_DOS)
        .group_by("_r")
        .agg(
            pl.col(b.P_DOS).last().alias("_prior_dos"),
            pl.col(b.P_HCPCS).last().alias("_prior_code"),
        )
    )
    lines = lines.join(prior, on="_r", how="left", maintain_order="left")
    repeated = pl.col("_prior_dos").is_not_null()
    too_many = (pl.col(c.UNITS) > pl.col(b.FEE_MAX_UNITS)).fill_null(False)
    why = (
        pl.when(repeated)
        .then(
            pl.format(
                "{} was already billed on {}, within the same {}-day period",
                pl.col("_prior_code"),
                pl.col("_prior_dos"),
                pl.col(b.FEE_PERIOD_DAYS),
            )
        )
        .otherwise(
            pl.format(
                "{} billed; it is paid once per {}-day period",
                counted_text(pl.col(c.UNITS), "unit"),
                pl.col(b.FEE_PERIOD_DAYS),
            )
        )
    )
    title = (
        pl.when(repeated)
        .then(pl.lit(f"Bill {additional} for a further prescription in the period"))
        .otherwise(
            pl.format(
                "Bill {} of {}; a further prescription takes {}",
                counted_text(pl.col(b.FEE_MAX_UNITS), "unit"),
                pl.col(c.HCPCS),
                pl.lit(additional),
            )
        )
    )
    # Q0512 is for a prescription beyond the period's first: the claim must have one that
    # no fee on it pays yet (another Q0510 / Q0511 on the claim pays one, its Q0512 units
    # pay one each). Without one, this line is not billable at all, which no fix expresses.
    covered = (pl.col("_firsts") - 1).clip(lower_bound=0).clip(upper_bound=1) + pl.col(
        "_extra_units"
    ).fill_null(0)
    room = (pl.col("_n_rx").fill_null(0) - covered) >= pl.col(c.UNITS).round(0)
    no_room = repeated & ~room.fill_null(False)
    # With a Q0512 line on the claim already, the fee belongs in its units: a second
    # Q0512 line would be a duplicate line (DUP001). Neither edit is a field fix.
    has_additional = pl.col("_extra_units").fill_null(0) > 0
    why = (
        pl.when(no_room)
        .then(
            pl.format(
                "{}; no prescription on this claim is left for {}, so the line is not billable",
                why,
                pl.lit(additional),
            )
        )
        .when(repeated & has_additional)
        .then(
            pl.format(
                "{}; count this prescription in the claim's {} line and remove this one",
                why,
                pl.lit(additional),
            )
        )
        .otherwise(why)
    )
    converts = repeated & ~no_room & ~has_additional
    return Finding(
        rows=lines.with_columns(why.alias("_why"), title.alias("_title")),
        violated=repeated | too_many,
        message="{hcpcs} on {dos_from}: {_why}",
        fix={
            "hcpcs": pl.when(converts)
            .then(pl.lit(additional))
            .when(~repeated)
            .then(pl.col(c.HCPCS)),
            "units": pl.when(converts)
            .then(pl.col(c.UNITS).round(0).cast(pl.Int64))
            .when(~repeated)
            .then(pl.col(b.FEE_MAX_UNITS)),
        },
        fix_title="{_title}",
    )
