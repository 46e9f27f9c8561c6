"""MOD006: a drug line carries EY: the supplier has no order for the drug."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Severity
from claimscrub.model import columns as c
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.modifiers._common import DRUG_BETOS, has_modifier
from claimscrub.rules.registry import rule


def ey_line(_ctx: RuleContext | None = None) -> pl.Expr:
    """The line carries EY: the lines MOD006 looks at, and its ``applies_when``."""
    return has_modifier("EY")


@rule(
    code="MOD006",
    name="drug-dispensed-without-order",
    severity=Severity.ERROR,
    carc="CO-50",
    requires=("hcpcs",),
    inputs=(c.HCPCS, c.MODIFIERS),
    options={"drug_betos": list(DRUG_BETOS)},
    preview=True,
    applies_when=ey_line,
    source="rules.md §5 (EY: no order from an authorised practitioner on file → denial; DME "
    "policy article conventions, A52474); Noridian JD DME and CGS, modifier EY; §8 CARC 50",
)
def drug_dispensed_without_order(ctx: RuleContext) -> Finding:
    """A drug line carries EY: the supplier has no order for the drug, so the line will be denied.

    ## What it checks
    Drug lines — lines whose HCPCS code the CMS HCPCS file classes as a drug (BETOS
    O1D, O1E, O1G or D1G in the record in force on the date of service, the
    immunosuppressive supply fees Q0510–Q0512 included) or that carry an NDC — with
    the modifier EY among their modifiers (837P SV101-3..6, 837I SV202-3..6, JSON
    `modifiers`, CSV mod1–mod4). EY itself is a valid HCPCS Level II modifier (the
    bundled HCPCS file lists it with no termination date), so MOD001 does not report
    it; this rule reports what it says.

    Scope: every payer pack. EY is a national HCPCS modifier, and its meaning — no
    order from an authorised prescriber on file — makes a prescription drug unpayable
    under any plan, not only at the DME MAC. The expected payer answer is the DME MAC
    convention (rules.md §5 cites the DME policy articles, A52474): the line is
    denied as not reasonable and necessary, CARC 50. With GA on the line (an advance
    beneficiary notice on file) the patient is liable (PR-50); otherwise the supplier
    is (CO-50). A payer whose answer differs, or that does not read EY, can turn the
    rule off in its pack (`rules.ignore: [MOD006]`) or lower its severity.

    ## Why it matters
    Every drug dispensed under the Medicare immunosuppressive benefit needs an order
    from the treating practitioner (rules.md §9: standard written order). EY tells the
    payer the supplier does not hold one; the DME MACs deny such lines as not
    reasonable and necessary. Sometimes that denial is what the supplier wants (to
    pass the claim on to a secondary payer); more often EY was added in error, or the
    order has since arrived and the line should be billed without it.

    ## Example
    J7507 (tacrolimus, immediate release, oral, 1 mg), 180 units, modifiers KX and EY.

    Use instead: obtain the prescriber's order, then bill J7507-KX without EY; keep EY
    (with GA when an advance beneficiary notice was signed) only when a denial is
    intended.

    ## Fix
    None: whether an order exists is a fact only the supplier can establish (obtain
    the order, then remove EY); the rule does not remove the modifier itself.

    ## Options
    - `drug_betos` (list of BETOS codes, default ["O1D", "O1E", "O1G", "D1G"]): the
      HCPCS BETOS categories treated as drug lines.

    ## Related
    MOD001 (modifier not valid on the date), MOD002 (conflicting modifiers, GA with
    GZ), MOD003 (modifier not applicable to a drug line), MCR003 (KX missing).

    ## References
    - rules.md §5 (modifier table, EY row; sources: DME policy article conventions,
      A52474), §9 (standard written order), §8 CARC 50.
    - Noridian JD DME, modifier EY: https://med.noridianmedicare.com/web/jddme/policies/dmd-articles/modifier-requirements-due-to-lack-of-a-physicians-order-modifier-ey
    - CGS, modifier requirements due to lack of a physician's order (EY), 2015:
      https://cgsmedicare.com/jc/pubs/news/2015/0215/cope28353.html
    - CMS HCPCS Level II file, modifier record EY; BETOS column.
    """
    drug_betos = [str(b) for b in ctx.options.get("drug_betos", DRUG_BETOS)]
    # Only EY lines need the code's BETOS: filter first, then look it up.
    flagged = ctx.lines.filter(ey_line())
    lines = ctx.refdata.lookup(
        flagged, "hcpcs", on={c.HCPCS: "hcpcs_code"}, as_of=c.DOS_FROM, columns={"betos": "_betos"}
    )
    has_ndc = pl.col(c.NDC).str.strip_chars().str.len_chars().fill_null(0) > 0
    with_abn = has_modifier("GA")
    liability = (
        pl.when(with_abn)
        .then(pl.lit("with GA (advance beneficiary notice on file) the patient is liable"))
        .otherwise(pl.lit("without GA the supplier is liable"))
    )
    return Finding(
        rows=lines.with_columns(liability.alias("_liability")),
        violated=pl.col("_betos").is_in(drug_betos).fill_null(False) | has_ndc,
        message="EY on the {hcpcs} line says the supplier has no order from an authorised "
        "prescriber for the drug: the payer will deny it as not reasonable and necessary "
        "({_liability})",
        carc=pl.when(with_abn).then(pl.lit("PR-50")).otherwise(pl.lit("CO-50")),
    )
