"""MCR014: a Part B-ID enrollee is billed for something other than an immunosuppressive drug."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Severity
from claimscrub.model import columns as c
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.medicare import _benefit as b
from claimscrub.rules.registry import rule


@rule(
    code="MCR014",
    name="part-b-id-line-not-immunosuppressive",
    severity=Severity.ERROR,
    carc="CO-96",
    requires=("hcpcs", "mue"),
    inputs=(c.HCPCS, c.DOS_FROM, c.PART_B_ID),
    options={"supply_fees_payable": b.setting("part_b_id")["supply_fees_payable"]},
    source="CMS Part B-ID provider page (covers immunosuppressive drugs only); rules.md R-MCR-8",
    applies_when=b.benefit_applies,
)
def part_b_id_line_not_immunosuppressive(ctx: RuleContext) -> Finding:
    """A line for a Part B-ID enrollee bills a code CMS does not type an immunosuppressive drug.

    ## What it checks
    Lines under a pack with the Medicare immunosuppressive drug benefit for patients with
    `part_b_id: true`, whose code is valid on the date of service and is not an
    immunosuppressive drug (CMS type of service G). Pharmacy supply fee lines (Q0510 -
    Q0512) are accepted while the option `supply_fees_payable` is true. The test is the
    CMS type of service, not pharmacology: belatacept (J0485) is typed P, so its line is
    reported, and whether Part B-ID pays it is a question rules.md leaves open.

    ## Why it matters
    Part B-ID (Consolidated Appropriations Act 2021 §402, from 2023) covers only
    immunosuppressive drugs for kidney recipients whose ESRD Medicare ended; it is not
    full Part B. Anything else is not covered (CARC 96).

    ## Example
    A4253 (blood glucose test strips) for a Part B-ID enrollee, dated 2025-06-10.

    Use instead: bill the patient's other coverage (or the patient).

    ## Fix
    None.

    ## Options
    - `supply_fees_payable` (boolean, default true): whether Part B-ID pays the
      immunosuppressive supply fees. rules.md marks this **UNVERIFIED** (treated as
      allowed); the default comes from the curated facts (`medicare_benefit.part_b_id`).

    ## Related
    MCR013 (ESRD-only coverage ended without Part B-ID); COD001 (code not valid on the
    date).

    ## References
    - CMS, Part B Immunosuppressive Drug Benefit (Part B-ID), provider page.
    - rules.md R-MCR-8; failure class BENEFIT_CRITERIA_NOT_MET.
    """
    lines = b.benefit_frame(ctx, b.benefit_applies())
    fee_allowed = pl.col(b.FEE_ROLE).is_not_null() & pl.lit(
        bool(ctx.options["supply_fees_payable"])
    )
    return Finding(
        rows=lines.filter(pl.col(c.PART_B_ID).fill_null(False)),
        violated=pl.col("hcpcs_valid").fill_null(False) & ~pl.col(b.IMMUNO) & ~fee_allowed,
        message=(
            "{hcpcs} ({_descriptor}) on {dos_from} is not typed an immunosuppressive drug in "
            "the CMS HCPCS file (type of service G); the patient's Part B-ID covers "
            "immunosuppressive drugs only"
        ),
    )
