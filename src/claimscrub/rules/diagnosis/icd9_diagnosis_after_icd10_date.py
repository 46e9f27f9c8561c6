"""DGN004: ICD-9-CM diagnoses on a claim for services after ICD-10-CM took over."""

from __future__ import annotations

import datetime as dt

import polars as pl

from claimscrub.diagnostics import Severity
from claimscrub.model import columns as c
from claimscrub.rules.context import RuleContext
from claimscrub.rules.diagnosis._common import ICD9_SHAPE, dx_key
from claimscrub.rules.finding import Finding
from claimscrub.rules.registry import rule


@rule(
    code="DGN004",
    name="icd9-diagnosis-after-icd10-date",
    severity=Severity.ERROR,
    carc="CO-16",
    rarc=("M76",),
    inputs=(c.DIAGNOSES,),
    scope="claim",
    options={"icd10_from": "2015-10-01"},
    source="HIPAA code sets, 45 CFR 162.1002 (ICD-10-CM from 2015-10-01); rules.md §8 DX_NOT_BILLABLE",
)
def icd9_diagnosis_after_icd10_date(ctx: RuleContext) -> Finding:
    """The claim reports ICD-9-CM diagnoses for services dated after ICD-10-CM replaced it.

    ## What it checks
    Claims dated on or after `icd10_from` (2015-10-01) whose diagnoses are ICD-9-CM:
    either sent with ICD-9 qualifiers (837P HI BK/BF, 837I HI BK/BJ/BF/BN/BR/BQ/PR —
    the `icd9_diagnoses` flag the X12 reader sets), or, in any format, diagnoses
    made only of digits (e.g. 996.81), which ICD-10-CM never uses because its codes
    start with a letter. ICD-9 V and E codes sent without qualifiers cannot be told
    apart from ICD-10-CM codes by shape; DGN002 judges those against ICD-10-CM.

    ## Why it matters
    HIPAA named ICD-10-CM the diagnosis code set for services from 2015-10-01; a
    claim for a later service with ICD-9 codes cannot be processed and comes back as
    invalid diagnosis information (CARC 16 with RARC M76).

    ## Example
    A 2016 tacrolimus claim with diagnosis 996.81 (ICD-9: complications of a kidney
    transplant) sent under qualifier BK.

    Use instead: the ICD-10-CM code the record supports, e.g. T86.19 (other
    complication of kidney transplant) or Z94.0, under qualifier ABK.

    ## Fix
    None: ICD-9 to ICD-10 is not one-to-one (the GEMs map one code to several);
    recode from the record.

    ## Options
    - `icd10_from` (date, default "2015-10-01"): the first date of service that takes
      ICD-10-CM.

    ## Related
    DGN002 (diagnosis not billable in ICD-10-CM).

    ## References
    - 45 CFR 162.1002(c)(2)-(3); HHS final rule 79 FR 45128 (2014-08-04) setting the
      ICD-10 compliance date to 2015-10-01.
    - ASC X12 837P 005010X222A1 / 837I 005010X223A2, 2300 HI qualifiers.
    """
    icd10_from = dt.date.fromisoformat(str(ctx.options.get("icd10_from", "2015-10-01")))
    diagnoses = pl.col(c.DIAGNOSES).fill_null(pl.lit([], dtype=pl.List(pl.String)))
    digits_only = diagnoses.list.eval(
        pl.element().filter(dx_key(pl.element()).str.contains(ICD9_SHAPE))
    )
    flagged = pl.col(c.ICD9_DIAGNOSES).fill_null(False)
    rows = ctx.claims.with_columns(
        digits_only.alias("_icd9"), pl.lit(icd10_from).alias("_icd10_from")
    ).with_columns(
        pl.when(flagged)
        .then(pl.lit("its diagnoses are sent with ICD-9-CM qualifiers"))
        .otherwise(pl.format("{} is ICD-9-CM (digits only)", pl.col("_icd9").list.join(", ")))
        .alias("_what")
    )
    return Finding(
        rows=rows,
        violated=(pl.col(c.SERVICE_DATE) >= pl.lit(icd10_from))
        & (flagged | (pl.col("_icd9").list.len() > 0)),
        message="the claim is dated {service_date} and {_what}; "
        "ICD-10-CM applies to services from {_icd10_from}",
    )
