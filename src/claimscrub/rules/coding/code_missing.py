"""COD008: a line that needs a HCPCS code has none."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Applicability, Severity
from claimscrub.model import columns as c
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.ndc.normalise import hyphenated, is_blank, with_ndc_parse
from claimscrub.rules.registry import rule

# NUBC revenue code 0636, "drugs requiring detailed coding": the line must name the drug's
# HCPCS code (rules.md R-MCR-2, hospital outpatient).
DETAILED_CODING = "0636"


def _revenue_code() -> pl.Expr:
    """The revenue code as four digits ("636" and "0636" are the same code)."""
    return pl.col(c.REVENUE_CODE).str.strip_chars().str.zfill(4)


def code_needed_but_missing(_ctx: RuleContext | None = None) -> pl.Expr:
    """The line has no code although it needs one: the lines COD008 reports, and its
    ``applies_when``."""
    revenue = pl.col(c.REVENUE_CODE)
    professional_line = is_blank(revenue) & (pl.col(c.CLAIM_TYPE) != "institutional").fill_null(
        True
    )
    detailed_coding = (_revenue_code() == DETAILED_CODING).fill_null(False)
    return is_blank(pl.col(c.HCPCS)) & (professional_line | detailed_coding)


@rule(
    code="COD008",
    name="code-missing",
    severity=Severity.ERROR,
    carc="CO-16",
    rarc=("M20",),
    fix=Applicability.UNSAFE,
    requires=("hcpcs", "ndc_hcpcs"),
    # No `inputs`: a batch in which no line has a code must be reported line by line, not
    # skipped for lack of data in hcpcs.
    source=(
        "ASC X12 837P 005010X222A1 SV101-2 (required); NUBC revenue code 0636; "
        "CMS ASP NDC-HCPCS crosswalk; rules.md R-CODE-1, R-MCR-2"
    ),
    gates_line=True,
    applies_when=code_needed_but_missing,
)
def code_missing(ctx: RuleContext) -> Finding:
    """A line that must name its HCPCS code names none.

    ## What it checks
    Lines whose code (837P SV101-2, 837I SV202-2, JSON/CSV ``hcpcs``) is absent or
    blank, where a code is required:

    - every line of a professional claim (837P / CMS-1500): the implementation guide
      requires SV101-2 on every service line. A JSON or CSV line without a revenue
      code, on a claim not marked institutional, is read as professional;
    - an institutional line with revenue code 0636 (drugs requiring detailed coding),
      which exists to carry the drug's HCPCS code.

    Other institutional lines may leave the code out (a revenue code alone, 0250
    pharmacy say), and are not reported. An 837 line with SV101-2 empty does not reach
    the rules: the reader rejects its claim.

    This rule gates the line: the other checks judge the billed code, and with none
    their verdicts would be guesses (the NDC format checks and the missing units,
    UNT008, are still reported).

    ## Why it matters
    A payer cannot price or edit a drug line without its code. A professional line
    without one is rejected at the front end; an outpatient hospital line under
    revenue code 0636 without its HCPCS code is returned. Both come back as a billing
    error with the procedure code missing (CARC 16 with RARC M20), and nothing on the
    line is paid until it is resubmitted.

    ## Example
    A professional claim line with NDC 00469-0617-73 (Prograf 1 mg capsules),
    quantity UN 60, 60 units, and no code.

    Use instead: J7507 (tacrolimus, oral, 1 mg), the code the CMS NDC–HCPCS
    crosswalk lists for that NDC.

    ## Fix
    Unsafe, and only when the line's NDC is on the CMS NDC–HCPCS crosswalk release used
    for the date of service under exactly one code: that code. The biller confirms
    it against the product given; the units must then be in that code's billing unit
    (UNT001 checks them on the re-check).

    ## Options
    None.

    ## Related
    COD005 (code not written as a HCPCS code); COD007 (code sent with a qualifier other
    than HC); UNT008 (units missing); NDC001 (NDC missing).

    ## References
    - ASC X12 837P 005010X222A1, loop 2400 SV101-2 procedure code: required.
    - ASC X12 837I 005010X223A2, loop 2400 SV202-2: required when a HCPCS code applies;
      NUBC revenue code 0636, drugs requiring detailed coding.
    - CMS ASP NDC–HCPCS crosswalk (bundled; the release used for the date).
    - rules.md R-CODE-1 (code on every drug line) and R-MCR-2 (revenue code 0636 on
      hospital outpatient drug lines).
    """
    lines = ctx.lines.filter(code_needed_but_missing())
    parsed = with_ndc_parse(lines, c.NDC)
    # The codes the crosswalk lists for the line's NDC, as of the date of service.
    listed = ctx.refdata.lookup(
        parsed.filter(pl.col("_ndc_ndc11").is_not_null() & pl.col(c.DOS_FROM).is_not_null())
        .select(c.CLAIM_KEY, c.LINE_NO, "_ndc_ndc11", c.DOS_FROM)
        .unique(),
        "ndc_hcpcs",
        on={"_ndc_ndc11": "ndc11"},
        as_of=c.DOS_FROM,
        columns={"hcpcs_code": "_xw_code", "drug_name": "_xw_drug"},
    )
    per_line = (
        listed.filter(pl.col("_xw_code").is_not_null())
        .group_by(c.CLAIM_KEY, c.LINE_NO)
        .agg(
            pl.col("_xw_code").unique().sort().alias("_xw_codes"),
            pl.col("_xw_drug").drop_nulls().first(),
            pl.col("ndc_hcpcs_release").first().alias("_xw_release"),
        )
    )
    rows = parsed.join(per_line, on=[c.CLAIM_KEY, c.LINE_NO], how="left", maintain_order="left")
    one_code = pl.col("_xw_codes").list.len().fill_null(0) == 1
    where = (
        pl.when(pl.col(c.REVENUE_CODE).is_not_null())
        .then(pl.format("under revenue code {}", pl.col(c.REVENUE_CODE)))
        .otherwise(pl.lit("on a professional claim"))
    )
    hint = (
        pl.when(one_code)
        .then(
            pl.format(
                "; the CMS NDC–HCPCS crosswalk ({}) lists NDC {} ({}) under {}",
                pl.col("_xw_release"),
                hyphenated(pl.col("_ndc_ndc11")),
                pl.col("_xw_drug").fill_null("?"),
                pl.col("_xw_codes").list.first(),
            )
        )
        .when(pl.col("_xw_codes").list.len().fill_null(0) > 1)
        .then(
            pl.format(
                "; the CMS NDC–HCPCS crosswalk lists NDC {} under {}",
                hyphenated(pl.col("_ndc_ndc11")),
                pl.col("_xw_codes").list.join(", "),
            )
        )
        .otherwise(pl.lit(""))
    )
    return Finding(
        rows=rows.with_columns(
            where.alias("_where"),
            hint.alias("_hint"),
            pl.when(one_code).then(pl.col("_xw_codes").list.first()).alias("_only_code"),
        ),
        violated=pl.lit(True),
        message="line {line_no} has no HCPCS code {_where}, where one is required{_hint}",
        fix={"hcpcs": pl.col("_only_code")},
        fix_title="Bill {_only_code}, the crosswalk's code for the NDC (confirm the product)",
    )
