"""MOD007: an injected drug line without JW or JZ, packaging not known to claimscrub."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Applicability, Confidence, Severity
from claimscrub.model import columns as c
from claimscrub.refdata import curated
from claimscrub.rules.coding.facts import route_class
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.modifiers._common import (
    jw_jz_required_and_absent,
    jz_added_when_nothing_discarded,
    with_jw_jz_context,
)
from claimscrub.rules.registry import rule


@rule(
    code="MOD007",
    name="jw-jz-missing-packaging-unknown",
    severity=Severity.WARNING,
    # whether the product comes in single-dose containers is on its label, not in the
    # bundled CMS files: the line is wrong only if it does.
    confidence=Confidence.LOW,
    carc="CO-16",
    rarc=("MA130",),
    fix=Applicability.UNSAFE,
    requires=("hcpcs", "opps"),
    inputs=(c.HCPCS, c.DOS_FROM),
    options={
        "separately_payable_status_indicators": ["K", "G"],
        "drug_betos": ["O1D", "O1E"],
        "multi_dose_codes": [],
    },
    source="CMS JW/JZ policy (JZ from 2023-07-01, edits from 2023-10-01); rules.md §5, R-MOD-4; "
    "§8 JW_JZ_MISSING",
    applies_when=jw_jz_required_and_absent,
)
def jw_jz_missing_packaging_unknown(ctx: RuleContext) -> Finding:
    """An injected drug is billed without JW or JZ, and its kind of container is not known.

    ## What it checks
    Lines whose payer policy pack requires JW/JZ on the date of service
    (`jw_jz_required`; Medicare A/B MAC from 2023-07-01) and whose code, valid on the
    date, is an injected or infused drug (route from the HCPCS descriptor; BETOS
    category in `drug_betos`) that is not on the curated single-dose-container list,
    which MOD004 judges. The line is reported when it has neither JW nor JZ and the
    claim has no JW line for the same code and date. On institutional claims only codes
    that OPPS pays separately on the date of service (status indicator K or G in
    Addendum B) are checked.

    Whether a product comes in single-dose containers is on its label (the FDA NDC
    directory's package descriptions), which claimscrub does not bundle; most infused
    drugs do, some injections come in multi-dose vials, which need neither modifier.
    Hence a warning of low confidence rather than MOD004's error. Codes your practice
    only ever buys in multi-dose containers can be listed in `multi_dose_codes`.

    ## Why it matters
    Since 2023-10-01 Medicare returns a separately payable drug line from a single-dose
    container without JW or JZ as unprocessable (CARC 16 with RARC MA130). Infusion
    clinics and hospital outpatient departments bill many such drugs outside the
    transplant family: pembrolizumab, rituximab, infliximab, iron sucrose.

    ## Example
    J9312 (rituximab, 10 mg), 72 units, no modifiers, at a Medicare A/B MAC on
    2025-11-15, nothing discarded.

    Use instead: J9312-JZ, 72 units (if the vials were single-dose), or the discarded
    amount on its own JW line.

    ## Fix
    Unsafe. Adds JZ when the line says nothing was discarded (`discarded.amount` 0):
    the modifier is right only if the product came from single-dose containers.
    Otherwise none.

    ## Options
    - `separately_payable_status_indicators` (list, default ["K", "G"]): OPPS status
      indicators that make a drug separately payable on institutional claims.
    - `drug_betos` (list, default ["O1D", "O1E"]): BETOS categories of the HCPCS file
      counted as drugs here (chemotherapy and other drugs; immunizations are left out).
    - `multi_dose_codes` (list, default []): codes not reported, because the products
      you bill under them come in multi-dose containers.

    ## Related
    MOD004 (the same requirement for codes known to come in single-dose containers),
    MOD002 (JW with JZ), MOD005 (JW/JZ on a self-administered drug); UNT005 and UNT007
    (JW/JZ units arithmetic, for any code once the line carries JW or JZ).

    ## References
    - CMS, "New claims modifier requirement for drugs and biologicals from single-dose
      containers" (HHS guidance document); CGS JW/JZ article (2023).
    - rules.md §5 (JW, JZ rows), R-MOD-4, §8 JW_JZ_MISSING.
    """
    indicators = [str(s) for s in ctx.options.get("separately_payable_status_indicators", [])]
    betos = [str(b) for b in ctx.options.get("drug_betos", [])]
    skipped = [str(code).strip().upper() for code in ctx.options.get("multi_dose_codes", [])]
    known = curated.single_dose_containers().get_column("hcpcs").to_list()
    lines = ctx.lines.filter(
        jw_jz_required_and_absent() & ~pl.col(c.HCPCS).is_in(known + skipped).fill_null(False)
    )
    lines = ctx.refdata.lookup(
        with_jw_jz_context(ctx, lines, indicators),
        "hcpcs",
        on={c.HCPCS: "hcpcs_code"},
        as_of=c.DOS_FROM,
        columns={"route": "_route", "betos": "_betos"},
    )
    injected = (route_class(pl.col("_route")) == "parenteral").fill_null(False)
    return Finding(
        rows=lines,
        violated=(pl.col("hcpcs_status") == "valid").fill_null(False)
        & injected
        & pl.col("_betos").is_in(betos).fill_null(False)
        & ~pl.col("_jw_line")
        & ~pl.col("_packaged"),
        message="{hcpcs} is an injected drug and this payer requires JW or JZ on {dos_from} "
        "on drugs from single-dose containers; the line has neither. The bundled CMS files do "
        "not say whether this product comes in single-dose containers: if it does, add JZ "
        "(nothing discarded) or a JW line for the discarded amount",
        fix={c.MODIFIERS: jz_added_when_nothing_discarded()},
        fix_title="Add JZ (single-dose container, nothing discarded)",
    )
