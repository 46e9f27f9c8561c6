"""Synthetic canonical claim lines with realistic errors, for engine benchmarks.

Lines are drawn from the real bundled NDC–HCPCS crosswalk (immunosuppressant family and
neighbours) with correct units, then a share of them is spoiled the way billers spoil
them: capsule count billed as units, the wrong tacrolimus code for the product, a
terminated code, a missing KX, a missing or 10-digit NDC, a non-billable diagnosis,
an oversized days' supply, a supply fee alone. Everything is built in columns (numpy +
Polars), so generating 5 M lines takes seconds.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from claimscrub.model.schema import CLAIMS_SCHEMA, LINES_SCHEMA, conform
from claimscrub.refdata.catalog import default_refdata

FAMILY = [
    "J7500",
    "J7502",
    "J7503",
    "J7507",
    "J7508",
    "J7517",
    "J7518",
    "J7520",
    "J7527",
    "J7504",
    "J7511",
    "J0485",
]
DIAGNOSES = ["Z940", "Z941", "Z944", "Z942", "T8611", "Z9481", "T861", "Z947"]
ORGANS = {"Z940": "kidney", "Z941": "heart", "Z944": "liver", "Z942": "lung", "T8611": "kidney",
          "Z9481": "bone_marrow", "T861": "kidney", "Z947": "cornea"}  # fmt: skip
PAYERS = ["medicare", "medicare", "medicare", "medicaid", "commercial", "medicare_advantage"]


def crosswalk_rows() -> pl.DataFrame:
    """Real crosswalk rows of the family with a usable units-per-item figure."""
    xw = default_refdata().table("ndc_hcpcs")
    return (
        xw.filter(pl.col("hcpcs_code").is_in(FAMILY) & pl.col("ndc11").is_not_null())
        .filter(pl.col("units_per_item").is_not_null() & (pl.col("units_per_item") > 0))
        .select("hcpcs_code", "ndc11", pl.col("units_per_item").cast(pl.Float64))
    )


def make_batch(n_lines: int, seed: int = 7) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(claims, lines) canonical frames with about ``n_lines`` lines (3 lines per claim on average)."""
    rng = np.random.default_rng(seed)
    xw = crosswalk_rows()
    n_claims = max(1, n_lines // 3)
    per_claim = rng.integers(1, 6, n_claims)
    per_claim = (per_claim * n_lines / per_claim.sum()).round().astype(np.int64).clip(1)
    claim_of_line = np.repeat(np.arange(n_claims), per_claim)
    n = claim_of_line.size
    line_no = np.arange(n) - np.repeat(np.cumsum(per_claim) - per_claim, per_claim) + 1

    pick = rng.integers(0, xw.height, n)
    hcpcs = xw["hcpcs_code"].to_numpy()[pick].astype(object)
    ndc = xw["ndc11"].to_numpy()[pick].astype(object)
    per_item = xw["units_per_item"].to_numpy()[pick]
    qty = rng.choice([30, 60, 90, 120, 180], n).astype(np.float64)
    units = np.ceil(qty * per_item)
    start = dt.date(2024, 6, 1).toordinal()
    claim_day = rng.integers(0, 640, n_claims) + start
    epoch = dt.date(1970, 1, 1).toordinal()
    dos = (claim_day - epoch)[claim_of_line]  # days since 1970, cast to Date below

    spoil = rng.random(n)
    units = np.where(spoil < 0.04, qty, units)  # capsule count billed as units
    hcpcs = np.where((spoil >= 0.04) & (spoil < 0.06), "J7507", hcpcs)  # wrong code for product
    hcpcs = np.where((spoil >= 0.06) & (spoil < 0.07), "J7505", hcpcs)  # terminated code
    ndc = np.where((spoil >= 0.07) & (spoil < 0.09), None, ndc)  # missing NDC
    ten = np.array([s[1:] if isinstance(s, str) else s for s in ndc], dtype=object)
    ndc = np.where((spoil >= 0.09) & (spoil < 0.10), ten, ndc)  # unhyphenated 10-digit NDC
    days = np.where(spoil >= 0.97, 120, np.where(qty >= 90, 90, 30))
    kx = rng.random(n) > 0.05

    lines = pl.DataFrame(
        {
            "claim_key": claim_of_line,
            "src": "synthetic",
            "line_no": line_no,
            "hcpcs": hcpcs.astype(str),
            "_kx": kx,
            "units": units,
            "dos_from": pl.Series(dos, dtype=pl.Int32).cast(pl.Date),
            "ndc": pl.Series(ndc.tolist(), dtype=pl.String),
            "ndc_qualifier": "N4",
            "ndc_qty": qty,
            "ndc_unit": "UN",
            "days_supply": days,
            "charge": np.round(units * 2.5, 2),
        }
    ).with_columns(
        pl.format("SYN{}", pl.col("claim_key").cast(pl.String).str.zfill(8)).alias("claim_id"),
        pl.when("_kx")
        .then(pl.lit(["KX"]))
        .otherwise(pl.lit([], dtype=pl.List(pl.String)))
        .alias("modifiers"),
        pl.lit([1], dtype=pl.List(pl.Int64)).alias("diagnosis_pointers"),
    )
    dx = rng.choice(DIAGNOSES, n_claims, p=[0.4, 0.15, 0.15, 0.1, 0.1, 0.04, 0.03, 0.03])
    claims = pl.DataFrame(
        {
            "claim_key": np.arange(n_claims),
            "src": "synthetic",
            "claim_type": "professional",
            "payer_type": rng.choice(PAYERS, n_claims),
            "_patient": rng.integers(0, max(1, n_claims // 4), n_claims),
            "service_date": pl.Series(claim_day - epoch, dtype=pl.Int32).cast(pl.Date),
            "place_of_service": rng.choice(["12", "12", "01", "11"], n_claims),
            "_dx": dx,
        }
    ).with_columns(
        pl.format("SYN{}", pl.col("claim_key").cast(pl.String).str.zfill(8)).alias("claim_id"),
        pl.format("P{}", pl.col("_patient")).alias("patient_id"),
        pl.concat_list("_dx").alias("diagnoses"),
        pl.concat_list(
            pl.struct(
                pl.col("_dx").replace_strict(ORGANS).alias("organ"),
                pl.lit(dt.date(2020, 5, 1)).alias("date"),
                (pl.col("claim_key") % 3 != 0).alias("medicare_paid"),
                (pl.col("claim_key") % 17 != 0).alias("part_a_at_transplant"),
            )
        ).alias("transplants"),
    )
    return conform(claims, CLAIMS_SCHEMA), conform(lines, LINES_SCHEMA)
