"""NDC008: a readable NDC that is not written as 11 digits without hyphens or spaces."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Applicability, Severity
from claimscrub.model import columns as c
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.ndc.ndc_malformed import not_plain_eleven_digits
from claimscrub.rules.ndc.normalise import with_ndc_parse
from claimscrub.rules.registry import rule


@rule(
    code="NDC008",
    name="ndc-not-in-eleven-digit-form",
    severity=Severity.ERROR,
    carc="CO-16",
    rarc=("M119",),
    fix=Applicability.SAFE,
    inputs=(c.NDC,),
    distinct_on=(c.NDC,),
    source="ASC X12 837 LIN03 (N4: 11-digit NDC); rules.md R-NDC-1, R-NDC-2",
    depends_on_code=False,
    applies_when=not_plain_eleven_digits,
)
def ndc_not_in_eleven_digit_form(ctx: RuleContext) -> Finding:
    """The NDC is readable but not written as 11 digits with no hyphens or spaces.

    ## What it checks
    NDCs (837P/837I 2410 LIN03, JSON/CSV ``ndc``) that ``parse_ndc`` reads to one
    11-digit NDC but that are not written that way: the 5-4-2 form with hyphens
    (00781-2104-01), a hyphenated 10-digit form (4-4-2 0781-2104-01, 5-3-2
    55111-527-05, 5-4-1 68992-3075-3) or digits with spaces. The hyphens of a 10-digit
    form say which segment is short, so the 11-digit form is certain: a zero in front
    of the short segment.

    An unhyphenated 10-digit NDC is ambiguous and is NDC003's.

    ## Why it matters
    Claims carry the NDC as 11 digits in 5-4-2 order with no hyphens or spaces.
    Payers and clearinghouses reject other forms as an invalid NDC (CARC 16 with RARC
    M119); a 10-digit NDC padded by the payer in the wrong place becomes another,
    usually non-existent, NDC.

    ## Example
    NDC ``0781-2104-01`` (Sandoz tacrolimus 5 mg, as printed on the package).

    Use instead: ``00781210401``.

    ## Fix
    Safe: sets ``ndc`` to the 11-digit form. The product does not change — only how
    its NDC is written — and the finding is reported either way; nothing is rewritten
    unless fixes are applied.

    ## Options
    None.

    ## Related
    NDC003 (10 digits without hyphens); NDC002 (NDC that cannot be read); NDC004
    (qualifier typed into the NDC).

    ## References
    - ASC X12 837P 005010X222A1 / 837I 005010X223A2 loop 2410 LIN03.
    - rules.md R-NDC-1 (11-digit 5-4-2 on claims) and R-NDC-2 (10→11 conversion).
    """
    lines = with_ndc_parse(ctx.lines, c.NDC)
    how = (
        pl.when(pl.col("_ndc_layout") == "5-4-2")
        .then(pl.lit("is the 11-digit NDC with hyphens"))
        .when(pl.col("_ndc_layout") == "11-digit")
        .then(pl.lit("is the 11-digit NDC with spaces"))
        .otherwise(
            pl.format(
                "is the 10-digit {} form (short segment padded with a zero)",
                pl.col("_ndc_layout"),
            )
        )
    )
    return Finding(
        rows=lines.with_columns(how.alias("_how")),
        violated=(pl.col("_ndc_status") == "ok") & (pl.col(c.NDC) != pl.col("_ndc_ndc11")),
        message="NDC '{ndc}' {_how}; claims carry it as {_ndc_ndc11}",
        fix={"ndc": pl.col("_ndc_ndc11")},
        fix_title="Write the NDC as {_ndc_ndc11}",
    )
