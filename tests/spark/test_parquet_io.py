"""Parquet in and out on the local engine: the flat line table reads back into the same
claims, bad tables are rejected with their rows named, and ``check -o OUT.parquet``
writes the findings of the CSV report, typed."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import polars as pl
from click.testing import CliRunner
from spark_helpers import EXAMPLES

from claimscrub.cli import cli
from claimscrub.engine.prepare import with_payer_type
from claimscrub.readers import read_bytes, read_claims, sniff_format
from claimscrub.readers.parquet_claims import read_parquet_claims
from claimscrub.readers.writers import flat_lines

_LOCATION_OF_CLAIM = ["seg_ordinal", "x12_loop", "x12_seg", "row", "json_path"]


def _flat(tmp_path: Path, frame: pl.DataFrame, name: str = "t.parquet") -> Path:
    path = tmp_path / name
    frame.write_parquet(path)
    return path


def test_converted_parquet_reads_back_into_the_same_claims(tmp_path: Path) -> None:
    for example in ("immunosuppressants.json", "immunosuppressants.837"):
        original = read_claims([str(EXAMPLES / example)])
        path = tmp_path / f"{example}.parquet"
        result = CliRunner().invoke(cli, ["convert", str(EXAMPLES / example), "-o", str(path)])
        assert result.exit_code == 0, result.output
        assert sniff_format(path.read_bytes()[:4]) == "parquet"

        again = read_claims([str(path)])
        assert again.lines.equals(original.lines)  # line locations point at the original input
        # convert writes the payer type check derives from SBR09 (X12 carries no other)
        assert again.claims.drop(_LOCATION_OF_CLAIM).equals(
            with_payer_type(original.claims).drop(_LOCATION_OF_CLAIM)
        )
        assert read_bytes(path.read_bytes(), "upload").lines.equals(original.lines)


def test_history_flag_and_missing_keys_and_locations(tmp_path: Path) -> None:
    table = flat_lines(read_claims([str(EXAMPLES / "immunosuppressants.json")]))
    table = table.with_columns((pl.col("claim_id") == "EX-1002").alias("history"))
    bare = table.drop("claim_key", "src", "seg_ordinal", "x12_loop", "x12_seg", "row", "json_path")
    current, history = read_parquet_claims(str(_flat(tmp_path, bare)), "bare.parquet")

    assert history.claims["claim_id"].to_list() == ["EX-1002"]
    assert current.claims.height == 13 and "EX-1002" not in current.claims["claim_id"]
    assert set(current.lines["src"]) == {"bare.parquet"}
    # Rows without their own location are located in the Parquet table (1-based rows).
    assert current.lines["row"].to_list()[:3] == [1, 2, 4]
    # Keys: claims first, then history, never colliding.
    assert history.claims["claim_key"].min() > current.claims["claim_key"].max()


def test_bad_tables_are_rejected_naming_file_rows_and_columns(tmp_path: Path) -> None:
    table = flat_lines(read_claims([str(EXAMPLES / "immunosuppressants.json")]))
    unknown = _flat(tmp_path, table.with_columns(pl.lit(1).alias("hcpc")), "unknown.parquet")
    no_id = _flat(tmp_path, table.drop("claim_id"), "no_id.parquet")
    cells = table.with_columns(
        pl.when(pl.col("claim_id") == "EX-1003")
        .then(pl.lit("2025-13-40"))
        .otherwise(pl.col("dos_from").cast(pl.String))
        .alias("dos_from"),
        pl.when(pl.int_range(pl.len()) == 1)  # the 2nd line of EX-1001 says another sex
        .then(pl.lit("M"))
        .otherwise(pl.col("sex"))
        .alias("sex"),
    )
    cells_path = _flat(tmp_path, cells, "cells.parquet")
    garbage = tmp_path / "garbage.parquet"
    garbage.write_bytes(b"PAR1 not really")

    read = read_claims([str(unknown), str(no_id), str(cells_path), str(garbage)])
    reasons = {(r["src"], r["claim_id"]): r["reason"] for r in read.rejected.iter_rows(named=True)}
    assert reasons[(str(unknown), None)] == "file rejected: unknown column(s) hcpc"
    assert reasons[(str(no_id), None)] == "file rejected: no claim_id column"
    assert reasons[(str(garbage), None)].startswith("not a readable Parquet file")
    by_claim = {k[1]: v for k, v in reasons.items() if k[1]}
    assert by_claim["EX-1003"] == "row 4, column dos_from: 2025-13-40 is not a date (YYYY-MM-DD)"
    assert by_claim["EX-1001"].startswith("row 2, column sex: differs from the claim's earlier")
    rejected_claims = read.rejected.filter(pl.col("claim_id").is_not_null())
    assert set(rejected_claims["json_path"]) == {"claims[0].lines[0]", "claims[2].lines[0]"}
    assert read.claims.height == 12  # every other claim of cells.parquet is read


def test_check_writes_the_csv_findings_as_a_typed_parquet_table(tmp_path: Path) -> None:
    example = str(EXAMPLES / "immunosuppressants.json")
    out = tmp_path / "findings.parquet"
    as_parquet = CliRunner().invoke(cli, ["check", example, "-o", str(out)])
    as_csv = CliRunner().invoke(cli, ["check", example, "--format", "csv"])
    assert as_parquet.exit_code == as_csv.exit_code == 1

    table = pl.read_parquet(out)
    rows = list(csv.DictReader(io.StringIO(as_csv.output)))
    assert table.height == len(rows) > 0
    for row, record in zip(table.iter_rows(named=True), rows, strict=True):
        assert (row["claim_id"], row["rule"], row["message"]) == (
            record["claim_id"],
            record["rule"],
            record["message"],
        )
        assert row["line"] == (int(record["line"]) if record["line"] else None)
        assert ";".join(row["rarc"]) == record["rarc"]
        assert (json.loads(row["fix"]) if row["fix"] else None) == (
            json.loads(record["fix"]) if record["fix"] else None
        )
