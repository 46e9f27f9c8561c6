"""The ICD-10-CM table built from the official CDC tabular XML shipped in simple-icd-10-cm."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from claimscrub.refdata import store
from claimscrub.refdata.sources import icd10cm

BILLABLE = ["Z94.0", "Z94.1", "Z94.81", "Z94.84", "T86.11", "T86.12", "T86.890", "Z79.621"]
BILLABLE += ["Z48.22", "D61.01"]
HEADERS = ["Z94", "Z94.8", "T86", "T86.1", "T86.8", "T86.81", "D61.8", "D89.81"]


@pytest.fixture(scope="module")
def files() -> tuple[Path, Path]:
    return icd10cm.locate_package_files()


@pytest.fixture(scope="module")
def built() -> tuple[pl.DataFrame, dict]:
    return icd10cm.build()


@pytest.fixture(scope="module")
def table(built: tuple[pl.DataFrame, dict]) -> pl.DataFrame:
    return built[0]


def _row(table: pl.DataFrame, dotted: str) -> dict:
    rows = table.filter(pl.col("code_dotted") == dotted).to_dicts()
    assert len(rows) == 1, f"{dotted} found {len(rows)} times"
    return rows[0]


@pytest.mark.parametrize("dotted", BILLABLE)
def test_reportable_codes_are_billable(table: pl.DataFrame, dotted: str) -> None:
    row = _row(table, dotted)
    assert row["billable"] is True
    assert row["code"] == dotted.replace(".", "")
    assert row["category"] == dotted[:3]


@pytest.mark.parametrize("dotted", HEADERS)
def test_category_and_header_codes_are_not_billable(table: pl.DataFrame, dotted: str) -> None:
    row = _row(table, dotted)
    assert row["billable"] is False
    children = table.filter(pl.col("parent") == row["code"])
    assert children.height > 0, "a header code must have children"


def test_billable_set_equals_the_code_list(table: pl.DataFrame, files: tuple[Path, Path]) -> None:
    listed, listed_billable = icd10cm.code_list_billable_codes(files[1])
    assert set(table.filter("billable")["code"]) == listed_billable
    assert set(table["code"]) == listed
    # Sanity on what the code list is: chapters and blocks are dropped, real codes remain.
    assert {"Z940", "T86", "S128XXA"} <= listed
    assert not any("-" in code or code.isdigit() for code in listed)


def test_descriptions_and_shapes(table: pl.DataFrame) -> None:
    assert table.schema == icd10cm.SCHEMA
    assert table["code"].is_unique().all()
    assert (table["description"].str.strip_chars().str.len_chars() > 0).all()
    assert table["code"].str.contains(r"^[A-Z][0-9A-Z]{2}[0-9A-Z]{0,4}$").all()
    # Not every category has a digit second: chapter 17 gained QA0 (genetic disorders).
    assert _row(table, "QA0.0101")["billable"] is True
    assert (table["category"] == table["code"].str.slice(0, 3)).all()
    dotted = table.filter(pl.col("code").str.len_chars() > 3)
    assert (dotted["code_dotted"].str.replace(".", "", literal=True) == dotted["code"]).all()
    assert dotted["code_dotted"].str.contains(r"^[A-Z0-9]{3}\.").all()
    # Every parent is a code of the table and is never itself billable.
    parents = table["parent"].drop_nulls().unique()
    assert parents.is_in(table["code"].implode()).all()
    assert not table.filter(pl.col("code").is_in(parents.implode()))["billable"].any()
    # Categories have no parent; every other code has one.
    assert (table["parent"].is_null() == (table["code"].str.len_chars() == 3)).all()
    assert table["chapter"].n_unique() == 22


def test_seventh_characters_follow_the_tabular(table: pl.DataFrame) -> None:
    codes = set(table["code"])
    billable = set(table.filter("billable")["code"])
    # T86 (transplant complications) has no sevenChrDef: no encounter 7th characters, and
    # its leaves (T86.11) have no children. Its only 7-character codes are listed explicitly
    # (corneal transplant laterality, T86.8401...).
    t86_long = {code for code in codes if code.startswith("T86") and len(code) == 7}
    assert t86_long and not any(code[6] in "ADS" or "X" in code for code in t86_long)
    assert table.filter(pl.col("parent") == "T8611").height == 0
    # Injury codes take a 7th character, padded with the X placeholder.
    assert {"S128XXA", "S128XXD", "S128XXS", "T07XXXA"} <= billable
    assert "S128" in codes and "S128" not in billable
    assert _row(table, "T07.XXXA")["parent"] == "T07"
    assert _row(table, "T07.XXXA")["description"].endswith(", initial encounter")
    # S06's note: 7th characters D and S do not apply with 6th character 7 or 8.
    assert {"S061X7A", "S061X8A", "S061X0D"} <= billable
    assert not {"S061X7D", "S061X7S", "S061X8D", "S061X8S"} & codes
    # A nearer sevenChrDef replaces the category's: S42.27 (torus fractures) has no open
    # fracture extensions, while the rest of S42 does.
    assert "S42271A" in billable and "S42271B" not in codes
    assert "S42201B" in billable


def test_provenance(built: tuple[pl.DataFrame, dict], files: tuple[Path, Path]) -> None:
    df, prov = built
    xml = files[0]
    assert prov["dataset"] == "icd10cm"
    assert prov["release"] == "FY2026-04"
    assert (prov["effective_from"], prov["effective_to"]) == ("2026-04-01", "2026-09-30")
    assert prov["publisher"] == "CDC / NCHS (ICD-10-CM)"
    assert prov["source_file"] == xml.name == "icd10c-tabular-April-1-2026.xml"
    assert prov["source_sha256"] == hashlib.sha256(xml.read_bytes()).hexdigest()
    assert prov["recovered_from"] == "PyPI package simple-icd-10-cm 1.5.0"
    assert "public domain" in prov["licence"]
    assert prov["normaliser_version"] == icd10cm.NORMALISER_VERSION
    assert "no difference" in prov["notes"]
    assert str(int(df["billable"].sum())) in prov["notes"]


def test_release_round_trips_through_the_store(
    built: tuple[pl.DataFrame, dict], tmp_path: Path
) -> None:
    df, prov = built
    target = store.write_release(tmp_path, df, prov)
    assert target == tmp_path / "icd10cm" / "FY2026-04"
    assert pl.read_parquet(target / store.DATA_FILE).equals(df)
    written = json.loads((target / store.PROVENANCE_FILE).read_text())
    assert written["rows"] == df.height


def test_build_does_not_import_the_package_code() -> None:
    script = (
        "import sys\n"
        "from claimscrub.refdata.sources import icd10cm\n"
        "icd10cm.build()\n"
        "print(sorted(m for m in sys.modules if m.startswith('simple_icd_10_cm')))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("name", "release", "start", "end"),
    [
        ("icd10cm-tabular-April-1-2026.xml", "FY2026-04", "2026-04-01", "2026-09-30"),
        ("icd10cm-tabular-October-1-2025.xml", "FY2026-10", "2025-10-01", "2026-09-30"),
        ("icd10c-tabular-April-1-2026.xml", "FY2026-04", "2026-04-01", "2026-09-30"),
    ],
)
def test_release_window_from_file_name(name: str, release: str, start: str, end: str) -> None:
    rel = icd10cm.release_from_file_name(name, "2026")
    assert (rel.release, rel.effective_from.isoformat(), rel.effective_to.isoformat()) == (
        release,
        start,
        end,
    )


def test_release_name_errors() -> None:
    with pytest.raises(icd10cm.Icd10cmSourceError, match="tabular.xml: cannot tell"):
        icd10cm.release_from_file_name("tabular.xml")
    with pytest.raises(icd10cm.Icd10cmSourceError, match="<version> element says '2025'"):
        icd10cm.release_from_file_name("icd10cm-tabular-April-1-2026.xml", "2025")


def test_code_list_disagreement_stops_the_build(files: tuple[Path, Path], tmp_path: Path) -> None:
    xml, code_list = files
    lines = code_list.read_text(encoding="utf-8").splitlines()
    tampered = tmp_path / "code-list-tampered.txt"
    tampered.write_text("\n".join(line for line in lines if line != "Z9481") + "\n")
    with pytest.raises(icd10cm.Icd10cmSourceError, match=r"code-list-tampered\.txt.*Z9481"):
        icd10cm.build(xml, tampered)


def test_without_code_list_the_notes_say_so(files: tuple[Path, Path]) -> None:
    df, prov = icd10cm.build(files[0])
    assert "not cross-checked" in prov["notes"]
    assert prov["recovered_from"] != "PyPI package simple-icd-10-cm 1.5.0"
    assert df.height > 90_000


def test_malformed_xml_names_file_and_line(files: tuple[Path, Path], tmp_path: Path) -> None:
    broken = tmp_path / "icd10cm-tabular-April-1-2026.xml"
    # The real file cut off in the middle: not well-formed from that point on.
    broken.write_bytes(files[0].read_bytes()[:500_000])
    with pytest.raises(icd10cm.Icd10cmSourceError, match=r"icd10cm-tabular-April-1-2026\.xml:\d+"):
        icd10cm.normalize(broken)


def test_unreadable_seventh_character_exception_is_an_error(tmp_path: Path) -> None:
    # Synthetic tabular: a reworded exception note must not be skipped silently.
    xml = tmp_path / "icd10cm-tabular-October-1-2025.xml"
    xml.write_text(
        "<ICD10CM.tabular><version>2026</version><chapter><name>19</name><desc>x</desc>"
        "<section id='S00-S09'><desc>x</desc><diag><name>S06</name><desc>Synthetic</desc>"
        "<sevenChrDef><extension char='A'>initial encounter</extension></sevenChrDef>"
        "<notes><note>7th character D does not apply in some cases</note></notes>"
        "<diag><name>S06.0</name><desc>Synthetic child</desc></diag>"
        "</diag></section></chapter></ICD10CM.tabular>"
    )
    with pytest.raises(icd10cm.Icd10cmSourceError, match="notes of S06"):
        icd10cm.normalize(xml)
