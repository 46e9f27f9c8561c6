"""UNT008: a line states no billing units."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Applicability, Severity
from claimscrub.model import columns as c
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.registry import rule
from claimscrub.rules.units.common import (
    counted_text,
    expected_units_of,
    lines_jw_group,
    number_text,
)


def units_missing(_ctx: RuleContext | None = None) -> pl.Expr:
    """The line states no units: the lines UNT008 reports, and its ``applies_when``."""
    units = pl.col(c.UNITS)
    return units.is_null() | units.is_nan().fill_null(False)


@rule(
    code="UNT008",
    name="billed-units-missing",
    severity=Severity.ERROR,
    carc="CO-16",
    rarc=("M53",),
    fix=Applicability.UNSAFE,
    requires=("hcpcs", "ndc_hcpcs"),
    # No `inputs`: a batch in which no line states units must be reported line by line,
    # not skipped for lack of data in units.
    source=(
        "ASC X12 837P 005010X222A1 SV104 / 837I 005010X223A2 SV205 (required); "
        "CMS RAC issue 0074; rules.md R-UNIT-1"
    ),
    # Whatever the code, a line without units is returned: a finding that stands even
    # where a gate rule (a missing or invalid code) replaces the others.
    depends_on_code=False,
    applies_when=units_missing,
)
def billed_units_missing(ctx: RuleContext) -> Finding:
    """A line states no billing units.

    ## What it checks
    Every line whose units (837P SV104, 837I SV205, JSON ``units``, CSV ``units``)
    are absent. An 837 line with the element empty does not reach the rules: the
    reader rejects its claim, as a receiver's syntax check would.

    ## Why it matters
    Units are what a drug line is paid by: HCPCS billing units, the dispensed amount
    divided by the code's unit and rounded up (CMS RAC issue 0074). A line without them
    cannot be priced, and the payer returns it as a billing error with the days or
    units of service missing (CARC 16 with RARC M53).

    ## Example
    J7507 (tacrolimus, oral, 1 mg) with NDC 00469-0617-73 (Prograf 1 mg capsules),
    quantity UN 60, and no units.

    Use instead: 60 units (60 capsules × 1 mg = 60 mg, in units of 1 mg).

    ## Fix
    Unsafe, and only when the units follow from the line without a guess: from its
    dose in the code's unit of measure (as UNT002 reads it) or else from its NDC
    quantity through the CMS NDC–HCPCS crosswalk (as UNT001 reads it: UN counts
    tablets, capsules or vials, never whole bottles). Otherwise there is no fix: the
    units must be worked out from the chart.

    ## Options
    None.

    ## Related
    UNT001 (units against the NDC quantity); UNT002 (units against the dose); UNT003
    (units not a positive whole number); COD008 (code missing).

    ## References
    - ASC X12 837P 005010X222A1, loop 2400 SV104 service unit count: required; 837I
      005010X223A2, loop 2400 SV205: required.
    - CMS RAC approved issue 0074 (units from the dose, rounded up).
    - rules.md R-UNIT-1 (units = dispensed amount ÷ billing unit, rounded up) and §8
      UNITS_MISMATCH (CO-16 + M53).
    """
    # The expectations of UNT001 / UNT002 are worked out for lines with positive units;
    # one unit stands in for the missing figure while they are, and is taken out again.
    lines = expected_units_of(
        lines_jw_group(ctx).filter(units_missing()).with_columns(pl.lit(1.0).alias(c.UNITS))
    ).with_columns(pl.lit(None, dtype=pl.Float64).alias(c.UNITS))
    from_dose = pl.col("_dose_checkable")
    from_quantity = pl.col("_ndc_checkable")
    expected = (
        pl.when(from_dose)
        .then(pl.col("_dose_expected"))
        .when(from_quantity)
        .then(pl.col("_ndc_expected"))
        .cast(pl.Int64, strict=False)
    )
    # Which amount the units come from, and that amount as the line gives it.
    source = pl.when(from_dose).then(pl.lit("dose")).otherwise(pl.lit("NDC quantity"))
    amount = pl.when(from_dose).then(pl.col(c.DOSE_AMOUNT)).otherwise(pl.col(c.NDC_QTY))
    unit = pl.when(from_dose).then(pl.col(c.DOSE_UNIT)).otherwise(pl.col(c.NDC_UNIT))
    hint = (
        pl.when(expected.is_not_null())
        .then(
            pl.format(
                "; its {}, {} {}, is {} of {} ({})",
                source,
                number_text(amount),
                unit,
                counted_text(expected, "unit"),
                pl.col(c.HCPCS),
                pl.col("_unit_label"),
            )
        )
        .otherwise(pl.lit(""))
    )
    return Finding(
        rows=lines.with_columns(hint.alias("_hint"), expected.alias("_expected")),
        violated=pl.lit(True),
        message=(
            "line {line_no} ({hcpcs}) states no units; every service line must give its "
            "HCPCS billing units{_hint}"
        ),
        fix={"units": pl.col("_expected")},
        fix_title="Bill {_expected|unit}",
    )
