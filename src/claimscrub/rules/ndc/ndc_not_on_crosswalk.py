"""NDC007: the NDC is not on the CMS NDC–HCPCS crosswalk, which lists NDCs for the code."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Confidence, Severity
from claimscrub.model import columns as c
from claimscrub.rules.coding.product import product_lines, product_table
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.registry import rule


@rule(
    code="NDC007",
    name="ndc-not-on-crosswalk",
    severity=Severity.WARNING,
    # absence from the crosswalk is weak evidence: the NDC may be real and
    # marketed, just not one CMS prices for Part B.
    confidence=Confidence.LOW,
    carc="CO-16",
    rarc=("M119",),
    requires=("hcpcs", "ndc_hcpcs"),
    inputs=(c.HCPCS, c.NDC, c.DOS_FROM),
    source="CMS ASP NDC-HCPCS crosswalk; rules.md R-NDC-3 (NDC_INACTIVE needs the FDA NDC directory)",
)
def ndc_not_on_crosswalk(ctx: RuleContext) -> Finding:
    """The NDC is not on the CMS crosswalk, although the crosswalk lists NDCs for the code.

    ## What it checks
    Lines with a readable 11-digit NDC and a code valid on the date of service for
    which the CMS ASP NDC–HCPCS crosswalk (release used for the date) lists at least
    one NDC. The line is reported when the crosswalk does not list this NDC under
    any code. Codes the crosswalk does not cover (no NDC listed at all, e.g. J8499)
    are not checked: absence says nothing there.

    rules.md R-NDC-3 asks that the NDC be real and marketed on the date of service
    (NDC_INACTIVE). That needs the FDA NDC directory with marketing start and end
    dates, which is not bundled; the crosswalk is the closest dated source, and it
    lists only the NDCs CMS prices for Part B, so a missing NDC may be inactive, a
    typo, a repackager's NDC, or simply one CMS has not listed. Hence a warning.

    ## Why it matters
    Payers check NDCs against the FDA directory (and Medicaid against rebate
    labelers); an unknown, withdrawn or deactivated NDC is denied as a billing error
    (CARC 16 with RARC M119). AvKARE tacrolimus 42291-0752-01, whose marketing ended
    2021-12-31, is an example rules.md gives.

    ## Example
    J7507 with NDC 42291075201.

    Use instead: the NDC on the package dispensed, checked against the FDA NDC
    directory; e.g. Sandoz tacrolimus 1 mg 00781210301.

    ## Fix
    None: which product was dispensed cannot be known from the claim.

    ## Options
    None.

    ## Related
    COD003 (NDC on the crosswalk under another code); NDC002 (NDC that cannot be
    read); NDC003 (10-digit NDC without hyphens).

    ## References
    - CMS ASP NDC–HCPCS crosswalk (quarterly).
    - FDA NDC directory (not bundled): https://api.fda.gov/drug/ndc.json
    - rules.md R-NDC-3 and §8 NDC_INACTIVE / NDC_INVALID_FORMAT (CO-16 + M119).
    """
    return Finding(
        rows=product_lines(
            ctx,
            product_table(ctx).filter(
                pl.col("_billed_valid").fill_null(False)
                & (pl.col("_billed_xwalk_ndcs").fill_null(0) > 0)
                & ~pl.col("_xw_on")
            ),
        ),
        violated=pl.lit(True),
        message=(
            "NDC {_ndc_print} is not on the CMS NDC–HCPCS crosswalk [{_xw_note}], which lists "
            "{_billed_xwalk_ndcs|NDC} for {hcpcs}; it cannot be confirmed as an active "
            "product (the FDA NDC directory is not bundled)"
        ),
    )
