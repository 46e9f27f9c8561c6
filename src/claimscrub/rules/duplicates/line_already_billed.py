"""DUP002: the line was already billed for the patient on an earlier claim."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Confidence, Severity
from claimscrub.model import columns as c
from claimscrub.rules.context import RuleContext
from claimscrub.rules.duplicates._common import (
    ROW_ID,
    SAME_SERVICE,
    correction,
    describe,
    discard_flag,
    ndc_key,
)
from claimscrub.rules.finding import Finding
from claimscrub.rules.registry import rule


def with_history(ctx: RuleContext) -> pl.Expr:
    """History claims are given: without them DUP002 reports nothing, so this is its
    ``applies_when``."""
    return pl.lit(ctx.history is not None)


@rule(
    code="DUP002",
    name="line-already-billed",
    severity=Severity.ERROR,
    # the history may hold a claim that was rejected or never paid, or miss a
    # later void, so an earlier line is not always a paid duplicate.
    confidence=Confidence.MEDIUM,
    carc="CO-18",
    inputs=(c.HCPCS, c.DOS_FROM, c.PATIENT_ID),
    source="rules.md §8 DUPLICATE (CARC 18: same drug, NDC, DOS billed twice)",
    applies_when=with_history,
)
def line_already_billed(ctx: RuleContext) -> Finding:
    """The patient's history already has a line with the same code, NDC and date of service.

    ## What it checks
    Each line against the `history` claims of the same patient (patient id): a
    history line with the same HCPCS code, the same NDC (hyphens ignored; two lines
    without an NDC count as the same) and the same date of service is the same
    service billed before. A discarded-amount line (JW) is only compared with JW
    lines, so an administered line and its JW line are never duplicates of each
    other. Replacement and void claims (837 CLM05-3 frequency 7 or 8) restate an
    earlier claim on purpose and are not checked. Without history nothing is
    reported.

    ## Why it matters
    Payers deny a service already billed for the same patient, drug, product and
    date as a duplicate (CARC 18). Resending a claim that is still pending, or
    billing a refill under the first fill's date, both trip it; a correction must
    go as a replacement claim (frequency 7) instead.

    ## Example
    J7507, NDC 00469061773, 2025-06-10 for patient P77, already on claim C-0998 line 1.

    Use instead: nothing if it is the same dispense; a replacement claim (CLM05-3 = 7)
    if the earlier claim was wrong; the real date of service if it is a later refill.

    ## Fix
    None.

    ## Options
    None.

    ## Related
    DUP001 (duplicate line within one claim).

    ## References
    - rules.md §8 (CARC 18, DUPLICATE).
    - ASC X12 837P 005010X222A1 CLM05-3 (claim frequency type code).
    """
    if ctx.history is None:
        return Finding(rows=ctx.lines, violated=pl.lit(False), message="")
    lines = (
        ctx.lines.with_row_index(ROW_ID)
        .filter(
            pl.col(c.PATIENT_ID).is_not_null()
            & pl.col(c.HCPCS).is_not_null()
            & pl.col(c.DOS_FROM).is_not_null()
            & ~correction()
        )
        .with_columns(ndc_key().alias("_ndc_key"), discard_flag().alias("_jw"))
    )
    earlier = (
        ctx.history.filter(pl.col(c.PATIENT_ID).is_not_null())
        .select(
            c.PATIENT_ID,
            c.HCPCS,
            ndc_key().alias("_ndc_key"),
            c.DOS_FROM,
            discard_flag().alias("_jw"),
            pl.col(c.CLAIM_ID).alias("_prior_claim"),
            pl.col(c.LINE_NO).alias("_prior_line"),
        )
        .sort("_prior_claim", "_prior_line")
        .unique(
            SAME_SERVICE,
            keep="first",
            maintain_order=True,
        )
    )
    rows = lines.join(
        earlier,
        on=SAME_SERVICE,
        how="inner",
        nulls_equal=True,
    )
    return Finding(
        rows=rows.with_columns(describe().alias("_what")),
        violated=pl.lit(True),
        message="{_what} was already billed for this patient on claim {_prior_claim} "
        "line {_prior_line}",
    )
