"""UNT004: no whole number of the line's NDC items gives the billed units (strengths combined)."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Confidence, Severity
from claimscrub.model import columns as c
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.registry import rule
from claimscrub.rules.units.common import (
    JW_GROUP,
    LIQUID_FORM_PATTERN,
    ORAL,
    SCALE,
    ceil_div,
    lines_jw_group,
    number_text,
    positive,
    scaled,
    whole,
)


def whole_units_without_ndc_quantity(_ctx: RuleContext | None = None) -> pl.Expr:
    """The line bills a positive whole number of units and no NDC quantity: every line
    UNT004 reports does (it then needs an oral solid on its code), so this is its
    ``applies_when``."""
    units = pl.col(c.UNITS)
    return pl.col(c.NDC_QTY).is_null() & positive(units) & whole(units)


@rule(
    code="UNT004",
    name="units-not-reachable-from-one-strength",
    severity=Severity.WARNING,
    # a heuristic: unreachable units most likely mean two strengths on
    # one line, but a rounding or crosswalk quirk can cause them too.
    confidence=Confidence.MEDIUM,
    carc="CO-16",
    rarc=("M53",),
    requires=("hcpcs", "ndc_hcpcs"),
    inputs=(c.HCPCS, c.UNITS, c.NDC, c.DOS_FROM),
    source="NGS DME JB, Billing for Immunosuppressive Drugs (one line per strength); rules.md R-UNIT-2",
    applies_when=whole_units_without_ndc_quantity,
)
def units_not_reachable_from_one_strength(ctx: RuleContext) -> Finding:
    """No whole number of tablets, capsules or packets of the line's NDC gives the billed units.

    ## What it checks
    Oral drug lines with an NDC listed under the billed code on the CMS ASP NDC–HCPCS
    crosswalk in force on the date of service, but no NDC quantity. Tablets, capsules
    and packets are dispensed whole, so the billed units must be
    `ceil(n × units per item)` for some whole count n of the NDC's items. When no n
    gives them — 7 units of J7503 from Envarsus XR 0.75 mg tablets (3 units each: 2
    tablets are 6 units, 3 are 9) — the line most likely combines two strengths
    (0.75 mg and 1 mg tablets) under one NDC.

    Only codes whose descriptor names an oral route and no liquid form are checked:
    oral solutions and suspensions are measured in mL, which can be fractional. Crosswalk
    rows whose package quantity is above one while the package size counts tablets are
    ambiguous and skipped, as in UNT001. Lines
    with an NDC quantity are UNT001's; lines of a claim with a JW line for the same
    code and date are UNT005's; codes invalid on the date are COD001's; NDCs listed
    only under other codes are COD003's and COD004's.

    ## Why it matters
    Each strength (each NDC) goes on its own line with its own units (rules.md
    R-UNIT-2). NGS (DME MAC JB) names J7507 as the most mis-billed immunosuppressive:
    strengths combined on one line made the second pharmacy supply fee (Q0512) deny,
    and the line's NDC no longer describes what was dispensed (CARC 16, RARC M53).

    ## Example
    J7503, NDC 68992-3075-03 (Envarsus XR 0.75 mg), 7 units, no NDC quantity.

    Use instead: one line per NDC, e.g. 68992-3075-03 with 3 units (one 0.75 mg tablet)
    and 68992-3010-03 (1 mg) with 4 units.

    ## Fix
    None: which strengths were dispensed is not on the claim.

    ## Options
    None.

    ## Related
    UNT001 (units from the NDC quantity), UNT006 (one NDC spread over several lines),
    COD003 / COD004 (NDC belongs to another code), MCR019 (additional-prescription
    supply fees).

    ## References
    - NGS "Billing for Immunosuppressive Drugs" (DME MAC JB).
    - CMS ASP NDC–HCPCS crosswalk (billing units per package).
    - rules.md R-UNIT-2.
    """
    lines = lines_jw_group(ctx)
    units = pl.col(c.UNITS)
    liquid = pl.col("_form").str.contains(LIQUID_FORM_PATTERN).fill_null(False)
    lines = lines.filter(
        pl.col("_code_valid")
        & pl.col("_ndc_on_code")
        & pl.col(c.NDC_QTY).is_null()
        & positive(units)
        & whole(units)
        & (pl.col("_route") == ORAL).fill_null(False)
        & ~liquid
        # Package quantity above one on a counted package is ambiguous (see UNT001).
        & ((pl.col("_xw_qty") == 1) | (pl.col("_xw_size") == 1))
        & ~pl.col(JW_GROUP)
    )
    num, den = pl.col("_upi_num"), pl.col("_upi_den")
    billed = scaled(units) // SCALE
    # n items give ceil(n * num / den) units; the largest n not above the billed units:
    items = (billed * den) // num
    lines = lines.with_columns(
        _items=items,
        _reachable=(items >= 1) & (items * num > (billed - 1) * den),
        _units_lo=ceil_div(items * num, den),
        _units_hi=ceil_div((items + 1) * num, den),
    )
    per_item = pl.col("_xw_upi") * pl.col("_unit_amount").cast(pl.Float64, strict=False)
    strength = (
        pl.when(pl.col("_unit_base").is_not_null())
        .then(pl.format("{} {}, ", number_text(per_item), pl.col("_unit_uom")))
        .otherwise(pl.lit(""))
    )
    neighbours = (
        pl.when(pl.col("_items") == 0)
        .then(pl.format("1 item is {} units", pl.col("_units_hi")))
        .otherwise(
            pl.format(
                "{} items are {} units, {} are {}",
                pl.col("_items"),
                pl.col("_units_lo"),
                pl.col("_items") + 1,
                pl.col("_units_hi"),
            )
        )
    )
    message = pl.format(
        "{} units of {} cannot come from whole items of NDC {} ({}{} units each): {}",
        number_text(units),
        pl.col(c.HCPCS),
        pl.col("_ndc11"),
        strength,
        number_text(pl.col("_xw_upi")),
        neighbours,
    )
    return Finding(
        rows=lines.with_columns(_message=message),
        violated=~pl.col("_reachable"),
        message="{_message}",
    )
