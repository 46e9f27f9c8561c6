"""Normaliser for CARC / RARC / group code identifiers (dataset ``carc_rarc``).

Input: the raw canonical frame of ``carc_rarc_code_ids.csv`` (columns
:data:`RAW_COLUMNS`). Only identifiers and dates: X12's descriptions are copyrighted
and are never stored. Output (sorted by ``code_set``, ``code``): ``start_date`` and
``stop_date`` as ``pl.Date``; ``stop_date_captured`` (``yes`` / ``no`` / ``n/a``) says
whether a blank stop date can be trusted (it cannot for RARCs).

``build`` is pure.
"""

from __future__ import annotations

import polars as pl

from claimscrub.refdata.sources.common import iso_date, require_columns

DATASET = "carc_rarc"
NORMALISER_VERSION = "1"
KEY_COLUMNS = ("code_set", "code")

RAW_COLUMNS: tuple[str, ...] = ("code", "code_set", "start_date", "stop_date", "stop_date_captured")


def build(raw: pl.DataFrame) -> pl.DataFrame:
    """Type the code list (pure)."""
    raw = require_columns(raw, RAW_COLUMNS, DATASET)
    typed = raw.with_columns(
        iso_date(raw, "start_date", DATASET),
        iso_date(raw, "stop_date", DATASET),
    )
    return typed.sort("code_set", "code", maintain_order=True)
