"""ICD-10-CM from CDC's code-descriptions file (billable codes only; headings derived)."""

from __future__ import annotations

import datetime as dt
import hashlib
import zipfile
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from claimscrub.refdata.catalog import RefData, default_refdata
from claimscrub.refdata.sources import icd10cm, icd10cm_codes, icd10cm_wheels

# Lines as CDC writes them: the code without its dot, spaces, the long description; CRLF.
CODES = (
    "T07XXXA Unspecified multiple injuries, initial encounter\r\n"
    "T360X1A Poisoning by penicillins, accidental (unintentional), initial encounter\r\n"
    "Z940    Kidney transplant status\r\n"
    "Z941    Heart transplant status\r\n"
)
METADATA = "Metadata-Version: 2.1\nName: some-package\nLicense: MIT\nAuthor: Someone\n\nText\n"
MEMBER = "pkg/data/icd10cm-codes-2024.txt"


@pytest.fixture(scope="module")
def bundled() -> RefData:
    return default_refdata()


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "icd10cm-codes-2024.txt"
    path.write_bytes(text.encode("utf-8"))
    return path


def test_headings_are_the_beginnings_of_billable_codes_without_placeholder_padding() -> None:
    headings, parents = icd10cm_codes.headings_and_parents(["T07XXXA", "T360X1A", "Z940"])
    assert headings == ["T07", "T36", "T360", "T360X", "T360X1", "Z94"]
    assert parents["T07XXXA"] == "T07"  # not T07X, T07XX or T07XXX
    assert parents["T360X1A"] == "T360X1"
    assert parents["T360X"] == "T360"
    assert parents["Z94"] is None


@pytest.mark.parametrize("release", ["FY2021-01", "FY2025-04", "FY2026-04"])
def test_derived_headings_and_parents_are_the_tabulars(bundled: RefData, release: str) -> None:
    # The bundled releases built from CDC's tabular XML say which codes are headings; the
    # derivation from their billable codes alone must give the same codes and parents.
    table = bundled.table("icd10cm", release)
    billable = table.filter("billable")["code"].to_list()
    headings, parents = icd10cm_codes.headings_and_parents(billable)
    tabular_parents = dict(zip(table["code"], table["parent"], strict=True))
    derived = set(billable) | set(headings)
    # The one quirk of the January 2021 tabular: H54.512A is listed under H54.511.
    quirk = {"H54512"} if release == "FY2021-01" else set()
    assert derived - set(tabular_parents) == quirk
    assert set(tabular_parents) - derived == set()
    differ = {c for c in tabular_parents if parents[c] != tabular_parents[c]}
    assert differ == ({"H54512A"} if quirk else set())


def test_a_codes_file_builds_a_release(tmp_path: Path) -> None:
    release = icd10cm.IcdRelease(2024, dt.date(2023, 10, 1), dt.date(2024, 9, 30))
    table, prov = icd10cm_codes.build(
        _write(tmp_path, CODES), release=release, recovered_from="here", licence="pd"
    )
    assert table.schema == icd10cm.SCHEMA
    rows = {r["code"]: r for r in table.to_dicts()}
    assert rows["Z940"]["description"] == "Kidney transplant status"
    assert rows["Z940"]["billable"] and rows["Z940"]["code_dotted"] == "Z94.0"
    assert rows["Z94"]["billable"] is False and rows["Z94"]["description"] is None
    assert rows["T07XXXA"]["parent"] == "T07" and "T07X" not in rows
    assert table["chapter"].null_count() == table.height
    assert table["code"].to_list() == sorted(rows)  # each heading before its codes
    assert (prov["release"], prov["effective_from"], prov["effective_to"]) == (
        "FY2024-10",
        "2023-10-01",
        "2024-09-30",
    )
    assert prov["source_sha256"] == hashlib.sha256(CODES.encode()).hexdigest()
    assert "4 billable codes" in prov["notes"] and "6 headings" in prov["notes"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "Z940    Kidney transplant status\nZ94.1 Heart\n",
            r"icd10cm-codes-2024.txt:2: not a line",
        ),
        ("Z940    Kidney\nZ941 Heart\nZ940 Again\n", r":3: code Z940 is listed again .*line 1"),
        ("Z940\n", r":1: not a line"),
        ("\r\n\r\n", "no code in the file"),
    ],
)
def test_a_malformed_codes_file_stops_the_build(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(icd10cm.Icd10cmSourceError, match=message):
        icd10cm_codes.read_codes_file(_write(tmp_path, text))


def _wheel(tmp_path: Path, metadata: str = METADATA) -> Path:
    wheel = tmp_path / "some_package-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr(MEMBER, CODES)
        zf.writestr("some_package-1.0.dist-info/METADATA", metadata)
    return wheel


def _spec(wheel: Path, **over: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "release": "FY2024-10",
        "effective_from": "2023-10-01",
        "effective_to": "2024-09-30",
        "package": "some-package",
        "package_version": "1.0",
        "wheel": wheel.name,
        "wheel_sha256": hashlib.sha256(wheel.read_bytes()).hexdigest(),
        "codes_file": MEMBER,
        "release_basis": "The readme quotes CDC.",
    }
    spec.update(over)
    return spec


def test_a_wheel_with_a_codes_file_builds_its_declared_release(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path)
    release = icd10cm_wheels.WheelRelease.from_manifest(_spec(wheel))
    table, prov = icd10cm_wheels.build_from_wheel(release, wheel)
    assert table.filter("billable")["code"].to_list() == ["T07XXXA", "T360X1A", "Z940", "Z941"]
    assert prov["recovered_from"] == "PyPI package some-package 1.0"
    assert prov["source_file"] == "icd10cm-codes-2024.txt"
    # no dist-info LICENSE: the licence and author come from the METADATA
    assert "'License: MIT, Author: Someone'" in prov["licence"]
    assert "dist-info METADATA" in prov["licence"] and "public domain" in prov["licence"]


def test_a_wheel_whose_metadata_states_no_mit_licence_stops_the_build(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path, metadata="Metadata-Version: 2.1\nLicense: GPL\nAuthor: X\n")
    release = icd10cm_wheels.WheelRelease.from_manifest(_spec(wheel))
    with pytest.raises(icd10cm.Icd10cmSourceError, match="does not state an MIT licence"):
        icd10cm_wheels.build_from_wheel(release, wheel)


@pytest.mark.parametrize(
    "over",
    [
        {"codes_file": None},  # neither a tabular nor a codes file
        {"tabular": "a.xml", "code_list": "b.txt"},  # both
    ],
)
def test_a_manifest_entry_names_one_kind_of_source(tmp_path: Path, over: dict) -> None:
    spec = {k: v for k, v in _spec(_wheel(tmp_path), **over).items() if v is not None}
    with pytest.raises(
        icd10cm.Icd10cmSourceError,
        match="either tabular and code_list, or codes_file, or hierarchy_json",
    ):
        icd10cm_wheels.WheelRelease.from_manifest(spec)


def test_bundled_fiscal_year_2024(bundled: RefData) -> None:
    table = bundled.table("icd10cm", "FY2024-10")
    assert table.filter("billable").height == 74_044
    rows = {r["code"]: r for r in table.filter(pl.col("code").str.starts_with("R05")).to_dicts()}
    assert rows["R05"]["billable"] is False  # a heading since fiscal year 2022
    assert rows["R051"] == rows["R051"] | {"billable": True, "description": "Acute cough"}
    assert bundled.table("icd10cm", "FY2021-01").filter(pl.col("code") == "R05")["billable"].item()
