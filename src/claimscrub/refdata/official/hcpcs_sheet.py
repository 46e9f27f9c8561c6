"""Reader of the CMS HCPCS Alpha-Numeric spreadsheet (``HCPC<year>…ANWEB….xlsx`` / ``.xls``).

The workbook CMS ships next to the fixed-width text: optional disclaimer rows, then a
header with the CMS field names of the record layout (``HCPC``, ``SEQNUM``, ``RECID``,
``LONG DESCRIPTION``, ``SHORT DESCRIPTION``, ``PRICE1`` … ``ACTION CD``). Usually one row
per code; a row with RECID 4/8 (CMS sometimes splits a very long descriptor over two rows)
continues the descriptor of the row above. Output: the same raw frame as the text reader
(:mod:`claimscrub.refdata.official.hcpcs_txt`), so either file of a release imports to
the same table. Numbers stored as numbers get their layout zero padding back (SEQNUM 5,
PRICE 2, PROCNOTE 4 digits); dates may be ``YYYYMMDD`` text, numbers or Excel dates.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from claimscrub.refdata.official.base import ImportFailed, ParsedFile, check_duplicates, sha256_of
from claimscrub.refdata.official.hcpcs_layout import (
    CONTINUATION_RIC,
    DATE_FIELDS,
    DIGITS,
    FIRST_LINE_RIC,
    LAYOUT,
    MODIFIER_CODE,
    PROCEDURE_CODE,
    cms_key,
    describe,
)
from claimscrub.refdata.official.hcpcs_txt import _release
from claimscrub.refdata.official.tables import Header, Row, banner_text, locate_header

KIND = "hcpcs_sheet"
ALIASES = {cms_key(cms): name for name, cms, *_ in LAYOUT} | {
    "LONGDESC": "long_description",
    "SHORTDESC": "short_description",
}
REQUIRED = ("hcpcs_code", "long_description", "short_description", "add_date")
_PAD = {
    "seq_num": 5,
    "price_ind_1": 2,
    "price_ind_2": 2,
    "price_ind_3": 2,
    "price_ind_4": 2,
    "processing_note": 4,
}
_CMS_NAME = {name: cms for name, cms, *_ in LAYOUT}


def header(rows: list[Row]) -> Header | None:
    """The header row, if these rows are an HCPCS Alpha-Numeric sheet."""
    return locate_header(rows, ALIASES, REQUIRED)


def parse(path: Path, data: bytes, rows: list[Row], head: Header) -> ParsedFile:
    """Read the sheet below ``head`` into the raw canonical frame (raises ImportFailed)."""
    names = {pos: column for pos, column in head.columns.items()}
    records: list[dict[str, str | None]] = []
    lines: list[int] = []
    for line, cells in rows[head.index + 1 :]:
        values: dict[str, str | None] = {}
        for pos, column in names.items():
            value = cells[pos] if pos < len(cells) else None
            value = value.replace("\u00a0", " ") if value is not None else None
            values[column] = (
                value
                if column == "long_description"
                else (value.strip() or None if value else None)
            )
        ric = values.get("rec_id")
        code = values.get("hcpcs_code")
        continues = ric in ("4", "8") or (
            ric is None
            and records
            and code == records[-1]["hcpcs_code"]
            and not values.get("add_date")
        )
        if continues:
            if (
                not records
                or records[-1]["hcpcs_code"] != code
                or (
                    ric is not None and CONTINUATION_RIC.get(records[-1].get("rec_id") or "") != ric
                )
            ):
                raise ImportFailed(
                    f"continuation row of {code} does not follow a row of that code",
                    path=path,
                    line=line,
                    field="RECID",
                )
            extra = (values.get("long_description") or "").strip()
            records[-1]["long_description"] = f"{records[-1]['long_description'] or ''} {extra}"
            continue
        records.append(values)
        lines.append(line)
    frame = (
        pl.DataFrame(records, schema={c: pl.String for c in names.values()}) if records else None
    )
    if frame is None:
        raise ImportFailed("the sheet has no rows below its header", path=path, line=head.line)
    missing = [name for name, *_ in LAYOUT if name not in frame.columns]
    frame = frame.with_columns(pl.lit(None, pl.String).alias(c) for c in missing)
    frame = frame.with_columns(
        pl.when(pl.col(c).str.contains(r"^[0-9]+$"))
        .then(pl.col(c).str.zfill(width))
        .otherwise(pl.col(c))
        .alias(c)
        for c, width in _PAD.items()
    )
    # a sheet without RECID: the code's length tells procedure (5) from modifier (2)
    frame = frame.with_columns(
        pl.col("rec_id").fill_null(
            pl.when(pl.col("hcpcs_code").str.len_chars() == 2)
            .then(pl.lit("7"))
            .otherwise(pl.lit("3"))
        )
    )
    _validate(frame, lines, path)
    raw = describe(frame)
    check_duplicates(raw, lines, ["hcpcs_code"], path)
    release, effective_from, how = _release(path, banner_text(rows, head), raw)
    return ParsedFile(
        path=path,
        kind=KIND,
        dataset="hcpcs",
        release=release,
        effective_from=effective_from,
        effective_to=None,
        raw=raw,
        lines=lines,
        sha256=sha256_of(data),
        title=f"HCPCS Level II Alpha-Numeric file, {effective_from:%B %Y} ({path.name})",
        notes=[f"Spreadsheet, {raw.height} records; release {how}."],
    )


def _check(
    frame: pl.DataFrame, lines: list[int], path: Path, column: str, bad: pl.Series, what: str
) -> None:
    bad = bad.fill_null(False)
    if bad.any():
        row = int(bad.arg_max() or 0)
        raise ImportFailed(
            f"{frame[column][row]!r} is not {what}",
            path=path,
            line=lines[row],
            field=_CMS_NAME[column],
        )


def _validate(frame: pl.DataFrame, lines: list[int], path: Path) -> None:
    ric = frame["rec_id"]
    _check(
        frame,
        lines,
        path,
        "rec_id",
        ~ric.is_in(list(FIRST_LINE_RIC)),
        "a first-line RECID (3 or 7)",
    )
    code = frame["hcpcs_code"].fill_null("")
    bad = ((ric == "3") & ~code.str.contains(PROCEDURE_CODE)) | (
        (ric == "7") & ~code.str.contains(MODIFIER_CODE)
    )
    _check(
        frame,
        lines,
        path,
        "hcpcs_code",
        bad,
        "a 5-character procedure code or 2-character modifier",
    )
    for name in DATE_FIELDS:
        value = frame[name]
        parsed = frame.select(pl.col(name).str.to_date("%Y%m%d", strict=False)).to_series()
        bad = value.is_not_null() & (~value.str.contains(r"^[0-9]{8}$") | parsed.is_null())
        _check(frame, lines, path, name, bad, "a date (YYYYMMDD)")
    _check(
        frame,
        lines,
        path,
        "anesthesia_base_units",
        ~frame["anesthesia_base_units"].str.contains(DIGITS),
        "a whole number",
    )
    _check(
        frame,
        lines,
        path,
        "seq_num",
        ~frame["seq_num"].str.contains(r"^[0-9]{5}$").fill_null(True),
        "a sequence number",
    )
