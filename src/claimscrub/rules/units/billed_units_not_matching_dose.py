"""UNT002: billed HCPCS units differ from the units the stated dose converts to."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Applicability, Severity
from claimscrub.model import columns as c
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.registry import rule
from claimscrub.rules.units.common import (
    billed_equals,
    billed_text,
    number_text,
    rounding_text,
    units_quotient_text,
    with_expected_units,
)


@rule(
    code="UNT002",
    name="billed-units-not-matching-dose",
    severity=Severity.ERROR,
    carc="CO-16",
    rarc=("M53",),
    fix=Applicability.UNSAFE,
    requires=("hcpcs", "ndc_hcpcs"),
    inputs=(c.HCPCS, c.UNITS, c.DOSE_AMOUNT, c.DOSE_UNIT, c.DOS_FROM),
    source="CMS HCPCS Level II long descriptor (billing unit); CMS RAC issue 0074; rules.md R-UNIT-1",
)
def billed_units_not_matching_dose(ctx: RuleContext) -> Finding:
    """The billed units are not the stated dose divided by the code's billing unit, rounded up.

    ## What it checks
    Lines that state the amount administered or dispensed (`dose`, e.g. 150 mg) in a
    unit of the same kind as the code's billing unit — the amount and unit of the
    CMS HCPCS long descriptor in force on the date of service, e.g. J7504 "250 mg".
    g, mg and mcg convert to each other, as do L and mL; other units must match
    exactly. `units = ceil(dose / unit)` is computed with exact integer arithmetic and
    must equal the billed units (SV104 / SV205). A dose in mL for a code billed by
    mass (Atgam: 20 mL) cannot be converted without the product's concentration and
    is left to UNT001, which converts the NDC quantity.

    Lines are left to their siblings when: the code is invalid on the date of service
    (COD001); the line's NDC is listed only under other codes (COD003, COD004); the line
    carries JW (UNT005 checks discarded amounts); the billed units are not positive
    (UNT003).

    ## Why it matters
    The unit is the descriptor's dose, not a vial, an mL or a milligram: 1,000 mg of
    equine antithymocyte globulin (20 mL of 50 mg/mL) is 4 units of J7504 (250 mg), a
    500 mg vial of IV mycophenolate is 50 units of J7519 (10 mg), a 250 mg belatacept
    vial is 250 units of J0485 (1 mg). Billing mL or vials instead of units under- or
    over-bills by the concentration and is denied (CARC 16, RARC M53) or recouped.
    Partial units are rounded up, once, on the line total (CMS RAC issue 0074).

    ## Example
    J7504 with dose 1000 mg, 20 units (the mL count). The message reads "1000 mg is 4
    units of J7504 (250 mg); 20 were billed".

    Use instead: 4 units.

    ## Fix
    Unsafe: sets `units` to the converted dose. Line charges are not recomputed.

    ## Options
    None.

    ## Related
    UNT001 (units from the NDC quantity), UNT003 (units not a positive whole number),
    UNT005 (JW line units from the discarded amount), COD001 (code invalid on the date),
    COD003 / COD004 (NDC of another code or route).

    ## References
    - CMS HCPCS Level II Alpha-Numeric file, long descriptor (billing unit).
    - CMS RAC approved issue 0074 (excessive or insufficient drug units; round up).
    - rules.md R-UNIT-1, R-UNIT-4 (Atgam example), R-MOD-4.
    """
    lines = with_expected_units(ctx).filter(pl.col("_dose_checkable"))
    message = pl.format(
        "{} {} is {} of {} ({}){}; {}",
        number_text(pl.col(c.DOSE_AMOUNT)),
        pl.col(c.DOSE_UNIT).str.strip_chars(),
        units_quotient_text(pl.col("_dose_num"), pl.col("_dose_den")),
        pl.col(c.HCPCS),
        pl.col("_unit_label"),
        rounding_text(pl.col("_dose_num"), pl.col("_dose_den")),
        billed_text(),
    )
    return Finding(
        rows=lines.with_columns(
            _message=message, _expected=pl.col("_dose_expected").cast(pl.Int64)
        ),
        violated=~billed_equals(pl.col("_dose_expected")),
        message="{_message}",
        fix={"units": pl.col("_expected")},
        fix_title="Bill {_expected|unit}",
    )
