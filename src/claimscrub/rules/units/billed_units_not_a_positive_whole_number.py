"""UNT003: billed units are fractional, zero or negative."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Applicability, Severity
from claimscrub.model import columns as c
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.registry import rule
from claimscrub.rules.units.common import number_text, whole, with_expected_units


def units_not_positive_whole(_ctx: RuleContext | None = None) -> pl.Expr:
    """The line bills zero, negative or partial units: every line UNT003 reports does
    (it reports only those whose units no NDC quantity or dose explains), so this is its
    ``applies_when``."""
    units = pl.col(c.UNITS)
    return units.is_not_null() & ~units.is_nan() & ((units <= 0) | ~whole(units))


@rule(
    code="UNT003",
    name="billed-units-not-a-positive-whole-number",
    severity=Severity.ERROR,
    carc="CO-16",
    rarc=("M53",),
    fix=Applicability.UNSAFE,
    requires=("hcpcs", "ndc_hcpcs"),
    inputs=(c.HCPCS, c.UNITS),
    source="CMS RAC issue 0074 (bill whole units, round up); rules.md R-UNIT-1",
    applies_when=units_not_positive_whole,
)
def billed_units_not_a_positive_whole_number(ctx: RuleContext) -> Finding:
    """The billed units are not a whole number greater than zero.

    ## What it checks
    The units of every line whose HCPCS code is valid on the date of service (SV104 /
    SV205): they must be a whole number greater than zero. Missing units are
    UNT008's.

    A fractional line whose correct units can be computed — from its NDC quantity
    (UNT001) or its dose (UNT002) — is reported there, with the computed units as the
    fix, because a fraction is often mg or tablets billed instead of units (22.5 for
    thirty 0.75 mg tablets, which are 90 units of J7503) and rounding it up would be
    wrong.

    ## Why it matters
    HCPCS units are whole: when the dose is not an exact multiple of the billing unit,
    the total is rounded up to the next whole unit, never down, and never billed as a
    fraction (CMS RAC issue 0074, from the Claims Processing Manual ch. 17). Zero or
    negative units are not billable. Payers reject such lines (CARC 16, RARC M53).

    ## Example
    J7500 (azathioprine 50 mg), 46.5 units (thirty-one 75 mg tablets) on a line without
    an NDC quantity.

    Use instead: 47 units (rounded up once, on the line total).

    ## Fix
    Unsafe: a fractional number of units is rounded up to the next whole unit. Zero or
    negative units have no determinable fix; nor has a fraction equal to the line's NDC
    quantity (1.85 units of J9305 with NDC quantity UN 1.85: vials billed as units, where
    the dose in 10 mg units is what counts), which the message says.

    ## Options
    None.

    ## Related
    UNT001 (units from the NDC quantity), UNT002 (units from the dose), COD001 (code
    invalid on the date).

    ## References
    - CMS RAC approved issue 0074 (excessive or insufficient drug units).
    - rules.md R-UNIT-1 (rounding only ever goes up).
    """
    units = pl.col(c.UNITS)
    lines = with_expected_units(ctx).filter(
        pl.col("_code_valid")
        & units.is_not_null()
        & ~units.is_nan()
        & ~pl.col("_ndc_checkable")
        & ~pl.col("_dose_checkable")
    )
    not_positive = units <= 0
    # A fraction equal to the NDC quantity is the quantity (vials, mL) billed as units:
    # rounding it up would be a guess, so there is no fix.
    quantity_billed = (units == pl.col(c.NDC_QTY)).fill_null(False)
    message = pl.format(
        "{} units of {} were billed; {}",
        number_text(units),
        pl.col(c.HCPCS),
        pl.when(not_positive)
        .then(pl.lit("billing units must be greater than zero"))
        .when(quantity_billed)
        .then(
            pl.format(
                "billing units are whole numbers, and this is the NDC quantity ({} {}), "
                "which looks billed as units: work the units out from the dose in {}'s "
                "billing unit",
                number_text(pl.col(c.NDC_QTY)),
                pl.col(c.NDC_UNIT).fill_null("?"),
                pl.col(c.HCPCS),
            )
        )
        .otherwise(
            pl.format(
                "billing units are whole numbers and a partial unit is rounded up, to {}",
                number_text(units.ceil()),
            )
        ),
    )
    return Finding(
        rows=lines.with_columns(
            _message=message,
            _expected=pl.when(~not_positive & ~quantity_billed).then(
                units.ceil().cast(pl.Int64, strict=False)
            ),
        ),
        violated=not_positive | ~whole(units),
        message="{_message}",
        fix={"units": pl.col("_expected")},
        fix_title="Bill {_expected|unit}",
    )
