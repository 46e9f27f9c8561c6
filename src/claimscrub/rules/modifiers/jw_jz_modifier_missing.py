"""MOD004: a single-dose-container drug line without JW or JZ where the payer requires one."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Applicability, Severity
from claimscrub.model import columns as c
from claimscrub.refdata import curated
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.modifiers._common import (
    ROW_ID,
    has_modifier,
    jw_jz_required_and_absent,
    jz_added_when_nothing_discarded,
    with_jw_jz_context,
)
from claimscrub.rules.registry import rule


@rule(
    code="MOD004",
    name="jw-jz-modifier-missing",
    severity=Severity.ERROR,
    carc="CO-16",
    rarc=("MA130",),
    fix=Applicability.UNSAFE,
    requires=("opps",),
    inputs=(c.HCPCS, c.DOS_FROM),
    options={"separately_payable_status_indicators": ["K", "G"]},
    source="CMS JW/JZ policy (JZ from 2023-07-01, edits from 2023-10-01); rules.md §5, R-MOD-4; "
    "§8 JW_JZ_MISSING",
    applies_when=jw_jz_required_and_absent,
)
def jw_jz_modifier_missing(ctx: RuleContext) -> Finding:
    """A separately payable drug from a single-dose container is billed without JW or JZ.

    ## What it checks
    Lines whose payer policy pack requires JW/JZ on the date of service
    (`jw_jz_required`; Medicare A/B MAC from 2023-07-01) and whose code is a Part B
    drug supplied in single-dose containers (`refdata/curated/immunosuppressants.yaml`,
    `single_dose_containers`: J7511 and J0485 are confirmed; J0480, J7504, J7525,
    J7516, J7519 and J7501 follow from their labelled packaging and are marked
    unverified, which the message says). The line fails when it has neither JW nor JZ
    and the claim has no JW line for the same code and date (with waste, the
    administered amount goes on a line without either modifier and the discarded
    amount on its own JW line). On institutional claims only codes that OPPS pays
    separately on the date of service (status indicator K or G in Addendum B) are
    checked; packaged drugs need no modifier.

    Other drug codes are not checked: none of the bundled CMS files says which
    products come in single-dose containers (the FDA NDC directory's package
    descriptions would, and it is not bundled). A code outside the list, a
    pembrolizumab or denosumab vial say, can go without JW/JZ unreported; extend the
    curated list, with a source for each code, to cover it.

    ## Why it matters
    Since 2023-10-01 Medicare returns a separately payable single-dose-container drug
    line without JW or JZ as unprocessable (CARC 16 with RARC MA130): it must be
    corrected and sent again.

    ## Example
    J7511 (rabbit antithymocyte globulin, 25 mg), 4 units, no modifiers, at a Medicare
    A/B MAC on 2025-03-04, nothing discarded.

    Use instead: J7511-JZ, 4 units.

    ## Fix
    Unsafe. Adds JZ when the line says nothing was discarded (`discarded.amount` 0).
    Otherwise none: with waste the discarded amount needs its own JW line, whose units
    the units rules compute.

    ## Options
    - `separately_payable_status_indicators` (list, default ["K", "G"]): OPPS status
      indicators that make a drug separately payable on institutional claims.

    ## Related
    MOD002 (JW with JZ), MOD005 (JW/JZ on a self-administered drug line); the UNT
    rules on JW/JZ units arithmetic (R-MOD-4).

    ## References
    - CMS, "New claims modifier requirement for drugs and biologicals from single-dose
      containers" (HHS guidance document); CGS JW/JZ article (2023).
    - rules.md §5 (JW, JZ rows), R-MOD-4, §8 JW_JZ_MISSING.
    """
    indicators = [str(s) for s in ctx.options.get("separately_payable_status_indicators", [])]
    containers = curated.single_dose_containers().lazy().select(c.HCPCS, "verified")
    lines = ctx.lines.with_row_index(ROW_ID).filter(pl.col("pack_jw_jz_required").fill_null(False))
    lines = with_jw_jz_context(ctx, lines.join(containers, on=c.HCPCS, how="inner"), indicators)
    note = (
        pl.when(pl.col("verified"))
        .then(pl.lit(""))
        .otherwise(pl.lit(" (single-dose packaging from the product label, unverified)"))
    )
    return Finding(
        rows=lines.with_columns(note.alias("_note")),
        violated=~has_modifier("JW")
        & ~has_modifier("JZ")
        & ~pl.col("_jw_line")
        & ~pl.col("_packaged"),
        message="{hcpcs} comes in single-dose containers{_note} and this payer requires JW or JZ "
        "on {dos_from}; the line has neither, and the claim has no JW line for it",
        fix={c.MODIFIERS: jz_added_when_nothing_discarded()},
        fix_title="Add JZ (nothing was discarded)",
    )
