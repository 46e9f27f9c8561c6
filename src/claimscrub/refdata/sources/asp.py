"""Normaliser for the CMS ASP Pricing File (dataset ``asp``): Part B drug payment limits.

Input: the raw canonical frame of ``asp_pricing_<yyyy>_q<n>.csv`` (columns
:data:`RAW_COLUMNS`, all text). Output (sorted by ``hcpcs_code``): the same columns,
typed — ``payment_limit``, ``vaccine_limit``, ``blood_limit`` (USD per billing unit)
and ``coinsurance_pct`` as Decimal(18, 3) so amounts keep CMS's exact digits;
``vaccine_awp_pct``, ``blood_awp_pct`` as Int16; ``clotting_factor`` as Boolean (CMS
marks the clotting-factor codes with ``1``); effective dates as ``pl.Date``.
CMS prints ``N/A`` as the payment limit of a code priced another way (A9606, see its
``notes``): that becomes null, the note is kept. ``hcpcs_code_dosage`` (CMS's own
statement of the billing unit, "1 MG") is kept as text.

``build`` is pure.
"""

from __future__ import annotations

import polars as pl

from claimscrub.refdata.sources.common import iso_date, number, require_columns

DATASET = "asp"
NORMALISER_VERSION = "1"
KEY_COLUMNS = ("hcpcs_code",)

RAW_COLUMNS: tuple[str, ...] = (
    "hcpcs_code",
    "short_description",
    "hcpcs_code_dosage",
    "payment_limit",
    "coinsurance_pct",
    "vaccine_awp_pct",
    "vaccine_limit",
    "blood_awp_pct",
    "blood_limit",
    "clotting_factor",
    "notes",
    "effective_start",
    "effective_end",
)
MONEY = pl.Decimal(18, 3)


def build(raw: pl.DataFrame) -> pl.DataFrame:
    """Type one ASP pricing release (pure)."""
    raw = require_columns(raw, RAW_COLUMNS, DATASET)
    clotting = number(raw, "clotting_factor", DATASET, pl.Int8())
    typed = raw.with_columns(
        number(raw, "payment_limit", DATASET, MONEY, allow=("N/A",)),
        number(raw, "coinsurance_pct", DATASET, MONEY),
        number(raw, "vaccine_awp_pct", DATASET, pl.Int16()),
        number(raw, "vaccine_limit", DATASET, MONEY),
        number(raw, "blood_awp_pct", DATASET, pl.Int16()),
        number(raw, "blood_limit", DATASET, MONEY),
        (clotting == 1).alias("clotting_factor"),
        iso_date(raw, "effective_start", DATASET),
        iso_date(raw, "effective_end", DATASET),
    )
    return typed.select(RAW_COLUMNS).sort("hcpcs_code", maintain_order=True)
