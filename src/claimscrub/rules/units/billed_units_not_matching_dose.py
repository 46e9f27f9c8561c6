"""UNT002: billed HCPCS units differ from the units the stated dose converts to."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Applicability, Severity
from claimscrub.model import columns as c
from claimscrub.rules.coding.facts import route_class
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.registry import rule
from claimscrub.rules.units.common import (
    JW,
    SCALE,
    amount_dimension,
    billed_equals,
    billed_text,
    ceil_div,
    has_modifier,
    number_text,
    positive,
    ratio,
    rounding_text,
    scaled_amount,
    units_per_item_fraction,
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
    must equal the billed units (SV104 / SV205).

    A dose in mL for an injected code billed by mass (Atgam: 20 mL) needs the
    product's concentration. A line with an NDC quantity is UNT001's, which converts
    it. Otherwise the units per mL come from the CMS crosswalk: the line's NDC when it
    is listed under the code in mL, or, for a line without an NDC, every NDC listed
    under the code when all are measured in mL at the same units per mL (J7504 has one
    product, Atgam at 50 mg/mL: 20 mL is 4 units). Codes whose products differ in
    concentration are not converted.

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
    lines = with_expected_units(ctx)
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
    # Each part keeps only its wrong lines before its message is formatted.
    by_mass = lines.filter(
        pl.col("_dose_checkable") & ~billed_equals(pl.col("_dose_expected"))
    ).with_columns(_message=message, _expected=pl.col("_dose_expected"))
    return Finding(
        rows=pl.concat([_rows(by_mass), _rows(_millilitre_doses(ctx, lines))]),
        violated=pl.lit(True),
        message="{_message}",
        fix={"units": pl.col("_expected")},
        fix_title="Bill {_expected|unit}",
    )


def _rows(lines: pl.LazyFrame) -> pl.LazyFrame:
    return lines.select(
        c.CLAIM_KEY, c.LINE_NO, c.UNITS, "_message", pl.col("_expected").cast(pl.Int64)
    )


def _millilitre_doses(ctx: RuleContext, lines: pl.LazyFrame) -> pl.LazyFrame:
    """Lines whose dose is a volume for an injected code billed by mass, that UNT001
    cannot check from an NDC quantity, with ``_message`` and ``_expected``.

    The product's units per mL come from the line's NDC when the crosswalk lists it
    under the code with a package size above one (mL); else, for a line without an NDC,
    from the crosswalk release used for the date when every NDC it lists under the code
    is measured in mL with the same units per mL: the concentration is then known
    whichever product was given (Atgam, 50 mg/mL, the only J7504 product)."""
    dose_ml = (amount_dimension(pl.col(c.DOSE_UNIT)) == "volume").fill_null(False)
    # Lines without a dose, or with one already converted, first: a cheap test that
    # leaves few lines for the others.
    lines = lines.filter(pl.col(c.DOSE_UNIT).is_not_null() & ~pl.col("_dose_checkable"))
    lines = lines.filter(
        ~pl.col("_ndc_checkable")
        & pl.col("_code_valid")
        & positive(pl.col(c.UNITS))
        & positive(pl.col(c.DOSE_AMOUNT))
        & dose_ml
        & (pl.col("_unit_dim") == "mass").fill_null(False)
        & (route_class(pl.col("_route")) == "parenteral").fill_null(False)
        & ~pl.col("_ndc_other_code")
        & ~has_modifier(JW)
    )
    line_product = pl.col("_ndc_on_code") & (pl.col("_xw_size") > 1).fill_null(False)
    lines = lines.join(
        _code_concentrations(ctx, lines.filter(pl.col(c.NDC).is_null())),
        on=[c.HCPCS, c.DOS_FROM],
        how="left",
        nulls_equal=True,
    )
    from_code = ~line_product & pl.col(c.NDC).is_null() & pl.col("_o_num").is_not_null()
    # Units per mL as an exact fraction: units per NDC over the mL per NDC.
    per_ml_num = pl.when(line_product).then(pl.col("_upi_num")).when(from_code).then("_o_num")
    per_ml_den = pl.when(line_product).then(pl.col("_upi_den")).when(from_code).then("_o_den")
    lines = lines.with_columns(_per_ml_num=per_ml_num, _per_ml_den=per_ml_den).filter(
        pl.col("_per_ml_num").is_not_null()
    )
    lines = lines.with_columns(
        _ml_num=scaled_amount(pl.col(c.DOSE_AMOUNT)) * pl.col("_per_ml_num"),
        _ml_den=pl.col("_per_ml_den") * SCALE,
    ).filter(~billed_equals(ceil_div(pl.col("_ml_num"), pl.col("_ml_den"))))
    product = (
        pl.when(line_product)
        .then(pl.format("NDC {}", pl.col("_ndc11")))
        .when(pl.col("_o_ndcs") == 1)
        .then(
            pl.format(
                "{} {}, the code's only NDC on crosswalk {}",
                pl.col("_o_drug"),
                pl.col("_o_ndc"),
                pl.col("_o_release"),
            )
        )
        .otherwise(
            pl.format(
                "each of the {} NDCs crosswalk {} lists under the code",
                pl.col("_o_ndcs"),
                pl.col("_o_release"),
            )
        )
    )
    message = pl.format(
        "{} mL is {} of {} ({}){} at {} units per mL ({}); {}",
        number_text(pl.col(c.DOSE_AMOUNT)),
        units_quotient_text(pl.col("_ml_num"), pl.col("_ml_den")),
        pl.col(c.HCPCS),
        pl.col("_unit_label"),
        rounding_text(pl.col("_ml_num"), pl.col("_ml_den")),
        number_text(ratio(pl.col("_per_ml_num"), pl.col("_per_ml_den"))),
        product,
        billed_text(),
    )
    return lines.with_columns(
        _message=message, _expected=ceil_div(pl.col("_ml_num"), pl.col("_ml_den"))
    )


def _code_concentrations(ctx: RuleContext, lines: pl.LazyFrame) -> pl.LazyFrame:
    """Per (code, date) of ``lines``: the units per mL shared by every NDC the crosswalk
    lists under the code (``_o_num / _o_den``), when all are measured in mL and agree;
    ``_o_ndcs`` (how many), the first one's ``_o_ndc`` and ``_o_drug``, ``_o_release``."""
    listed = ctx.refdata.lookup(
        lines.select(c.HCPCS, c.DOS_FROM).unique(),
        "ndc_hcpcs",
        on={c.HCPCS: "hcpcs_code"},
        as_of=c.DOS_FROM,
        columns={
            "ndc11": "_o_ndc",
            "drug_name": "_o_drug",
            "pkg_size": "_o_size",
            "pkg_qty": "_o_qty",
            "bill_units_per_pkg_item": "_o_item_units",
            "bill_units_per_ndc": "_o_units",
            "units_check": "_o_check",
        },
    ).filter(pl.col("_o_ndc").is_not_null())
    num, den = units_per_item_fraction(
        pl.col("_o_item_units"),
        pl.col("_o_units"),
        pl.col("_o_size"),
        pl.col("_o_qty"),
        pl.col("_o_check"),
    )
    listed = listed.with_columns(
        _o_num=num,
        _o_den=den,
        _o_ml=(pl.col("_o_size") > 1) & positive(pl.col("_o_qty")) & positive(pl.col("_o_units")),
    ).with_columns(_o_per_ml=(pl.col("_o_num") / pl.col("_o_den")).round(9))
    return (
        listed.group_by(c.HCPCS, c.DOS_FROM)
        .agg(
            pl.col("_o_ndc").n_unique().alias("_o_ndcs"),
            pl.col("_o_ml").all().alias("_o_all_ml"),
            pl.col("_o_per_ml").n_unique().alias("_o_concentrations"),
            pl.col("_o_ndc", "_o_drug", "_o_num", "_o_den").first(),
            pl.col("ndc_hcpcs_release").first().alias("_o_release"),
        )
        .filter(pl.col("_o_all_ml") & (pl.col("_o_concentrations") == 1))
        .drop("_o_all_ml", "_o_concentrations")
    )
