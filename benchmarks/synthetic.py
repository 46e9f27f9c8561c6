"""Synthetic canonical claim lines with realistic errors, for engine benchmarks.

Lines are drawn from the real bundled NDC–HCPCS crosswalk (immunosuppressant family and
neighbours) with correct units, then a share of them is spoiled the way billers spoil
them: capsule count billed as units, the wrong tacrolimus code for the product, a
terminated code, a missing KX, a missing or 10-digit NDC, capsules counted in mL, a
non-billable diagnosis, an oversized days' supply, a supply fee alone.

So that every rule of the catalogue has data to run on, some lines and claims also carry
the facts the rarer rules read (:func:`_with_catalogue_fields`): the dose and the
discarded amount of injected drugs (units from the HCPCS unit in force, some billed as
the vial count), an inpatient stay ending near the date of service, Part B-ID, a
supplier enrolment date (some after the service), and a prior authorisation on some
non-Medicare claims (some denied or expired). Everything is built in columns (numpy +
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
    unit = np.where((spoil >= 0.10) & (spoil < 0.105), "ML", "UN")  # capsules in mL
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
            "ndc_unit": unit,
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
    claims, lines = _with_catalogue_fields(claims, lines, np.random.default_rng(seed + 1))
    return conform(claims, CLAIMS_SCHEMA), conform(lines, LINES_SCHEMA)


def _injected_units() -> pl.DataFrame:
    """Injected codes of the family whose HCPCS unit is a mass in mg (from the bundled file)."""
    hcpcs = default_refdata().table("hcpcs")
    return hcpcs.filter(
        pl.col("hcpcs_code").is_in(FAMILY)
        & pl.col("route").is_in(["parenteral", "injection"])
        & (pl.col("unit_uom") == "mg")
    ).select(
        pl.col("hcpcs_code").alias("hcpcs"),
        pl.col("unit_amount").cast(pl.Float64).alias("_unit_mg"),
    )


def _with_catalogue_fields(
    claims: pl.DataFrame, lines: pl.DataFrame, rng: np.random.Generator
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Add the fields the rarer rules read (see the module doc); own random stream, so the
    other columns do not change."""
    n, n_claims = lines.height, claims.height
    # Injected drugs: the dose given and the amount discarded from single-dose vials.
    lines = lines.join(_injected_units(), on="hcpcs", how="left", maintain_order="left")
    vials = rng.integers(1, 5, n).astype(np.float64)
    used = np.round(rng.uniform(0.55, 1.0, n), 2)
    injected = pl.col("_unit_mg").is_not_null()
    dose = pl.lit(pl.Series(vials * used)) * pl.col("_unit_mg")
    lines = lines.with_columns(
        pl.when(injected).then(dose.round(1)).alias("dose_amount"),
        pl.when(injected).then(pl.lit("mg")).alias("dose_unit"),
    ).with_columns(
        pl.when(injected)
        .then(
            pl.when(pl.lit(pl.Series(rng.random(n) < 0.1)))
            .then(pl.lit(pl.Series(vials)))  # the vial count billed as units
            .otherwise((pl.col("dose_amount") / pl.col("_unit_mg")).ceil())
        )
        .otherwise(pl.col("units"))
        .alias("units"),
        pl.when(injected & pl.lit(pl.Series(rng.random(n) < 0.4)))
        .then((pl.lit(pl.Series(vials)) * pl.col("_unit_mg") - pl.col("dose_amount")).round(1))
        .alias("discarded_amount"),
        pl.when(injected).then(pl.lit("mg")).alias("discarded_unit"),
    )
    lines = lines.drop("_unit_mg")

    service = pl.col("service_date")
    shift = pl.lit(pl.Series(rng.integers(-5, 6, n_claims)))
    enrolled = pl.lit(pl.Series(rng.integers(-400, 30, n_claims)))
    stay, part_b_id, supplier, authorised = (
        pl.lit(pl.Series(rng.random(n_claims) < share)) for share in (0.02, 0.03, 0.2, 0.3)
    )
    status = pl.lit(pl.Series(rng.choice(["approved"] * 8 + ["denied", "pending"], n_claims)))
    medicare = pl.col("payer_type") == "medicare"
    claims = claims.with_columns(
        pl.when(stay & medicare).then(service + pl.duration(days=shift)).alias("discharge_date"),
        pl.when(part_b_id & medicare).then(pl.lit(True)).alias("part_b_id"),
        pl.when(supplier)
        .then(service + pl.duration(days=enrolled))
        .alias("supplier_enrolled_since"),
        pl.when(supplier).then(pl.lit("1234567893")).alias("supplier_npi"),
        pl.when(authorised & ~medicare)
        .then(
            pl.struct(
                pl.format("PA{}", pl.col("claim_key")).alias("number"),
                status.alias("status"),
                pl.lit(None, pl.String).alias("hcpcs"),
                pl.lit(2000.0).alias("units"),
                (service - pl.duration(days=30)).alias("start"),
                (service + pl.duration(days=shift * 10)).alias("end"),
            )
        )
        .alias("authorization"),
    ).with_columns(
        pl.when(pl.col("discharge_date").is_not_null())
        .then(pl.col("discharge_date") - pl.duration(days=4))
        .alias("admission_date")
    )
    return claims, lines
