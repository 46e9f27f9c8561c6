"""COD009: the line bills a product on a code of another strength than the product's."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Applicability, Confidence, Severity
from claimscrub.model import columns as c
from claimscrub.refdata import curated
from claimscrub.rules.coding.product import product_lines, product_table
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.registry import rule


def strength_group_code(_ctx: RuleContext | None = None) -> pl.Expr:
    """The line's code is in a group of codes that differ only in strength: the rule's
    ``applies_when`` (a claim without such a code builds no query)."""
    codes = curated.strength_code_groups().get_column("hcpcs").to_list()
    return pl.col(c.HCPCS).is_in(codes) & pl.col(c.NDC).is_not_null()


@rule(
    code="COD009",
    name="code-strength-differs-from-product",
    severity=Severity.WARNING,
    # the crosswalk lists the NDC under the billed code too: payers with NDC edits pass it
    confidence=Confidence.MEDIUM,
    carc="CO-16",
    rarc=("N657",),
    fix=Applicability.UNSAFE,
    requires=("hcpcs", "ndc_hcpcs"),
    inputs=(c.HCPCS, c.NDC, c.DOS_FROM),
    source="rules.md R-CODE-2 (cyclosporine 25 mg capsules -> J7515; 100 mg -> J7502); "
    "CMS ASP NDC-HCPCS crosswalk",
    applies_when=strength_group_code,
)
def code_strength_differs_from_product(ctx: RuleContext) -> Finding:
    """The product is billed on a code of another strength, although its own strength has a code.

    ## What it checks
    Lines whose code belongs to a group of codes for one drug that differ only in the
    strength of their unit (`strength_code_groups` in
    `refdata/curated/immunosuppressants.yaml`; today cyclosporine, oral: J7515 25 mg
    and J7502 100 mg, rules.md R-CODE-2). The line fails when the CMS ASP NDC–HCPCS
    crosswalk used for the date lists its NDC under the billed code at other than one
    unit per item, and under another code of the group at exactly one unit per item:
    that code's unit is the product's strength.

    The crosswalk lists Teva's cyclosporine 25 mg capsules (00093-9018-65) under both
    J7515 (1 unit per capsule) and J7502 (0.25 unit per capsule), so COD003 passes either
    code. rules.md R-CODE-2 bills 25 mg capsules on J7515 and 100 mg capsules and the
    100 mg/mL solution on J7502.

    ## Why it matters
    On the 100 mg code a 25 mg capsule is a quarter unit: any count that is not a
    multiple of four is rounded up (30 capsules are 7.5, billed 8 units = 800 mg for
    750 mg dispensed), which is an overpayment on audit, and payers that check the
    strength against the code ask for the appropriate code (CARC 16 with RARC N657).

    ## Example
    J7502, 45 units, NDC 00093901865 (cyclosporine 25 mg, Teva), quantity UN 180.

    Use instead: J7515, 180 units (180 capsules × 1 unit of 25 mg).

    ## Fix
    Unsafe. Sets ``hcpcs`` to the code of the product's strength and ``units`` to the
    NDC quantity converted with the crosswalk's units per item under that code (NDC unit
    UN for capsules, ML for solution); without a determinable count there is no fix.
    Charges are not recomputed.

    ## Options
    None.

    ## Related
    COD003 (NDC crosswalked to another code only); UNT001 (units do not match the NDC
    quantity); UNT004 (units not reachable from one strength).

    ## References
    - rules.md R-CODE-2 (cyclosporine strength codes) and R-UNIT-1 (J7515 25 mg cap = 1,
      J7502 100 mg cap = 1).
    - CMS ASP NDC–HCPCS crosswalk (quarterly): billable units per package item.
    """
    groups = curated.strength_code_groups().lazy().select(c.HCPCS, "group")
    table = (
        product_table(ctx)
        .join(groups, on=c.HCPCS, how="inner")
        .join(groups.rename({c.HCPCS: "_cand", "group": "_cand_group"}), on="_cand", how="inner")
        .filter(
            (pl.col("group") == pl.col("_cand_group"))
            & pl.col("_xw_billed_listed")
            & (pl.col("_cand_per_item") == 1)
            & (pl.col("_xw_billed_per_item") != 1)
        )
        .drop("group", "_cand_group")
    )
    return Finding(
        rows=product_lines(ctx, table),
        violated=pl.lit(True),
        message=(
            "NDC {_ndc_print} ({_xw_product}) is {_xw_billed_per_item} unit of {hcpcs} per "
            "item and 1 unit of {_cand} ({_cand_desc}): bill the code whose unit is the "
            "product's strength [{_xw_note}]{_cand_units_note}"
        ),
        fix={"hcpcs": pl.col("_cand"), "units": pl.col("_cand_units")},
        fix_title="Bill {_cand} with {_cand_units|unit}",
    )
