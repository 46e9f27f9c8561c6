"""NOC001: a not-otherwise-classified code is billed for a product that has a specific code."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Applicability, Severity
from claimscrub.model import columns as c
from claimscrub.rules.coding.product import product_lines, product_table
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.noc.classify import billed_noc_code
from claimscrub.rules.registry import rule


@rule(
    code="NOC001",
    name="noc-code-when-specific-code-exists",
    severity=Severity.ERROR,
    carc="CO-16",
    rarc=("N657",),
    fix=Applicability.UNSAFE,
    requires=("hcpcs", "ndc_hcpcs"),
    inputs=(c.HCPCS, c.NDC, c.DOS_FROM),
    source="CMS ASP NDC-HCPCS crosswalk; CGS NOC drug billing; rules.md R-CODE-3 (NOC_WHEN_SPECIFIC_EXISTS)",
    applies_when=billed_noc_code,
)
def noc_code_when_specific_code_exists(ctx: RuleContext) -> Finding:
    """A NOC code is billed although the NDC's product has a specific code on that date.

    ## What it checks
    Lines billed with a "not otherwise classified" code — J7599 (immunosuppressive
    drug), J7999 (compounded drug), J3490 (unclassified drugs), J8499 (oral drug,
    NOS) and every other code whose CMS descriptor says "not otherwise classified",
    "not otherwise specified", "unclassified", "NOC" or "NOS" and states no billing
    unit (``rules/noc/classify.py``) — that carry a readable NDC. The line fails when
    the CMS ASP NDC–HCPCS crosswalk lists that NDC under a specific (non-NOC) code
    that is valid on the date of service.

    A NOC code is for products no specific code describes on the date of service.
    A product whose code was added later (MMF powder for oral suspension before
    J7528 took effect on 2026-01-01) may rightly go on a NOC code until then, so the
    specific code must be valid on the date.

    ## Why it matters
    Payers deny the line and ask for the appropriate code (CARC 16 with RARC N657).
    NOC lines are also priced by hand from the invoice and narrative, which delays
    payment even when they are accepted.

    ## Example
    J7599, 1 unit, NDC 00781210401 (Sandoz tacrolimus 5 mg capsules), quantity UN 6,
    narrative "tacrolimus 5 mg caps #6".

    Use instead: J7507, 30 units.

    ## Fix
    Unsafe. When the crosswalk names exactly one specific code, sets ``hcpcs`` to it
    and ``units`` to the NDC quantity converted with the crosswalk's units per item
    (NDC unit UN or ML). NOC lines carry no billing unit of their own, so without an
    NDC quantity there is no fix.

    ## Options
    None.

    ## Related
    NOC002 (NOC code without a narrative); COD003 (NDC crosswalked to another specific
    code); COD004 (route of the code differs from the product's).

    ## References
    - CMS ASP NDC–HCPCS crosswalk (quarterly).
    - CGS Part B, NOC drugs: https://www.cgsmedicare.com/partb/pubs/news/2014/0414/cope25420.html
    - rules.md R-CODE-3 and §8 NOC_WHEN_SPECIFIC_EXISTS (CO-16 + N657).
    """
    return Finding(
        rows=product_lines(
            ctx,
            product_table(ctx).filter(
                pl.col("_billed_valid").fill_null(False)
                & pl.col("_billed_noc").fill_null(False)
                & (pl.col("_n_cands") > 0)
            ),
        ),
        violated=pl.lit(True),
        message=(
            "{hcpcs} ({_billed_desc}) is a not-otherwise-classified code, but NDC "
            "{_ndc_print} ({_xw_product}) has a specific code valid on {dos_from}: "
            "{_cands_text} [{_xw_note}]{_cand_units_note}"
        ),
        fix={"hcpcs": pl.col("_cand"), "units": pl.col("_cand_units")},
        fix_title="Bill {_cand} with {_cand_units|unit}",
    )
