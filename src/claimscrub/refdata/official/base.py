"""What every official-file reader shares: the error, the parsed result, text helpers.

A reader turns one file a user downloaded from CMS into a :class:`ParsedFile`: the
*raw canonical frame* of its dataset (all-String columns named exactly as the header
of the matching CSV in ``shared/refdata/``; trimmed, empty = null, ISO dates,
descriptions whitespace-collapsed) plus the release it belongs to and where each row
came from (``lines``: the 1-based physical line, or spreadsheet row, of every frame
row), so that a later error about a row can still name the line of the file.

Any problem with the file raises :class:`ImportFailed`, whose message names the file,
the line and, where there is one, the field.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl


class ImportFailed(Exception):
    """An official file that cannot be imported; the message names file, line and field."""

    def __init__(
        self,
        message: str,
        *,
        path: Path | str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        """Build the message from its parts: ``FILE: line N: FIELD: problem``."""
        parts = [str(Path(path).name) if path is not None else None]
        parts.append(f"line {line}" if line is not None else None)
        parts.append(field)
        prefix = ": ".join(p for p in parts if p)
        super().__init__(f"{prefix}: {message}" if prefix else message)
        self.path = Path(path) if path is not None else None
        self.line = line
        self.field = field


@dataclass
class ParsedFile:
    """One official file read into the raw canonical frame of its dataset."""

    path: Path
    kind: str  # reader name, e.g. "hcpcs_txt"
    dataset: str  # store dataset: hcpcs, ndc_hcpcs, asp, mue
    release: str  # release id in the store's format (2026-01, 2025-Q4, 2024-07-01)
    effective_from: dt.date
    effective_to: dt.date | None
    raw: pl.DataFrame
    lines: list[int]  # source line (or sheet row) of every raw row, same order
    sha256: str
    title: str
    notes: list[str] = field(default_factory=list)
    part: str | None = None  # e.g. the MUE service type; several parts make one release


# ----------------------------------------------------------------------------- bytes/text


def sha256_of(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def decode_text(data: bytes) -> str:
    """Decode a CMS text file: UTF-8 when it is valid UTF-8 (BOM dropped), else Windows-1252.

    CMS publishes its text and CSV files in Windows-1252; a user's re-saved copy may be
    UTF-8. Windows-1252 leaves five bytes undefined; they decode as themselves (latin-1)
    rather than failing, because they only ever occur inside descriptive text.
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return (
            data.decode("cp1252", errors="strict") if _is_cp1252(data) else data.decode("latin-1")
        )


def _is_cp1252(data: bytes) -> bool:
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return False
    return True


_WS = re.compile(r"\s+")


def clean_cell(value: object) -> str | None:
    """One cell as canonical text: non-breaking spaces are spaces, runs of whitespace one
    space, trimmed, empty -> None. Line breaks inside a cell become ``"; "`` (CMS wraps
    multi-part notes, e.g. two price statements in one ASP note)."""
    if value is None:
        return None
    text = str(value).replace("\u00a0", " ")
    text = "; ".join(part.strip() for part in re.split(r"\r\n|\r|\n", text) if part.strip())
    text = _WS.sub(" ", text).strip()
    return text or None


# ----------------------------------------------------------------------------- codes

# Level II HCPCS: a letter and four digits. CPT (digits first, AMA) and CDT (D-codes, ADA)
# are not CMS content; the bundled tables drop them (PROVENANCE.md), and so does import.
LEVEL2_CODE = r"^[A-CE-Z][0-9]{4}$"
CPT_OR_CDT = r"^(?:[0-9]{4}[0-9A-Z]|D[0-9]{4})$"


def drop_cpt_cdt(
    raw: pl.DataFrame, lines: list[int], column: str = "hcpcs_code"
) -> tuple[pl.DataFrame, list[int], int]:
    """Remove CPT/CDT rows (copyrighted code sets): the frame, its lines, how many went."""
    keep = ~raw.get_column(column).str.contains(CPT_OR_CDT).fill_null(False)
    dropped = int((~keep).sum())
    if not dropped:
        return raw, lines, 0
    kept_lines = [line for line, k in zip(lines, keep.to_list(), strict=True) if k]
    return raw.filter(keep), kept_lines, dropped


def first_bad(mask: pl.Series) -> int | None:
    """Index of the first True in ``mask`` (nulls count as False), or None."""
    mask = mask.fill_null(False)
    if not mask.any():
        return None
    return int(mask.arg_max() or 0)


def check_duplicates(raw: pl.DataFrame, lines: list[int], keys: list[str], path: Path) -> None:
    """Raise naming the line of the first repeat of a key (the second occurrence)."""
    if raw.is_empty():
        return
    occurrence = raw.select(pl.int_range(pl.len()).over(keys)).to_series()
    row = first_bad(occurrence > 0)
    if row is None:
        return
    key = ", ".join(f"{k}={raw.get_column(k)[row]!r}" for k in keys)
    raise ImportFailed(f"duplicate record ({key})", path=path, line=lines[row])


# ----------------------------------------------------------------------------- dates

_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})


def month_number(name: str) -> int | None:
    """``"October"``/``"Oct"``/``"OCT"`` -> 10."""
    return _MONTHS.get(name.strip().lower())


def quarter_of(day: dt.date) -> str:
    """``2025-10-01`` -> ``"2025-Q4"`` (the store's release id for quarterly datasets)."""
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def quarter_bounds(release: str) -> tuple[dt.date, dt.date]:
    """``"2025-Q4"`` -> (2025-10-01, 2025-12-31)."""
    m = re.fullmatch(r"(\d{4})-Q([1-4])", release)
    if not m:
        raise ValueError(f"not a quarterly release id (YYYY-Qn): {release!r}")
    year, q = int(m.group(1)), int(m.group(2))
    start = dt.date(year, 3 * q - 2, 1)
    end_month = 3 * q
    return start, dt.date(year, end_month, calendar.monthrange(year, end_month)[1])


def release_window(dataset: str, release: str) -> tuple[dt.date, dt.date | None]:
    """Effective window implied by a release id of ``dataset`` (raises ValueError if malformed).

    ``hcpcs`` ``YYYY-MM`` -> from the first of the month, open-ended; ``asp`` /
    ``ndc_hcpcs`` ``YYYY-Qn`` -> the calendar quarter; ``mue`` ``YYYY-MM-DD`` -> from that
    day, open-ended (until the next release is imported).
    """
    if dataset == "hcpcs":
        m = re.fullmatch(r"(\d{4})-(0[1-9]|1[0-2])", release)
        if not m:
            raise ValueError(f"hcpcs release ids are YYYY-MM, not {release!r}")
        return dt.date(int(m.group(1)), int(m.group(2)), 1), None
    if dataset in ("asp", "ndc_hcpcs"):
        return quarter_bounds(release)
    if dataset == "mue":
        try:
            return dt.date.fromisoformat(release), None
        except ValueError:
            raise ValueError(f"mue release ids are YYYY-MM-DD, not {release!r}") from None
    raise ValueError(f"unknown dataset {dataset!r}")
