"""NDC006: the NDC quantity is missing, not positive, or outside the 8.3 format."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Severity
from claimscrub.model import columns as c
from claimscrub.rules.coding.facts import at_most_three_decimals
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.ndc.normalise import is_blank
from claimscrub.rules.registry import rule
from claimscrub.rules.units.common import number_text

MAX_WHOLE_DIGITS = 8  # NUCC: up to 8 digits before the decimal point ...
MAX_DECIMALS = 3  # ... and 3 after it


def _too_large(qty: pl.Expr) -> pl.Expr:
    return qty >= 10**MAX_WHOLE_DIGITS


def quantity_wrong(_ctx: RuleContext | None = None) -> pl.Expr:
    """The line has an NDC whose quantity is missing, not a number, not positive or not
    in the 8.3 format: the lines NDC006 reports, and its ``applies_when``."""
    qty = pl.col(c.NDC_QTY)
    bad = (
        qty.is_null()
        | ~qty.is_finite()
        | (qty <= 0)
        | _too_large(qty)
        | ~at_most_three_decimals(qty)
    )
    return ~is_blank(pl.col(c.NDC)) & bad.fill_null(True)


@rule(
    code="NDC006",
    name="ndc-quantity-missing-or-invalid",
    severity=Severity.ERROR,
    carc="CO-16",
    rarc=("M119",),
    inputs=(c.NDC,),
    source="NUCC NDC quantity format (8.3); ASC X12 837 CTP04; rules.md R-UNIT-3, R-NDC-4",
    depends_on_code=False,
    applies_when=quantity_wrong,
)
def ndc_quantity_missing_or_invalid(ctx: RuleContext) -> Finding:
    """The NDC quantity is missing, zero or negative, or does not fit 8 digits and 3 decimals.

    ## What it checks
    Lines with an NDC. The NDC quantity (837P/837I 2410 CTP04, JSON/CSV
    ``ndc_quantity``) must be present, a finite number greater than zero, with at most
    8 digits before the decimal point and 3 after it (the NUCC format; whole numbers
    are written without a decimal point).

    Whether the quantity agrees with the billed HCPCS units is a units rule's
    question, not this one's.

    ## Why it matters
    The NDC quantity is what was dispensed or administered in the NDC's own unit;
    payers that edit NDC data (Medicaid above all) deny a line without a usable
    quantity as a billing error with incomplete NDC information (CARC 16 with RARC
    M119), and X12 translators reject values longer than the element allows.

    ## Example
    NDC 00781210401, unit UN, quantity 0.

    Use instead: the number of capsules dispensed, e.g. 6.

    ## Fix
    None: the quantity dispensed cannot be derived from the line.

    ## Options
    None.

    ## Related
    NDC005 (NDC unit of measure); NDC001 (NDC missing).

    ## References
    - NUCC formatting quoted in X12 RFI 2151: http://rfi.x12.org/Request/Details/2151?stateViewModel=WPC.RFI.Models.ViewModels.RequestViewModel
    - rules.md R-UNIT-3, R-NDC-4.
    """
    qty = pl.col(c.NDC_QTY)
    too_large = _too_large(qty)
    why = (
        pl.when(qty.is_null())
        .then(pl.lit("the NDC quantity (CTP04) is missing"))
        .when(~qty.is_finite())
        .then(pl.lit("the NDC quantity is not a number"))
        .when(qty <= 0)
        .then(pl.format("the NDC quantity {} is not greater than zero", number_text(qty)))
        .when(too_large)
        .then(
            pl.format(
                "the NDC quantity {} has more than {} digits before the decimal point",
                number_text(qty),
                pl.lit(MAX_WHOLE_DIGITS),
            )
        )
        .otherwise(
            pl.format(
                "the NDC quantity {} has more than {} decimals",
                qty.cast(pl.String),
                pl.lit(MAX_DECIMALS),
            )
        )
    )
    return Finding(
        rows=ctx.lines.with_columns(why.alias("_why")),
        violated=quantity_wrong(),
        message="NDC {ndc}: {_why}",
    )
