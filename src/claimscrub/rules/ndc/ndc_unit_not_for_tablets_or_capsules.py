"""NDC009: a tablet or capsule NDC quantity given in mL, grams or international units."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Applicability, Confidence, Severity
from claimscrub.model import columns as c
from claimscrub.refdata import curated
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.ndc.normalise import is_blank
from claimscrub.rules.registry import rule
from claimscrub.rules.units.common import line_facts, ndc_unit

# Units that measure a liquid, a powder or an activity, never a count of tablets.
_NOT_COUNTS = ("ML", "GR", "F2")


def _solid_unit_wrong(_ctx: RuleContext | None = None) -> pl.Expr:
    """An NDC quantity in one of the units that never count tablets (``applies_when``)."""
    unit = ndc_unit()
    return ~is_blank(pl.col(c.NDC)) & unit.is_in(_NOT_COUNTS).fill_null(False)


@rule(
    code="NDC009",
    name="ndc-unit-not-for-tablets-or-capsules",
    severity=Severity.ERROR,
    # the products' forms are curated (rules.md R-CODE-2 and the crosswalk's products),
    # not read from a CMS column.
    confidence=Confidence.MEDIUM,
    carc="CO-16",
    rarc=("M119",),
    fix=Applicability.UNSAFE,
    requires=("hcpcs", "ndc_hcpcs"),
    inputs=(c.NDC, c.NDC_UNIT, c.HCPCS),
    source="NUCC NDC unit qualifiers (UN for tablets and capsules); rules.md R-UNIT-3, "
    "R-UNIT-4, R-CODE-2",
    applies_when=_solid_unit_wrong,
)
def ndc_unit_not_for_tablets_or_capsules(ctx: RuleContext) -> Finding:
    """The NDC quantity of a tablet or capsule product is given in mL, grams or units.

    ## What it checks
    Lines whose code is an oral drug sold only as tablets or capsules (the curated
    `oral_solid_codes` of `refdata/curated/immunosuppressants.yaml`: J7507, J7503,
    J7508, J7515, J7518, J7527, J7500; every NDC the CMS crosswalk lists under them is
    a tablet or capsule product) and whose NDC quantity's unit is ML, GR or F2. Lines
    whose NDC the crosswalk lists under another code only are left to COD003 / COD004:
    the unit may be right for that product (a suspension in mL). ME (milligrams) is
    not reported here: NDC005 judges whether the payer accepts it.

    ## Why it matters
    Tablets and capsules are counted as items, unit UN (rules.md R-UNIT-3). A quantity
    of "120 ML" of capsules tells a payer that edits NDC units against the product
    (Medicaid programs above all, R-UNIT-4) that the NDC data are wrong: the line is
    denied for invalid NDC information (CARC 16 with RARC M119). claimscrub's own units
    check (UNT001) reads mL as millilitres and cannot confirm the billed units either.

    ## Example
    J7507, NDC 00781-2103-01 (tacrolimus 1 mg capsules), NDC quantity 120 ML, 120 units.

    Use instead: NDC quantity 120 UN.

    ## Fix
    Unsafe: sets the unit to UN and leaves the quantity alone. Check that the quantity
    is the number of tablets or capsules dispensed.

    ## Options
    None.

    ## Related
    NDC005 (unit missing or not a unit code), NDC006 (quantity), UNT001 (units from
    the NDC quantity), COD003 / COD004 (the NDC belongs to another code).

    ## References
    - NUCC CMS-1500 instructions, item 24A NDC unit qualifiers.
    - rules.md R-UNIT-3 (UN for tablets and capsules), R-UNIT-4, R-CODE-2.
    """
    solid = curated.oral_solid_codes()
    codes = solid.get_column("hcpcs").to_list()
    forms = solid.select(c.HCPCS, pl.col("form").alias("_form_text")).lazy()
    unit = ndc_unit()
    lines = (
        line_facts(ctx)
        .filter(pl.col(c.HCPCS).is_in(codes) & _solid_unit_wrong())
        .join(forms, left_on=c.HCPCS, right_on=c.HCPCS, how="left")
        .with_columns(_unit=unit)
    )
    return Finding(
        rows=lines,
        violated=~pl.col("_ndc_other_code").fill_null(False),
        message="NDC {ndc}: {hcpcs} products are {_form_text}, counted as items (UN), "
        "but the NDC quantity is in {_unit}",
        fix={c.NDC_UNIT: pl.lit("UN")},
        fix_title="Report the NDC quantity in UN (tablets or capsules)",
    )
