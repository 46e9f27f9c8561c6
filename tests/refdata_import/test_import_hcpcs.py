"""The CMS 2020 HCPCS Alpha-Numeric file, imported, is exactly the bundled 2020 table."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from official_helpers import BUNDLED, assert_same_frame, read_shared

from claimscrub.refdata.importer import import_files
from claimscrub.refdata.official import parse_file
from claimscrub.refdata.official.hcpcs_layout import LAYOUT

TXT = "HCPC2020_ANWEB_w_disclaimer.txt"


def test_official_txt_reproduces_the_shared_2020_table_exactly(official):
    parsed = parse_file(official(TXT))
    assert (parsed.dataset, parsed.release, parsed.effective_from) == (
        "hcpcs",
        "2020-01",
        dt.date(2020, 1, 1),
    )
    assert parsed.kind == "hcpcs_txt"
    assert_same_frame(parsed.raw, read_shared("hcpcs_anweb_2020_jan.csv"))


def test_imported_2020_release_equals_the_bundled_parquet(official, tmp_path):
    [ref] = import_files([official(TXT)], root=tmp_path / "store")
    assert (ref.dataset, ref.release, ref.bundled) == ("hcpcs", "2020-01", False)
    bundled = pl.read_parquet(BUNDLED / "hcpcs" / "2020-01" / "data.parquet")
    imported = pl.read_parquet(ref.data_path)
    assert imported.schema == bundled.schema
    assert_same_frame(imported, bundled)
    assert ref.provenance["rows"] == 7079
    assert ref.provenance["effective_from"] == "2020-01-01"
    assert ref.provenance["source_file"] == TXT
    assert ref.provenance["imported_at"]


def test_windows_1252_crlf_copy_reads_the_same(official, tmp_path):
    # CMS distributes the file as Windows-1252 with CRLF line ends; the fixture is the
    # index's UTF-8/LF text. Both spellings must give the same frame.
    source = official(TXT)
    cms = tmp_path / "cms" / TXT
    cms.parent.mkdir()
    cms.write_bytes(source.read_text(encoding="utf-8").replace("\n", "\r\n").encode("cp1252"))
    assert b"\r\n" in cms.read_bytes() and b"\x92" in cms.read_bytes()
    assert_same_frame(parse_file(cms).raw, parse_file(source).raw)


def test_release_from_heading_when_the_name_says_nothing(official, tmp_path):
    renamed = official(TXT, tmp_path / "renamed")
    renamed = renamed.rename(renamed.with_name("download.txt"))
    parsed = parse_file(renamed)
    assert parsed.release == "2020-01"
    assert "heading" in parsed.notes[0]


def test_release_override(official, tmp_path):
    [ref] = import_files([official(TXT)], root=tmp_path / "store", release="2020-04")
    assert ref.release == "2020-04"
    assert ref.provenance["effective_from"] == "2020-04-01"
    assert (tmp_path / "store" / "hcpcs" / "2020-04" / "data.parquet").is_file()


def _write_cms_sheet(raw: pl.DataFrame, path: Path) -> None:
    """The records in the CMS .xlsx layout: a title row, the CMS header, numbers as numbers."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Test workbook written from the parsed 2020 TXT in the CMS column layout"])
    sheet.append([])
    sheet.append([cms for _name, cms, *_ in LAYOUT])
    for row in raw.iter_rows(named=True):
        values: list[object] = []
        for name, _cms, *_ in LAYOUT:
            value = row[name]
            if value is not None and name.endswith("date"):
                value = int(value.replace("-", ""))  # CMS stores YYYYMMDD numbers
            elif value is not None and name in ("seq_num", "price_ind_1", "anesthesia_base_units"):
                value = int(value)  # loses the zero padding the reader must restore
            values.append(value)
        sheet.append(values)
    book.save(path)


def test_spreadsheet_of_the_same_release_gives_the_same_frame(official, tmp_path):
    txt = parse_file(official(TXT))
    # a 400-record slice keeps the test quick; it spans modifiers and procedures
    sample = pl.concat(
        [txt.raw.head(200), txt.raw.filter(pl.col("hcpcs_code").str.starts_with("J75"))]
    )
    xlsx = tmp_path / "HCPC2020_ANWEB_w_disclaimer.xlsx"
    _write_cms_sheet(sample, xlsx)
    parsed = parse_file(xlsx)
    assert (parsed.kind, parsed.release) == ("hcpcs_sheet", "2020-01")
    assert_same_frame(parsed.raw, sample)


@pytest.mark.parametrize(
    ("name", "release"),
    [("HCPC2026_JAN_ANWEB_01122026.txt", "2026-01"), ("HCPC2026_APR_ANWEB.txt", "2026-04")],
)
def test_release_from_cms_file_names(official, tmp_path, name, release):
    path = official(TXT).rename(tmp_path / name)
    assert parse_file(path).release == release
