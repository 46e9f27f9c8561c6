"""The curated facts file: every diagnosis it names exists in ICD-10-CM, every fact is sourced."""

from __future__ import annotations

import polars as pl

from claimscrub.refdata import curated
from claimscrub.refdata.catalog import default_refdata


def test_every_curated_diagnosis_exists_and_exact_codes_are_billable() -> None:
    icd = default_refdata().table("icd10cm").select("code", "billable")
    sets = curated.diagnosis_sets()
    exact = sets.filter(~pl.col("is_prefix")).join(icd, left_on="dx", right_on="code", how="left")
    assert exact["billable"].to_list() == [True] * exact.height, exact.filter(
        ~pl.col("billable").fill_null(False)
    )
    prefixes = sets.filter(pl.col("is_prefix"))["dx"].to_list()
    codes = set(icd["code"].to_list())
    assert all(p in codes for p in prefixes)


def test_every_code_with_diagnoses_is_a_real_hcpcs_code() -> None:
    hcpcs = set(default_refdata().table("hcpcs", "2026-01")["hcpcs_code"].to_list())
    assert set(curated.code_diagnosis_sets()["hcpcs"].to_list()) <= hcpcs
    assert set(curated.single_dose_containers()["hcpcs"].to_list()) <= hcpcs
    assert set(curated.oral_solid_codes()["hcpcs"].to_list()) <= hcpcs


def test_every_fact_has_a_source_url() -> None:
    for frame in (
        curated.diagnosis_sets(),
        curated.code_diagnosis_sets(),
        curated.covered_organs(),
    ):
        assert frame["source"].str.contains("https?://").all()
