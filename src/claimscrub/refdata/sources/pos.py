"""Normaliser for the CMS Place of Service code set (dataset ``pos``).

Input: the raw canonical frame of ``place_of_service_codes.csv`` (columns
:data:`RAW_COLUMNS`). Output: the same three text columns, sorted by ``pos_code``;
``pos_code`` must be two digits (01-99), the form claims carry.

``build`` is pure.
"""

from __future__ import annotations

import polars as pl

from claimscrub.refdata.sources.common import NormaliseError, require_columns

DATASET = "pos"
NORMALISER_VERSION = "1"
KEY_COLUMNS = ("pos_code",)

RAW_COLUMNS: tuple[str, ...] = ("pos_code", "pos_name", "pos_description")


def build(raw: pl.DataFrame) -> pl.DataFrame:
    """Check and sort the POS code set (pure)."""
    raw = require_columns(raw, RAW_COLUMNS, DATASET)
    bad = ~raw.get_column("pos_code").str.contains(r"^\d{2}$").fill_null(False)
    if bad.any():
        row = int(bad.arg_max() or 0)
        raise NormaliseError(
            f"{DATASET}: column pos_code, row {row + 1}: {raw['pos_code'][row]!r} is not two digits"
        )
    return raw.sort("pos_code", maintain_order=True)
