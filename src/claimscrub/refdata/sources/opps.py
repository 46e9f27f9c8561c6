"""Normaliser for CMS Hospital OPPS Addendum B (dataset ``opps``): status indicator and rate.

Input: the raw canonical frame of one Addendum B release, columns :data:`RAW_COLUMNS`
(the shared CSV holds three releases told apart by ``addendum_b_release``; the build
script passes one release at a time). Output (sorted by ``hcpcs_code``):
``payment_rate`` (national unadjusted OPPS rate, USD) as Decimal(18, 3), blank when
the status indicator carries no separate payment; the other columns text.

``build`` is pure; it refuses a frame that mixes releases.
"""

from __future__ import annotations

import polars as pl

from claimscrub.refdata.sources.common import NormaliseError, number, require_columns

DATASET = "opps"
NORMALISER_VERSION = "1"
KEY_COLUMNS = ("hcpcs_code",)

RAW_COLUMNS: tuple[str, ...] = (
    "addendum_b_release",
    "hcpcs_code",
    "short_description",
    "status_indicator",
    "payment_rate",
)


def build(raw: pl.DataFrame) -> pl.DataFrame:
    """Type one Addendum B release (pure)."""
    raw = require_columns(raw, RAW_COLUMNS, DATASET)
    releases = raw.get_column("addendum_b_release").unique().drop_nulls().sort().to_list()
    if len(releases) > 1:
        raise NormaliseError(f"{DATASET}: one release per build, got {', '.join(releases)}")
    typed = raw.with_columns(number(raw, "payment_rate", DATASET, pl.Decimal(18, 3)))
    return typed.sort("hcpcs_code", maintain_order=True)
