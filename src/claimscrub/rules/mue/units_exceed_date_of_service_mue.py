"""MUE002: the units of one code on one date exceed its date-of-service MUE (MAI 2 or 3)."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Severity
from claimscrub.model import columns as c
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.mue.common import SERVICE_TYPE, with_mue
from claimscrub.rules.registry import rule
from claimscrub.rules.units.common import number_text


@rule(
    code="MUE002",
    name="units-exceed-date-of-service-mue",
    severity=Severity.ERROR,
    carc="CO-151",
    rarc=("N362",),
    requires=("hcpcs", "ndc_hcpcs", "mue"),
    inputs=(c.HCPCS, c.UNITS, c.DOS_FROM),
    options={"apply_outside_release_window": False},
    source="CMS NCCI medically unlikely edits (MUE tables, MAI 2 and 3); rules.md section 6",
)
def units_exceed_date_of_service_mue(ctx: RuleContext) -> Finding:
    """The units of one code for the patient on one date exceed its date-of-service MUE.

    ## What it checks
    Codes whose MUE has adjudication indicator 2 (a policy limit per date of service)
    or 3 (a clinical limit per date of service) in the CMS NCCI MUE table the payer
    pack names (`mue_service_type`), in the MUE release in force on the date of
    service. The units of every line of the claim with that code and date are added
    and compared with the MUE; every line of a group over the limit is reported, since
    the payer denies the day's units. Lines on other claims (history) are not added.

    Not checked: packs without an MUE table (Medicaid, commercial); codes without an
    MUE row (e.g. J7514, J7521, J7528, created after the 2024-07-01 release); MUE 0
    (not payable in the setting: RTE001 / RTE002); codes invalid on the date (COD001);
    NDCs listed only under other codes (COD003, COD004); dates before the release in
    force (option).

    ## Why it matters
    An MUE is the most units a provider would normally report for one patient on one
    date. Units above a date-of-service MUE are denied (CARC 151, RARC N362); modifiers
    do not lift MAI 2 or 3 edits. MAI 2 limits come from policy (e.g. one initial
    immunosuppressive supply fee Q0510 per date) and are not appealable; MAI 3 limits
    come from clinical data and may be paid on appeal with records. The DME supplier
    MUE for J7507 (1 mg) is 1,200 units — a 90-day supply above 13 mg a day exceeds it.

    ## Example
    DME MAC claim, J7507 on 2025-06-10: line 1 NDC 00781-2104-01 (5 mg) 900 units,
    line 2 NDC 00781-2103-01 (1 mg) 360 units; 1,260 units against an MUE of 1,200.

    Use instead: a dispense within the MUE for the date, or records to support an appeal.

    ## Fix
    None: the units may be right and need documentation, not a smaller number.

    ## Options
    - `apply_outside_release_window` (bool, default false): also use the nearest MUE
      release for dates of service before any release is in force.

    ## Related
    MUE001 (line-edit MUEs, MAI 1), RTE001 / RTE002 (MUE 0: not payable by that
    contractor), MCR007 (days' supply over the limit), MCR017 (initial supply fee
    repeated), PAU004 (payer quantity limits), UNT001 / UNT002 (miscounted units).

    ## References
    - CMS NCCI Medically Unlikely Edits (practitioner, outpatient hospital, DME supplier tables).
    - rules.md section 6, R-MCR-7 (supply fee MUEs); section 8 (CO-151 + N362).
    """
    group = [c.CLAIM_KEY, c.HCPCS, c.DOS_FROM, SERVICE_TYPE]
    lines = (
        with_mue(ctx)
        .filter(pl.col("_mai").is_in([2, 3]))
        .with_columns(_total=pl.col(c.UNITS).sum().over(group))
        # Only groups over the limit need their line list (a costly string window).
        .filter(pl.col("_total") > pl.col("_mue"))
        .with_columns(
            _line_list=pl.col(c.LINE_NO).sort().cast(pl.String).str.join(", ").over(group),
            _lines=pl.len().over(group),
        )
    )
    where = (
        pl.when(pl.col("_lines") == 1)
        .then(pl.format("line {}", pl.col("_line_list")))
        .otherwise(pl.format("lines {}", pl.col("_line_list")))
    )
    message = pl.format(
        "{} units of {} on {} ({}) exceed the {} MUE of {} per date of service [MUE release "
        "{}] ({}; CMS rationale: {})",
        number_text(pl.col("_total")),
        pl.col(c.HCPCS),
        pl.col(c.DOS_FROM),
        where,
        pl.col("_service_text"),
        pl.col("_mue"),
        pl.col("mue_release"),
        pl.col("_mai_text"),
        pl.col("_rationale").fill_null("none given"),
    )
    return Finding(
        rows=lines.with_columns(_message=message),
        violated=pl.col("_total") > pl.col("_mue"),
        message="{_message}",
    )
