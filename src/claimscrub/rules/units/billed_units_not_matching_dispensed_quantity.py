"""UNT001: billed HCPCS units differ from the units the NDC quantity converts to."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Applicability, Severity
from claimscrub.model import columns as c
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.mue.common import with_line_mue
from claimscrub.rules.registry import rule
from claimscrub.rules.units.common import (
    CHECK_CONFLICT,
    billed_equals,
    billed_text,
    number_text,
    rounding_text,
    units_quotient_text,
    with_expected_units,
)

_REPORT, _SKIP = "report", "skip"


@rule(
    code="UNT001",
    name="billed-units-not-matching-dispensed-quantity",
    severity=Severity.ERROR,
    carc="CO-16",
    rarc=("M53",),
    fix=Applicability.UNSAFE,
    requires=("hcpcs", "ndc_hcpcs", "mue"),
    inputs=(c.HCPCS, c.UNITS, c.NDC, c.NDC_QTY, c.NDC_UNIT, c.DOS_FROM),
    options={"conflicting_crosswalk_rows": _REPORT},
    source="CMS ASP NDC-HCPCS crosswalk; CMS RAC issue 0074 (round up); rules.md R-UNIT-1, R-UNIT-4",
)
def billed_units_not_matching_dispensed_quantity(ctx: RuleContext) -> Finding:
    """The billed units are not the NDC quantity converted to the code's billing unit.

    ## What it checks
    Drug lines whose NDC (837P/837I loop 2410 LIN03) is listed under the billed HCPCS
    code on the CMS ASP NDC–HCPCS crosswalk in force on the date of service, with an
    NDC quantity (CTP04) and unit (CTP05-1). The quantity is converted to HCPCS billing
    units with the crosswalk's billing units per item, computed exactly from the CMS
    figures, and rounded up only on the line total:
    `units = ceil(NDC quantity × units per item)`. The result must equal the billed
    units (SV104 / SV205).

    The quantity is read in the unit it states:
    - `UN` counts tablets, capsules, packets or vials — whatever one item of the
      crosswalk's package size is. It is used for oral codes and for products whose
      package size is one item (a vial, an ampule). For oral liquids, which CMS counts
      in mL, a line whose units match the quantity read as whole bottles is left to
      the NDC unit-of-measure rule.
    - `ML` counts mL of a liquid (package size above one).
    - `ME` (milligrams) is divided by the code's unit when it is a mass. That needs
      no crosswalk figure, so an NDC the crosswalk does not list (NDC007) is
      converted too; one listed only under other codes is COD003's or COD004's.
    Other qualifiers (`GR`, `F2`) and `UN` on a multi-mL parenteral package are not
    converted: the crosswalk does not say whether its package size counts mL or
    containers, so whether `UN` or `ML` suits such a product cannot be decided from it
    (the unit code itself is NDC005's). Nor is
    `UN` on an oral package that CMS lists with a package quantity above one although
    its package size already counts tablets (Prograf 5 mg 00469-0657-73: PKG SIZE 100,
    PKG QTY 5, which would read as 1 unit per 5 mg capsule).

    Lines are left to their siblings when: the code is invalid on the date of service
    (COD001); the NDC is not listed under the billed code (COD003, COD004); the line states
    a dose in a convertible unit (UNT002 converts the dose); the claim has a JW line
    for the same code and date (UNT005); the billed units are not positive (UNT003).

    ## Why it matters
    Drug lines are paid per billing unit, and the unit is the dose in the code's
    descriptor, not a tablet: sixty 0.5 mg tacrolimus capsules are 30 units of J7507
    (1 mg), a 0.75 mg Envarsus XR tablet is 3 units of J7503 (0.25 mg), 20 mL of Atgam
    (50 mg/mL) is 4 units of J7504 (250 mg). Payers with NDC–HCPCS cross edits (most
    Medicaid programs) deny the line (CARC 16 with RARC M53); others pay the wrong
    amount and recoup it on audit. CMS's RAC issue 0074 targets exactly this.

    ## Example
    J7507, NDC 00781-2102-01 (tacrolimus 0.5 mg capsules), NDC quantity UN 60, 60 units.
    The message reads "60 × 0.5 mg = 30 mg is 30 units of J7507 (1 mg); 60 were billed".

    Use instead: 30 units.

    ## Fix
    Unsafe: sets `units` to the converted quantity. Check that the NDC quantity is what
    was dispensed; line charges are not recomputed. No fix when the converted units are
    more than the line's MUE under the payer pack (the message says so): then the NDC
    quantity is the likelier error (1000 mL of Atgam typed for 1000 mg gives 200 units
    against an MUE of 15).

    ## Options
    - `conflicting_crosswalk_rows` ("report" | "skip", default "report"): 19 crosswalk
      rows (docs/refdata.md, `units_check = conflict`, e.g. Prograf 0.5 mg
      00469-0607-73) have a per-item figure that contradicts the per-NDC figure. The
      per-NDC figure, which CMS's provenance notes call reliable, is used and the
      message says so; "skip" leaves those NDCs unchecked.

    ## Related
    UNT002 (units from the dose), UNT003 (units not a positive whole number), UNT004
    (units that no count of the NDC's items gives), UNT005 (JW arithmetic), COD001
    (code invalid on the date), COD003 / COD004 (NDC belongs to another code or
    route), NDC003 (ambiguous 10-digit NDC), NDC005 / NDC006 (NDC unit and quantity),
    MUE002 (the same units against the MUE).

    ## References
    - CMS ASP NDC–HCPCS crosswalk (quarterly): PKG SIZE, PKG QTY, BILLUNITS, BILLUNITSPKG.
    - CMS RAC approved issue 0074 (excessive or insufficient drug units; round up).
    - rules.md R-UNIT-1, R-UNIT-3, R-UNIT-4; ASC X12 837P 005010X222A1 loop 2410.
    """
    lines = with_expected_units(ctx).filter(pl.col("_ndc_checkable"))
    conflict = pl.col("_xw_check") == CHECK_CONFLICT
    if ctx.options.get("conflicting_crosswalk_rows", _REPORT) == _SKIP:
        lines = lines.filter(~conflict)
    reading = pl.col("_ndc_reading")
    qty = number_text(pl.col(c.NDC_QTY))
    has_unit = pl.col("_unit_base").is_not_null()
    per_item = pl.col("_xw_upi") * pl.col("_unit_amount").cast(pl.Float64, strict=False)
    total = pl.col(c.NDC_QTY) * per_item
    uom = pl.col("_unit_uom")
    amounts = (
        pl.when(reading == "ME")
        .then(pl.format("{} mg", qty))
        .when((reading == "ML") & has_unit)
        .then(
            pl.format(
                "{} mL × {} {}/mL = {} {}", qty, number_text(per_item), uom, number_text(total), uom
            )
        )
        .when(has_unit)
        .then(
            pl.format(
                "{} × {} {} = {} {}", qty, number_text(per_item), uom, number_text(total), uom
            )
        )
        .when(reading == "ML")
        .then(pl.format("{} mL × {} units/mL", qty, number_text(pl.col("_xw_upi"))))
        .otherwise(pl.format("{} × {} units", qty, number_text(pl.col("_xw_upi"))))
    )
    unit_label = (
        pl.when(has_unit).then(pl.format(" ({})", pl.col("_unit_label"))).otherwise(pl.lit(""))
    )
    note = (
        pl.when(conflict)
        .then(
            pl.format(
                " (the crosswalk row of NDC {} gives {} units per package item but {} per NDC; "
                "the per-NDC figure is used)",
                pl.col("_ndc11"),
                number_text(pl.col("_xw_item_units")),
                number_text(pl.col("_xw_ndc_units")),
            )
        )
        .otherwise(pl.lit(""))
    )
    message = pl.format(
        "{} is {} of {}{}{}; {}{}",
        amounts,
        units_quotient_text(pl.col("_ndc_num"), pl.col("_ndc_den")),
        pl.col(c.HCPCS),
        unit_label,
        rounding_text(pl.col("_ndc_num"), pl.col("_ndc_den")),
        billed_text(),
        note,
    )
    # An oral liquid billed by the bottle (UN) whose units match whole bottles is an NDC
    # unit-of-measure question (R-UNIT-3), not a conversion error: leave it alone.
    as_containers = pl.col("_ndc_expected_containers").is_not_null() & billed_equals(
        pl.col("_ndc_expected_containers")
    )
    violated = lines.with_columns(
        _message=message, _expected=pl.col("_ndc_expected").cast(pl.Int64)
    ).filter(~billed_equals(pl.col("_ndc_expected")) & ~as_containers)
    # Units from a mistyped NDC quantity (1000 mL of Atgam for 1000 mg) can be many times
    # what may be billed in a day: beyond the line's MUE the quantity is the likelier
    # error, and setting the units to it would make the line certain to deny.
    rows = with_line_mue(ctx, violated)
    beyond_mue = (pl.col("_expected") > pl.col("_line_mue")).fill_null(False)
    caution = (
        pl.when(beyond_mue)
        .then(
            pl.format(
                "; {} is more than the {} MUE of {} [MUE release {}], so the NDC quantity may be "
                "the figure in error",
                pl.col("_expected"),
                pl.col("_mue_service_text"),
                pl.col("_line_mue"),
                pl.col("_mue_release"),
            )
        )
        .otherwise(pl.lit(""))
    )
    return Finding(
        rows=rows.with_columns(_caution=caution),
        violated=pl.lit(True),
        message="{_message}{_caution}",
        fix={"units": pl.when(~beyond_mue).then(pl.col("_expected"))},
        fix_title="Bill {_expected|unit}",
    )
