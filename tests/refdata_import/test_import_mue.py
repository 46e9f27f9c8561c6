"""MUE tables in the CMS layout (real rows of the shared MUE CSV) import as one release."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from official_helpers import assert_same_frame, read_shared

from claimscrub.refdata.importer import ImportFailed, import_files
from claimscrub.refdata.official import parse_file

TABLES = {  # service type -> (CMS file name part, MUE values column header)
    "practitioner": ("PractitionerServices", "Practitioner Services MUE Values"),
    "outpatient_hospital": (
        "OutpatientHospitalServices",
        "Outpatient Hospital Services MUE Values",
    ),
    "dme_supplier": ("DMESupplierServices", "DME Supplier Services MUE Values"),
}
CODES = ("J7502", "J7504", "J7507", "J7511", "J7517", "J7525", "A4221", "E0100", "K0001", "Q4101")


def shared_rows(service: str) -> pl.DataFrame:
    mue = read_shared("ncci_mue_2024_q3_hcpcs_level2.csv")
    return mue.filter(pl.col("service_type") == service, pl.col("hcpcs_code").is_in(CODES))


def cms_table(service: str, rows: pl.DataFrame, *, extra: list[list[str]] = ()) -> bytes:
    """One MUE table in the CMS CSV layout: title, notice, header, rows; one CPT-shaped row."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow([f"Medicare NCCI MUE table (test file), {TABLES[service][0]}", "", "", ""])
    w.writerow(["Notice text as CMS prints above the table.", "", "", ""])
    w.writerow(
        ["HCPCS/CPT Code", TABLES[service][1], "MUE Adjudication Indicator", "MUE Rationale"]
    )
    w.writerow(
        ["99999", "1", "2 Date of Service Edit: Policy", "CMS Policy"]
    )  # CPT-shaped: dropped
    for code, value, mai_text, rationale in rows.select(
        "hcpcs_code", "mue_value", "mai_description", "mue_rationale"
    ).iter_rows():
        w.writerow([code, value, mai_text, rationale or ""])
    for row in extra:
        w.writerow(row)
    return out.getvalue().encode("cp1252")


def write_tables(folder: Path) -> list[Path]:
    paths = []
    for service, (part, _header) in TABLES.items():
        path = folder / f"MCR_MUE_{part}_Eff_07-01-2024.csv"
        path.write_bytes(cms_table(service, shared_rows(service)))
        paths.append(path)
    return paths


def test_three_service_tables_make_one_release(tmp_path):
    paths = write_tables(tmp_path)
    parsed = [parse_file(p) for p in paths]
    assert {p.part for p in parsed} == set(TABLES)
    assert {p.release for p in parsed} == {"2024-07-01"}
    refs = import_files(paths, root=tmp_path / "store")
    assert [(r.dataset, r.release) for r in refs] == [("mue", "2024-07-01")]
    table = pl.read_parquet(refs[0].data_path)
    expected = read_shared("ncci_mue_2024_q3_hcpcs_level2.csv").filter(
        pl.col("hcpcs_code").is_in(CODES)
    )
    got = table.with_columns(
        pl.col("mue_value", "mai").cast(pl.String), pl.col("effective_date").cast(pl.String)
    )
    assert_same_frame(got, expected.sort("hcpcs_code", "service_type"))
    assert "99999" not in table["hcpcs_code"].to_list()


def test_xlsx_table_reads_like_the_csv(tmp_path):
    rows = shared_rows("dme_supplier")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(
        ["Medicare NCCI DME Supplier Services MUE table, effective 07/01/2024 (test workbook)"]
    )
    sheet.append(
        [
            "HCPCS/CPT Code",
            "DME Supplier Services MUE Values",
            "MUE Adjudication Indicator",
            "MUE Rationale",
        ]
    )
    for code, value, mai_text, rationale in rows.select(
        "hcpcs_code", "mue_value", "mai_description", "mue_rationale"
    ).iter_rows():
        sheet.append([code, int(value), mai_text, rationale])
    path = tmp_path / "dme.xlsx"
    book.save(path)
    parsed = parse_file(path)
    assert (parsed.part, parsed.release) == ("dme_supplier", "2024-07-01")
    assert_same_frame(parsed.raw, rows)


def test_same_service_type_twice_is_refused(tmp_path):
    paths = write_tables(tmp_path)
    copy = tmp_path / "copy" / paths[0].name
    copy.parent.mkdir()
    copy.write_bytes(paths[0].read_bytes())
    with pytest.raises(ImportFailed, match="both practitioner"):
        import_files([*paths, copy], root=tmp_path / "store")
    assert not (tmp_path / "store").exists()
