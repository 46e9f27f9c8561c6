"""COD005: the code field does not hold a code of any HCPCS shape."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Applicability, Severity
from claimscrub.model import columns as c
from claimscrub.rules.coding.code_qualifier_not_hcpcs import hcpcs_coded
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.ndc.normalise import is_blank
from claimscrub.rules.registry import rule

# model/codes.py is_hcpcs_shape: Level II (A0000) or Level I (00000, 0000F ...).
HCPCS_SHAPE = r"^[A-Z][0-9]{4}$|^[0-9]{4}[A-Z0-9]$"
LEVEL_II_SHAPE = r"^[A-Z][0-9]{4}$"


def malformed_code(_ctx: RuleContext | None = None) -> pl.Expr:
    """A HCPCS line whose code is given but has no HCPCS shape: the lines COD005 reports,
    and its ``applies_when`` (a claim of well-formed codes does not build its query)."""
    code = pl.col(c.HCPCS)
    return hcpcs_coded() & ~is_blank(code) & ~code.str.contains(HCPCS_SHAPE)


@rule(
    code="COD005",
    name="code-malformed",
    severity=Severity.ERROR,
    carc="CO-16",
    rarc=("M20",),
    fix=Applicability.UNSAFE,
    requires=("hcpcs",),
    inputs=(c.HCPCS,),
    distinct_on=(c.HCPCS, c.DOS_FROM, c.PROCEDURE_QUALIFIER),
    source="CMS HCPCS Level II code format; ASC X12 837 SV101-2 / SV202-2; rules.md R-CODE-1",
    gates_line=True,
    applies_when=malformed_code,
)
def code_malformed(ctx: RuleContext) -> Finding:
    """The procedure code is not written as a HCPCS code.

    ## What it checks
    Every line with a non-blank code (837P SV101-2, 837I SV202-2, JSON/CSV ``hcpcs``)
    must have a HCPCS shape: Level II is one capital letter and four digits
    (J7507), Level I (CPT) five digits or four digits and a capital letter. Anything
    else — lower case, spaces or hyphens inside, a modifier or NDC typed into the
    code field, too few or too many characters — fails. A missing or blank code is
    COD008's; a code sent with a qualifier other than HC is not a HCPCS code at all
    (COD007).

    ## Why it matters
    A payer's front end rejects a line whose procedure code is not a code as a
    billing error (CARC 16 with RARC M20, missing or invalid HCPCS) before any
    other edit runs.

    ## Example
    ``j7507`` or ``J-7507``.

    Use instead: ``J7507``.

    ## Fix
    Unsafe. When removing spaces and punctuation and upper-casing the text gives a
    Level II code that is valid on the date of service, sets ``hcpcs`` to it;
    otherwise there is no fix. Unsafe because the code field is rewritten, even if
    only in form.

    ## Options
    None.

    ## Related
    COD002 (Level II-shaped code that no release lists); COD001 (code not valid on
    the date of service).

    ## References
    - CMS HCPCS Level II Alpha-Numeric file (code format).
    - ASC X12 837P 005010X222A1 SV101-2, 837I 005010X223A2 SV202-2.
    """
    cleaned = pl.col(c.HCPCS).str.replace_all(r"[^A-Za-z0-9]", "").str.to_uppercase()
    lines = ctx.lines.filter(malformed_code()).with_columns(cleaned.alias("_cleaned"))
    lines = ctx.refdata.lookup(
        lines, "hcpcs", on={"_cleaned": "hcpcs_code"}, as_of=c.DOS_FROM, columns=[]
    )
    return Finding(
        rows=lines.with_columns(
            pl.when(
                pl.col("hcpcs_valid").fill_null(False)
                & pl.col("_cleaned").str.contains(LEVEL_II_SHAPE)
            )
            .then(pl.col("_cleaned"))
            .alias("_fixed"),
            pl.col(c.HCPCS).str.len_chars().alias("_length"),
        ),
        violated=pl.lit(True),
        message=(
            "'{hcpcs}' ({_length} characters) is not a HCPCS code: Level II is a capital "
            "letter and four digits, Level I four digits and a digit or capital letter"
        ),
        fix={"hcpcs": pl.col("_fixed")},
        fix_title="Write the code as {_fixed}",
    )
