"""Polars schemas of the canonical ``claims`` and ``lines`` frames, with provenance.

Every reader returns frames with exactly these columns in this order (missing facts
are null). ``CLAIM_FIELDS`` / ``LINE_FIELDS`` also record where each column comes
from in X12 837P / 837I, in the public JSON format and in the public CSV format
(``shared/spec/claim-formats.md``), so docs and locations use one table.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from claimscrub.model import columns as c

TRANSPLANT = pl.Struct(
    {
        "organ": pl.String,
        "date": pl.Date,
        "medicare_paid": pl.Boolean,
        "part_a_at_transplant": pl.Boolean,
    }
)
AUTHORIZATION_STRUCT = pl.Struct(
    {
        "number": pl.String,
        "status": pl.String,
        "hcpcs": pl.String,
        "units": pl.Float64,
        "start": pl.Date,
        "end": pl.Date,
    }
)


@dataclass(frozen=True)
class Field:
    """One canonical column: its dtype and where it comes from in each format."""

    name: str
    dtype: pl.DataType
    x12_837p: str = ""
    x12_837i: str = ""
    json: str = ""
    csv: str = ""


_LOCATION = (
    Field(c.SRC, pl.String()),
    Field(c.SEG_ORDINAL, pl.Int64()),
    Field(c.X12_LOOP, pl.String()),
    Field(c.X12_SEG, pl.String()),
    Field(c.ROW, pl.Int64()),
    Field(c.JSON_PATH, pl.String()),
)

CLAIM_FIELDS: tuple[Field, ...] = (
    Field(c.CLAIM_KEY, pl.Int64()),
    Field(c.CLAIM_ID, pl.String(), "CLM01", "CLM01", "claims[].id", "claim_id"),
    *_LOCATION,
    Field(c.CLAIM_TYPE, pl.String(), "ST03/GS08", "ST03/GS08", "claims[].type", "claim_type"),
    Field(c.IMPLEMENTATION_GUIDE, pl.String(), "ST03", "ST03"),
    Field(c.SUBMITTER_NAME, pl.String(), "1000A NM103", "1000A NM103"),
    Field(c.SUBMITTER_ID, pl.String(), "1000A NM109", "1000A NM109"),
    Field(c.RECEIVER_NAME, pl.String(), "1000B NM103", "1000B NM103"),
    Field(c.RECEIVER_ID, pl.String(), "1000B NM109", "1000B NM109"),
    Field(c.BILLING_NPI, pl.String(), "2010AA NM109", "2010AA NM109"),
    Field(c.BILLING_NAME, pl.String(), "2010AA NM103", "2010AA NM103"),
    Field(c.PAYER_TYPE, pl.String(), "", "", "claims[].payer.type", "payer_type"),
    Field(c.PAYER_ID, pl.String(), "2010BB NM109", "2010BB NM109", "claims[].payer.id", "payer_id"),
    Field(c.PAYER_NAME, pl.String(), "2010BB NM103", "2010BB NM103", "claims[].payer.name"),
    Field(c.PAYER_POLICY, pl.String(), "", "", "claims[].payer.policy", "payer_policy"),
    Field(c.CLAIM_FILING_INDICATOR, pl.String(), "2000B SBR09", "2000B SBR09"),
    Field(c.SUBSCRIBER_ID, pl.String(), "2010BA NM109", "2010BA NM109"),
    Field(
        c.PATIENT_ID,
        pl.String(),
        "2010BA NM109; a 2000C dependant: 2010BA NM109/2010CA NM103/NM104/DMG02",
        "2010BA NM109; a 2000C dependant: 2010BA NM109/2010CA NM103/NM104/DMG02",
        "claims[].patient.id",
        "patient_id",
    ),
    Field(c.PATIENT_LAST_NAME, pl.String(), "2010CA/2010BA NM103", "2010CA/2010BA NM103"),
    Field(c.PATIENT_FIRST_NAME, pl.String(), "2010CA/2010BA NM104", "2010CA/2010BA NM104"),
    Field(
        c.BIRTH_DATE,
        pl.Date(),
        "DMG02",
        "DMG02",
        "claims[].patient.birth_date",
        "birth_date",
    ),
    Field(c.SEX, pl.String(), "DMG03", "DMG03", "claims[].patient.sex", "sex"),
    Field(
        c.TRANSPLANTS,
        pl.List(TRANSPLANT),
        "",
        "",
        "claims[].patient.transplants",
        "transplant_organ, transplant_date, transplant_medicare_paid, part_a_at_transplant",
    ),
    Field(
        c.ESRD_ONLY_ENTITLEMENT,
        pl.Boolean(),
        "",
        "",
        "claims[].patient.esrd_only_entitlement",
        "esrd_only_entitlement",
    ),
    Field(c.PART_B_ID, pl.Boolean(), "", "", "claims[].patient.part_b_id", "part_b_id"),
    Field(
        c.PART_A_SNF_STAY,
        pl.Boolean(),
        "",
        "",
        "claims[].patient.part_a_snf_stay",
        "part_a_snf_stay",
    ),
    Field(
        c.MEDICARE_ENTITLEMENT_REASON,
        pl.String(),
        "",
        "",
        "claims[].patient.medicare_entitlement.reason",
    ),
    Field(c.PART_A_SINCE, pl.Date(), "", "", "claims[].patient.medicare_entitlement.part_a_since"),
    Field(c.PART_B_SINCE, pl.Date(), "", "", "claims[].patient.medicare_entitlement.part_b_since"),
    Field(
        c.ESRD_COVERAGE_END,
        pl.Date(),
        "",
        "",
        "claims[].patient.medicare_entitlement.esrd_coverage_end",
    ),
    Field(c.OTHER_COVERAGE, pl.Boolean(), "", "", "claims[].patient.other_coverage"),
    Field(
        c.SERVICE_DATE,
        pl.Date(),
        "2300 DTP (or earliest 2400 DTP*472)",
        "2300 DTP*434 (statement from)",
        "claims[].service_date",
        "service_date",
    ),
    Field(
        c.PLACE_OF_SERVICE,
        pl.String(),
        "CLM05-1",
        "",
        "claims[].place_of_service",
        "place_of_service",
    ),
    Field(c.FACILITY_CODE_QUALIFIER, pl.String(), "CLM05-2", "CLM05-2"),
    Field(c.FREQUENCY_CODE, pl.String(), "CLM05-3", "CLM05-3"),
    Field(c.BILL_TYPE, pl.String(), "", "CLM05-1 + CLM05-3", "claims[].bill_type", "bill_type"),
    Field(c.TOTAL_CHARGE, pl.Float64(), "CLM02", "CLM02"),
    Field(
        c.DIAGNOSES,
        pl.List(pl.String()),
        "2300 HI (ABK, ABF ...)",
        "2300 HI (ABK, ABJ, ABF ...)",
        "claims[].diagnoses",
        "dx1 … dx12",
    ),
    Field(c.DIAGNOSIS_QUALIFIERS, pl.List(pl.String()), "HI0x-1", "HI0x-1"),
    Field(c.ICD9_DIAGNOSES, pl.Boolean(), "HI0x-1 in BK/BF", "HI0x-1 in BK/BJ/PR/BN/BF/BR/BQ"),
    Field(
        c.PRIOR_AUTHORIZATION,
        pl.String(),
        "2300 REF*G1",
        "2300 REF*G1",
        "claims[].prior_authorization",
        "prior_authorization",
    ),
    Field(c.ADMISSION_DATE, pl.Date(), "2300 DTP*435", "2300 DTP*435", "claims[].admission_date"),
    Field(c.DISCHARGE_DATE, pl.Date(), "2300 DTP*096", "2300 DTP*096", "claims[].discharge_date"),
    Field(c.AUTHORIZATION, AUTHORIZATION_STRUCT, "", "", "claims[].authorization"),
    Field(c.SUPPLIER_NPI, pl.String(), "", "", "claims[].supplier.npi"),
    Field(c.SUPPLIER_ENROLLED_SINCE, pl.Date(), "", "", "claims[].supplier.enrolled_since"),
    Field(c.EXTENSIONS, pl.String(), "", "", "claims[].x_*"),
)

LINE_FIELDS: tuple[Field, ...] = (
    Field(c.CLAIM_KEY, pl.Int64()),
    Field(c.CLAIM_ID, pl.String(), "CLM01", "CLM01", "claims[].id", "claim_id"),
    *_LOCATION,
    Field(c.LINE_NO, pl.Int64(), "LX01", "LX01", "lines[].number", "line_number"),
    Field(c.HCPCS, pl.String(), "SV101-2", "SV202-2", "lines[].hcpcs", "hcpcs"),
    Field(c.PROCEDURE_QUALIFIER, pl.String(), "SV101-1", "SV202-1", "lines[].procedure_qualifier"),
    Field(
        c.MODIFIERS,
        pl.List(pl.String()),
        "SV101-3..6",
        "SV202-3..6",
        "lines[].modifiers",
        "mod1 … mod4",
    ),
    Field(c.UNITS, pl.Float64(), "SV104", "SV205", "lines[].units", "units"),
    Field(c.UNIT_BASIS, pl.String(), "SV103", "SV204"),
    Field(c.CHARGE, pl.Float64(), "SV102", "SV203", "lines[].charge", "charge"),
    Field(
        c.DOS_FROM,
        pl.Date(),
        "2400 DTP*472",
        "2400 DTP*472",
        "lines[].service_date (default claims[].service_date)",
        "line_service_date (default service_date)",
    ),
    Field(c.DOS_TO, pl.Date(), "2400 DTP*472 (RD8 end)", "2400 DTP*472 (RD8 end)"),
    Field(c.LINE_PLACE_OF_SERVICE, pl.String(), "SV105", ""),
    Field(
        c.DIAGNOSIS_POINTERS,
        pl.List(pl.Int64()),
        "SV107",
        "",
        "lines[].diagnosis_pointers",
        "diagnosis_pointers",
    ),
    Field(c.REVENUE_CODE, pl.String(), "", "SV201", "lines[].revenue_code"),
    Field(c.NDC, pl.String(), "2410 LIN03", "2410 LIN03", "lines[].ndc", "ndc"),
    Field(c.NDC_QUALIFIER, pl.String(), "2410 LIN02", "2410 LIN02"),
    Field(
        c.NDC_QTY, pl.Float64(), "2410 CTP04", "2410 CTP04", "lines[].ndc_quantity", "ndc_quantity"
    ),
    Field(c.NDC_UNIT, pl.String(), "2410 CTP05-1", "2410 CTP05-1", "lines[].ndc_unit", "ndc_unit"),
    Field(c.NDC_PRICE, pl.Float64(), "2410 CTP03", "2410 CTP03"),
    Field(c.PRESCRIPTION_NUMBER, pl.String(), "2410 REF*XZ", "2410 REF*XZ"),
    Field(c.LINK_SEQUENCE, pl.String(), "2410 REF*VY", "2410 REF*VY"),
    Field(c.DAYS_SUPPLY, pl.Int64(), "", "", "lines[].days_supply", "days_supply"),
    Field(c.NARRATIVE, pl.String(), "2400 NTE02", "2400 NTE02", "lines[].narrative", "narrative"),
    Field(c.DRUG_DESCRIPTION, pl.String(), "SV101-7", "SV202-7", "lines[].drug_description"),
    Field(c.DOSE_AMOUNT, pl.Float64(), "", "", "lines[].dose.amount"),
    Field(c.DOSE_UNIT, pl.String(), "", "", "lines[].dose.unit"),
    Field(c.DISCARDED_AMOUNT, pl.Float64(), "", "", "lines[].discarded.amount"),
    Field(c.DISCARDED_UNIT, pl.String(), "", "", "lines[].discarded.unit"),
    Field(c.REFILL_REQUESTED_ON, pl.Date(), "", "", "lines[].refill_requested_on"),
    Field(c.DELIVERED_ON, pl.Date(), "", "", "lines[].delivered_on"),
)

CLAIMS_SCHEMA = pl.Schema({f.name: f.dtype for f in CLAIM_FIELDS})
LINES_SCHEMA = pl.Schema({f.name: f.dtype for f in LINE_FIELDS})

REJECTED_SCHEMA = pl.Schema(
    {
        c.SRC: pl.String(),
        c.SEG_ORDINAL: pl.Int64(),  # X12: segment ordinal where the problem was found
        c.ROW: pl.Int64(),  # CSV: data row
        c.JSON_PATH: pl.String(),  # JSON: path of the claim
        c.CLAIM_ID: pl.String(),  # when known
        "reason": pl.String(),
    }
)


# Building a frame of ~60 typed columns costs about a millisecond, which a reader of one
# small claim pays several times; a clone of a ready one costs a microsecond (and is a
# frame of its own: changing it never changes the template).
_EMPTY_CLAIMS = pl.DataFrame(schema=CLAIMS_SCHEMA)
_EMPTY_LINES = pl.DataFrame(schema=LINES_SCHEMA)
_EMPTY_REJECTED = pl.DataFrame(schema=REJECTED_SCHEMA)


def empty_claims() -> pl.DataFrame:
    """An empty frame with the canonical claim columns."""
    return _EMPTY_CLAIMS.clone()


def empty_lines() -> pl.DataFrame:
    """An empty frame with the canonical line columns."""
    return _EMPTY_LINES.clone()


def empty_rejected() -> pl.DataFrame:
    """An empty frame of rejected inputs (or warnings)."""
    return _EMPTY_REJECTED.clone()


def conform(df: pl.DataFrame, schema: pl.Schema) -> pl.DataFrame:
    """Add missing canonical columns as nulls, cast, and order them as the schema says."""
    have = df.schema
    if have == schema:  # nothing to add, cast or reorder
        return df
    exprs = [
        (
            pl.lit(None, dtype=dtype)
            if name not in have
            else pl.col(name)
            if have[name] == dtype  # already right: a cast would still cost its planning
            else pl.col(name).cast(dtype)
        ).alias(name)
        for name, dtype in schema.items()
    ]
    return df.select(exprs)
