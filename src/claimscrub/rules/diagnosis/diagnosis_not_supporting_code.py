"""DGN001: no diagnosis on the line supports the drug code."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Confidence, Severity
from claimscrub.model import columns as c
from claimscrub.refdata import curated
from claimscrub.rules.context import RuleContext
from claimscrub.rules.diagnosis._common import has_modifier, is_medicare, line_support
from claimscrub.rules.finding import Finding
from claimscrub.rules.registry import rule


@rule(
    code="DGN001",
    name="diagnosis-not-supporting-code",
    severity=Severity.ERROR,
    # the supporting diagnoses are a curated set (rules.md R-DX-1/3), not a
    # CMS file, and an LCD may accept a diagnosis the set lacks.
    confidence=Confidence.MEDIUM,
    carc="CO-11",
    requires=("icd10cm",),
    inputs=(c.HCPCS, c.DIAGNOSES),
    source="rules.md R-DX-1 / R-DX-3 (curated diagnosis sets per code); §8 DX_NOT_SUPPORTING",
)
def diagnosis_not_supporting_code(ctx: RuleContext) -> Finding:
    """None of the diagnoses the line points to supports its drug code.

    ## What it checks
    Lines whose HCPCS code has a curated set of supporting diagnoses (rules.md R-DX-1 for
    the oral and parenteral maintenance immunosuppressives J7500–J7599, R-DX-3 for
    J7504, J7511, J0485 and J0480; see `refdata/curated/immunosuppressants.yaml`). The
    line's diagnoses are the ones its diagnosis pointers name (837P SV107, JSON
    `diagnosis_pointers`), or every diagnosis of the claim (2300 HI) when it has no
    pointers. Codes are compared without dots, exactly or by a set's prefix (T86.1-
    covers T86.10–T86.19). The line fails when none of them is in a supporting set.

    Left to siblings: lines pointing to a diagnosis that is not a billable ICD-10-CM
    code (DGN002) or an ICD-9 code (DGN004), out-of-range pointers (DGN003), lines
    whose only transplant diagnoses are non-covered grafts or "awaiting transplant"
    (DGN005), lines whose diagnosis is a known off-label use that payers cover by their
    own policy (DGN006: rabbit ATG for other organs or GVHD), and lines with GY (the biller expects the denial). Codes without a
    curated set (e.g. supply fees, drugs outside this family) are not checked: there
    is nothing to check them against.

    ## Why it matters
    Payers deny a drug line whose diagnosis does not fit it: commercial plans, Medicaid
    and Medicare Advantage with CARC 11, Original Medicare as not reasonable and
    necessary (CARC 50) with a remark naming the coverage document: N115 for the oral
    immunosuppressives, which LCD L33824 governs, N386 for equine ATG (J7504), which
    NCD 260.7 governs (`medicare_coverage` in the curated file); no remark is predicted
    for the codes for which rules.md names neither. Tacrolimus billed with rheumatoid
    arthritis, or belatacept with a liver transplant, are examples.

    ## Example
    J7507 (tacrolimus, immediate release, oral, 1 mg) with the single diagnosis M06.9
    (rheumatoid arthritis, unspecified).

    Use instead: the transplant status or complication that the drug treats, e.g.
    Z94.0 (kidney transplant status).

    ## Fix
    None: the right diagnosis comes from the medical record. The message lists what
    supports the code.

    ## Options
    None.

    ## Related
    DGN002 (diagnosis not billable), DGN003 (pointer out of range), DGN004 (ICD-9 code),
    DGN005 (only non-covered transplant diagnoses), DGN006 (off-label use).

    ## References
    - rules.md R-DX-1 (oral and maintenance immunosuppressives), R-DX-3 (infused agents).
    - Noridian retired DME MAC diagnosis list for immunosuppressive drugs; NCD 260.7.
    - ICD-10-CM tabular (billable codes), dataset `icd10cm`.
    """
    documents = curated.medicare_coverage_documents().lazy().rename({"coverage": "_coverage"})
    lines = (
        line_support(ctx)
        .filter(~has_modifier("GY"))
        .join(documents, on=c.HCPCS, how="left", maintain_order="left")
    )
    medicare = is_medicare()
    icd9_claim = pl.col(c.ICD9_DIAGNOSES).fill_null(False)
    only_not_covered = pl.col("_has_transplant_set") & (pl.col("_not_covered").list.len() > 0)
    return Finding(
        rows=lines,
        violated=~pl.col("_supported")
        & pl.col("_all_valid")
        & ~icd9_claim
        & ~only_not_covered
        & ~pl.col("_off_label"),
        message="no diagnosis on the line supports {hcpcs} ({_dx_list}); "
        "it is supported by {_supported_by}",
        carc=pl.when(medicare).then(pl.lit("CO-50")).otherwise(pl.lit("CO-11")),
        # Medicare names the coverage document behind the denial: N115 for an LCD, N386
        # for an NCD; none is predicted where no document is known for the code.
        rarc=pl.when(medicare & (pl.col("_coverage") == "lcd"))
        .then(pl.lit(["N115"], dtype=pl.List(pl.String)))
        .when(medicare & (pl.col("_coverage") == "ncd"))
        .then(pl.lit(["N386"], dtype=pl.List(pl.String)))
        .otherwise(pl.lit([], dtype=pl.List(pl.String))),
    )
