"""NDC004: the NDC's product-ID qualifier is not N4, or is typed into the NDC itself."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Applicability, Severity
from claimscrub.model import columns as c
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.ndc.normalise import (
    after_qualifier,
    hyphenated,
    is_blank,
    qualifier_prefix,
    with_ndc_parse,
)
from claimscrub.rules.registry import rule

NDC_QUALIFIER = "N4"


def _bad_element() -> pl.Expr:
    """The NDC qualifier element (LIN02) is given and is not N4."""
    element = pl.col(c.NDC_QUALIFIER)
    return ~is_blank(element) & (element.str.strip_chars() != NDC_QUALIFIER)


def wrong_qualifier(_ctx: RuleContext | None = None) -> pl.Expr:
    """The line has an NDC with a qualifier element other than N4, or a qualifier typed in
    front of the NDC itself: the lines NDC004 reports, and its ``applies_when``."""
    typed = qualifier_prefix(pl.col(c.NDC))
    return ~is_blank(pl.col(c.NDC)) & (_bad_element().fill_null(False) | typed.is_not_null())


@rule(
    code="NDC004",
    name="ndc-qualifier-wrong",
    severity=Severity.ERROR,
    carc="CO-16",
    rarc=("M119",),
    fix=Applicability.SAFE,
    inputs=(c.NDC,),
    source="ASC X12 837P/837I loop 2410 LIN02 = N4; X12 RFI 2151; NUCC CMS-1500 item 24A; rules.md R-NDC-4",
    depends_on_code=False,
    applies_when=wrong_qualifier,
)
def ndc_qualifier_wrong(ctx: RuleContext) -> Finding:
    """The NDC is not reported with the qualifier N4 in its own element.

    ## What it checks
    Lines with an NDC. Two ways to get the qualifier wrong:

    - the product/service ID qualifier (837P/837I loop 2410 LIN02) is present and is
      not ``N4`` — the only value the 5010 837 guides allow for an NDC;
    - the NDC value itself starts with a two-letter qualifier, as the paper CMS-1500
      prints it in the shaded part of item 24A (``N400781210401`` or
      ``N4 00781210401 UN180``): in an electronic claim the qualifier goes in LIN02
      and LIN03 holds only the 11 digits (JSON/CSV: ``ndc`` holds only the NDC).

    Only X12 input carries LIN02; JSON and CSV carry the second case.

    ## Why it matters
    A payer reads LIN03 as an NDC only under N4, and reads a value that starts with
    letters as no NDC at all: the line is denied as a billing error with the NDC
    missing or invalid (CARC 16 with RARC M119).

    ## Example
    ``ndc``: ``N4 00781210401 UN180``.

    Use instead: ``ndc`` 00781210401, ``ndc_unit`` UN, ``ndc_quantity`` 180
    (X12: ``LIN**N4*00781210401~CTP****180*UN~``).

    ## Fix
    Safe, for the typed-in N4 only: ``ndc`` is set to the 11-digit NDC that follows
    the qualifier when it reads as one (the same NDC, written as a claim carries it).
    A LIN02 other than N4, or another typed qualifier (a UPC or HIBC), has no fix:
    the identifier may not be an NDC at all.

    ## Options
    None.

    ## Related
    NDC002 (NDC that cannot be read); NDC008 (NDC not written as 11 plain digits);
    NDC005 (NDC unit of measure).

    ## References
    - ASC X12 837P 005010X222A1 / 837I 005010X223A2 loop 2410 LIN02, LIN03.
    - X12 RFI 2151: https://x12.org/resources/requests-for-interpretation/rfi-2151-cpt04-units-837i-and-837p
    - rules.md R-NDC-4.
    """
    typed = qualifier_prefix(pl.col(c.NDC))
    element = pl.col(c.NDC_QUALIFIER)
    bad_element = _bad_element()
    lines = with_ndc_parse(
        ctx.lines.with_columns(after_qualifier(pl.col(c.NDC)).alias("_after")), "_after", "_aq_"
    )
    fixed = pl.when(
        typed.str.to_uppercase().eq(NDC_QUALIFIER).fill_null(False)
        & (pl.col("_aq_status") == "ok").fill_null(False)
        & ~bad_element.fill_null(False)
    ).then(pl.col("_aq_ndc11"))
    why = (
        pl.when(bad_element.fill_null(False))
        .then(
            pl.format(
                "the NDC qualifier (LIN02) is '{}'; an NDC is reported with qualifier N4",
                element,
            )
        )
        .otherwise(
            pl.format(
                "NDC '{}' starts with the qualifier '{}'; the NDC element holds only the "
                "11 digits (the qualifier goes in LIN02)",
                pl.col(c.NDC),
                typed,
            )
        )
    )
    return Finding(
        rows=lines.with_columns(
            why.alias("_why"), fixed.alias("_fixed"), hyphenated(fixed).alias("_fixed_print")
        ),
        violated=wrong_qualifier(),
        message="{_why}",
        fix={"ndc": pl.col("_fixed")},
        fix_title="Report the NDC as {_fixed} ({_fixed_print}) with qualifier N4",
    )
