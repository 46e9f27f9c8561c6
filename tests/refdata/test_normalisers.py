"""Each dataset normaliser: typed output, derived columns, and errors that name the row."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from claimscrub.refdata.sources import SOURCE_MODULES, source_module
from claimscrub.refdata.sources.common import NormaliseError, canonicalise, read_raw_csv
from claimscrub.refdata.sources.ndc_hcpcs import build as build_crosswalk


def _crosswalk_raw(**overrides: str | None) -> pl.DataFrame:
    row = {
        "hcpcs_code": "J7507",
        "short_description": "Tacrolimus imme rel oral 1mg",
        "labeler_name": "Sandoz Inc.",
        "ndc_or_alternate_id": "00781-2104-01",
        "ndc11": "00781210401",
        "drug_name": "Tacrolimus",
        "hcpcs_dosage": "1 MG",
        "pkg_size": "100",
        "pkg_qty": "1",
        "bill_units_per_pkg_item": "500",
        "bill_units_per_ndc": "500",
        "effective_start": "2025-10-01",
        "effective_end": "2025-12-31",
    }
    row.update(overrides)
    return canonicalise(pl.DataFrame([row]))


def test_canonicalise_trims_and_nulls() -> None:
    raw = canonicalise(pl.DataFrame({"a": [" x ", "", "  "], "b": [1, 2, 3]}))
    assert raw["a"].to_list() == ["x", None, None]
    assert raw["b"].dtype == pl.String


@pytest.mark.parametrize(
    ("size", "qty", "per_item", "per_ndc", "check", "units", "method"),
    [
        ("100", "1", "500", "500", "agree", 5.0, "bill_units_per_ndc / (pkg_size * pkg_qty)"),
        ("30", "1", "7.5", "8", "agree_rounded", 0.25, "bill_units_per_pkg_item / pkg_size"),
        (
            "1",
            "100",
            "200",
            "200",
            "pkg_item_is_per_ndc",
            2.0,
            "bill_units_per_ndc / (pkg_size * pkg_qty)",
        ),
        (
            "50",
            "1",
            "10",
            "500",
            "pkg_item_is_per_unit",
            10.0,
            "bill_units_per_ndc / (pkg_size * pkg_qty)",
        ),
        ("100", "1", "100", "50", "conflict", 0.5, "bill_units_per_ndc / (pkg_size * pkg_qty)"),
        ("0", "1", "100", "50", "not_determinable", None, None),
    ],
)
def test_units_per_item(
    size: str,
    qty: str,
    per_item: str,
    per_ndc: str,
    check: str,
    units: float | None,
    method: str | None,
) -> None:
    table = build_crosswalk(
        _crosswalk_raw(
            pkg_size=size, pkg_qty=qty, bill_units_per_pkg_item=per_item, bill_units_per_ndc=per_ndc
        )
    )
    row = table.row(0, named=True)
    assert (row["units_check"], row["units_per_item"], row["units_per_item_method"]) == (
        check,
        units,
        method,
    )
    assert table.schema["pkg_size"] == pl.Float64
    assert table.schema["effective_start"] == pl.Date


def test_crosswalk_ndc11_rules() -> None:
    alternate = build_crosswalk(_crosswalk_raw(ndc_or_alternate_id="PH-030408", ndc11=None))
    assert alternate["ndc11"].to_list() == [None]
    missing = build_crosswalk(_crosswalk_raw(ndc11=None))  # filled from the hyphenated 5-4-2 NDC
    assert missing["ndc11"].to_list() == ["00781210401"]
    with pytest.raises(NormaliseError, match=r"ndc_hcpcs: column ndc11, row 1: '00781210409'"):
        build_crosswalk(_crosswalk_raw(ndc11="00781210409"))


def test_bad_value_names_dataset_column_and_row() -> None:
    raw = pl.concat([_crosswalk_raw(), _crosswalk_raw(pkg_qty="ten")])
    with pytest.raises(
        NormaliseError, match=r"ndc_hcpcs: column pkg_qty, row 2: cannot read 'ten'"
    ):
        build_crosswalk(raw)
    with pytest.raises(
        NormaliseError, match=r"effective_start, row 1: cannot read '10/01/2025' as an ISO date"
    ):
        build_crosswalk(_crosswalk_raw(effective_start="10/01/2025"))


def test_missing_column_is_named() -> None:
    with pytest.raises(NormaliseError, match="lacks column\\(s\\) drug_name"):
        build_crosswalk(_crosswalk_raw().drop("drug_name"))


SHARED_FILES = {
    "hcpcs": "hcpcs_anweb_2026_jan.csv",
    "ndc_hcpcs": "asp_ndc_hcpcs_crosswalk_2025_q4.csv",
    "asp": "asp_pricing_2025_q4.csv",
    "mue": "ncci_mue_2024_q3_hcpcs_level2.csv",
    "opps": "opps_addendum_b_si_rate_hcpcs_level2_2025q4_2026q2.csv",
    "pos": "place_of_service_codes.csv",
    "carc_rarc": "carc_rarc_code_ids.csv",
}


@pytest.mark.parametrize("dataset", sorted(SOURCE_MODULES))
def test_build_is_pure_and_keyed(dataset: str, shared_refdata: Path) -> None:
    module = source_module(dataset)
    raw = read_raw_csv(shared_refdata / SHARED_FILES[dataset])
    assert tuple(raw.columns) == module.RAW_COLUMNS  # the raw canonical frame = the CSV header
    if dataset == "opps":
        raw = raw.filter(pl.col("addendum_b_release") == "2026-01")
    before = raw.clone()
    first, second = module.build(raw), module.build(raw)
    assert raw.equals(before)  # the input is not modified
    assert first.equals(second)
    assert first.height == raw.height
    keys = first.select(module.KEY_COLUMNS).drop_nulls()
    assert keys.is_duplicated().sum() == 0  # one row per key (alternate IDs have no ndc11)


def test_hcpcs_typing_and_whitespace(shared_refdata: Path) -> None:
    table = source_module("hcpcs").build(read_raw_csv(shared_refdata / SHARED_FILES["hcpcs"]))
    assert table.schema["add_date"] == pl.Date and table.schema["termination_date"] == pl.Date
    assert table.schema["anesthesia_base_units"] == pl.Int16
    assert table.filter(pl.col("long_description").str.contains("  ")).is_empty()
    q4357 = table.filter(pl.col("hcpcs_code") == "Q4357").row(0, named=True)
    assert q4357["long_description"].startswith(
        "Xwrap plus, per square centimeter"
    )  # CMS has a double space
    assert table.filter(pl.col("record_type") == "modifier")["unit_uom"].null_count() == 383
    assert table.filter(pl.col("hcpcs_code") == "J7505")["termination_date"].to_list() == [
        dt.date(2025, 12, 31)
    ]


def test_crosswalk_quirk_rows_counted(shared_refdata: Path) -> None:
    table = build_crosswalk(read_raw_csv(shared_refdata / SHARED_FILES["ndc_hcpcs"]))
    counts = dict(table["units_check"].value_counts().iter_rows())
    # PROVENANCE.md: 49 rows do not satisfy BILLUNITSPKG ~ BILLUNITS x PKG QTY
    assert counts["pkg_item_is_per_ndc"] + counts["pkg_item_is_per_unit"] + counts["conflict"] == 49
    assert table["units_per_item"].null_count() == 0


def test_opps_refuses_mixed_releases(shared_refdata: Path) -> None:
    with pytest.raises(NormaliseError, match="one release per build"):
        source_module("opps").build(read_raw_csv(shared_refdata / SHARED_FILES["opps"]))


def test_asp_na_payment_limit_is_null_with_note(shared_refdata: Path) -> None:
    table = source_module("asp").build(read_raw_csv(shared_refdata / SHARED_FILES["asp"]))
    a9606 = table.filter(pl.col("hcpcs_code") == "A9606").row(0, named=True)
    assert a9606["payment_limit"] is None and a9606["notes"]
    assert table.schema["payment_limit"] == pl.Decimal(18, 3)
