"""Normaliser for the CMS NCCI Medically Unlikely Edits (dataset ``mue``).

Input: the raw canonical frame of ``ncci_mue_<yyyy>_q<n>_hcpcs_level2.csv`` (columns
:data:`RAW_COLUMNS`): one row per code and service type (``practitioner``,
``outpatient_hospital``, ``dme_supplier``). Output (sorted by ``hcpcs_code``,
``service_type``): ``mue_value`` Int32 (units per beneficiary per date of service;
0 = not payable in that setting), ``mai`` Int8 (MUE Adjudication Indicator 1/2/3),
``effective_date`` ``pl.Date``; ``mai_description`` and ``mue_rationale`` are CMS's
text, unchanged.

``build`` is pure.
"""

from __future__ import annotations

import polars as pl

from claimscrub.refdata.sources.common import iso_date, number, require_columns

DATASET = "mue"
NORMALISER_VERSION = "1"
KEY_COLUMNS = ("hcpcs_code", "service_type")

RAW_COLUMNS: tuple[str, ...] = (
    "hcpcs_code",
    "service_type",
    "mue_value",
    "mai",
    "mai_description",
    "mue_rationale",
    "effective_date",
)


def build(raw: pl.DataFrame) -> pl.DataFrame:
    """Type one MUE release (pure)."""
    raw = require_columns(raw, RAW_COLUMNS, DATASET)
    typed = raw.with_columns(
        number(raw, "mue_value", DATASET, pl.Int32()),
        number(raw, "mai", DATASET, pl.Int8()),
        iso_date(raw, "effective_date", DATASET),
    )
    return typed.sort("hcpcs_code", "service_type", maintain_order=True)
