"""A claim that gives one line number to two lines is rejected, whatever the format.

Findings, fixes and a payer's answer name a line by its claim and number: two lines
numbered alike would each be reported with the other's findings. The claim is listed
under ``rejected`` with where and why; the other claims are read and checked.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from claimscrub.readers import read_bytes, read_claims
from claimscrub.readers.writers import flat_lines

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _example_json() -> dict:
    return json.loads((EXAMPLES / "immunosuppressants.json").read_text())


def test_json_claim_with_two_lines_numbered_alike_is_rejected() -> None:
    doc = _example_json()
    first = doc["claims"][0]
    assert len(first["lines"]) == 2
    first["lines"][1]["number"] = first["lines"][0]["number"]
    read = read_bytes(json.dumps(doc).encode(), "dup.json")
    assert first["id"] not in read.claims["claim_id"].to_list()
    assert read.claims.height == len(doc["claims"]) - 1  # the others are read
    (row,) = read.rejected.iter_rows(named=True)
    assert row["claim_id"] == first["id"]
    assert row["json_path"] == "claims[0].lines[1]"
    assert row["reason"] == (
        f"line number 1 is given to 2 lines of claim {first['id']} "
        "(claims[0].lines[0], claims[0].lines[1]); each line of a claim needs a number of its own"
    )


def test_a_csv_row_numbered_by_position_that_collides_is_explained(tmp_path: Path) -> None:
    text = (EXAMPLES / "immunosuppressants.csv").read_text().splitlines()
    header = text[0].split(",")
    number = header.index("line_number")
    rows = [r.split(",") for r in text[1:3]]
    assert rows[0][0] == rows[1][0]  # the example's first claim has two rows
    rows[0][number], rows[1][number] = "2", ""  # the second is numbered 2 by its position
    path = tmp_path / "dup.csv"
    path.write_text("\n".join([text[0], *(",".join(r) for r in rows)]) + "\n")
    read = read_claims([path])
    assert read.claims.height == 0
    (row,) = read.rejected.iter_rows(named=True)
    assert row["row"] == 2
    assert row["reason"].startswith(f"line number 2 is given to 2 lines of claim {rows[0][0]}")
    assert row["reason"].endswith(
        "(rows 1, 2); each line of a claim needs a number of its own; a row without "
        "line_number is numbered by its position in the claim"
    )


def test_x12_claim_with_a_repeated_lx_is_rejected(tmp_path: Path) -> None:
    data = (EXAMPLES / "immunosuppressants.837").read_bytes()
    assert data.count(b"LX*2~") == 1  # claim EX-1001's second line
    path = tmp_path / "dup.837"
    path.write_bytes(data.replace(b"LX*2~", b"LX*1~"))
    read = read_claims([path])
    assert "EX-1001" not in read.claims["claim_id"].to_list()
    assert read.claims.height == 13
    (row,) = read.rejected.iter_rows(named=True)
    assert row["claim_id"] == "EX-1001"
    assert row["reason"].startswith("line number 1 is given to 2 lines of claim EX-1001 (segments ")


def test_flat_parquet_claim_with_a_repeated_line_number_is_rejected(tmp_path: Path) -> None:
    table = flat_lines(read_claims([EXAMPLES / "immunosuppressants.json"]))
    first_claim = table["claim_id"][0]
    table = table.with_columns(
        pl.when(pl.col("claim_id") == first_claim)
        .then(pl.lit(1, dtype=table.schema["line_no"]))
        .otherwise(pl.col("line_no"))
        .alias("line_no")
    )
    path = tmp_path / "dup.parquet"
    table.write_parquet(path)
    read = read_claims([path])
    assert first_claim not in read.claims["claim_id"].to_list()
    assert read.rejected["claim_id"].to_list() == [first_claim]
