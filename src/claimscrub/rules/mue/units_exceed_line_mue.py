"""MUE001: one line bills more units than the MUE of a line-edit (MAI 1) code."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Severity
from claimscrub.model import columns as c
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.mue.common import with_mue
from claimscrub.rules.registry import rule
from claimscrub.rules.units.common import number_text


@rule(
    code="MUE001",
    name="units-exceed-line-mue",
    severity=Severity.ERROR,
    carc="CO-151",
    rarc=("N362",),
    requires=("hcpcs", "ndc_hcpcs", "mue"),
    inputs=(c.HCPCS, c.UNITS, c.DOS_FROM),
    options={"apply_outside_release_window": False},
    source="CMS NCCI medically unlikely edits (MUE tables, MAI 1); rules.md section 6",
)
def units_exceed_line_mue(ctx: RuleContext) -> Finding:
    """A line bills more units than the medically unlikely edit of a line-edit code allows.

    ## What it checks
    Lines whose code has an MUE with adjudication indicator 1 (a line edit) in the CMS
    NCCI MUE table the payer pack names (`mue_service_type`: practitioner, outpatient
    hospital or DME supplier), in the MUE release in force on the date of service.
    Each line's units (SV104 / SV205) are compared with the MUE on their own.

    Not checked: packs without an MUE table (Medicaid, commercial); codes without an
    MUE row (codes created after the release, such as J7514, J7521, J7528 for the
    2024-07-01 release); MUE 0, which means the code is not payable in that setting —
    a routing question for RTE001 / RTE002, not a unit count; codes invalid on the date
    (COD001); NDCs listed only under other codes (COD003, COD004); dates before the
    release in force (option).

    ## Why it matters
    Medicare contractors deny the units of a line above a line-edit MUE (CARC 151,
    RARC N362). For MAI 1 codes a second line on the same date is judged separately,
    but only when a legitimate modifier (e.g. a distinct anatomic site) explains it;
    splitting a line to pass the edit is a misuse.

    ## Example
    J3471 (hyaluronidase, ovine, per 1 USP unit; practitioner MUE 999, MAI 1),
    1,200 units on one line of an A/B MAC claim.

    Use instead: the units actually given, documented; above the MUE only with records.

    ## Fix
    None: the billed units may be right and need documentation, not a smaller number.

    ## Options
    - `apply_outside_release_window` (bool, default false): also use the nearest MUE
      release for dates of service before any release is in force.

    ## Related
    MUE002 (date-of-service MUEs, MAI 2 and 3), RTE001 / RTE002 (MUE 0: the code is not
    payable by that contractor), UNT001 / UNT002 (units that are simply miscounted),
    PAU004 (payer quantity limits).

    ## References
    - CMS NCCI Medically Unlikely Edits (practitioner, outpatient hospital, DME supplier tables).
    - rules.md section 6; section 8 (UNITS_EXCEED_MUE: CO-151 + N362).
    """
    lines = with_mue(ctx).filter(pl.col("_mai") == 1)
    message = pl.format(
        "{} units of {} on this line exceed the {} MUE of {} [MUE release {}] ({}; CMS "
        "rationale: {})",
        number_text(pl.col(c.UNITS)),
        pl.col(c.HCPCS),
        pl.col("_service_text"),
        pl.col("_mue"),
        pl.col("mue_release"),
        pl.col("_mai_text"),
        pl.col("_rationale").fill_null("none given"),
    )
    return Finding(
        rows=lines.with_columns(_message=message),
        violated=pl.col(c.UNITS) > pl.col("_mue"),
        message="{_message}",
    )
