"""NDC001: a drug line has no NDC although the payer requires one."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Applicability, Severity
from claimscrub.model import columns as c
from claimscrub.rules.coding.facts import with_code_facts
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.ndc.normalise import hyphenated, is_blank
from claimscrub.rules.registry import rule

ALL_DRUG_LINES = "all_drug_lines"
NOC_ONLY = "noc_only"


@rule(
    code="NDC001",
    name="ndc-missing",
    severity=Severity.ERROR,
    carc="CO-16",
    rarc=("M119",),
    fix=Applicability.DISPLAY_ONLY,
    requires=("hcpcs", "ndc_hcpcs"),
    inputs=(c.HCPCS, c.DOS_FROM),
    source="DRA 2005 s.6002 (Medicaid); CGS Part B NOC drugs; payer pack ndc_required; rules.md R-NDC-5 (NDC_MISSING)",
)
def ndc_missing(ctx: RuleContext) -> Finding:
    """A drug line carries no NDC where the payer requires one.

    ## What it checks
    Lines whose code is valid on the date of service and whose payer policy pack
    (setting ``ndc_required``, in force on the date) requires an NDC:

    - ``all_drug_lines`` (Medicaid, Medicare DME MAC, Medicare Advantage, commercial
      in the bundled packs): every drug line;
    - ``noc_only`` (Medicare A/B MAC): drug lines billed with a not-otherwise-
      classified code;
    - ``none``: no line.

    A drug line is decided from data (``rules/coding/facts.py``): pricing indicator 51
    or type of service G in the CMS HCPCS record, at least one NDC on the CMS ASP
    NDC–HCPCS crosswalk for the code, or a NOC code whose descriptor names a drug in
    a drug BETOS class. Pharmacy supply fees (Q0510–Q0512) meet none of these and are
    never asked for an NDC. The line fails when the NDC (837P/837I 2410 LIN03,
    JSON/CSV ``ndc``) is absent or blank.

    ## Why it matters
    Medicaid must collect NDCs on physician-administered drugs for rebates (Deficit
    Reduction Act 2005 §6002) and denies lines without one; DME MACs process oral
    immunosuppressives by NDC; A/B MACs need the NDC to price NOC drugs. The answer
    is a billing-error denial with the NDC missing (CARC 16 with RARC M119; Medicare
    may return the claim as unprocessable with MA130).

    ## Example
    Medicaid claim, J7504 (Atgam) 4 units, no NDC.

    Use instead: NDC 00009722402, quantity ML 20.

    ## Fix
    Display only, and only when the crosswalk lists exactly one NDC for the code
    (J7504: Atgam 00009-7224-02): that NDC is shown for the biller to confirm against
    the package used. The quantity and unit must be added too (NDC005, NDC006).

    ## Options
    None. The requirement comes from the payer pack setting ``ndc_required``.

    ## Related
    NOC002 (NOC line without narrative); NDC005 (NDC unit of measure); NDC006 (NDC
    quantity); COD001 (code not valid on the date of service).

    ## References
    - Deficit Reduction Act 2005 §6002: https://www.medicaid.gov/federal-policy-guidance/downloads/SMD071106.pdf
    - CGS Part B, NOC drugs need the NDC: https://www.cgsmedicare.com/partb/pubs/news/2014/0414/cope25420.html
    - rules.md R-NDC-5 and §8 NDC_MISSING (CO-16 + M119; MA130).
    """
    lines = with_code_facts(ctx, ctx.lines, c.HCPCS, c.DOS_FROM, "_billed_")
    setting = pl.col("pack_ndc_required")
    drug = pl.col("_billed_drug").fill_null(False)
    noc = pl.col("_billed_noc").fill_null(False)
    required = ((setting == ALL_DRUG_LINES) & drug) | ((setting == NOC_ONLY) & drug & noc)
    which = (
        pl.when(setting == NOC_ONLY)
        .then(pl.lit("on lines with a not-otherwise-classified drug code"))
        .otherwise(pl.lit("on every drug line"))
    )
    return Finding(
        rows=lines.with_columns(
            which.alias("_which"),
            hyphenated(pl.col("_billed_xwalk_only_ndc")).alias("_only_ndc"),
        ),
        violated=(
            pl.col("_billed_valid").fill_null(False)
            & required.fill_null(False)
            & is_blank(pl.col(c.NDC))
        ),
        message=(
            "{hcpcs} ({_billed_desc}) is a drug line without an NDC; payer policy "
            "{pack} requires an NDC {_which}"
        ),
        fix={"ndc": pl.col("_billed_xwalk_only_ndc")},
        fix_title="The crosswalk lists one NDC for {hcpcs}: {_only_ndc} (confirm it is the package used)",
    )
