"""The manifest, the bundled snapshot and its provenance agree with each other."""

from __future__ import annotations

import json

import polars as pl
import pytest

from claimscrub.refdata.catalog import RefData
from claimscrub.refdata.manifest import load_manifest
from claimscrub.refdata.sources import SOURCE_MODULES

PROVENANCE_KEYS = {
    "dataset",
    "release",
    "effective_from",
    "effective_to",
    "publisher",
    "title",
    "source_file",
    "source_sha256",
    "recovered_from",
    "licence",
    "imported_at",
    "normaliser_version",
    "rows",
    "notes",
}
MANIFEST = load_manifest()


@pytest.mark.parametrize("dataset", sorted(SOURCE_MODULES))
def test_every_declared_release_is_bundled(bundled: RefData, dataset: str) -> None:
    info = MANIFEST.datasets[dataset]
    installed = {r.release: r for r in bundled.releases(dataset)}
    assert [spec["release"] for spec in info.releases], f"{dataset} declares no release"
    for spec in info.releases:
        item = installed[spec["release"]]
        prov = item.provenance
        assert PROVENANCE_KEYS <= set(prov)
        assert prov["effective_from"] == spec["effective_from"]
        assert prov["effective_to"] == spec["effective_to"]
        assert prov["source_sha256"] == spec.get("source_sha256")
        assert len(prov["built_from_sha256"]) == 64
        assert prov["imported_at"] is None  # bundled data has no import time
        assert prov["rows"] == pl.scan_parquet(item.ref.data_path).select(pl.len()).collect().item()
        on_disk = json.loads((item.ref.path / "provenance.json").read_text())
        assert on_disk == prov


@pytest.mark.parametrize("dataset", sorted(SOURCE_MODULES))
def test_every_column_is_documented(bundled: RefData, dataset: str) -> None:
    columns = bundled.scan(dataset).collect_schema().names()
    documented = MANIFEST.datasets[dataset].columns
    assert [c for c in columns if c not in documented] == []
    assert [c for c in documented if c not in columns] == []


def test_manifest_keys_exist(bundled: RefData) -> None:
    for name in SOURCE_MODULES:
        schema = bundled.scan(name).collect_schema()
        assert all(key in schema for key in MANIFEST.datasets[name].keys)


def test_expected_releases() -> None:
    declared = {
        name: [r["release"] for r in info.releases] for name, info in MANIFEST.datasets.items()
    }
    assert declared["hcpcs"] == ["2026-01", "2020-01"]
    assert declared["ndc_hcpcs"] == ["2025-Q4"]
    assert declared["asp"] == ["2025-Q4"]
    assert declared["mue"] == ["2024-07-01"]
    assert declared["opps"] == ["2025-10", "2026-01", "2026-04"]
    assert declared["pos"] == ["2023-09"]
    assert declared["carc_rarc"] == ["2024-06-18"]


def test_carc_rarc_has_no_descriptions(bundled: RefData) -> None:
    # X12's descriptions are copyrighted: only identifiers and dates are shipped
    assert bundled.scan("carc_rarc").collect_schema().names() == [
        "code",
        "code_set",
        "start_date",
        "stop_date",
        "stop_date_captured",
    ]


def test_code_list_meanings() -> None:
    assert MANIFEST.meaning("action_code", "D") == "discontinued"
    assert MANIFEST.meaning("coverage_code", "Q") is None
    assert MANIFEST.meaning("coverage_code", None) is None
