"""Reader of the CMS ASP Pricing File CSV ("Payment Allowance Limits for Medicare Part B Drugs").

Layout: title and note rows, then the header ``HCPCS Code, Short Description, HCPCS
Code Dosage, Payment Limit, Co-insurance Percentage, Vaccine AWP%, Vaccine Limit, Blood
AWP%, Blood limit, Clotting Factor, Notes``; Windows-1252. The raw frame is
``shared/refdata/asp_pricing_<yyyy>_q<n>.csv``'s: non-breaking spaces are spaces, a line
break inside a note becomes ``"; "``, CPT rows (90xxx/91xxx vaccines and immune globulins,
AMA content) are dropped, ``effective_start`` / ``effective_end`` come from the banner.

Checked: code shape, payment limit (a number, or CMS's ``N/A``), co-insurance and the
AWP/limit columns (numbers), duplicate codes.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from claimscrub.refdata.official.asp_common import parsed_asp_file
from claimscrub.refdata.official.base import (
    ParsedFile,
    check_duplicates,
    drop_cpt_cdt,
)
from claimscrub.refdata.official.tables import (
    NUMBER,
    Header,
    Row,
    locate_header,
    optional_values,
    require_values,
    table_frame,
)
from claimscrub.refdata.sources import asp

KIND = "asp_pricing"
DATASET = asp.DATASET
ALIASES = {
    "HCPCSCODE": "hcpcs_code",
    "SHORTDESCRIPTION": "short_description",
    "HCPCSCODEDOSAGE": "hcpcs_code_dosage",
    "PAYMENTLIMIT": "payment_limit",
    "COINSURANCEPERCENTAGE": "coinsurance_pct",
    "VACCINEAWP%": "vaccine_awp_pct",
    "VACCINELIMIT": "vaccine_limit",
    "BLOODAWP%": "blood_awp_pct",
    "BLOODLIMIT": "blood_limit",
    "CLOTTINGFACTOR": "clotting_factor",
    "NOTES": "notes",
}
REQUIRED = (
    "hcpcs_code",
    "short_description",
    "hcpcs_code_dosage",
    "payment_limit",
    "coinsurance_pct",
)
# The raw canonical frame of the dataset, without the effective dates the file's banner gives.
COLUMNS = tuple(c for c in asp.RAW_COLUMNS if c not in ("effective_start", "effective_end"))
_CMS_NAME = {v: k for k, v in ALIASES.items()}


def header(rows: list[Row]) -> Header | None:
    """The header row, if these rows are an ASP pricing table."""
    return locate_header(rows, ALIASES, REQUIRED)


def parse(path: Path, data: bytes, rows: list[Row], head: Header) -> ParsedFile:
    """Read the table below ``head`` into the raw canonical frame (raises ImportFailed)."""
    frame, lines = table_frame(rows, head, path)
    frame = frame.with_columns(
        pl.lit(None, pl.String).alias(c) for c in COLUMNS if c not in frame.columns
    )
    frame = frame.select(COLUMNS)
    require_values(
        frame, lines, path, "hcpcs_code", "HCPCS Code", r"^[A-Z0-9]{5}$", "a 5-character HCPCS code"
    )
    frame, lines, dropped = drop_cpt_cdt(frame, lines)
    for column in ("short_description", "hcpcs_code_dosage"):
        require_values(frame, lines, path, column, _CMS_NAME[column], r".", "a value (it is empty)")
    require_values(
        frame, lines, path, "payment_limit", "Payment Limit", NUMBER + "|^N/A$", "a payment limit"
    )
    require_values(
        frame, lines, path, "coinsurance_pct", "Co-insurance Percentage", NUMBER, "a percentage"
    )
    for column in (
        "vaccine_awp_pct",
        "vaccine_limit",
        "blood_awp_pct",
        "blood_limit",
        "clotting_factor",
    ):
        optional_values(frame, lines, path, column, _CMS_NAME[column], NUMBER, "a number")
    check_duplicates(frame, lines, ["hcpcs_code"], path)
    return parsed_asp_file(
        path=path,
        data=data,
        rows=rows,
        head=head,
        frame=frame,
        lines=lines,
        kind=KIND,
        dataset=DATASET,
        title="ASP Payment Allowance Limits, Medicare Part B Drugs",
        notes=lambda frame, how: [
            f"{frame.height} Level II rows; {dropped} CPT/CDT rows dropped; quarter {how}."
        ],
    )
