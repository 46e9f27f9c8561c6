"""COD006: a line has no date of service, from itself or from its claim."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Severity
from claimscrub.model import columns as c
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.registry import rule


def undated(_ctx: RuleContext | None = None) -> pl.Expr:
    """The line has no date of service: the lines COD006 reports, and its ``applies_when``."""
    return pl.col(c.DOS_FROM).is_null()


@rule(
    code="COD006",
    name="date-of-service-missing",
    severity=Severity.ERROR,
    carc="CO-16",
    rarc=("M52",),
    # No `inputs`: a batch in which no line has a date must be reported line by line, not
    # skipped for lack of data in dos_from.
    source="ASC X12 837P 005010X222A1 loop 2400 DTP*472 (required); rules.md DOS conventions",
    gates_line=True,
    preview=True,
    applies_when=undated,
)
def date_of_service_missing(ctx: RuleContext) -> Finding:
    """The line has no date of service.

    ## What it checks
    Every line whose date of service is empty once the claim's date is applied: 837P
    lines without their own DTP*472 (loop 2400), 837I lines without DTP*472 on a claim
    without a statement period (DTP*434), JSON lines without ``service_date`` on a
    claim without ``service_date``, CSV rows without ``line_service_date`` and
    ``service_date``. An 837P line never takes another line's date: the
    implementation guide has no claim-level service date and requires DTP*472 on
    every line. A JSON or CSV line dated only by its claim, and an 837I line inside
    the statement period, are dated.

    This rule gates the line: every other check judges the code, the NDC, the units
    and the benefit as of the date of service, so on an undated line their verdicts
    would be guesses and are not reported (the code-independent NDC format checks
    still are).

    ## Why it matters
    Code validity, crosswalks, MUEs, modifiers and coverage all depend on the date.
    A payer returns a line without a service date as unprocessable: CARC 16 (missing
    information) with RARC M52, the remark for a from-date of service that is missing
    or not valid. Nothing on the line is paid until it is resubmitted with the date.

    ## Example
    An 837P drug line ``SV1*HC:J7507*150*UN*30***1~`` followed directly by ``LIN``,
    with no ``DTP*472`` segment in its loop 2400.

    Use instead: ``DTP*472*D8*20250610~`` after the SV1 segment, the day the drug was
    dispensed (shipped, for mail order).

    ## Fix
    None: the date the service was given cannot be determined from the claim.

    ## Options
    None.

    ## Related
    COD001 (code not valid on the date of service); MCR010 (date of service not the
    discharge date).

    ## References
    - ASC X12 837P 005010X222A1, loop 2400 DTP*472 service date: required on every
      service line.
    - ASC X12 837I 005010X223A2, loop 2300 DTP*434 statement dates (required) and loop
      2400 DTP*472 (situational).
    - rules.md conventions (DOS = date of service, selects every dated fact) and §11
      step 1 (normalise dates before any check).
    """
    return Finding(
        rows=ctx.lines.filter(undated()),
        violated=pl.lit(True),
        message=(
            "line {line_no} ({hcpcs}) has no date of service: neither the line nor its claim "
            "gives one, so nothing on the line can be checked as of a date"
        ),
    )
