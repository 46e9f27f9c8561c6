"""COD002: a HCPCS Level II-shaped code that no installed HCPCS release lists."""

from __future__ import annotations

import datetime as dt

import polars as pl

from claimscrub.diagnostics import Severity
from claimscrub.model import columns as c
from claimscrub.rules.coding.code_qualifier_not_hcpcs import hcpcs_coded
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.registry import rule

LEVEL_II_SHAPE = r"^[A-Z][0-9]{4}$"


@rule(
    code="COD002",
    name="code-unknown-to-hcpcs",
    severity=Severity.ERROR,
    carc="CO-181",
    rarc=("M20",),
    requires=("hcpcs",),
    inputs=(c.HCPCS, c.DOS_FROM),
    distinct_on=(c.HCPCS, c.DOS_FROM, c.PROCEDURE_QUALIFIER),
    source="CMS HCPCS Level II file (every installed release); rules.md R-CODE-1",
    gates_line=True,
)
def code_unknown_to_hcpcs(ctx: RuleContext) -> Finding:
    """The code looks like a HCPCS Level II code, but no HCPCS release lists it.

    ## What it checks
    Lines whose HCPCS code (837P SV101-2, 837I SV202-2) has the Level II shape — one
    capital letter and four digits — but appears in none of the installed CMS HCPCS
    Level II releases, including the codes those releases list as terminated years
    ago. Such a code never existed (a typo, a chargemaster entry made up from an
    NDC or a drug name, a code copied from an unreliable website), so it is invalid
    on every date of service.

    Codes of the Level I (CPT) shape (five digits, or four digits and a letter) are
    not checked: CPT is the AMA's and is not bundled. Codes of no HCPCS shape at all
    are COD005's. Codes that exist but are not valid on the date are COD001's. Codes
    sent with a qualifier other than HC belong to another code set (COD007).

    Only lines dated on or after the start of the oldest installed release
    (2020-01-01 with the bundled data) are checked. A CMS file lists every code valid
    in its year plus codes terminated in the years before it, not the whole history:
    the 2020 file does not list J7051 (sterile saline, 5 cc), deleted long before, so
    a 2004 line billing it cannot be judged from the installed files.

    A code added by a quarterly update newer than the newest installed release
    (for example an April code when only the January file is installed) is
    reported too; the message names the newest release so the reader can tell.
    Import the newer CMS file with ``claimscrub refdata import``.

    ## Why it matters
    A payer cannot price or adjudicate a code it does not know: the line is rejected
    as a code invalid on the date of service (CARC 181, with RARC M20 for a
    missing or invalid HCPCS). Nothing is paid until a real code is billed.

    ## Example
    J7526 (no such code) on a tacrolimus line.

    Use instead: the code the crosswalk gives for the NDC dispensed (J7507 for
    immediate-release tacrolimus capsules).

    ## Fix
    None: the intended code cannot be known from a code that does not exist.

    ## Options
    None.

    ## Related
    COD001 (code not valid on the date of service); COD005 (code field does not hold
    a HCPCS code at all); COD003 (code does not match the NDC).

    ## References
    - CMS HCPCS Level II Alpha-Numeric files (every installed release).
    - rules.md R-CODE-1 and §8 CODE_INVALID_FOR_DOS (CO-181 + M20).
    """
    releases = ctx.refdata.releases("hcpcs")
    newest, oldest = releases[-1], releases[0]
    since = newest.effective_from.isoformat() if newest.effective_from else "its start"
    installed = ", ".join(r.release for r in releases)
    lines = ctx.refdata.lookup(
        ctx.lines.filter(
            hcpcs_coded()
            & pl.col(c.HCPCS).str.contains(LEVEL_II_SHAPE)
            & (pl.col(c.DOS_FROM) >= pl.lit(oldest.effective_from or dt.date.min))
        ),
        "hcpcs",
        on={c.HCPCS: "hcpcs_code"},
        as_of=c.DOS_FROM,
        columns={"add_date": "_added"},
    )
    return Finding(
        rows=lines,
        violated=pl.col("hcpcs_validity_release").is_null(),
        message=(
            "{hcpcs} is not a HCPCS Level II code on {dos_from}: no installed HCPCS release lists it "
            f"(installed: {installed}; newest {newest.release}, in force from {since})"
        ),
    )
