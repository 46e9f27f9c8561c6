"""MCR013: ESRD-only Medicare ended before the date of service and there is no Part B-ID."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Severity
from claimscrub.model import columns as c
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.medicare import _benefit as b
from claimscrub.rules.registry import rule


@rule(
    code="MCR013",
    name="esrd-coverage-ended",
    severity=Severity.ERROR,
    carc="PR-27",
    inputs=(c.HCPCS, c.DOS_FROM),
    source="CMS Part B-ID provider page; SSA POMS (ESRD entitlement ends 36 months after the transplant month); rules.md R-MCR-8",
    applies_when=b.benefit_applies,
)
def esrd_coverage_ended(ctx: RuleContext) -> Finding:
    """The patient's ESRD-only Medicare ended before the line and Part B-ID does not cover it.

    ## What it checks
    Lines under a pack with the Medicare immunosuppressive drug benefit for patients
    whose Medicare is due to ESRD only (`esrd_only_entitlement: true`, or
    `medicare_entitlement.reason: esrd` when the flag is absent). Coverage ends on
    `medicare_entitlement.esrd_coverage_end` when given; otherwise on the last day of the
    36th month after the month of the latest kidney transplant on or before the line.
    A line dated after that is reported unless the patient is enrolled in Part B-ID
    (`part_b_id: true`) and the line is dated on or after Part B-ID began (2023-01-01).
    Without an end date or a dated kidney transplant nothing is reported.

    ## Why it matters
    When Medicare entitlement rests on ESRD alone, Part A and Part B end 36 months after
    the month of a successful kidney transplant; beneficiaries entitled by age or
    disability keep their coverage. After that the claim is denied as incurred after
    coverage ended (CARC 27, usually patient responsibility). Part B-ID (from 2023) keeps
    paying immunosuppressive drugs for those who enrol.

    ## Example
    J7507 on 2025-06-10; ESRD-only entitlement; kidney transplant 2021-03-14 (coverage
    ended 2024-03-31); no Part B-ID.

    Use instead: enrol the patient in Part B-ID (and bill under it), or bill the patient's
    other coverage.

    ## Fix
    None.

    ## Options
    None. The 36 months, the organ and the Part B-ID start are curated facts
    (`medicare_benefit.esrd_only_coverage`, `medicare_benefit.part_b_id`).

    ## Related
    MCR014 (Part B-ID covers immunosuppressive drugs only).

    ## References
    - CMS, Part B Immunosuppressive Drug Benefit (Part B-ID), provider page; SSA POMS on
      the end of ESRD entitlement (https://secure.ssa.gov/apps10/poms.NSF/lnx/0411052046).
    - rules.md R-MCR-8; failure class COVERAGE_TERMINATED.
    """
    esrd = b.setting("esrd_only_coverage")
    months = int(esrd["months_after_transplant_month"])
    part_b_id_from = b.setting("part_b_id")["coverage_from"]
    lines = b.lines_transplant_status(ctx, organ=str(esrd["organ"])).filter(b.benefit_applies())
    esrd_only = pl.col(c.ESRD_ONLY_ENTITLEMENT).fill_null(
        pl.col(c.MEDICARE_ENTITLEMENT_REASON).str.to_lowercase() == "esrd"
    )
    computed_end = (
        pl.col(b.ORGAN_LATEST).dt.month_start().dt.offset_by(f"{months + 1}mo").dt.offset_by("-1d")
    )
    coverage_end = pl.coalesce(pl.col(c.ESRD_COVERAGE_END), computed_end)
    basis = (
        pl.when(pl.col(c.ESRD_COVERAGE_END).is_not_null())
        .then(pl.lit("as recorded"))
        .otherwise(
            pl.format(
                "{} months after the kidney transplant of {}",
                pl.lit(months),
                pl.col(b.ORGAN_LATEST),
            )
        )
    )
    part_b_id = pl.col(c.PART_B_ID).fill_null(False) & (pl.col(c.DOS_FROM) >= part_b_id_from)
    return Finding(
        rows=lines.with_columns(coverage_end.alias("_coverage_end"), basis.alias("_basis")),
        violated=(
            esrd_only & (pl.col(c.DOS_FROM) > pl.col("_coverage_end")) & ~part_b_id
        ).fill_null(False),
        message=(
            "{hcpcs} is dated {dos_from}; the patient's ESRD-only Medicare ended on "
            "{_coverage_end} ({_basis}) and no Part B-ID enrolment covers the date"
        ),
    )
