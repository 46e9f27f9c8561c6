"""COD004: the billed code's route differs from the route of the product on the line."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Applicability, Severity
from claimscrub.model import columns as c
from claimscrub.rules.coding.product import (
    product_lines,
    product_table,
    route_differs,
    wrong_code_for_product,
)
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.registry import rule


@rule(
    code="COD004",
    name="code-route-differs-from-product",
    severity=Severity.ERROR,
    carc="CO-16",
    rarc=("M119",),
    fix=Applicability.UNSAFE,
    requires=("hcpcs", "ndc_hcpcs"),
    inputs=(c.HCPCS, c.NDC, c.DOS_FROM),
    source="CMS HCPCS descriptors; CMS ASP NDC-HCPCS crosswalk; rules.md R-CODE-2 (route must match)",
    gates_line=True,
)
def code_route_differs_from_product(ctx: RuleContext) -> Finding:
    """An oral product is billed on a parenteral code, or an injected product on an oral one.

    ## What it checks
    Lines with a readable NDC whose HCPCS code a HCPCS release lists (valid on the date
    of service or not: COD001 reports the date). The
    product's route is the route of the code(s) the CMS ASP NDC–HCPCS crosswalk lists
    for the NDC; the billed code's route is read from its CMS long descriptor
    ("Tacrolimus, immediate release, **oral**, 1 mg"; "Lymphocyte immune globulin,
    antithymocyte globulin, equine, **parenteral**, 250 mg"). Injected routes
    (parenteral, injection, intravenous, infusion, intramuscular, subcutaneous ...)
    count as one class. The line fails when the NDC is not listed under the billed
    code and the billed code's route class differs from that of every code the NDC
    is listed under.

    This is the seed article's error: oral tacrolimus capsules billed as J7504.
    J7504 is equine antithymocyte globulin (Atgam), parenteral, 250 mg per unit;
    oral immediate-release tacrolimus is J7507 (1 mg), Envarsus XR J7503 (0.25 mg)
    and Astagraf XL J7508 (0.1 mg).

    Distinct from COD003, which reports a wrong code *within* the product's route
    (brand, release form, strength). A line is reported by one of the two, never
    both; a NOC billed code is left to NOC001. Lines without a readable NDC, or whose
    NDC is not on the crosswalk, carry no product route and are not checked.

    ## Why it matters
    Oral products are never billed on parenteral codes and vice versa (rules.md
    R-CODE-2). Payers deny the line as a billing error with the NDC not valid for the
    code (CARC 16 + RARC M119; N657 or Medicare's MA130 also occur), and the units are
    wrong by orders of magnitude (one J7504 unit is 250 mg of ATG).

    ## Example
    J7504, 30 units, NDC 00781210401 (Sandoz tacrolimus 5 mg capsules), quantity
    UN 6.

    Use instead: J7507, 30 units (6 capsules × 5 units of 1 mg).

    ## Fix
    Unsafe. When the crosswalk names exactly one code, sets ``hcpcs`` to it and
    ``units`` to the NDC quantity converted with the crosswalk's units per item (NDC
    unit UN or ML). Without a determinable unit count there is no fix. Charges are
    not recomputed, and the claim may also need to go to another contractor (oral
    drugs to the DME MAC).

    ## Options
    None.

    ## Related
    COD003 (NDC crosswalked to another code of the same route); NOC001 (NOC code
    although a specific code exists); NDC007 (NDC not on the crosswalk).

    ## References
    - CMS HCPCS Level II file, long descriptors (route words).
    - CMS ASP NDC–HCPCS crosswalk (quarterly).
    - rules.md R-CODE-2 and §10 (the seed article's J7504 error) and
      §8 WRONG_HCPCS_FOR_PRODUCT.
    """
    return Finding(
        rows=product_lines(
            ctx, product_table(ctx).filter(wrong_code_for_product() & route_differs())
        ).with_columns(pl.col("_cand_routes").list.join(" or ").alias("_cand_route_text")),
        violated=pl.lit(True),
        message=(
            "{hcpcs} ({_billed_desc}) is {_billed_route_class}; NDC {_ndc_print} "
            "({_xw_product}) is {_cand_route_text}, crosswalked to {_cands_text} "
            "[{_xw_note}]{_cand_units_note}"
        ),
        fix={"hcpcs": pl.col("_cand"), "units": pl.col("_cand_units")},
        fix_title="Bill {_cand} with {_cand_units|unit}",
    )
