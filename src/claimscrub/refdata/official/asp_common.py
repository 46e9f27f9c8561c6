"""What the two quarterly ASP files share: the effective window printed in their banner,
and how a parsed, validated ASP table becomes a dated release."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

import polars as pl

from claimscrub.refdata.official.base import (
    ImportFailed,
    ParsedFile,
    month_number,
    quarter_bounds,
    quarter_of,
    sha256_of,
)
from claimscrub.refdata.official.tables import Header, Row, banner_text

_WINDOW = re.compile(
    r"effective\s+([A-Za-z]+)\.?\s+(\d{1,2}),?\s+(\d{4})\s+(?:through|thru|to|-|–)\s+"
    r"([A-Za-z]+)\.?\s+(\d{1,2}),?\s+(\d{4})",
    re.IGNORECASE,
)
_NAMED_QUARTER = re.compile(
    r"(January|April|July|October|Jan|Apr|Jul|Oct)[ _-]?((?:19|20)\d{2})", re.IGNORECASE
)


def _date(month: str, day: str, year: str) -> dt.date | None:
    number = month_number(month)
    if number is None:
        return None
    try:
        return dt.date(int(year), number, int(day))
    except ValueError:
        return None


def asp_window(path: Path, banner: str) -> tuple[str, dt.date, dt.date, str]:
    """(release ``YYYY-Qn``, effective start, effective end, how it was found).

    From the banner ("Effective October 1, 2025 through December 31, 2025"), else from a
    month and year in the banner or file name ("October 2025" -> that calendar quarter).
    """
    m = _WINDOW.search(banner)
    if m:
        start, end = _date(*m.group(1, 2, 3)), _date(*m.group(4, 5, 6))
        if start is None or end is None or end < start:
            raise ImportFailed(
                f"the banner's effective dates cannot be read: {m.group(0)!r}", path=path
            )
        return quarter_of(start), start, end, f"from the banner ({m.group(0)!r})"
    for text, where in ((banner, "the banner"), (path.name, "the file name")):
        m = _NAMED_QUARTER.search(text)
        if m:
            number = month_number(m.group(1))
            assert number is not None
            release = quarter_of(dt.date(int(m.group(2)), number, 1))
            start, end = quarter_bounds(release)
            return release, start, end, f"from {where} ({m.group(0)!r})"
    raise ImportFailed(
        "cannot tell the quarter (no 'Effective … through …' line); name it with --release YYYY-Qn",
        path=path,
    )


def parsed_asp_file(
    *,
    path: Path,
    data: bytes,
    rows: list[Row],
    head: Header,
    frame: pl.DataFrame,
    lines: list[int],
    kind: str,
    dataset: str,
    title: str,
    notes: Callable[[pl.DataFrame, str], list[str]],
) -> ParsedFile:
    """A validated ASP table as a release: its window from the banner, dates added.

    ``title`` is completed with the window's month and the file name; ``notes`` gets the
    frame and how the quarter was found.
    """
    if frame.is_empty():
        raise ImportFailed("the table has no Level II rows", path=path, line=head.line)
    release, start, end, how = asp_window(path, banner_text(rows, head))
    frame = frame.with_columns(
        pl.lit(start.isoformat()).alias("effective_start"),
        pl.lit(end.isoformat()).alias("effective_end"),
    )
    return ParsedFile(
        path=path,
        kind=kind,
        dataset=dataset,
        release=release,
        effective_from=start,
        effective_to=end,
        raw=frame,
        lines=lines,
        sha256=sha256_of(data),
        title=f"{title}, {start:%B %Y} ({path.name})",
        notes=notes(frame, how),
    )
