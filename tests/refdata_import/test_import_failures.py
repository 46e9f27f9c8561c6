"""Broken inputs fail with the file and line named, and nothing is written or changed."""

from __future__ import annotations

import gzip

import pytest
from official_helpers import OFFICIAL, tree_bytes

from claimscrub.refdata.importer import ImportFailed, import_files
from claimscrub.refdata.official import parse_file

TXT = "HCPC2020_ANWEB_w_disclaimer.txt"
PRICING = "asp_pricing.csv"


# the HCPCS fixture is UTF-8 text, the ASP CSV the CMS original in Windows-1252 (CRLF)
ENCODING = {TXT: "utf-8", PRICING: "cp1252"}


def lines_of(name: str) -> list[str]:
    return (
        gzip.decompress((OFFICIAL / f"{name}.gz").read_bytes()).decode(ENCODING[name]).split("\n")
    )


def write(folder, name, lines):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes("\n".join(lines).encode(ENCODING[name]))
    return path


def test_truncated_record_names_the_line(tmp_path):
    lines = lines_of(TXT)
    j7504 = next(i for i, line in enumerate(lines) if line.startswith("J7504001003"))
    lines[j7504] = lines[j7504][:150]
    with pytest.raises(ImportFailed) as err:
        parse_file(write(tmp_path, TXT, lines))
    assert str(err.value).startswith(f"{TXT}: line {j7504 + 1}: record is truncated")


def test_bad_date_names_line_and_field(tmp_path):
    lines = lines_of(TXT)
    i = next(i for i, line in enumerate(lines) if line.startswith("J7525001003"))
    lines[i] = lines[i][:268] + "19881399" + lines[i][276:]  # ADD DT, columns 269-276
    with pytest.raises(ImportFailed) as err:
        parse_file(write(tmp_path, TXT, lines))
    assert str(err.value) == f"{TXT}: line {i + 1}: ADD DT: '19881399' is not a date (YYYYMMDD)"


def test_continuation_without_its_record_names_the_line(tmp_path):
    lines = lines_of(TXT)
    i = next(i for i, line in enumerate(lines) if line.startswith("G0503002004"))
    lines[i] = "G0504" + lines[i][5:]
    with pytest.raises(ImportFailed, match=rf"line {i + 1}: RECID: continuation line of G0504"):
        parse_file(write(tmp_path, TXT, lines))


def test_duplicate_code_names_the_second_line(tmp_path):
    lines = lines_of(TXT)
    i = next(i for i, line in enumerate(lines) if line.startswith("J7504001003"))
    lines.insert(i + 1, lines[i])
    with pytest.raises(
        ImportFailed, match=rf"line {i + 2}: duplicate record \(hcpcs_code='J7504'\)"
    ):
        parse_file(write(tmp_path, TXT, lines))


def test_unknown_layout(tmp_path):
    path = tmp_path / "claims.csv"
    path.write_text("claim_id,amount\nC1,10\n", encoding="utf-8")
    with pytest.raises(ImportFailed, match=r"^claims\.csv: line 1: unknown layout"):
        parse_file(path)


def test_missing_column_names_the_header_line(tmp_path):
    lines = lines_of(PRICING)
    header = next(i for i, line in enumerate(lines) if line.startswith("HCPCS Code,"))
    lines[header] = lines[header].replace("Payment Limit", "Limit")
    with pytest.raises(
        ImportFailed, match=rf"line {header + 1}: header row lacks column\(s\) payment_limit"
    ):
        parse_file(write(tmp_path, PRICING, lines))


def test_bad_number_in_pricing_names_line_and_field(tmp_path):
    lines = lines_of(PRICING)
    i = next(i for i, line in enumerate(lines) if line.startswith("J7504,"))
    lines[i] = (
        "J7504,Lymphocyte immune globulin,250 MG,51x5.090,11.283,,,,,,"
        "Inflation-adjusted coinsurance\r"
    )
    with pytest.raises(ImportFailed) as err:
        parse_file(write(tmp_path, PRICING, lines))
    assert (
        str(err.value)
        == f"{PRICING}: line {i + 1}: Payment Limit: '51x5.090' is not a payment limit"
    )


def test_broken_file_leaves_existing_release_byte_identical(official, tmp_path):
    store = tmp_path / "store"
    import_files([official(PRICING)], root=store)
    before = tree_bytes(store)
    assert "asp/2025-Q4/data.parquet" in before

    # the same release again, from a broken copy; and a good HCPCS file in the same call
    lines = lines_of(PRICING)
    i = next(i for i, line in enumerate(lines) if line.startswith("J7525,"))
    lines[i] = "J7525,Tacrolimus injection,5 MG,not-a-number,20.000,,,,,,\r"
    broken = write(tmp_path / "broken", PRICING, lines)
    with pytest.raises(ImportFailed, match=rf"{PRICING}: line {i + 1}: Payment Limit"):
        import_files([official(TXT), broken], root=store)

    assert tree_bytes(store) == before  # old release untouched, no HCPCS release written
    assert not (store / "hcpcs").exists()


def test_every_bad_file_is_reported(tmp_path):
    one = tmp_path / "one.csv"
    one.write_text("a,b\n1,2\n", encoding="utf-8")
    two = tmp_path / "two.txt"
    two.write_text("", encoding="utf-8")
    with pytest.raises(ImportFailed) as err:
        import_files([one, two], root=tmp_path / "store")
    assert "one.csv: line 1: unknown layout" in str(err.value)
    assert "two.txt: the file is empty" in str(err.value)
    assert not (tmp_path / "store").exists()
