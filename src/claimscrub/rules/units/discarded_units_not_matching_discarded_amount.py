"""UNT005: the JW line's units are not the discarded amount in billing units."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Applicability, Severity
from claimscrub.model import columns as c
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.registry import rule
from claimscrub.rules.units.common import (
    amount_text,
    billed_equals,
    billed_text,
    ceil_div,
    positive,
    with_container_amounts,
)


@rule(
    code="UNT005",
    name="discarded-units-not-matching-discarded-amount",
    severity=Severity.ERROR,
    carc="CO-16",
    rarc=("M53",),
    fix=Applicability.UNSAFE,
    requires=("hcpcs",),
    inputs=(c.HCPCS, c.UNITS, c.MODIFIERS, c.DOSE_AMOUNT, c.DISCARDED_AMOUNT, c.DOS_FROM),
    source="CMS JW/JZ modifier policy for single-dose containers; rules.md R-MOD-4",
)
def discarded_units_not_matching_discarded_amount(ctx: RuleContext) -> Finding:
    """The JW line bills a number of units the administered and discarded amounts do not give.

    ## What it checks
    Claims with one JW line (drug discarded from a single-dose container) for a drug
    code that is not oral (JW on an oral drug is MOD005's), on the same date as the
    line(s) that bill the administered drug, when the administered amount (`dose` on every line without
    JW) and the discarded amount (`discarded`, on the JW line or the administered line)
    are stated in a unit of the code's kind (g / mg / mcg). The administered line
    bills `ceil(administered / unit)`; the containers' contents are
    `ceil((administered + discarded) / unit)` units; the JW line must bill the
    difference. When the difference is zero — the code's unit is the container, as for
    J7511 (one 25 mg vial), and only the last vial was partly used — no JW line is due:
    the rounded-up administered line already covers the vial.

    Administered lines whose units differ from their dose are UNT002's; containers that
    hold less than was administered and discarded are UNT007's; whether JW or JZ is
    required at all is the modifier rules' question.

    ## Why it matters
    Medicare pays discarded drug from single-dose containers only on a separate JW line
    whose units are the discarded amount; billing a partly used last vial again on a JW
    line, or rounding the administered and discarded parts up separately, bills more
    units than the containers held (CARC 16, RARC M53, and recoupment on audit).

    ## Example
    J7511 (rabbit ATG, 25 mg = one vial): 60 mg administered, 15 mg discarded; line 1
    bills 3 units, line 2 (JW) bills 1 unit.

    Use instead: no JW line — 75 mg is 3 units, all on line 1.

    ## Fix
    Unsafe: sets the JW line's units to the discarded units when there are some; when
    there are none the line should be removed, which is not expressed as a fix.

    ## Options
    None. The JW line says the drug came from single-dose containers, so any code is
    checked, whether or not the curated single-dose-container list has it.

    ## Related
    UNT002 (administered units from the dose), UNT007 (more than the containers held),
    MOD004 (JW/JZ missing), MOD002 (JW with JZ), MOD005 (JW/JZ on self-administered
    drugs).

    ## References
    - CMS JW/JZ policy for single-dose containers (CGS 2023 article).
    - rules.md R-MOD-4 and section 5.
    """
    # Every group with a JW line is taken whatever the setting: the modifier says the
    # drug came from single-dose containers. True shares UNT007's default computation.
    lines = with_container_amounts(ctx, include_unverified=True)
    administered, discarded, unit = (
        pl.col("_administered"),
        pl.col("_discarded"),
        pl.col("_unit_base"),
    )
    lines = lines.filter(
        pl.col("_code_valid")
        & pl.col("_is_jw")
        & (pl.col("_jw_lines") == 1)
        & administered.is_not_null()
        & discarded.is_not_null()
        & positive(pl.col(c.UNITS))
    ).with_columns(
        _total_units=ceil_div(administered + discarded, unit),
        _administered_units=ceil_div(administered, unit),
    )
    due = pl.col("_total_units") - pl.col("_administered_units")
    lines = lines.with_columns(_due=due.cast(pl.Int64))
    amounts = pl.format(
        "{} administered + {} discarded = {} is {} units of {} ({}); the administered units are {}",
        amount_text(administered),
        amount_text(discarded),
        amount_text(administered + discarded),
        pl.col("_total_units"),
        pl.col(c.HCPCS),
        pl.col("_unit_label"),
        pl.col("_administered_units"),
    )
    verdict = (
        pl.when(pl.col("_due") == 0)
        .then(pl.lit("so no units are left to bill as discarded"))
        .otherwise(pl.format("so {} are discarded", pl.col("_due")))
    )
    message = pl.format("{}, {}; on the JW line {}", amounts, verdict, billed_text())
    return Finding(
        rows=lines.with_columns(
            _message=message,
            _fix_units=pl.when(pl.col("_due") > 0).then(pl.col("_due")),
        ),
        violated=~billed_equals(pl.col("_due")),
        message="{_message}",
        fix={"units": pl.col("_fix_units")},
        fix_title="Bill {_fix_units|unit} on the JW line",
    )
