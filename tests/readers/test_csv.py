"""The Claims CSV reader and writer: columns, located errors, nothing lost, round trips."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from claimscrub.model.schema import CLAIMS_SCHEMA, LINES_SCHEMA
from claimscrub.readers import ClaimSet, read_bytes, read_claims
from claimscrub.readers.csv_claims import claim_level_columns, csv_columns, csv_schema
from claimscrub.readers.writers import write_csv, write_json

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "claims"
ALL_COLUMNS = FIXTURES / "csv" / "all-columns.csv"
BROKEN = FIXTURES / "csv" / "broken.csv"
UNKNOWN = FIXTURES / "csv" / "unknown-column.csv"
ALL_FIELDS_JSON = FIXTURES / "json" / "all-fields.json"

SPEC_HEADER = (
    "claim_id, claim_type, payer_type, payer_id, payer_policy, patient_id, birth_date, sex, "
    "transplant_organ, transplant_date, transplant_medicare_paid, part_a_at_transplant, "
    "esrd_only_entitlement, part_b_id, part_a_snf_stay, service_date, place_of_service, bill_type, "
    + ", ".join(f"dx{i}" for i in range(1, 13))
    + ", prior_authorization, line_number, hcpcs, mod1, mod2, mod3, mod4, units, "
    "line_service_date, ndc, ndc_quantity, ndc_unit, days_supply, diagnosis_pointers, charge, "
    "narrative"
)


def read_text(text: str, src: str = "test.csv") -> ClaimSet:
    return read_bytes(text.encode("utf-8"), src, input_format="csv")


def rejected_by_id(batch: ClaimSet) -> dict[str | None, str]:
    return dict(zip(batch.rejected["claim_id"], batch.rejected["reason"], strict=True))


# --- the format ----------------------------------------------------------------------------------


def test_schema_columns_are_the_spec_columns_in_order() -> None:
    assert list(csv_columns()) == [name.strip() for name in SPEC_HEADER.split(",")]
    assert csv_schema()["required"] == ["claim_id"]
    assert csv_schema()["additionalProperties"] is False


def test_every_column_reaches_its_canonical_column() -> None:
    batch = read_claims(ALL_COLUMNS)
    assert batch.rejected.is_empty() and batch.warnings.is_empty()
    assert batch.claims.schema == CLAIMS_SCHEMA and batch.lines.schema == LINES_SCHEMA
    dme = batch.claims.row(0, named=True)
    assert (dme["claim_key"], dme["claim_id"], dme["row"], dme["src"]) == (
        0,
        "C2001",
        1,
        str(ALL_COLUMNS),
    )
    assert (dme["claim_type"], dme["payer_type"], dme["payer_id"], dme["payer_policy"]) == (
        "professional",
        "medicare",
        "DME-SYN-JD",
        "medicare-dme",
    )
    assert (dme["patient_id"], dme["birth_date"], dme["sex"]) == ("P77", date(1958, 4, 2), "F")
    assert dme["transplants"] == [
        {
            "organ": "kidney",
            "date": date(2021, 3, 14),
            "medicare_paid": True,
            "part_a_at_transplant": True,
        }
    ]
    assert (dme["esrd_only_entitlement"], dme["part_b_id"], dme["part_a_snf_stay"]) == (
        False,
        False,
        False,
    )
    assert (dme["service_date"], dme["place_of_service"], dme["bill_type"]) == (
        date(2025, 11, 3),
        "12",
        None,
    )
    assert dme["diagnoses"] == ["Z94.0", "Z79.621"]
    assert dme["prior_authorization"] == "PA-SYN-0001"
    hospital = batch.claims.row(1, named=True)
    assert (hospital["claim_id"], hospital["row"], hospital["bill_type"]) == ("C2002", 3, "131")
    assert hospital["esrd_only_entitlement"] is None  # empty cell: unknown

    first, second, third = batch.lines.iter_rows(named=True)
    assert (first["claim_key"], first["row"], first["line_no"], first["hcpcs"]) == (
        0,
        1,
        1,
        "J7507",
    )
    assert (first["modifiers"], first["units"], first["dos_from"]) == (
        ["KX"],
        180.0,
        date(2025, 11, 3),
    )
    assert (first["ndc"], first["ndc_qty"], first["ndc_unit"], first["days_supply"]) == (
        "00469060773",
        180.0,
        "UN",
        90,
    )
    assert first["diagnosis_pointers"] == [1, 2] and first["charge"] == pytest.approx(412.8)
    assert first["narrative"] == "Synthetic: 1 mg capsules, 2 twice daily"
    assert (second["row"], second["line_no"], second["narrative"]) == (2, 2, None)
    assert third["narrative"] == 'Synthetic, with a comma, and "quotes"'
    assert third["claim_key"] == 1 and third["modifiers"] == ["JZ"]


def test_missing_optional_columns_are_fine_and_defaults_apply() -> None:
    batch = read_text(
        "claim_id,hcpcs,units,line_service_date\n"
        "C1,J7507,180,2025-11-09\n"
        "C1,J7517,360,2025-11-05\n"
        "C1,J7517,30,\n"
    )
    assert batch.rejected.is_empty()
    claim = batch.claims.row(0, named=True)
    assert claim["service_date"] == date(2025, 11, 5)  # earliest line date
    assert claim["diagnoses"] == [] and claim["transplants"] is None and claim["payer_type"] is None
    assert batch.lines["line_no"].to_list() == [1, 2, 3]  # position among the claim's rows
    # The undated row has no claim service_date to take; another row's date is not its.
    assert batch.lines["dos_from"].to_list() == [
        date(2025, 11, 9),
        date(2025, 11, 5),
        None,
    ]
    assert batch.lines["modifiers"].to_list() == [[], [], []]


def test_cells_are_trimmed_booleans_take_any_case_modifier_gaps_close_up() -> None:
    batch = read_text(
        "claim_id,part_b_id,sex,mod1,mod2,mod3,units,narrative\n"
        " C1 , TRUE ,F,, KX ,,  180 ,  kept as written \n"
        "C1,true,F,JW,,GA,1,\n"
    )
    assert batch.rejected.is_empty()
    assert batch.claims["claim_id"].to_list() == ["C1"]
    assert batch.claims["part_b_id"].to_list() == [True]
    assert batch.lines["modifiers"].to_list() == [["KX"], ["JW", "GA"]]
    assert batch.lines["units"].to_list() == [180.0, 1.0]
    assert batch.lines["narrative"].to_list() == ["  kept as written ", None]


def test_rows_of_one_claim_need_not_be_adjacent() -> None:
    batch = read_text("claim_id,hcpcs\nA,J7507\nB,J7511\nA,J7517\n")
    assert batch.claims.select("claim_key", "claim_id", "row").rows() == [(0, "A", 1), (1, "B", 2)]
    assert batch.lines.select("claim_key", "row", "line_no", "hcpcs").rows() == [
        (0, 1, 1, "J7507"),
        (0, 3, 2, "J7517"),
        (1, 2, 1, "J7511"),
    ]


def test_header_only_and_blank_lines() -> None:
    empty = read_text("claim_id,hcpcs\n")
    assert empty.claims.is_empty() and empty.rejected.is_empty()
    blank = read_text("claim_id,hcpcs\n\nC1,J7507\n\n")
    assert blank.lines.select("row", "hcpcs").rows() == [(2, "J7507")]  # blank records still count
    assert read_text("").warnings["reason"].to_list() == ["the file is empty"]


# --- located errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("units", "abc", "'abc' is not a number"),
        ("units", "1e3", "'1e3' is not a number"),
        ("charge", "$412.80", "'$412.80' is not a number"),
        ("charge", "1,234.5", "'1,234.5' is not a number"),
        ("service_date", "2025-6-01", "'2025-6-01' is not a date (YYYY-MM-DD)"),
        ("service_date", "11/03/2025", "'11/03/2025' is not a date (YYYY-MM-DD)"),
        ("line_service_date", "2025-02-30", "'2025-02-30' is not a day of the calendar"),
        ("part_b_id", "yes", "'yes' is not true or false"),
        ("part_b_id", "1", "'1' is not true or false"),
        ("diagnosis_pointers", "1;2", "'1;2' is not a list of diagnosis pointers such as 1,2"),
        ("diagnosis_pointers", "0", "'0' is not a list of diagnosis pointers"),
        ("line_number", "0", "'0' is not a whole number of 1 or more"),
        ("line_number", "1.0", "'1.0' is not a whole number of 1 or more"),
        ("days_supply", "-3", "'-3' is not a whole number of 0 or more"),
        ("units", "1" + "0" * 400, "is out of range"),
        ("days_supply", "99999999999999999999", "is not a whole number of 0 or more"),
        ("claim_type", "Professional", "'Professional' is not one of professional, institutional"),
        ("transplant_organ", "Kidney", "'Kidney' is not one of kidney, heart"),
    ],
)
def test_a_bad_cell_rejects_its_claim_naming_row_and_column(
    column: str, value: str, expected: str
) -> None:
    text = f'claim_id,hcpcs,{column}\nC0,J7507,\nC1,J7507,"{value}"\nC2,J7507,\n'
    batch = read_text(text)
    assert batch.claims["claim_id"].to_list() == ["C0", "C2"]
    row = batch.rejected.row(0, named=True)
    assert (row["claim_id"], row["row"], row["src"]) == ("C1", 2, "test.csv")
    assert row["reason"].startswith(f"row 2, column {column}: ")
    assert expected in row["reason"]


def test_claim_level_cells_must_agree_across_the_claims_rows() -> None:
    batch = read_text(
        "claim_id,payer_id,part_b_id,hcpcs\n"
        "C1,DME-A,true,J7507\n"
        "C1,DME-A,TRUE,J7517\n"  # same value in another case: fine
        "C2,DME-A,false,J7507\n"
        "C2,DME-B,false,J7517\n"
        "C2,,false,J7502\n"
    )
    assert batch.claims["claim_id"].to_list() == ["C1"]
    reason = rejected_by_id(batch)["C2"]
    assert (
        "row 4, column payer_id: 'DME-B' differs from 'DME-A' on row 3, the claim's first row"
        in reason
    )
    assert "row 5, column payer_id: empty differs from 'DME-A' on row 3" in reason


def test_a_gap_in_the_diagnosis_columns_rejects_the_claim() -> None:
    batch = read_text('claim_id,dx1,dx2,dx3,diagnosis_pointers\nC1,Z94.0,,Z79.621,"1,3"\n')
    assert batch.claims.is_empty()
    assert rejected_by_id(batch)["C1"] == (
        "row 1, column dx2: empty while a later dx column is set (fill dx1, dx2, ... without gaps)"
    )


def test_unknown_columns_reject_the_file_once_per_claim_and_are_named() -> None:
    batch = read_claims(UNKNOWN)
    assert batch.claims.is_empty() and batch.lines.is_empty()
    assert batch.rejected.select("claim_id", "row").rows() == [("C4001", 1), ("C4002", 3)]
    reason = batch.rejected["reason"][0]
    assert "unknown column(s) 'Units' (did you mean 'units'?)" in reason
    assert "'ndc_qty' (did you mean 'ndc_quantity'?)" in reason


def test_header_names_in_capitals_are_pointed_at_their_lower_case_names() -> None:
    batch = read_text("CLAIM_ID,HCPCS,Units\nC1,J7507,30\n")
    reason = batch.rejected["reason"][0]
    assert "'CLAIM_ID' (did you mean 'claim_id'?)" in reason
    assert "'HCPCS' (did you mean 'hcpcs'?)" in reason


def test_unnamed_columns_without_values_are_ignored_with_a_warning() -> None:
    # A spreadsheet saved as CSV: every record ends with two empty columns.
    batch = read_text("claim_id,hcpcs,units,,\nC1,J7507,30,,\nC2,J7503,60, ,\n")
    assert batch.rejected.is_empty()
    assert batch.claims["claim_id"].to_list() == ["C1", "C2"]
    assert batch.lines["units"].to_list() == [30, 60]
    assert batch.warnings["reason"].to_list() == [
        "header column(s) 4, 5 have no name and no value in any row (trailing separators of a "
        "spreadsheet export, say); they are ignored"
    ]


def test_an_unnamed_column_with_a_value_still_rejects_the_file() -> None:
    batch = read_text("claim_id,,hcpcs,units,\nC1,,J7507,30,\nC2,x,J7503,60,\n")
    assert batch.claims.is_empty()
    reasons = set(batch.rejected["reason"].to_list())
    assert reasons == {"file rejected: header column(s) 2 have no name"}
    assert batch.warnings["reason"].to_list() == [
        "header column(s) 5 have no name and no value in any row (trailing separators of a "
        "spreadsheet export, say); they are ignored"
    ]


def test_header_problems_without_claim_ids_give_one_row_for_the_file() -> None:
    cases = {
        "hcpcs,units\nJ7507,1\n": "no claim_id column",
        "claim_id;hcpcs\nC1;J7507\n": "the header looks separated by ';'",
        "claim_id,hcpcs,hcpcs\nC1,J7507,J7507\n": "duplicated column(s) 'hcpcs'",
        "claim_id,,hcpcs\nC1,x,J7507\n": "header column(s) 2 have no name",
    }
    for text, expected in cases.items():
        batch = read_text(text)
        assert batch.claims.is_empty(), text
        assert expected in " ".join(batch.rejected["reason"].to_list()), text
    duplicated = read_text("claim_id,hcpcs,hcpcs\nC1,J7507,J7507\n,J7507,J7507\n\nC2,J7507,J7507\n")
    assert duplicated.rejected.select("row", "claim_id").rows() == [(1, "C1"), (2, None), (4, "C2")]
    assert duplicated.rejected["reason"][1].startswith(
        "row 2, column claim_id: empty; file rejected"
    )


def test_unreadable_files_are_one_rejected_row() -> None:
    latin1 = read_bytes("claim_id,narrative\nC1,Ä\n".encode("latin-1"), "l.csv", input_format="csv")
    assert "not UTF-8 text (byte 0xc4" in latin1.rejected["reason"].item()
    unclosed = read_text('claim_id,narrative\nC1,"never closed\nC2,x\n')
    assert unclosed.rejected["reason"].item().startswith("not readable as CSV")


# --- nothing lost --------------------------------------------------------------------------------


def test_every_claim_of_a_broken_file_is_accounted_for_exactly_once() -> None:
    with BROKEN.open(newline="") as fh:
        records = list(csv.reader(fh))[1:]
    ids_in_file = {r[0] for r in records if r[0]}
    rows_without_id = [i + 1 for i, r in enumerate(records) if not r[0]]

    batch = read_claims(BROKEN)
    read_ids = batch.claims["claim_id"].to_list()
    rejected_ids = [i for i in batch.rejected["claim_id"].to_list() if i is not None]
    assert sorted(read_ids + rejected_ids) == sorted(ids_in_file)
    assert len(set(read_ids + rejected_ids)) == len(read_ids) + len(rejected_ids)
    assert batch.rejected.filter(pl.col("claim_id").is_null())["row"].to_list() == rows_without_id
    # every row of a claim read is a line
    rows_of_read = [i + 1 for i, r in enumerate(records) if r[0] in set(read_ids)]
    assert sorted(batch.lines["row"].to_list()) == rows_of_read


def test_reasons_of_the_broken_file() -> None:
    batch = read_claims(BROKEN)
    assert batch.claims["claim_id"].to_list() == ["C3008", "C3001"]
    by_id = rejected_by_id(batch)
    assert by_id["C3002"] == "row 4, column units: 'abc' is not a number"
    assert by_id["C3003"] == "row 5, column service_date: '2025-6-01' is not a date (YYYY-MM-DD)"
    assert by_id["C3004"].startswith(
        "row 7, column payer_id: 'DME-SYN-JB' differs from 'DME-SYN-JD'"
    )
    assert by_id[None] == "row 8, column claim_id: empty"
    assert by_id["C3005"] == "row 9: more fields than the 19 of the header"
    assert by_id["C3006"].startswith("row 10, column dx2: empty while a later dx column is set")
    for part in (
        "row 11, column esrd_only_entitlement: 'yes' is not true or false",
        "row 11, column line_service_date: '2025-11-31' is not a day of the calendar",
        "row 11, column diagnosis_pointers: '1;2' is not a list of diagnosis pointers such as 1,2",
        "row 11, column charge: '$412.80' is not a number",
    ):
        assert part in by_id["C3007"]


def test_the_schema_and_the_reader_reject_the_same_cells() -> None:
    """Each cell the reader names as bad fails the shipped schema too, and no other cell does."""
    from jsonschema import Draft202012Validator, FormatChecker

    validator = Draft202012Validator(csv_schema(), format_checker=FormatChecker(formats=("date",)))
    with BROKEN.open(newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        records = list(reader)
    from_schema = set()
    for number, record in enumerate(records, start=1):
        cells = {
            name: (value if name == "narrative" else value.strip())
            for name, value in zip(header, record, strict=False)
        }
        row = {k: v for k, v in cells.items() if v != ""}
        for error in validator.iter_errors(row):
            if error.path:
                from_schema.add((number, error.path[0]))
    batch = read_claims(BROKEN)
    from_reader = set()
    for reason in batch.rejected["reason"]:
        for part in reason.split("; "):
            if part.startswith("row ") and ", column " in part and "' is not " in part:
                number, rest = part[4:].split(", column ", 1)
                from_reader.add((int(number), rest.split(":", 1)[0]))
    assert len(from_reader) == 6  # units, service_date and the four bad cells of row 11
    assert from_reader == from_schema


# --- round trips ---------------------------------------------------------------------------------


def write(batch: ClaimSet) -> tuple[str, list[str]]:
    out = io.StringIO()
    notes = write_csv(batch, out)
    return out.getvalue(), notes


def test_csv_frames_csv_gives_back_the_same_bytes() -> None:
    text, notes = write(read_claims(ALL_COLUMNS))
    assert text == ALL_COLUMNS.read_text()
    assert notes == []


def test_frames_csv_frames_is_stable() -> None:
    first = read_claims(ALL_COLUMNS)
    second = read_text(write(first)[0], src=str(ALL_COLUMNS))
    assert second.claims.equals(first.claims)
    assert second.lines.equals(first.lines)


def test_csv_to_json_and_back_keeps_every_value() -> None:
    first = read_claims(ALL_COLUMNS)
    out = io.StringIO()
    write_json(first, out)
    via_json = read_bytes(out.getvalue().encode(), "x.json", input_format="json")
    text, _ = write(via_json)
    assert text == ALL_COLUMNS.read_text()


def test_writer_names_what_the_csv_format_cannot_hold() -> None:
    batch = read_claims(ALL_FIELDS_JSON)
    text, notes = write(batch)
    joined = " ".join(notes)
    for fact in (
        "payer_name (2 claims)",
        "admission_date (1 claim)",
        "authorization (1 claim)",
        "revenue_code (1 line)",
        "dose_amount (3 lines)",
        "extensions (1 claim)",
        "1 history claim(s) left out",
    ):
        assert fact in joined
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["claim_id"] for r in rows] == ["C1001", "C1001", "C1002"]
    assert rows[2]["transplant_medicare_paid"] == "false" and rows[0]["diagnosis_pointers"] == "1,2"


def test_written_undated_row_stays_undated() -> None:
    first = read_text(
        "claim_id,hcpcs,units,line_service_date\nC1,J7507,180,2025-11-09\nC1,J7517,30,\n"
    )
    text, _ = write(first)
    rows = list(csv.DictReader(io.StringIO(text)))
    # The claims frame holds the earliest line date; written out it would date the second row.
    assert [r["service_date"] for r in rows] == ["", ""]
    again = read_text(text)
    assert again.lines["dos_from"].to_list() == [date(2025, 11, 9), None]
    assert again.claims["service_date"].to_list() == [date(2025, 11, 9)]


def test_claim_level_columns_are_the_claim_level_fields() -> None:
    assert claim_level_columns()[:3] == ["claim_id", "claim_type", "payer_type"]
    assert "line_number" not in claim_level_columns() and "dx12" in claim_level_columns()


def test_schema_file_is_valid_json_schema() -> None:
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(csv_schema())
    assert all({"x-level", "x-type"} <= set(spec) for spec in csv_columns().values())
    json.dumps(csv_schema())  # plain data
