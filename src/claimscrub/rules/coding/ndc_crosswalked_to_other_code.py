"""COD003: the line's NDC is crosswalked to a different HCPCS code than the one billed."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Applicability, Severity
from claimscrub.model import columns as c
from claimscrub.refdata import curated
from claimscrub.rules.coding.product import (
    crosswalk_predates_billed_code,
    product_lines,
    product_table,
    route_differs,
    wrong_code_for_product,
)
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.registry import rule
from claimscrub.rules.units.common import ndc_unit


@rule(
    code="COD003",
    name="ndc-crosswalked-to-other-code",
    severity=Severity.ERROR,
    carc="CO-16",
    rarc=("M119",),
    fix=Applicability.UNSAFE,
    requires=("hcpcs", "ndc_hcpcs"),
    inputs=(c.HCPCS, c.NDC, c.DOS_FROM),
    source="CMS ASP NDC-HCPCS crosswalk; rules.md R-CODE-2 (WRONG_HCPCS_FOR_PRODUCT)",
    gates_line=True,
)
def ndc_crosswalked_to_other_code(ctx: RuleContext) -> Finding:
    """The product's NDC belongs to another HCPCS code than the one billed.

    ## What it checks
    Lines whose NDC (837P/837I loop 2410 LIN03, JSON/CSV ``ndc``) is readable as an
    11-digit NDC and whose HCPCS code a HCPCS release lists. A code that is not valid on
    the date of service is checked too: COD001 reports the date, and this rule the
    product's code, which is then the fix (J2930, terminated 2024-03-31, with
    Solu-Medrol 00009-0047-22: bill J2919, 25 units). The CMS ASP
    NDC–HCPCS crosswalk release used for the date lists the codes each NDC is billed
    under. The line fails when the crosswalk lists the NDC, but not under the billed
    code, and names at least one other code that is valid on the date and is not a
    "not otherwise classified" code.

    Typical catches: Envarsus XR (68992-3075-03) billed as immediate-release
    tacrolimus J7507 instead of J7503; Astagraf XL (00469-0677-73) billed as J7507 or
    J7503 instead of J7508. The three tacrolimus codes are not interchangeable: the
    FDA labels warn against substituting the products, and the billing units differ
    (J7507 1 mg, J7503 0.25 mg, J7508 0.1 mg).

    A billed code that HCPCS added after the crosswalk release used had ended is said so
    in the message: on a date no bundled release covers, the nearest release cannot list
    the NDC under a newer code. Where the newer code is the curated code for the drug's
    liquid form and the line is a liquid (NDC quantity in mL), the line is right and not
    reported (CellCept oral suspension in mL on J7528, added 2026-01-01, which the 2025-Q4
    release lists under J7517; COD010 reports the reverse). Capsules, other drugs or
    other codes on the newer code are still reported.

    When the billed code's route differs from the product's (an oral product on a
    parenteral code, as in the seed article's "oral tacrolimus on J7504"), COD004
    reports the line instead, and a NOC code billed for a product with a specific
    code is NOC001's: each line gets one of the three, never two.

    ## Why it matters
    Payers with NDC–HCPCS edits (Medicaid, most Medicare contractors) deny the line as
    a billing error with the NDC not valid for the code (CARC 16 with RARC M119; some
    answer RARC N657 "bill the appropriate code", and Medicare may return the claim as
    unprocessable with MA130). Where no edit runs, the line is priced under the wrong
    code and recouped on audit.

    ## Example
    J7507, 90 units, NDC 68992307503 (Envarsus XR 0.75 mg, 30 tablets), quantity
    UN 30.

    Use instead: J7503, 90 units (30 tablets × 3 units of 0.25 mg).

    ## Fix
    Unsafe. When the crosswalk names exactly one code, sets ``hcpcs`` to it and
    ``units`` to the NDC quantity converted with the crosswalk's units per item
    (NDC unit UN or ML; see ``rules/coding/product.py``), or keeps the billed units
    when both codes have the same billing unit. Without a determinable unit count
    there is no fix: changing the code alone would leave units in the wrong unit.
    Charges are not recomputed.

    ## Options
    None.

    ## Related
    COD004 (route of the code differs from the product's); COD010 (an oral liquid on
    a code that has a separate liquid code); NOC001 (NOC code although a specific code
    exists); NDC007 (NDC not on the crosswalk at all); COD001 (code
    not valid on the date of service).

    ## References
    - CMS ASP NDC–HCPCS crosswalk (quarterly): HCPCS code, NDC, package size and
      quantity, billable units per package.
    - rules.md R-CODE-2 and §8 WRONG_HCPCS_FOR_PRODUCT (CO-16 + M119; N657, MA130).
    - Astagraf XL label, "not interchangeable or substitutable":
      https://medlibrary.org/lib/rx/meds/astagraf-xl/
    """
    # The liquid of a drug billed on the code HCPCS added for its liquid form after the
    # crosswalk release used (CellCept suspension in mL on J7528 in 2026, listed under J7517
    # in 2025-Q4) is right: the release cannot know the code (COD010 reports the reverse).
    pairs = (
        curated.liquid_form_codes()
        .lazy()
        .select(
            pl.col("hcpcs").alias(c.HCPCS),
            pl.col("instead_of").alias("_cand"),
            pl.lit(True).alias("_newer_liquid_code"),
        )
    )
    unit = ndc_unit()
    rows = (
        product_lines(ctx, product_table(ctx).filter(wrong_code_for_product() & ~route_differs()))
        .join(pairs, on=[c.HCPCS, "_cand"], how="left", maintain_order="left")
        .filter(
            ~(
                crosswalk_predates_billed_code()
                & pl.col("_newer_liquid_code").fill_null(False)
                & (unit == "ML").fill_null(False)
            )
        )
        .with_columns(
            pl.when(crosswalk_predates_billed_code())
            .then(pl.format("; {} was added on {}, after that release", c.HCPCS, "_billed_added"))
            .otherwise(pl.lit(""))
            .alias("_newer_note")
        )
    )
    return Finding(
        rows=rows,
        violated=pl.lit(True),
        message=(
            "NDC {_ndc_print} ({_xw_product}) is crosswalked to {_cands_text}, not {hcpcs} "
            "[{_xw_note}{_newer_note}]{_cand_units_note}"
        ),
        fix={"hcpcs": pl.col("_cand"), "units": pl.col("_cand_units")},
        fix_title="Bill {_cand} with {_cand_units|unit}",
    )
