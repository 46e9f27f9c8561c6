"""UNT006: the same NDC of the same code is spread over several lines of one date."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Confidence, Severity
from claimscrub.model import columns as c
from claimscrub.rules.batch import lines_with
from claimscrub.rules.context import RuleContext
from claimscrub.rules.duplicates.duplicate_line_in_claim import code_repeated_in_claim
from claimscrub.rules.finding import Finding
from claimscrub.rules.modifier_terms import modifier_list
from claimscrub.rules.registry import rule
from claimscrub.rules.units.common import (
    JW,
    has_modifier,
    line_facts,
    number_text,
    positive,
)


@rule(
    code="UNT006",
    name="one-strength-on-several-lines",
    severity=Severity.WARNING,
    # several lines of one NDC may be separate prescriptions the input
    # does not number (no REF*XZ).
    confidence=Confidence.MEDIUM,
    carc="CO-18",
    requires=("hcpcs", "ndc_hcpcs"),
    inputs=(c.HCPCS, c.UNITS, c.NDC, c.DOS_FROM),
    source="NGS DME JB, Billing for Immunosuppressive Drugs (one line per NDC/strength); rules.md R-UNIT-2",
    # Lines of one NDC and date repeat their code within the claim.
    applies_when=code_repeated_in_claim,
)
def one_strength_on_several_lines(ctx: RuleContext) -> Finding:
    """One NDC of one code is billed on several lines of the same claim and date.

    ## What it checks
    Lines of one claim with the same HCPCS code, date of service, normalised NDC (listed
    under that code on the CMS ASP NDC–HCPCS crosswalk in force) and modifiers, but
    different units. Every such line after the first is reported. Not reported: lines
    with JW (the discarded amount goes on its own line by design, UNT005), lines whose
    prescription numbers (2410 REF*XZ) differ (separate prescriptions), groups whose
    lines are identical in units (exact duplicates, reported by DUP001), codes
    invalid on the date (COD001) and NDCs listed only under other codes (COD003).

    ## Why it matters
    The rule of thumb is one line per NDC — per strength — with its own units
    (rules.md R-UNIT-2, NGS DME MAC JB). The same NDC twice on one date reads to the
    payer as a duplicate: the later line is denied (CARC 18), and on DME MAC claims its
    pharmacy supply fee with it.

    ## Example
    J7507 on 2025-06-10: line 1 NDC 00781-2102-01 60 units, line 2 the same NDC 30 units.

    Use instead: one line, NDC 00781-2102-01, 90 units (a 1 mg or 5 mg strength
    dispensed the same day goes on its own line).

    ## Fix
    None: merging lines is not a field change.

    ## Options
    None.

    ## Related
    UNT004 (strengths combined on one line), UNT001 (units from the NDC quantity),
    DUP001 (identical lines), DUP002 (line already billed on an earlier claim).

    ## References
    - NGS "Billing for Immunosuppressive Drugs" (DME MAC JB).
    - rules.md R-UNIT-2; section 8 (CARC 18, SPLIT_BY_STRENGTH).
    """
    # The modifier set is worked out once per distinct modifier list (sorting lists of
    # text on every line is slow).
    modifier_set = modifier_list().list.sort().list.join(",")
    lines = lines_with(
        ctx,
        "units.modifier_set",
        [((c.MODIFIERS,), lambda keys: keys.with_columns(modifier_set.alias("_modifier_set")))],
        base=line_facts(ctx),
    )
    lines = lines.filter(
        pl.col("_code_valid")
        & pl.col("_ndc_on_code")
        & positive(pl.col(c.UNITS))
        & ~has_modifier(JW)
    )
    group = [c.CLAIM_KEY, c.HCPCS, c.DOS_FROM, "_ndc11", "_modifier_set"]
    rx = pl.col(c.PRESCRIPTION_NUMBER)
    # Cheap group counts first; the line list (a string window) only for split groups.
    lines = (
        lines.with_columns(_lines=pl.len().over(group))
        .filter(pl.col("_lines") > 1)
        .with_columns(
            _first=pl.col(c.LINE_NO).min().over(group),
            _line_list=pl.col(c.LINE_NO).sort().cast(pl.String).str.join(", ").over(group),
            _total=pl.col(c.UNITS).sum().over(group),
            _distinct_units=pl.col(c.UNITS).n_unique().over(group),
            _prescriptions=rx.drop_nulls().n_unique().over(group),
        )
    )
    message = pl.format(
        "lines {} bill the same NDC {} of {} on {}; together {} units, which belong on one line",
        pl.col("_line_list"),
        pl.col("_ndc11"),
        pl.col(c.HCPCS),
        pl.col(c.DOS_FROM),
        number_text(pl.col("_total")),
    )
    return Finding(
        rows=lines.with_columns(_message=message),
        violated=(pl.col("_lines") > 1)
        & (pl.col(c.LINE_NO) > pl.col("_first"))
        & (pl.col("_distinct_units") > 1)
        & (pl.col("_prescriptions") <= 1),
        message="{_message}",
    )
