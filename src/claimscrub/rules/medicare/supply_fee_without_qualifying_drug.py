"""MCR011: a pharmacy supply fee is billed without the drug it belongs to."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Severity
from claimscrub.model import columns as c
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.medicare import _benefit as b
from claimscrub.rules.registry import rule


@rule(
    code="MCR011",
    name="supply-fee-without-qualifying-drug",
    severity=Severity.ERROR,
    carc="CO-B15",
    requires=("hcpcs", "mue"),
    inputs=(c.HCPCS, c.DOS_FROM),
    source="CGS JB DME immunosuppressive drugs fact sheet (supply fees); rules.md R-MCR-7",
    applies_when=b.supply_fees_apply,
)
def supply_fee_without_qualifying_drug(ctx: RuleContext) -> Finding:
    """A supply fee line has no qualifying drug line on the same claim.

    ## What it checks
    Pharmacy supply fee lines (curated: Q0510, Q0511, Q0512) under a pack with
    `supply_fees`. Q0510 (initial fee after a transplant) needs an immunosuppressive drug
    line (type of service G, code valid on its date) on the same claim; Q0511 and Q0512,
    whose descriptors also name oral anticancer and oral antiemetic drugs, need an
    immunosuppressive or an oral drug line. When the claim has a drug line whose code is
    not valid on its date (COD001, COD002), the message names it: correcting that code
    may give the fee its drug line.

    ## Why it matters
    The fee is paid only with a covered drug on the same claim; a fee billed alone is
    denied as incorrect billing (CARC B15, the qualifying service was not billed; some
    contractors answer CARC 16). When the drug line is denied the fee is denied with it.

    ## Example
    A claim with only Q0511 × 1 dated 2025-06-10.

    Use instead: Q0511 on the same claim as the J7507 line it belongs to.

    ## Fix
    None: add the drug line or drop the fee.

    ## Options
    None.

    ## Related
    MCR012, MCR017 (Q0510 timing and count); MCR018 (Q0511 per 30 days); MCR019 (Q0512
    per additional prescription); RTE002 (an injected drug the DME MAC does not pay does
    not qualify).

    ## References
    - CGS JB DME, immunosuppressive drugs fact sheet; Medicare Claims Processing Manual
      ch. 17 (pharmacy supplying fee).
    - rules.md R-MCR-7; failure class SUPPLY_FEE_WITHOUT_DRUG.
    """
    applies = b.supply_fees_apply()
    lines = b.benefit_frame(ctx, applies)
    any_immuno = pl.col(b.IMMUNO_LINE).any().over(c.CLAIM_KEY)
    any_oral = (pl.col(b.IMMUNO_LINE) | pl.col(b.ORAL_DRUG)).any().over(c.CLAIM_KEY)
    # A drug line whose code is not valid on its date (COD001 / COD002) may be the one the
    # fee belongs to: the message says so, since correcting it may settle this finding.
    invalid = (
        pl.col(c.HCPCS).is_not_null()
        & ~pl.col("hcpcs_valid").fill_null(False)
        & pl.col(b.FEE_QUALIFYING).is_null()
    ).fill_null(False)
    invalid_lines = (
        lines.filter(invalid)
        .group_by(c.CLAIM_KEY)
        .agg(
            pl.col(c.LINE_NO).min().alias("_invalid_line"),
            pl.col(c.HCPCS).sort_by(c.LINE_NO).first().alias("_invalid_code"),
        )
    )
    lines = lines.with_columns(any_immuno.alias("_any_immuno"), any_oral.alias("_any_oral"))
    qualifying = pl.col(b.FEE_QUALIFYING)
    missing = ((qualifying == "immunosuppressive") & ~pl.col("_any_immuno")) | (
        (qualifying == "oral_or_immunosuppressive") & ~pl.col("_any_oral")
    )
    needs = (
        pl.when(qualifying == "immunosuppressive")
        .then(pl.lit("an immunosuppressive drug line"))
        .otherwise(pl.lit("an immunosuppressive, oral anticancer or oral antiemetic drug line"))
    )
    invalid_note = (
        pl.when(pl.col("_invalid_line").is_not_null())
        .then(
            pl.format(
                "; line {} bills {}, which is not a valid code on its date: once it is "
                "corrected the fee may qualify",
                pl.col("_invalid_line"),
                pl.col("_invalid_code"),
            )
        )
        .otherwise(pl.lit(""))
    )
    rows = (
        lines.filter(qualifying.is_not_null() & missing.fill_null(False))
        .join(invalid_lines, on=c.CLAIM_KEY, how="left", maintain_order="left")
        .with_columns(needs.alias("_needs"), invalid_note.alias("_invalid_note"))
    )
    return Finding(
        rows=rows,
        violated=pl.lit(True),
        message="Supply fee {hcpcs} on {dos_from} is billed without {_needs} on the same "
        "claim{_invalid_note}",
    )
