"""Canonical column names of the claim model: the single source of truth.

Readers (X12, CSV, JSON) produce two Polars frames, ``claims`` and ``lines``, with
these snake_case columns; rules and reporters refer to columns only through these
constants. ``model/schema.py`` holds the dtypes and the X12 / CSV / JSON provenance
of each column.
"""

from __future__ import annotations

# --- keys shared by both frames -------------------------------------------------
CLAIM_KEY = (
    "claim_key"  # Int64, unique per claim within one read (claim ids may repeat across files)
)
CLAIM_ID = "claim_id"  # CLM01 / JSON claims[].id / CSV claim_id

# --- location (where a claim or line came from) ----------------------------------
SRC = "src"  # input file name ("-" for stdin)
SEG_ORDINAL = (
    "seg_ordinal"  # 1-based ordinal of the segment in the file (CLM for claims, SV1/SV2 for lines)
)
X12_LOOP = "x12_loop"  # e.g. "2300", "2400"
X12_SEG = "x12_seg"  # e.g. "CLM", "SV1"
ROW = "row"  # 1-based data row in a CSV file (header is row 0)
JSON_PATH = "json_path"  # e.g. "claims[3].lines[1]"

LOCATION_COLUMNS = (SRC, SEG_ORDINAL, X12_LOOP, X12_SEG, ROW, JSON_PATH)

# --- claim level -------------------------------------------------------------------
CLAIM_TYPE = "claim_type"  # professional | institutional
IMPLEMENTATION_GUIDE = "implementation_guide"  # e.g. 005010X222A1 (X12 only)
SUBMITTER_NAME = "submitter_name"
SUBMITTER_ID = "submitter_id"
RECEIVER_NAME = "receiver_name"
RECEIVER_ID = "receiver_id"
BILLING_NPI = "billing_npi"
BILLING_NAME = "billing_name"
PAYER_TYPE = "payer_type"  # medicare | medicare_advantage | medicaid | commercial
PAYER_ID = "payer_id"
PAYER_NAME = "payer_name"
PAYER_POLICY = "payer_policy"  # name of a payer policy pack
CLAIM_FILING_INDICATOR = "claim_filing_indicator"  # SBR09 (MB, MC, CI, ...)
SUBSCRIBER_ID = "subscriber_id"
PATIENT_ID = "patient_id"
PATIENT_LAST_NAME = "patient_last_name"
PATIENT_FIRST_NAME = "patient_first_name"
BIRTH_DATE = "birth_date"
SEX = "sex"
TRANSPLANTS = "transplants"  # list of struct{organ, date, medicare_paid, part_a_at_transplant}
ESRD_ONLY_ENTITLEMENT = "esrd_only_entitlement"
PART_B_ID = "part_b_id"
PART_A_SNF_STAY = "part_a_snf_stay"
MEDICARE_ENTITLEMENT_REASON = "medicare_entitlement_reason"  # age | disability | esrd
PART_A_SINCE = "part_a_since"
PART_B_SINCE = "part_b_since"
ESRD_COVERAGE_END = "esrd_coverage_end"
OTHER_COVERAGE = "other_coverage"
SERVICE_DATE = "service_date"  # claim-level date of service (earliest line date when absent)
PLACE_OF_SERVICE = "place_of_service"  # CLM05-1 (837P)
FACILITY_CODE_QUALIFIER = "facility_code_qualifier"  # CLM05-2 (B = place of service, A = bill type)
FREQUENCY_CODE = "frequency_code"  # CLM05-3
BILL_TYPE = "bill_type"  # 837I: CLM05-1 + CLM05-3, e.g. "131"
TOTAL_CHARGE = "total_charge"  # CLM02
DIAGNOSES = "diagnoses"  # list[str], principal first, ICD-10-CM without dot as submitted
DIAGNOSIS_QUALIFIERS = (
    "diagnosis_qualifiers"  # list[str] parallel to DIAGNOSES (ABK, ABF, BK, BF ...)
)
ICD9_DIAGNOSES = "icd9_diagnoses"  # bool: an ICD-9 qualifier (BK, BF, BJ, PR, BN, BR, BQ) was used
PRIOR_AUTHORIZATION = "prior_authorization"  # REF*G1
ADMISSION_DATE = "admission_date"
DISCHARGE_DATE = "discharge_date"
AUTHORIZATION = "authorization"  # struct{number, status, hcpcs, units, start, end}
SUPPLIER_NPI = "supplier_npi"
SUPPLIER_ENROLLED_SINCE = "supplier_enrolled_since"
EXTENSIONS = "extensions"  # JSON text of x_* keys, carried through untouched

# --- line level --------------------------------------------------------------------
LINE_NO = "line_no"  # LX01 / lines[].number / CSV line_number
HCPCS = "hcpcs"  # SV101-2 / SV202-2
PROCEDURE_QUALIFIER = "procedure_qualifier"  # SV101-1 / SV202-1 / JSON (HC, ER, IV, WK, HP)
MODIFIERS = "modifiers"  # list[str]
UNITS = "units"  # SV104 / SV205, HCPCS billing units
UNIT_BASIS = "unit_basis"  # SV103 / SV204 (UN, MJ, ...)
CHARGE = "charge"  # SV102 / SV203
DOS_FROM = "dos_from"  # line DTP*472; else the claim's (JSON/CSV service_date, 837I DTP*434)
DOS_TO = "dos_to"
LINE_PLACE_OF_SERVICE = "line_place_of_service"  # SV105
DIAGNOSIS_POINTERS = "diagnosis_pointers"  # list[int], 1-based into DIAGNOSES
REVENUE_CODE = "revenue_code"  # SV201 (837I)
NDC = "ndc"  # as submitted (LIN03), never rewritten by readers
NDC_QUALIFIER = "ndc_qualifier"  # LIN02 (N4 expected)
NDC_QTY = "ndc_qty"  # CTP04
NDC_UNIT = "ndc_unit"  # CTP05-1 (UN, ML, GR, F2, ME)
NDC_PRICE = "ndc_price"  # CTP03
PRESCRIPTION_NUMBER = "prescription_number"  # REF*XZ
LINK_SEQUENCE = "link_sequence"  # REF*VY
DAYS_SUPPLY = "days_supply"
NARRATIVE = "narrative"  # NTE*ADD / NTE*TPO text, or SV101-7 description
DRUG_DESCRIPTION = "drug_description"  # SV101-7
DOSE_AMOUNT = "dose_amount"
DOSE_UNIT = "dose_unit"
DISCARDED_AMOUNT = "discarded_amount"
DISCARDED_UNIT = "discarded_unit"
REFILL_REQUESTED_ON = "refill_requested_on"
DELIVERED_ON = "delivered_on"

# --- what the rules read -------------------------------------------------------------
# Columns no rule reads (tests/rules/test_unread_columns.py checks it): where a claim came
# from, who sent and receives it, names, and amounts no check looks at yet. The engine
# leaves them out of the frames it hands to rules: every column of a frame is carried in
# the schema of each step of each rule's query, and working those schemas out is most of
# what a query over a claim's few lines costs. A rule that comes to read one of them
# takes it off this list.
UNREAD_BY_RULES = frozenset(
    {
        *LOCATION_COLUMNS,
        SUBMITTER_NAME,
        SUBMITTER_ID,
        RECEIVER_NAME,
        RECEIVER_ID,
        BILLING_NPI,
        BILLING_NAME,
        PAYER_ID,
        PAYER_NAME,
        PAYER_POLICY,
        CLAIM_FILING_INDICATOR,
        SUBSCRIBER_ID,
        PATIENT_LAST_NAME,
        PATIENT_FIRST_NAME,
        BIRTH_DATE,
        SEX,
        PART_A_SINCE,
        PART_B_SINCE,
        OTHER_COVERAGE,
        FACILITY_CODE_QUALIFIER,
        BILL_TYPE,
        TOTAL_CHARGE,
        DIAGNOSIS_QUALIFIERS,
        EXTENSIONS,
        UNIT_BASIS,
        CHARGE,
        DOS_TO,
        NDC_PRICE,
        LINK_SEQUENCE,
        REFILL_REQUESTED_ON,
    }
)
