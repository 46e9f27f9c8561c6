"""DUP003: a line repeats a line of an earlier claim of the same batch."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Confidence, Severity
from claimscrub.model import columns as c
from claimscrub.rules.context import RuleContext
from claimscrub.rules.duplicates._common import (
    SAME_SERVICE,
    correction,
    describe,
    discard_flag,
    lines_with_keys,
)
from claimscrub.rules.finding import Finding
from claimscrub.rules.registry import rule

_VOID = "8"  # a void claim cancels an earlier one: it is nobody's earlier claim


def patient_on_several_claims(_ctx: RuleContext | None = None) -> pl.Expr:
    """The line's patient has another claim in the batch: DUP003 can report only such
    lines, so this is its ``applies_when`` (a single claim from the API never runs it)."""
    patient = pl.col(c.PATIENT_ID)
    return patient.is_not_null() & (pl.col(c.CLAIM_KEY).n_unique().over(patient) > 1)


@rule(
    code="DUP003",
    name="line-on-earlier-claim-in-batch",
    severity=Severity.ERROR,
    # the earlier claim may be one the biller means to drop from the batch, or a
    # different dispense on the same day recorded without its own NDC.
    confidence=Confidence.MEDIUM,
    carc="CO-18",
    inputs=(c.HCPCS, c.DOS_FROM, c.PATIENT_ID),
    scope="patient",
    source="rules.md §8 DUPLICATE (CARC 18: same drug, NDC, DOS billed twice)",
    applies_when=patient_on_several_claims,
)
def line_on_earlier_claim_in_batch(ctx: RuleContext) -> Finding:
    """The batch bills the same service twice: on this claim and on an earlier one.

    ## What it checks
    Each line against the lines of the patient's (patient id) other claims earlier in
    the batch (in the order of the inputs): a line with the same HCPCS code, the same
    NDC (hyphens ignored; two lines without an NDC count as the same) and the same date
    of service is the same service billed twice. The earlier claim is left alone: it is
    the one the payer pays. A discarded-amount line (JW) is only compared with JW
    lines. Replacement and void claims (837 CLM05-3 frequency 7 or 8) restate an earlier
    claim on purpose: they are not checked, and a void is nobody's earlier claim. The
    same claim read twice (one file passed twice, or a claim exported twice) is
    reported on its second copy, naming the claim id.

    Lines of one claim are DUP001's; claims already sent are DUP002's (``--history``).

    ## Why it matters
    The payer pays the first claim and denies the second as a duplicate (CARC 18). A
    batch exported twice, or a dispense keyed in on two claims, costs a denial on every
    repeated line and a rework of the remittance.

    ## Example
    Claim C-2 for patient P62 with J7507, NDC 00469061773, 2025-06-10, after claim C-1
    of the same batch with the same line.

    Use instead: one claim for the dispense; drop the copy from the batch.

    ## Fix
    None: which copy to keep is the biller's call.

    ## Options
    None.

    ## Related
    DUP001 (duplicate line within one claim); DUP002 (line already billed, against
    history).

    ## References
    - rules.md §8 (CARC 18, DUPLICATE).
    - ASC X12 837P 005010X222A1 CLM05-3 (claim frequency type code).
    """
    # Only lines whose (patient, code, NDC, date, JW) recurs in the batch can repeat an
    # earlier claim's: one hashing pass finds those few, and the rest runs on them.
    # Not filtered by patient_on_several_claims: a window over every line costs more.
    lines = (
        lines_with_keys(ctx)
        .filter(
            pl.col(c.PATIENT_ID).is_not_null()
            & pl.col(c.HCPCS).is_not_null()
            & pl.col(c.DOS_FROM).is_not_null()
        )
        .with_columns(discard_flag().alias("_jw"))
        .filter(pl.struct(SAME_SERVICE).is_duplicated())
    )
    first = (
        lines.filter(pl.col(c.FREQUENCY_CODE).ne_missing(_VOID))
        .sort(c.CLAIM_KEY, c.LINE_NO)
        .unique(SAME_SERVICE, keep="first", maintain_order=True)
        .select(
            *SAME_SERVICE,
            pl.col(c.CLAIM_KEY).alias("_prior_key"),
            pl.col(c.CLAIM_ID).alias("_prior_claim"),
            pl.col(c.LINE_NO).alias("_prior_line"),
        )
    )
    rows = (
        lines.filter(~correction())
        .join(first, on=SAME_SERVICE, how="inner", nulls_equal=True)
        .filter(pl.col(c.CLAIM_KEY) > pl.col("_prior_key"))
    )
    same_id = (
        pl.when(pl.col(c.CLAIM_ID) == pl.col("_prior_claim"))
        .then(pl.lit(" (the same claim id: the claim is in the batch twice)"))
        .otherwise(pl.lit(""))
    )
    return Finding(
        rows=rows.with_columns(describe().alias("_what"), same_id.alias("_same")),
        violated=pl.lit(True),
        message="{_what} is also billed for this patient on claim {_prior_claim} line "
        "{_prior_line}, earlier in this batch{_same}",
    )
