"""The October 2025 ASP files, imported, equal the bundled 2025-Q4 tables."""

from __future__ import annotations

import csv
import datetime as dt
import io

import polars as pl
from official_helpers import BUNDLED, assert_same_frame, read_shared, shared_csv

from claimscrub.refdata.importer import import_files
from claimscrub.refdata.official import parse_file

PRICING = "asp_pricing.csv"


def test_official_pricing_csv_reproduces_the_shared_table(official):
    parsed = parse_file(official(PRICING))
    assert (parsed.kind, parsed.dataset, parsed.release) == ("asp_pricing", "asp", "2025-Q4")
    assert (parsed.effective_from, parsed.effective_to) == (
        dt.date(2025, 10, 1),
        dt.date(2025, 12, 31),
    )
    # the fixture is the CMS file without its 34 CPT rows (see tests/fixtures/official/README.md)
    assert "978 Level II rows; 0 CPT/CDT rows dropped" in parsed.notes[0]
    assert_same_frame(parsed.raw, read_shared("asp_pricing_2025_q4.csv"))
    # the line break inside A9606's note, and the non-breaking space in J9325's dosage
    notes = dict(parsed.raw.select("hcpcs_code", "notes").iter_rows())
    assert notes["A9606"] == "microCurie 100% AWP = $202.82; microCurie 100% WAC = $169.02"


def test_cpt_rows_in_the_pricing_file_are_dropped(official, tmp_path):
    # CMS's own file lists CPT vaccine rows right under the header; one synthetic
    # CPT-shaped row (no AMA text) put back there must be counted and left out
    original = official(PRICING).read_bytes()
    header_end = original.index(b"\r\n", original.index(b"HCPCS Code,")) + 2
    cpt_row = b"99999,synthetic CPT-shaped row,1 ML,1.000,20.000,,,,,,\r\n"
    path = tmp_path / "with_cpt" / PRICING
    path.parent.mkdir()
    path.write_bytes(original[:header_end] + cpt_row + original[header_end:])
    parsed = parse_file(path)
    assert "978 Level II rows; 1 CPT/CDT rows dropped" in parsed.notes[0]
    assert "99999" not in parsed.raw["hcpcs_code"].to_list()
    assert_same_frame(parsed.raw, read_shared("asp_pricing_2025_q4.csv"))


def test_imported_pricing_release_equals_the_bundled_parquet(official, tmp_path):
    [ref] = import_files([official(PRICING)], root=tmp_path)
    assert (ref.dataset, ref.release) == ("asp", "2025-Q4")
    assert ref.provenance["effective_to"] == "2025-12-31"
    assert_same_frame(
        pl.read_parquet(ref.data_path),
        pl.read_parquet(BUNDLED / "asp" / "2025-Q4" / "data.parquet"),
    )


def cms_crosswalk_csv(shared: pl.DataFrame) -> bytes:
    """The shared crosswalk rows in the CMS CSV layout (the original CSV could not be recovered).

    Banner rows, the ``_2025_CODE …`` header, trailing empty columns, Windows-1252 with
    CRLF, and one CPT-shaped code (synthetic row) that import must drop.
    """
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    pad = [""] * 12
    w.writerow(["October 2025 ASP NDC-HCPCS Crosswalk (test file in the CMS layout)", *pad])
    w.writerow(["Effective October 1, 2025 through December 31, 2025", *pad])
    w.writerow(pad)
    w.writerow(
        [
            "_2025_CODE",
            "Short Description",
            "LABELER NAME",
            "NDC2",
            "Drug Name",
            "HCPCS dosage",
            "PKG SIZE",
            "PKG QTY",
            "BILLUNITS",
            "BILLUNITSPKG",
            "",
            "",
            "",
        ]
    )
    w.writerow(
        [
            "90999",
            "synthetic CPT-shaped row",
            "Test",
            "00000-0000-00",
            "Test",
            "1 ML",
            "1",
            "1",
            "1",
            "1",
            "",
            "",
            "",
        ]
    )
    columns = [
        "hcpcs_code",
        "short_description",
        "labeler_name",
        "ndc_or_alternate_id",
        "drug_name",
        "hcpcs_dosage",
        "pkg_size",
        "pkg_qty",
        "bill_units_per_pkg_item",
        "bill_units_per_ndc",
    ]
    for row in shared.select(columns).iter_rows():
        w.writerow([*(v or "" for v in row), "", "", ""])
    return out.getvalue().encode("cp1252")


def test_crosswalk_in_the_cms_layout_reproduces_the_shared_table(tmp_path):
    shared = pl.read_csv(shared_csv("asp_ndc_hcpcs_crosswalk_2025_q4.csv"), infer_schema=False)
    path = tmp_path / "October 2025 ASP NDC-HCPCS Crosswalk.csv"
    path.write_bytes(cms_crosswalk_csv(shared))
    parsed = parse_file(path)
    assert (parsed.kind, parsed.dataset, parsed.release) == (
        "asp_crosswalk",
        "ndc_hcpcs",
        "2025-Q4",
    )
    assert_same_frame(parsed.raw, read_shared("asp_ndc_hcpcs_crosswalk_2025_q4.csv"))
    [ref] = import_files([path], root=tmp_path / "store")
    bundled = pl.read_parquet(BUNDLED / "ndc_hcpcs" / "2025-Q4" / "data.parquet")
    assert_same_frame(pl.read_parquet(ref.data_path), bundled)
