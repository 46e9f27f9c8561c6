"""MCR003: an immunosuppressive drug line lacks the KX modifier the payer requires."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Applicability, Severity
from claimscrub.model import columns as c
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.medicare import _benefit as b
from claimscrub.rules.registry import rule

_MAX_MODIFIERS = 4  # SV101-3..6: an 837P line holds four modifiers


@rule(
    code="MCR003",
    name="kx-modifier-missing",
    severity=Severity.ERROR,
    carc="CO-50",
    fix=Applicability.UNSAFE,
    requires=("hcpcs", "mue"),
    inputs=(c.HCPCS, c.DOS_FROM),
    source="CMS Claims Processing Manual ch. 17 §80.3; Noridian JD DME (KX); rules.md R-MCR-3",
    applies_when=b.benefit_applies,
)
def kx_modifier_missing(ctx: RuleContext) -> Finding:
    """An immunosuppressive drug line has no KX although the payer policy requires it.

    ## What it checks
    Immunosuppressive drug lines under a pack with the Medicare immunosuppressive drug
    benefit, by the pack's `kx_policy`:

    - `required_unless_medicare_paid` (`medicare-dme`): KX is required unless a covered
      transplant on or before the line is recorded as paid by Medicare fee-for-service
      (`medicare_paid: true`). A transplant paid by an employer plan or Medicare
      Advantage, an unknown payer, or no recorded transplant all require KX.
    - `always`: every such line needs KX. `never`: the rule does not apply.

    Lines whose benefit criteria are known to fail (MCR001, MCR002, MCR005) and lines
    with GY (the supplier expects a denial) are left to those rules.

    ## Why it matters
    KX is the supplier's statement that it holds the transplant documentation and that
    the coverage criteria are met. When Medicare's own history has no transplant it paid,
    a line without KX is denied (CARC 50 at most DME MACs; some answer CARC 4, required
    modifier missing).

    ## Example
    J7507 on 2025-06-10, modifiers none, kidney transplant 2021-03-14 paid by an
    employer group health plan (`medicare_paid: false`).

    Use instead: modifiers `KX`, with the transplant date, facility and discharge date in
    the line note (NTE).

    ## Fix
    Unsafe: adds KX to the line's modifiers. KX is an attestation: add it only when the
    supplier holds the documentation. No fix when the line already has four modifiers,
    or when the claim records no transplant at all (the documentation KX attests to is
    then not in sight).

    ## Options
    None; the requirement comes from the pack setting `kx_policy`.

    ## Related
    MCR004 (KX used although the criteria fail); MCR006 (transplant facts missing); the
    MOD rules report KX together with GY on one line.

    ## References
    - CMS Claims Processing Manual ch. 17 §80.3 (KX since July 2008); Noridian JD DME,
      immunosuppressive drugs; OIG work plan (KX misuse).
    - rules.md R-MCR-3, section 5; failure class KX_MISSING_REQUIRED.
    """
    lines = b.immuno_lines_status(ctx)
    policy = pl.col(b.KX_POLICY_SETTING)
    paid = pl.col(b.N_MEDICARE_PAID) > 0
    required = (policy == "always") | ((policy == "required_unless_medicare_paid") & ~paid)
    reason = (
        pl.when(policy == "always")
        .then(pl.lit("the payer policy requires KX on every immunosuppressive drug line"))
        .when(pl.col(b.N_TX) == 0)
        .then(
            pl.lit(
                "no transplant is recorded, so no Medicare-paid transplant is on file; record "
                "the transplant and add KX when its documentation is on file"
            )
        )
        .when(pl.col(b.N_COVERED) == 0)
        .then(pl.lit("no covered transplant on or before the date of service is recorded"))
        .when(pl.col(b.N_PAYER_UNKNOWN) > 0)
        .then(pl.format("who paid for the transplant ({}) is not recorded", pl.col(b.COVERED_TEXT)))
        .otherwise(
            pl.format(
                "the transplant ({}) was not paid by Medicare fee-for-service",
                pl.col(b.COVERED_TEXT),
            )
        )
    )
    modifiers = pl.col(c.MODIFIERS).fill_null(pl.lit([], dtype=pl.List(pl.String)))
    # KX attests the transplant documentation: with no transplant recorded at all, the
    # scrubber cannot offer it even as an unsafe fix.
    with_kx = (
        pl.when((modifiers.list.len() < _MAX_MODIFIERS) & (pl.col(b.N_TX) > 0))
        .then(modifiers.list.concat(pl.lit(["KX"])))
        .otherwise(pl.lit(None, dtype=pl.List(pl.String)))
    )
    violated = (
        required.fill_null(False)
        & ~b.has_modifier("KX")
        & ~b.has_modifier("GY")
        & pl.col(b.FAIL).is_null()
    )
    return Finding(
        rows=b.with_transplant_texts(ctx, lines.filter(violated)).with_columns(
            reason.alias("_kx_reason")
        ),
        violated=pl.lit(True),
        message="{hcpcs} on {dos_from} has no KX modifier; {_kx_reason}",
        fix={"modifiers": with_kx},
        fix_title="Add KX (only with the transplant documentation on file)",
    )
