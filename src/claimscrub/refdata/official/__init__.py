"""Readers of the official CMS files a user downloads, one module per file kind.

=================  ============================================  ==========  ===========
kind               file                                          dataset     release id
=================  ============================================  ==========  ===========
``hcpcs_txt``      HCPCS Alpha-Numeric fixed-width text          hcpcs       ``YYYY-MM``
``hcpcs_sheet``    HCPCS Alpha-Numeric .xlsx / .xls              hcpcs       ``YYYY-MM``
``asp_crosswalk``  ASP NDC-HCPCS crosswalk CSV / .xlsx           ndc_hcpcs   ``YYYY-Qn``
``asp_pricing``    ASP pricing file CSV / .xlsx                  asp         ``YYYY-Qn``
``mue``            NCCI MUE table CSV / .xlsx (one service type)  mue         ``YYYY-MM-DD``
=================  ============================================  ==========  ===========

:func:`parse_file` recognises the kind from the content — the fixed-width record shape,
or the column names of the header row under the banner — never from the name alone, and
returns a :class:`ParsedFile` whose ``raw`` frame is what
``claimscrub.refdata.sources.<dataset>.build`` takes. Every problem is an
:class:`ImportFailed` naming the file and line.
"""

from __future__ import annotations

from pathlib import Path

from claimscrub.refdata.official import asp_crosswalk, asp_pricing, hcpcs_sheet, hcpcs_txt, mue
from claimscrub.refdata.official.base import ImportFailed, ParsedFile, decode_text
from claimscrub.refdata.official.tables import closest_header, file_format, read_rows

__all__ = ["KINDS", "ImportFailed", "ParsedFile", "parse_file"]

# Table kinds in the order their headers are tried (the crosswalk before pricing: both
# have a code and a short description, only the crosswalk has NDC2 / PKG columns).
_TABLE_READERS = (hcpcs_sheet, asp_crosswalk, asp_pricing, mue)
KINDS = (hcpcs_txt.KIND, *(reader.KIND for reader in _TABLE_READERS))


def parse_file(path: str | Path) -> ParsedFile:
    """Read one official file (any supported kind) into its raw canonical frame."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFailed(f"cannot read the file ({exc.strerror or exc})", path=path) from None
    if not data.strip():
        raise ImportFailed("the file is empty", path=path)
    if file_format(path, data) == "text" and hcpcs_txt.sniff(decode_text(data[:200_000])):
        return hcpcs_txt.parse(path, data)
    rows = read_rows(path, data)
    for reader in _TABLE_READERS:
        head = reader.header(rows)
        if head is not None:
            return reader.parse(path, data, rows, head)
    partial = [
        (found, reader)
        for reader in _TABLE_READERS
        if (found := closest_header(rows, reader.ALIASES, reader.REQUIRED)) is not None
    ]
    if partial:
        (line, missing), reader = min(partial, key=lambda p: len(p[0][1]))
        raise ImportFailed(
            f"header row lacks column(s) {', '.join(missing)} of a {reader.KIND} table",
            path=path,
            line=line,
        )
    raise ImportFailed(
        "unknown layout: not an HCPCS Alpha-Numeric file (320-character records or a sheet with "
        "HCPC / LONG DESCRIPTION columns), an ASP pricing or NDC-HCPCS crosswalk table, or an MUE "
        "table (no known header row in the first 60 rows)",
        path=path,
        line=rows[0][0] if rows else None,
    )
