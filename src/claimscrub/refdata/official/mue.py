"""Reader of the CMS NCCI Medically Unlikely Edit tables (CSV or .xlsx).

CMS publishes three tables per quarter — practitioner services, outpatient hospital
services, DME supplier services — named like
``MCR_MUE_PractitionerServices_Eff_07-01-2024``. Each opens with a title and notice
text, then the header ``HCPCS/CPT Code, <Service type> MUE Values, MUE Adjudication
Indicator, MUE Rationale``. The service type is read from that header (else the title,
else the file name), the effective date from the file name (``Eff_07-01-2024``) or the
title ("effective 07/01/2024", "Effective July 1, 2024").

The raw frame is ``shared/refdata/ncci_mue_<yyyy>_q<n>_hcpcs_level2.csv``'s:
``service_type`` (practitioner / outpatient_hospital / dme_supplier), ``mue_value``,
``mai`` (the digit that starts the MAI text), ``mai_description`` (CMS's text),
``mue_rationale``, ``effective_date``; CPT/PLA and CDT rows dropped.

Checked: code shape, MUE value (a whole number), MAI text (starts 1, 2 or 3),
duplicate codes.
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
    drop_cpt_cdt,
    month_number,
    sha256_of,
)
from claimscrub.refdata.official.tables import (
    Header,
    Row,
    banner_text,
    locate_header,
    require_values,
    table_frame,
)

KIND = "mue"
DATASET = "mue"
SERVICE_TYPES = {  # reduced text -> service_type
    "PRACTITIONER": "practitioner",
    "OUTPATIENTHOSPITAL": "outpatient_hospital",
    "DMESUPPLIER": "dme_supplier",
}
ALIASES = {
    "HCPCSCPTCODE": "hcpcs_code",
    "HCPCSCODE": "hcpcs_code",
    "mue_value": lambda key: key.endswith(("MUEVALUES", "MUEVALUE")),
    "MUEADJUDICATIONINDICATOR": "mai_description",
    "MUERATIONALE": "mue_rationale",
}
REQUIRED = ("hcpcs_code", "mue_value", "mai_description")
COLUMNS = (
    "hcpcs_code",
    "service_type",
    "mue_value",
    "mai",
    "mai_description",
    "mue_rationale",
    "effective_date",
)


def header(rows: list[Row]) -> Header | None:
    """The header row, if these rows are an MUE table."""
    return locate_header(rows, ALIASES, REQUIRED)


def _service_type(path: Path, head: Header, banner: str) -> str:
    value_header = head.cells[next(p for p, c in head.columns.items() if c == "mue_value")] or ""
    for text in (value_header, banner, path.stem):
        key = re.sub(r"[^A-Z]", "", text.upper())
        found = [service for marker, service in SERVICE_TYPES.items() if marker in key]
        if len(found) == 1:
            return found[0]
    raise ImportFailed(
        "cannot tell the service type (practitioner, outpatient hospital or DME supplier) "
        "from the header, the title or the file name",
        path=path,
        line=head.line,
    )


def _effective_date(path: Path, banner: str) -> tuple[dt.date, str]:
    m = re.search(r"Eff(?:ective)?[_ -]?(\d{2})[-_](\d{2})[-_](\d{4})", path.name, re.IGNORECASE)
    candidates = []
    if m:
        candidates.append(
            ((m.group(3), m.group(1), m.group(2)), f"from the file name ({m.group(0)!r})")
        )
    m = re.search(r"effective(?:\s+date)?:?\s+(\d{1,2})/(\d{1,2})/(\d{4})", banner, re.IGNORECASE)
    if m:
        candidates.append(
            ((m.group(3), m.group(1), m.group(2)), f"from the title ({m.group(0)!r})")
        )
    m = re.search(
        r"effective(?:\s+date)?:?\s+([A-Za-z]+)\s+(\d{1,2}),?\s+(\d{4})", banner, re.IGNORECASE
    )
    if m and month_number(m.group(1)):
        candidates.append(
            (
                (m.group(3), str(month_number(m.group(1))), m.group(2)),
                f"from the title ({m.group(0)!r})",
            )
        )
    for (year, month, day), how in candidates:
        try:
            return dt.date(int(year), int(month), int(day)), how
        except ValueError:
            raise ImportFailed(f"effective date {how} is not a date", path=path) from None
    raise ImportFailed(
        "cannot tell the effective date (no 'Eff_MM-DD-YYYY' in the name); "
        "name it with --release YYYY-MM-DD",
        path=path,
    )


def parse(path: Path, data: bytes, rows: list[Row], head: Header) -> ParsedFile:
    """Read the table below ``head`` into the raw canonical frame (raises ImportFailed)."""
    banner = banner_text(rows, head)
    service = _service_type(path, head, banner)
    effective, how = _effective_date(path, banner)
    frame, lines = table_frame(rows, head, path)
    if "mue_rationale" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, pl.String).alias("mue_rationale"))
    require_values(
        frame, lines, path, "hcpcs_code", "HCPCS/CPT Code", r"^[A-Z0-9]{5}$", "a 5-character code"
    )
    frame, lines, dropped = drop_cpt_cdt(frame, lines)
    require_values(
        frame, lines, path, "mue_value", "MUE Values", r"^[0-9]+$", "a whole number of units"
    )
    require_values(
        frame,
        lines,
        path,
        "mai_description",
        "MUE Adjudication Indicator",
        r"^[123](?:\s|$)",
        "an MUE adjudication indicator (1, 2 or 3 and its text)",
    )
    check_duplicates(frame, lines, ["hcpcs_code"], path)
    if frame.is_empty():
        raise ImportFailed("the table has no Level II rows", path=path, line=head.line)
    frame = frame.with_columns(
        pl.lit(service).alias("service_type"),
        pl.col("mai_description").str.slice(0, 1).alias("mai"),
        pl.lit(effective.isoformat()).alias("effective_date"),
    ).select(COLUMNS)
    return ParsedFile(
        path=path,
        kind=KIND,
        dataset=DATASET,
        release=effective.isoformat(),
        effective_from=effective,
        effective_to=None,
        raw=frame,
        lines=lines,
        sha256=sha256_of(data),
        title=(
            f"Medicare NCCI MUE table, {service.replace('_', ' ')} services, "
            f"effective {effective} ({path.name})"
        ),
        notes=[
            f"{service}: {frame.height} Level II rows; {dropped} CPT/CDT rows dropped; date {how}."
        ],
        part=service,
    )
