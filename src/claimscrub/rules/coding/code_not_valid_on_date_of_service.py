"""COD001: the HCPCS code is not valid on the line's date of service."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Severity
from claimscrub.model import columns as c
from claimscrub.rules.coding.code_qualifier_not_hcpcs import hcpcs_coded
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.registry import rule


@rule(
    code="COD001",
    name="code-not-valid-on-date-of-service",
    severity=Severity.ERROR,
    carc="CO-181",
    rarc=("M20",),
    requires=("hcpcs",),
    inputs=(c.HCPCS, c.DOS_FROM),
    distinct_on=(c.HCPCS, c.DOS_FROM, c.PROCEDURE_QUALIFIER),
    source="CMS HCPCS Level II file (add / termination dates); rules.md R-CODE-1",
    gates_line=True,
)
def code_not_valid_on_date_of_service(ctx: RuleContext) -> Finding:
    """The HCPCS code was not yet added, or already terminated, on the date of service.

    ## What it checks
    Every line's HCPCS code (837P SV101-2, 837I SV202-2) against the CMS HCPCS Level II
    file: a code is valid on date d when its add date is on or before d and it has no
    termination date or d is on or before it. Add and termination dates come from the
    newest bundled or imported HCPCS release that lists the code. Codes that no release
    lists at all are left to COD002, codes sent with a qualifier other than HC (another
    code set) to COD007.

    ## Why it matters
    Payers reject a line whose code is invalid for the date of service as unprocessable
    (CARC 181, Medicare adds RARC M20); it cannot be appealed, only corrected and
    resubmitted. J7505 (muromonab-CD3) and J7513 (daclizumab) were discontinued after
    2025-12-31; J7521 and J7514 did not exist before their add dates.

    ## Example
    J7505 on a line dated 2026-01-02.

    Use instead: the code that describes the product actually given, valid on that date.

    ## Fix
    None here: the right code depends on the product. The message gives the code's
    dates. When the line's NDC is on the crosswalk under another code valid on the date,
    COD003 (or COD004) reports that code, with the units, as its fix.

    ## Options
    None.

    ## Related
    COD002 (code unknown to every HCPCS release).

    ## References
    - CMS HCPCS Level II Alpha-Numeric file: ADD DT, ACT EFF DT, TERM DT, ACTION CD.
    - rules.md R-CODE-1 (Palmetto GBA on CARC 181 / M20).
    """
    lines = ctx.refdata.lookup(
        ctx.lines.filter(hcpcs_coded()),
        "hcpcs",
        on={c.HCPCS: "hcpcs_code"},
        as_of=c.DOS_FROM,
        columns={"add_date": "_added", "termination_date": "_terminated"},
    )
    terminated = pl.col("hcpcs_status") == "terminated"
    return Finding(
        rows=lines.with_columns(
            _when=pl.when(terminated)
            .then(pl.format("is not valid after {} (terminated)", pl.col("_terminated")))
            .otherwise(pl.format("is valid only from {}", pl.col("_added")))
        ),
        violated=pl.col("hcpcs_status").is_in(["terminated", "not_yet_valid"]),
        message="{hcpcs} {_when}; the line is dated {dos_from}",
    )
