"""The CMS HCPCS Alpha-Numeric record layout, and how its records become the raw frame.

One table, :data:`LAYOUT`, gives for every column of the raw canonical frame (named as
``shared/refdata/hcpcs_anweb_<year>_jan.csv``) the CMS field name and its 1-based start
and width in the 320-byte fixed-width record (CMS "HCPCS record layout"; the same
positions in every annual file since at least 2018). The spreadsheet reader uses the
CMS names to find the same fields in the .xlsx/.xls header.

Record identification codes (RECID / RIC): ``3`` first line of a procedure, ``4`` its
continuation lines (long descriptor only); ``7`` first line of a modifier, ``8`` its
continuation lines.
"""

from __future__ import annotations

import re

import polars as pl

# (raw column, CMS field name, 1-based start, width)
LAYOUT: tuple[tuple[str, str, int, int], ...] = (
    ("hcpcs_code", "HCPC", 1, 5),
    ("seq_num", "SEQNUM", 6, 5),
    ("rec_id", "RECID", 11, 1),
    ("long_description", "LONG DESCRIPTION", 12, 80),
    ("short_description", "SHORT DESCRIPTION", 92, 28),
    ("price_ind_1", "PRICE1", 120, 2),
    ("price_ind_2", "PRICE2", 122, 2),
    ("price_ind_3", "PRICE3", 124, 2),
    ("price_ind_4", "PRICE4", 126, 2),
    ("multiple_price_ind", "MULT_PI", 128, 1),
    ("cim_ref_1", "CIM1", 129, 6),
    ("cim_ref_2", "CIM2", 135, 6),
    ("cim_ref_3", "CIM3", 141, 6),
    ("mcm_ref_1", "MCM1", 147, 8),
    ("mcm_ref_2", "MCM2", 155, 8),
    ("mcm_ref_3", "MCM3", 163, 8),
    ("statute", "STATUTE", 171, 10),
    *((f"lab_cert_{i}", f"LABCERT{i}", 181 + 3 * (i - 1), 3) for i in range(1, 9)),
    *((f"xref_{i}", f"XREF{i}", 205 + 5 * (i - 1), 5) for i in range(1, 6)),
    ("coverage_code", "COV", 230, 1),
    ("asc_payment_group", "ASC_GRP", 231, 2),
    ("asc_group_eff_date", "ASC_DT", 233, 8),
    ("mog_payment_group", "OPPS", 241, 3),
    ("mog_payment_policy_ind", "OPPS_PI", 244, 1),
    ("mog_eff_date", "OPPS_DT", 245, 8),
    ("processing_note", "PROCNOTE", 253, 4),
    ("betos", "BETOS", 257, 3),
    *((f"tos_{i}", f"TOS{i}", 261 + i - 1, 1) for i in range(1, 6)),
    ("anesthesia_base_units", "ANEST_BU", 266, 3),
    ("add_date", "ADD DT", 269, 8),
    ("action_eff_date", "ACT EFF DT", 277, 8),
    ("termination_date", "TERM DT", 285, 8),
    ("action_code", "ACTION CD", 293, 1),
)
RECORD_LENGTH = 320
LAST_FIELD_END = 293  # ACTION CD; a first-line record shorter than this is truncated
DATE_FIELDS = (
    "asc_group_eff_date",
    "mog_eff_date",
    "add_date",
    "action_eff_date",
    "termination_date",
)
RAW_COLUMNS: tuple[str, ...] = (
    "hcpcs_code",
    "record_type",
    *(name for name, *_ in LAYOUT if name != "hcpcs_code"),
)
FIRST_LINE_RIC = {"3": "procedure", "7": "modifier"}
CONTINUATION_RIC = {"3": "4", "7": "8"}

PROCEDURE_CODE = r"^[A-Z0-9]{5}$"
MODIFIER_CODE = r"^[A-Z0-9]{2}$"
DIGITS = r"^[0-9]*$"


def cms_key(name: str) -> str:
    """A CMS field name reduced for matching headers: ``"ACT EFF DT"`` -> ``"ACTEFFDT"``."""
    return re.sub(r"[^A-Z0-9]", "", name.upper())


def describe(frame: pl.DataFrame) -> pl.DataFrame:
    """Finish merged records: record type from RECID, descriptions whitespace-collapsed,
    dates ``YYYYMMDD`` -> ISO, every column in :data:`RAW_COLUMNS` order as text."""
    collapse = [
        pl.col(c).str.replace_all(r"\s+", " ").str.strip_chars().replace("", None).alias(c)
        for c in ("long_description", "short_description")
    ]
    dates = [
        pl.col(c).str.to_date("%Y%m%d", strict=False).dt.strftime("%Y-%m-%d").alias(c)
        for c in DATE_FIELDS
    ]
    return frame.with_columns(
        *collapse,
        *dates,
        pl.col("rec_id").replace_strict(FIRST_LINE_RIC, default=None).alias("record_type"),
    ).select(RAW_COLUMNS)
