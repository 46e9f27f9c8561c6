"""COD007: the line's procedure code is of another code set than HCPCS, so it is not checked."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Severity
from claimscrub.model import columns as c
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.registry import rule

HCPCS_QUALIFIER = "HC"  # X12 product/service id qualifier of HCPCS (and CPT) codes


def hcpcs_coded() -> pl.Expr:
    """True for lines whose code is a HCPCS (or CPT) code: qualifier HC, or none given
    (JSON and CSV lines hold HCPCS codes unless they say otherwise)."""
    qualifier = pl.col(c.PROCEDURE_QUALIFIER)
    return qualifier.is_null() | (qualifier == HCPCS_QUALIFIER)


def not_hcpcs_coded(_ctx: RuleContext | None = None) -> pl.Expr:
    """The line's code is of another code set: the lines COD007 reports, and its
    ``applies_when``."""
    return ~hcpcs_coded()


@rule(
    code="COD007",
    name="code-qualifier-not-hcpcs",
    severity=Severity.INFO,
    # No `inputs`: JSON and CSV batches rarely carry the qualifier, and listing this rule
    # as skipped for every one of them would say nothing useful.
    distinct_on=(c.HCPCS, c.PROCEDURE_QUALIFIER),
    source="ASC X12 837P 005010X222A1 SV101-1 / 837I 005010X223A2 SV202-1; rules.md R-CODE-1",
    gates_line=True,
    preview=True,
    applies_when=not_hcpcs_coded,
)
def code_qualifier_not_hcpcs(ctx: RuleContext) -> Finding:
    """The line's code is not a HCPCS code (qualifier other than HC), so it was not checked.

    ## What it checks
    Lines whose procedure code qualifier (837P SV101-1, 837I SV202-1, JSON
    ``procedure_qualifier``) is given and is not ``HC``: ``ER`` (a code defined by a
    jurisdiction), ``IV`` (home infusion codes), ``WK`` (advanced billing concept
    codes), ``HP`` (HIPPS rate codes, 837I) and any other value. The code on such a
    line belongs to another code set, so the HCPCS file, the NDC–HCPCS crosswalk, the
    billing units and the MUEs say nothing about it.

    The finding is information, not an error: the line may be exactly what the payer
    asked for. It tells the reader that claimscrub did not check the line, and it
    gates the line: the other rules' verdicts, which all read the code as HCPCS (an
    "unknown HCPCS code", a crosswalk or unit mismatch), are not reported there. The
    code-independent NDC format checks still run.

    ## Why it matters
    A line the scrubber could not judge must not pass silently as clean, and must not
    be reported with errors that only hold for HCPCS codes. When the payer expects
    HCPCS on the line, the qualifier is the mistake: bill the HCPCS code with ``HC``.

    ## Example
    ``SV1*WK:ABC12*150*UN*1***1~`` (an advanced billing concept code).

    Use instead: when the payer expects HCPCS, ``SV1*HC:J7507*150*UN*30***1~``;
    otherwise nothing, and review the line by hand.

    ## Fix
    None: the HCPCS code for a code of another code set cannot be derived.

    ## Options
    None.

    ## Related
    COD005 (code of no HCPCS shape); COD002 (HCPCS-shaped code no release lists).

    ## References
    - ASC X12 837P 005010X222A1 SV101-1 and 837I 005010X223A2 SV202-1, product or
      service id qualifier.
    - rules.md R-CODE-1 (codes are judged against the dated HCPCS file) and §11 (stop
      on a code failure for the line).
    """
    return Finding(
        rows=ctx.lines.filter(not_hcpcs_coded()),
        violated=pl.lit(True),
        message=(
            "{hcpcs} is sent with procedure code qualifier {procedure_qualifier}, not HC: it "
            "is not a HCPCS code, so the code, NDC crosswalk, unit and limit checks do not "
            "apply and the line was not checked"
        ),
    )
