"""NDC002: the NDC cannot be read as an NDC at all."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Severity
from claimscrub.model import columns as c
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.ndc.normalise import is_blank, qualifier_prefix, with_ndc_parse
from claimscrub.rules.registry import rule


def not_plain_eleven_digits(_ctx: RuleContext | None = None) -> pl.Expr:
    """The line has an NDC that is not eleven digits and nothing else.

    An NDC of eleven digits alone parses as itself (status ``ok``, ``_ndc_ndc11`` the
    same text), so NDC002 (cannot be read) and NDC008 (not in the 11-digit form) report
    only lines where this is true: their ``applies_when``.
    """
    ndc = pl.col(c.NDC)
    return ndc.is_not_null() & ~ndc.str.contains(r"^[0-9]{11}$")


@rule(
    code="NDC002",
    name="ndc-malformed",
    severity=Severity.ERROR,
    carc="CO-16",
    rarc=("M119",),
    inputs=(c.NDC,),
    distinct_on=(c.NDC,),
    source="FDA NDC format (10-digit labeler-product-package, billed as 11 digits 5-4-2); rules.md R-NDC-1, R-NDC-2 (NDC_INVALID_FORMAT)",
    depends_on_code=False,
    applies_when=not_plain_eleven_digits,
)
def ndc_malformed(ctx: RuleContext) -> Finding:
    """The NDC on the line is not a 10- or 11-digit NDC in any layout.

    ## What it checks
    Every non-blank NDC (837P/837I 2410 LIN03, JSON/CSV ``ndc``), read as
    ``model/codes.py`` ``parse_ndc`` reads it: 11 digits; 5-4-2 with hyphens; or a
    hyphenated 10-digit layout 4-4-2, 5-3-2 or 5-4-1. The line fails when the value is
    none of these: letters or other characters, a wrong number of digits, hyphen
    groups of other lengths (12345-123-123) or not three groups. The message gives
    the reason.

    Not this rule's: 10 digits without hyphens (NDC003, ambiguous), a qualifier typed
    in front of the NDC (NDC004), a valid NDC written with hyphens or spaces (NDC008)
    and a blank NDC (NDC001).

    ## Why it matters
    A payer cannot match a malformed NDC to a product or to the billed code; the line
    is denied as a billing error with an invalid NDC (CARC 16 with RARC M119).

    ## Example
    NDC ``007812104`` (9 digits).

    Use instead: the 11-digit NDC from the package, 00781210401.

    ## Fix
    None: the digits that are missing or wrong cannot be known.

    ## Options
    None.

    ## Related
    NDC003 (10 digits without hyphens); NDC004 (qualifier typed into the NDC);
    NDC008 (NDC not written as 11 plain digits); NDC007 (NDC not on the crosswalk).

    ## References
    - FDA NDC directory, package NDC layouts.
    - rules.md R-NDC-1, R-NDC-2 and §8 NDC_INVALID_FORMAT (CO-16 + M119).
    """
    lines = with_ndc_parse(ctx.lines, c.NDC)
    return Finding(
        rows=lines,
        violated=(
            (pl.col("_ndc_status") == "invalid")
            & ~is_blank(pl.col(c.NDC))
            & qualifier_prefix(pl.col(c.NDC)).is_null()
        ),
        message="NDC '{ndc}' cannot be read as an NDC: {_ndc_reason}",
    )
