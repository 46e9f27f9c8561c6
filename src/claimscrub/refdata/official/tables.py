"""Rows of a CMS table file (CSV, .xlsx, .xls) with a banner above its header.

CMS tables open with a title, notes and blank rows before the real header (the ASP
files have eight, the MUE tables a paragraph of notice text). :func:`read_rows` gives
every non-empty row with its 1-based line (CSV: the physical line where the row starts,
so a note with an embedded line break does not shift later numbers; spreadsheet: the
sheet row). :func:`locate_header` finds the header by the column names a reader needs,
and :func:`table_frame` maps the columns below it onto raw-frame names.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from claimscrub.refdata.official.base import ImportFailed, clean_cell, decode_text

Row = tuple[int, list[str | None]]


def header_key(name: object) -> str:
    """A header cell reduced for matching: upper case, letters/digits/% only."""
    return re.sub(r"[^A-Z0-9%]", "", str(name or "").upper())


def file_format(path: Path, data: bytes) -> str:
    """``"xlsx"``, ``"xls"`` or ``"text"`` from the bytes (not the name)."""
    if data[:4] == b"PK\x03\x04" and _is_xlsx(data):
        return "xlsx"
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":  # OLE2 compound file (BIFF .xls)
        return "xls"
    return "text"


def _is_xlsx(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return "xl/workbook.xml" in z.namelist()
    except zipfile.BadZipFile:
        return False


def _cell_text(value: object) -> str | None:
    """A spreadsheet value as text: whole floats without ``.0``, dates as ``YYYYMMDD``."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.strftime("%Y%m%d")
    return str(value)


def read_rows(path: Path, data: bytes, *, max_rows: int | None = None) -> list[Row]:
    """Every row that has at least one non-blank cell, with its line / sheet row."""
    kind = file_format(path, data)
    if kind == "xlsx":
        return _xlsx_rows(path, data, max_rows)
    if kind == "xls":
        return _xls_rows(path, data, max_rows)
    return _csv_rows(path, decode_text(data), max_rows)


def _keep(cells: list[str | None]) -> bool:
    return any(c is not None and c.strip() for c in cells)


def _csv_rows(path: Path, text: str, max_rows: int | None) -> list[Row]:
    rows: list[Row] = []
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    start = 1
    try:
        for cells in reader:
            if _keep(cells):  # type: ignore[arg-type]
                rows.append((start, list(cells)))
                if max_rows is not None and len(rows) >= max_rows:
                    break
            start = reader.line_num + 1
    except csv.Error as exc:
        raise ImportFailed(f"not a readable CSV ({exc})", path=path, line=reader.line_num) from None
    return rows


def _xlsx_rows(path: Path, data: bytes, max_rows: int | None) -> list[Row]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged workbook
        raise ImportFailed(f"not a readable .xlsx workbook ({exc})", path=path) from None
    try:
        sheet = book.worksheets[0]
        rows: list[Row] = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [_cell_text(v) for v in values]
            if _keep(cells):
                rows.append((number, cells))
                if max_rows is not None and len(rows) >= max_rows:
                    break
        return rows
    finally:
        book.close()


def _xls_rows(path: Path, data: bytes, max_rows: int | None) -> list[Row]:
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=data)
    except Exception as exc:  # xlrd raises several types for a damaged workbook
        raise ImportFailed(f"not a readable .xls workbook ({exc})", path=path) from None
    sheet = book.sheet_by_index(0)
    rows: list[Row] = []
    for r in range(sheet.nrows):
        cells: list[str | None] = []
        for c in range(sheet.ncols):
            cell = sheet.cell(r, c)
            if cell.ctype == xlrd.XL_CELL_DATE:
                cells.append(
                    xlrd.xldate.xldate_as_datetime(cell.value, book.datemode).strftime("%Y%m%d")
                )
            elif cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                cells.append(None)
            else:
                cells.append(_cell_text(cell.value))
        if _keep(cells):
            rows.append((r + 1, cells))
            if max_rows is not None and len(rows) >= max_rows:
                break
    return rows


@dataclass(frozen=True)
class Header:
    """Where the header is and which raw column each of its cells feeds."""

    index: int  # position in the row list
    line: int
    columns: dict[int, str]  # cell position -> raw column
    cells: list[str | None]


def locate_header(
    rows: Sequence[Row],
    aliases: Mapping[str, str | Callable[[str], bool]],
    required: Sequence[str],
    *,
    search: int = 60,
) -> Header | None:
    """The first row (within ``search`` rows) whose cells name every ``required`` column.

    ``aliases`` maps a reduced header cell (:func:`header_key`) to a raw column, or a
    raw column to a predicate over the reduced cell (for names that vary, such as
    ``_2025_CODE``).
    """
    for index, (line, cells) in enumerate(rows[:search]):
        columns: dict[int, str] = {}
        for pos, cell in enumerate(cells):
            key = header_key(cell)
            if not key:
                continue
            target = aliases.get(key)
            if isinstance(target, str):
                columns.setdefault(pos, target)
                continue
            for column, test in aliases.items():
                if callable(test) and test(key) and column not in columns.values():
                    columns[pos] = column
                    break
        if set(required) <= set(columns.values()):
            return Header(index, line, columns, list(cells))
    return None


def table_frame(rows: Sequence[Row], header: Header, path: Path) -> tuple[pl.DataFrame, list[int]]:
    """The rows below ``header`` as raw text columns (cleaned cells) plus their lines.

    A value in a column that has no header name is an error: it means the layout is not
    the one this reader knows (CMS pads the crosswalk with empty columns; those are fine).
    """
    width = len(header.cells)
    names = sorted(header.columns.items())
    data: dict[str, list[str | None]] = {column: [] for _pos, column in names}
    lines: list[int] = []
    for line, cells in rows[header.index + 1 :]:
        for pos, value in enumerate(cells):
            if pos not in header.columns and value is not None and value.strip():
                where = (
                    f"column {pos + 1}"
                    if pos >= width
                    else f"column {pos + 1} ({header.cells[pos]!r})"
                )
                raise ImportFailed(f"unexpected value {value!r} in {where}", path=path, line=line)
        for pos, column in names:
            data[column].append(clean_cell(cells[pos]) if pos < len(cells) else None)
        lines.append(line)
    frame = pl.DataFrame(data, schema={column: pl.String for _pos, column in names})
    return frame, lines


def banner_text(rows: Sequence[Row], header: Header) -> str:
    """The title/notes rows above the header, one line each (for release detection)."""
    return "\n".join(
        " ".join(c.strip() for c in cells if c and c.strip())
        for _line, cells in rows[: header.index]
    )


def require_values(
    frame: pl.DataFrame,
    lines: list[int],
    path: Path,
    column: str,
    field: str,
    pattern: str,
    what: str,
) -> None:
    """Every value of ``column`` must match ``pattern`` (nulls fail too)."""
    ok = frame.get_column(column).str.contains(pattern).fill_null(False)
    if not ok.all():
        row = int((~ok).arg_max() or 0)
        value = frame.get_column(column)[row]
        raise ImportFailed(f"{value!r} is not {what}", path=path, line=lines[row], field=field)


def optional_values(
    frame: pl.DataFrame,
    lines: list[int],
    path: Path,
    column: str,
    field: str,
    pattern: str,
    what: str,
) -> None:
    """Every non-null value of ``column`` must match ``pattern``."""
    values = frame.get_column(column)
    bad = values.is_not_null() & ~values.str.contains(pattern).fill_null(False)
    if bad.any():
        row = int(bad.arg_max() or 0)
        raise ImportFailed(
            f"{values[row]!r} is not {what}", path=path, line=lines[row], field=field
        )


NUMBER = r"^-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$"


def closest_header(
    rows: Sequence[Row],
    aliases: Mapping[str, str | Callable[[str], bool]],
    required: Sequence[str],
    *,
    search: int = 60,
) -> tuple[int, list[str]] | None:
    """(line, missing raw columns) of the row naming most ``required`` columns (two or more)."""
    best: tuple[int, list[str]] | None = None
    best_found = 1
    for line, cells in rows[:search]:
        head = locate_header([(line, cells)], aliases, ())
        found = set(head.columns.values()) & set(required) if head else set()
        if len(found) > best_found:
            best_found = len(found)
            best = (line, [c for c in required if c not in found])
    return best
