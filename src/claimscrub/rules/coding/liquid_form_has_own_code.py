"""COD010: an oral liquid is billed on the older code although its form has its own code."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Applicability, Confidence, Severity
from claimscrub.model import columns as c
from claimscrub.refdata import curated
from claimscrub.rules.coding.facts import with_code_facts
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.registry import rule
from claimscrub.rules.units.common import (
    SCALE,
    amount_base,
    ceil_div,
    counted_text,
    items_reading,
    line_facts,
    ndc_unit,
    number_text,
    positive,
    ratio,
    scaled,
)


def older_code_of_a_liquid_form(_ctx: RuleContext | None = None) -> pl.Expr:
    """The line bills a code that a curated liquid-form code replaces for liquids, with
    its NDC quantity in mL: the rule's ``applies_when``."""
    older = curated.liquid_form_codes().get_column("instead_of").to_list()
    unit = ndc_unit()
    return pl.col(c.HCPCS).is_in(older) & (unit == "ML")


@rule(
    code="COD010",
    name="liquid-form-has-own-code",
    severity=Severity.ERROR,
    # the liquid is read from the NDC unit (mL), not from a product directory
    confidence=Confidence.MEDIUM,
    carc="CO-16",
    rarc=("M119",),
    fix=Applicability.UNSAFE,
    requires=("hcpcs", "ndc_hcpcs"),
    inputs=(c.HCPCS, c.NDC_UNIT, c.DOS_FROM),
    source="rules.md R-CODE-2 (MMF powder for oral suspension -> J7528 from 2026-01-01; "
    "before that J7517); CMS HCPCS file (the liquid code's dates)",
    applies_when=older_code_of_a_liquid_form,
)
def liquid_form_has_own_code(ctx: RuleContext) -> Finding:
    """An oral liquid is billed on a code that, on the date of service, has a separate code for liquids.

    ## What it checks
    Lines billed on a code for which `liquid_form_codes` in
    `refdata/curated/immunosuppressants.yaml` names a newer code for the drug's oral
    liquid form (rules.md R-CODE-2: mycophenolate mofetil powder for oral suspension is
    J7528 from 2026-01-01, J7517 before), whose NDC quantity is in mL (the product is a
    liquid), on a date the HCPCS release in force makes the liquid code valid. Lines
    whose NDC the crosswalk lists only under other codes are COD003's.

    The bundled crosswalk ends with 2025-Q4, which lists CellCept oral suspension
    (00004-0261-29) under J7517; on a 2026 date it is the nearest release, so the
    crosswalk alone cannot tell that the code changed.

    ## Why it matters
    From the date the liquid code is added, the payer's NDC–HCPCS edits list the liquid
    under it: the older code is denied as a billing error (CARC 16 with RARC M119), and
    its units are in the wrong increment (J7517 is 250 mg, J7528 100 mg).

    ## Example
    J7517, 140 units, NDC 00004026129 (CellCept oral suspension 200 mg/mL, 175 mL),
    quantity ML 175, on 2026-02-10.

    Use instead: J7528, 350 units (175 mL × 200 mg/mL ÷ 100 mg).

    ## Fix
    Unsafe. Sets ``hcpcs`` to the liquid code and ``units`` to the dispensed mL
    converted exactly: the crosswalk's units per mL under the billed code, times the
    billed code's unit, divided by the liquid code's unit, rounded up. Without a
    crosswalk row for the NDC under the billed code there is no fix: the concentration
    is unknown. Charges are not recomputed.

    ## Options
    None.

    ## Related
    COD003 (NDC crosswalked to another code); NDC009 (ML on tablets or capsules);
    UNT001 (units do not match the NDC quantity).

    ## References
    - rules.md R-CODE-2 (mycophenolate mofetil forms and codes) and R-UNIT-1
      (J7514 / J7528: 200 mg/mL suspension = 2 units per mL).
    - CMS HCPCS quarterly file (the liquid code's add date); CMS ASP NDC–HCPCS crosswalk.
    """
    pairs = (
        curated.liquid_form_codes()
        .lazy()
        .select(pl.col("hcpcs").alias("_lq_code"), pl.col("instead_of").alias(c.HCPCS))
    )
    lines = (
        line_facts(ctx)
        .filter(older_code_of_a_liquid_form() & ~pl.col("_ndc_other_code"))
        .join(pairs, on=c.HCPCS, how="inner")
    )
    lines = with_code_facts(ctx, lines, "_lq_code", c.DOS_FROM, "_lq_", crosswalk=False)
    unit = ndc_unit()
    measured = items_reading(unit, pl.col("_xw_size"), pl.col("_xw_qty"), pl.lit(True)) == "ML"
    liquid_base = amount_base(
        pl.col("_lq_unit_amount").cast(pl.Float64, strict=False), pl.col("_lq_unit_uom")
    )
    # mL x (units per mL of the billed code) x billed unit / liquid unit, in integers:
    # scaled(mL) * upi_num * unit_base / (SCALE * upi_den * liquid_base), rounded up.
    numerator = scaled(pl.col(c.NDC_QTY)) * pl.col("_upi_num") * pl.col("_unit_base")
    denominator = pl.lit(SCALE, pl.Int128) * pl.col("_upi_den") * liquid_base
    convertible = (
        pl.col("_ndc_on_code")
        & measured.fill_null(False)
        & positive(pl.col(c.NDC_QTY))
        & (pl.col("_unit_base") > 0).fill_null(False)
        & (liquid_base > 0).fill_null(False)
    )
    units = pl.when(convertible).then(
        ceil_div(numerator, denominator).clip(lower_bound=1).cast(pl.Int64, strict=False)
    )
    per_ml = ratio(pl.col("_upi_num"), pl.col("_upi_den"))
    lines = lines.with_columns(units.alias("_lq_units")).with_columns(
        pl.when(pl.col("_lq_units").is_not_null())
        .then(
            pl.format(
                "; {} mL × {} per mL × {} ÷ {} = {} of {}",
                number_text(pl.col(c.NDC_QTY)),
                number_text(per_ml),
                pl.col("_unit_label"),
                pl.col("_lq_unit_text"),
                counted_text(pl.col("_lq_units"), "unit"),
                pl.col("_lq_code"),
            )
        )
        .otherwise(pl.lit(""))
        .alias("_lq_note")
    )
    return Finding(
        rows=lines.filter(pl.col("_lq_valid").fill_null(False)),
        violated=pl.lit(True),
        message=(
            "{hcpcs} is billed for an oral liquid (NDC quantity {ndc_qty} ML); since "
            "{_lq_added} {_lq_code} ({_lq_desc}) is the code for it{_lq_note}"
        ),
        fix={"hcpcs": pl.col("_lq_code"), "units": pl.col("_lq_units")},
        fix_title="Bill {_lq_code} with {_lq_units|unit}",
    )
