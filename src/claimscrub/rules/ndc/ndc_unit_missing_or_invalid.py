"""NDC005: the NDC unit of measure is missing, not a valid code, or refused by the payer."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Applicability, Severity
from claimscrub.model import columns as c
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.ndc.normalise import is_blank
from claimscrub.rules.registry import rule

# NUCC / X12 CTP05-1 unit-of-measure codes for an NDC quantity (rules.md R-UNIT-3).
NDC_UNITS = ("UN", "ML", "GR", "F2", "ME")
MILLIGRAM = "ME"


def _refuses_me() -> pl.Expr:
    return (pl.col("pack_ndc_unit_me_accepted") == False).fill_null(False)  # noqa: E712


def unit_wrong(_ctx: RuleContext | None = None) -> pl.Expr:
    """The line has an NDC whose unit is missing, not an NDC unit, or ME where the pack
    refuses it: the lines NDC005 reports, and its ``applies_when``."""
    unit = pl.col(c.NDC_UNIT)
    return ~is_blank(pl.col(c.NDC)) & (
        is_blank(unit)
        | ~unit.is_in(NDC_UNITS).fill_null(False)
        | ((unit == MILLIGRAM).fill_null(False) & _refuses_me())
    )


@rule(
    code="NDC005",
    name="ndc-unit-missing-or-invalid",
    severity=Severity.ERROR,
    carc="CO-16",
    rarc=("M119",),
    fix=Applicability.SAFE,
    inputs=(c.NDC,),
    source="NUCC NDC unit qualifiers; ASC X12 837 CTP05-1; payer pack ndc_unit_me_accepted; rules.md R-UNIT-3, R-NDC-4",
    depends_on_code=False,
    applies_when=unit_wrong,
)
def ndc_unit_missing_or_invalid(ctx: RuleContext) -> Finding:
    """The NDC quantity has no usable unit of measure.

    ## What it checks
    Lines with an NDC. The NDC quantity's unit (837P/837I 2410 CTP05-1, JSON/CSV
    ``ndc_unit``) must be one of the NUCC codes UN (unit/each: tablets, capsules,
    packets, vials counted as items), ML (milliliter), GR (gram), F2 (international
    unit) or ME (milligram). The line fails when the unit is missing, is not one of
    these codes, or is ME while the payer policy pack says the payer refuses ME
    (setting ``ndc_unit_me_accepted``; the bundled Medicaid pack refuses it).

    Whether the unit suits the product (UN for capsules, ML for Atgam) is a units
    rule's question, not this one's.

    ## Why it matters
    Without a valid unit the NDC quantity means nothing; payers that edit NDC data
    (Medicaid above all) deny the line as a billing error with incomplete NDC
    information (CARC 16 with RARC M119). Many payers, notably Medicaid programs,
    refuse ME although the NUCC list has it.

    ## Example
    Medicaid line with NDC 00781210401, quantity 6, unit ME.

    Use instead: unit UN, quantity 6 (capsules).

    ## Fix
    Safe, only for a unit written in lower case or with spaces (``un`` → ``UN``) that
    is then a valid code the payer accepts. A missing unit, another code or a refused
    ME has no fix: converting milligrams to items needs the product's strength.

    ## Options
    None. ME acceptance comes from the payer pack setting ``ndc_unit_me_accepted``.

    ## Related
    NDC006 (NDC quantity missing or malformed); NDC001 (NDC missing); NDC004 (NDC
    qualifier).

    ## References
    - NUCC CMS-1500 instructions, item 24A NDC unit qualifiers: https://1library.net/article/instructions-for-supplemental-information.yermgm4q
    - Payers refusing ME: http://www.medicalbillingcptmodifiers.com/search/label/NDC%20code
    - rules.md R-UNIT-3, R-NDC-4.
    """
    unit = pl.col(c.NDC_UNIT)
    upper = unit.str.strip_chars().str.to_uppercase()
    refuses_me = _refuses_me()
    why = (
        pl.when(is_blank(unit))
        .then(pl.lit("the NDC quantity has no unit of measure (CTP05-1)"))
        .when(~unit.is_in(NDC_UNITS))
        .then(
            pl.format("'{}' is not an NDC unit of measure ({})", unit, pl.lit(", ".join(NDC_UNITS)))
        )
        .otherwise(
            pl.format(
                "the NDC quantity is in ME (milligrams), which payer policy {} does not accept",
                pl.col("pack"),
            )
        )
    )
    fixed = pl.when(
        ~is_blank(unit)
        & ~unit.is_in(NDC_UNITS)
        & upper.is_in(NDC_UNITS)
        & ~((upper == MILLIGRAM) & refuses_me)
    ).then(upper)
    return Finding(
        rows=ctx.lines.with_columns(why.alias("_why"), fixed.alias("_fixed")),
        violated=unit_wrong(),
        message="NDC {ndc}: {_why}",
        fix={"ndc_unit": pl.col("_fixed")},
        fix_title="Write the unit as {_fixed}",
    )
