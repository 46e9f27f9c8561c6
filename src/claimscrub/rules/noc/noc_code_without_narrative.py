"""NOC002: a not-otherwise-classified code is billed without a narrative."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Severity
from claimscrub.model import columns as c
from claimscrub.rules.coding.facts import with_code_facts
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.ndc.normalise import is_blank
from claimscrub.rules.noc.classify import billed_noc_code
from claimscrub.rules.registry import rule


@rule(
    code="NOC002",
    name="noc-code-without-narrative",
    severity=Severity.ERROR,
    carc="CO-16",
    rarc=("N350",),
    requires=("hcpcs",),
    inputs=(c.HCPCS, c.DOS_FROM),
    distinct_on=(c.HCPCS, c.DOS_FROM, c.NARRATIVE, c.DRUG_DESCRIPTION),
    source="CGS DME JB J7599 narrative; CGS Part B NOC drugs; rules.md R-CODE-3 (NOC_WITHOUT_NARRATIVE)",
    applies_when=billed_noc_code,
)
def noc_code_without_narrative(ctx: RuleContext) -> Finding:
    """A NOC code is billed with no narrative describing what was given.

    ## What it checks
    Lines whose code is a "not otherwise classified" code valid on the date of
    service (descriptor says "not otherwise classified / specified", "unclassified",
    "NOC" or "NOS" and states no billing unit; see ``rules/noc/classify.py``), such
    as J7599, J7999, J3490 and J8499. The line must describe the item: a narrative
    (837P/837I 2400 NTE02, paper item 19; JSON/CSV ``narrative``) or a drug
    description (SV101-7 / SV202-7; JSON ``drug_description``). A line with neither,
    or with only white space, fails.

    Only presence is checked. What the narrative should hold is in the Fix section.

    ## Why it matters
    A NOC code says nothing about the product, so the payer prices the line from the
    narrative. Without it the line is denied as a billing error with the NOC
    description missing (CARC 16 with RARC N350).

    ## Example
    J7599, 1 unit, NDC 00469068773, no narrative.

    Use instead: NTE "Astagraf XL 5 mg caps, #30, 1 cap daily" (and the specific code
    J7508 when the product has one: see NOC001).

    ## Fix
    None: only the biller knows the product. CGS (DME JB) asks for the drug name,
    strength, quantity dispensed and directions; A/B MACs also want the NDC and the
    dose given.

    ## Options
    None.

    ## Related
    NOC001 (NOC code although a specific code exists); NDC001 (NDC missing where
    required, which for A/B MAC claims means on NOC lines).

    ## References
    - CGS DME JB, J7599 narrative: https://www.cgsmedicare.com/jb/pubs/news/2016/11/cope1092a.html
    - CGS Part B, NOC drugs: https://www.cgsmedicare.com/partb/pubs/news/2014/0414/cope25420.html
    - rules.md R-CODE-3 and §8 NOC_WITHOUT_NARRATIVE (CO-16 + N350).
    """
    lines = with_code_facts(ctx, ctx.lines, c.HCPCS, c.DOS_FROM, "_billed_", crosswalk=False)
    return Finding(
        rows=lines,
        violated=(
            pl.col("_billed_valid").fill_null(False)
            & pl.col("_billed_noc").fill_null(False)
            & is_blank(pl.col(c.NARRATIVE))
            & is_blank(pl.col(c.DRUG_DESCRIPTION))
        ),
        message=(
            "{hcpcs} ({_billed_desc}) is a not-otherwise-classified code and the line has "
            "no narrative (NTE) or drug description (SV101-7)"
        ),
    )
