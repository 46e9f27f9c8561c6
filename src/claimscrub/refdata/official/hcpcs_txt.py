"""Reader of the CMS HCPCS Alpha-Numeric fixed-width text file (``HCPC<year>…ANWEB….txt``).

The file: optional free-text lines at the top (CMS prepends a coverage/payment
disclaimer to some years, e.g. ``HCPC2020_ANWEB_w_disclaimer.txt``), then one
320-character record per line at the positions of
:data:`~claimscrub.refdata.official.hcpcs_layout.LAYOUT`. A long descriptor longer than
80 characters continues on RECID 4 (procedure) / 8 (modifier) lines that carry only
HCPC, SEQNUM, RECID and the next 80 characters of text; they are joined to the first
line with single spaces and the result whitespace-collapsed.

Checked, each failure naming the line: record length (a first line must reach ACTION CD,
column 293, and no line may exceed 320), RECID, code shape, SEQNUM digits, that a
continuation line follows a record of the same code and kind, the five date fields
(``YYYYMMDD``), anesthesia base units (digits), and duplicate codes.

The release comes from the file name (``HCPC2026_JAN…`` -> ``2026-01``; ``HCPC2020_ANWEB``,
the annual file -> ``2020-01``), else from the heading text (``2020 HCPCS``), else from
the newest action effective date in the records.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import polars as pl

from claimscrub.refdata.official.base import (
    ImportFailed,
    ParsedFile,
    check_duplicates,
    decode_text,
    first_bad,
    month_number,
    sha256_of,
)
from claimscrub.refdata.official.hcpcs_layout import (
    CONTINUATION_RIC,
    DATE_FIELDS,
    DIGITS,
    LAST_FIELD_END,
    LAYOUT,
    MODIFIER_CODE,
    PROCEDURE_CODE,
    RECORD_LENGTH,
    describe,
)

KIND = "hcpcs_txt"
# A first-line record: HCPC (5, modifiers right-aligned), SEQNUM (5 digits), RECID 3 or 7.
_FIRST_RECORD = re.compile(r"^[ A-Z0-9]{3}[A-Z0-9]{2}[0-9]{5}[37]")
_HEAD_LINES = 200  # free text allowed before the first record


def split_lines(text: str) -> list[str]:
    """Physical lines (CRLF, LF or CR), without a trailing empty line after the last break."""
    lines = re.split(r"\r\n|\n|\r", text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def first_record_index(lines: list[str]) -> int | None:
    """Index of the first line that is a 320-byte first-line record, within the head."""
    for i, line in enumerate(lines[:_HEAD_LINES]):
        if _FIRST_RECORD.match(line) and len(line.rstrip()) >= LAST_FIELD_END:
            return i
    return None


def sniff(head: str) -> bool:
    """Whether ``head`` (the start of a decoded file) is this layout."""
    return first_record_index(split_lines(head)) is not None


def parse(path: Path, data: bytes) -> ParsedFile:
    """Read one HCPCS fixed-width file into the raw canonical frame (raises ImportFailed)."""
    text = decode_text(data).replace("\u00a0", " ")
    lines = split_lines(text)
    start = first_record_index(lines)
    if start is None:
        raise ImportFailed(
            "no HCPCS record found (expected 320-character lines: HCPC, SEQNUM, RECID 3 or 7)",
            path=path,
        )
    heading = "\n".join(lines[:start])
    frame = pl.DataFrame(
        {"line": pl.int_range(start + 1, len(lines) + 1, eager=True), "text": lines[start:]},
        schema={"line": pl.Int64, "text": pl.String},
    ).filter(pl.col("text").str.strip_chars() != "")
    frame = _fields(frame)
    _validate(frame, path)
    merged = _merge_continuations(frame)
    raw = describe(merged)
    line_numbers = merged.get_column("line").to_list()
    check_duplicates(raw, line_numbers, ["hcpcs_code"], path)
    release, effective_from, how = _release(path, heading, raw)
    title = f"HCPCS Level II Alpha-Numeric file, {effective_from:%B %Y} ({path.name})"
    return ParsedFile(
        path=path,
        kind=KIND,
        dataset="hcpcs",
        release=release,
        effective_from=effective_from,
        effective_to=None,
        raw=raw,
        lines=line_numbers,
        sha256=sha256_of(data),
        title=title,
        notes=[
            f"Fixed-width TXT, {raw.height} records "
            f"({(raw['record_type'] == 'procedure').sum()} procedure, "
            f"{(raw['record_type'] == 'modifier').sum()} modifier); release {how}."
        ],
    )


def _fields(frame: pl.DataFrame) -> pl.DataFrame:
    """Slice every layout field (trimmed, empty -> null) next to the raw line."""
    sliced = [
        pl.col("text").str.slice(start - 1, width).str.strip_chars().replace("", None).alias(name)
        for name, _cms, start, width in LAYOUT
        if name != "long_description"
    ]
    return frame.with_columns(
        *sliced,
        # the description is kept untrimmed here: continuation lines are joined first
        pl.col("text").str.slice(11, 80).alias("long_description"),
        pl.col("text").str.len_chars().alias("_length"),
        pl.col("text").str.strip_chars_end().str.len_chars().alias("_used"),
    )


def _fail(
    frame: pl.DataFrame, mask: pl.Series, path: Path, field: str | None, message: str
) -> None:
    row = first_bad(mask)
    if row is not None:
        values = frame.row(row, named=True)
        raise ImportFailed(message.format(**values), path=path, line=values["line"], field=field)


def _validate(frame: pl.DataFrame, path: Path) -> None:
    ric = frame.get_column("rec_id")
    first = ric.is_in(["3", "7"])
    _fail(
        frame,
        frame["_length"] > RECORD_LENGTH,
        path,
        None,
        "record is {_length} characters long; the HCPCS layout has 320",
    )
    _fail(
        frame,
        ~ric.is_in(["3", "4", "7", "8"]).fill_null(False),
        path,
        "RECID",
        "{rec_id!r} is not a record identification code (3, 4, 7 or 8): not an HCPCS record",
    )
    _fail(
        frame,
        first & (frame["_used"] < LAST_FIELD_END),
        path,
        None,
        "record is truncated: {_used} characters, a first-line record runs to column 293 "
        "(ACTION CD)",
    )
    _fail(
        frame,
        ~frame["seq_num"].str.contains(r"^[0-9]{5}$").fill_null(False),
        path,
        "SEQNUM",
        "{seq_num!r} is not a 5-digit sequence number",
    )
    code = frame.get_column("hcpcs_code").fill_null("")
    procedure = ric.is_in(["3", "4"])
    bad_code = (procedure & ~code.str.contains(PROCEDURE_CODE)) | (
        ~procedure & ~code.str.contains(MODIFIER_CODE)
    )
    _fail(
        frame,
        bad_code,
        path,
        "HCPC",
        "{hcpcs_code!r} is not a 5-character procedure code or 2-character modifier",
    )
    # continuation lines: same code and matching kind as the record they continue
    group = first.cast(pl.Int32).cum_sum()
    lead = frame.select(
        pl.col("hcpcs_code").first().over(group).alias("lead_code"),
        pl.col("rec_id").first().over(group).alias("lead_ric"),
    )
    expected = lead["lead_ric"].replace_strict(CONTINUATION_RIC, default=None)
    orphan = ~first & ((lead["lead_code"] != frame["hcpcs_code"]) | (expected != ric)).fill_null(
        True
    )
    _fail(
        frame.with_columns(lead),
        orphan,
        path,
        "RECID",
        "continuation line of {hcpcs_code} (RECID {rec_id}) does not follow a record of that code "
        "(previous record {lead_code}, RECID {lead_ric})",
    )
    for name in DATE_FIELDS:
        cms = next(c for n, c, *_ in LAYOUT if n == name)
        value = frame.get_column(name)
        parsed = frame.select(pl.col(name).str.to_date("%Y%m%d", strict=False)).to_series()
        bad = first & value.is_not_null() & (~value.str.contains(r"^[0-9]{8}$") | parsed.is_null())
        _fail(frame, bad, path, cms, "{" + name + "!r} is not a date (YYYYMMDD)")
    bad_units = first & ~frame["anesthesia_base_units"].str.contains(DIGITS).fill_null(True)
    _fail(frame, bad_units, path, "ANEST_BU", "{anesthesia_base_units!r} is not a whole number")


def _merge_continuations(frame: pl.DataFrame) -> pl.DataFrame:
    """One row per record: the first line's fields, the descriptor joined over its lines."""
    first = pl.col("rec_id").is_in(["3", "7"])
    frame = frame.with_columns(first.cast(pl.Int32).cum_sum().alias("_record"))
    descriptors = frame.group_by("_record", maintain_order=True).agg(
        pl.col("long_description").str.strip_chars().str.join(" ").alias("long_description")
    )
    heads = frame.filter(first).drop("long_description")
    return heads.join(descriptors, on="_record", how="left", maintain_order="left")


def _release(path: Path, heading: str, raw: pl.DataFrame) -> tuple[str, dt.date, str]:
    """(release id, effective from, how it was found)."""
    m = re.search(r"HCPC(\d{4})(?:[_ -]?(JAN|APR|JUL|OCT)[A-Z]*)?", path.name, re.IGNORECASE)
    if m:
        month = month_number(m.group(2)) if m.group(2) else 1
        assert month is not None
        day = dt.date(int(m.group(1)), month, 1)
        return f"{day:%Y-%m}", day, f"from the file name {path.name!r}"
    m = re.search(r"\b((?:19|20)\d{2})\s+HCPCS\b", heading)
    if m:
        day = dt.date(int(m.group(1)), 1, 1)
        return f"{day:%Y-%m}", day, f"from the heading ({m.group(0)!r})"
    newest = raw.get_column("action_eff_date").drop_nulls().max()
    if newest is None:
        raise ImportFailed("cannot tell the release (name it with --release YYYY-MM)", path=path)
    day = dt.date.fromisoformat(str(newest)).replace(day=1)
    return f"{day:%Y-%m}", day, f"from the newest action effective date ({newest})"
