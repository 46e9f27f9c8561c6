"""Reader of the CMS ASP NDC-HCPCS crosswalk CSV.

Layout: a title and notes, then the header ``_<year>_CODE, Short Description, LABELER
NAME, NDC2, Drug Name, HCPCS dosage, PKG SIZE, PKG QTY, BILLUNITS, BILLUNITSPKG``
(followed by empty columns); Windows-1252. The raw frame is
``shared/refdata/asp_ndc_hcpcs_crosswalk_<yyyy>_q<n>.csv``'s: CPT rows dropped,
``ndc11`` = the digits of NDC2 only when NDC2 is a hyphenated 5-4-2 NDC (CMS lists UPCs
and catalog numbers for some products), effective dates from the banner.

Checked: code shape, an NDC/alternate ID on every row, the four package figures
(numbers), duplicate (code, NDC) pairs.
"""

from __future__ import annotations

import re
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
from claimscrub.refdata.sources import ndc_hcpcs

KIND = "asp_crosswalk"
DATASET = ndc_hcpcs.DATASET


def _code_header(key: str) -> bool:
    # "_2025_CODE" (the year changes every January), "HCPCS Code", or the FAQ's wording
    return (
        re.fullmatch(r"\d{4}CODE|HCPCSCODE|HCPCS|HCPCSLEVELIICODE(?:DEFERTODCDRG)?", key)
        is not None
    )


ALIASES = {
    "hcpcs_code": _code_header,
    "SHORTDESCRIPTION": "short_description",
    "SHORTDESCRIPTIONDEFERTODCDRG": "short_description",
    "LABELERNAME": "labeler_name",
    "NDC2": "ndc_or_alternate_id",
    "NDC": "ndc_or_alternate_id",
    "DRUGNAME": "drug_name",
    "HCPCSDOSAGE": "hcpcs_dosage",
    "PKGSIZE": "pkg_size",
    "PKGQTY": "pkg_qty",
    "BILLUNITS": "bill_units_per_pkg_item",
    "BILLUNITSPKG": "bill_units_per_ndc",
}
REQUIRED = (
    "hcpcs_code",
    "ndc_or_alternate_id",
    "pkg_size",
    "pkg_qty",
    "bill_units_per_pkg_item",
    "bill_units_per_ndc",
)
# The raw canonical frame of the dataset, without the effective dates the file's banner gives.
COLUMNS = tuple(c for c in ndc_hcpcs.RAW_COLUMNS if c not in ("effective_start", "effective_end"))
_CMS_NAME = {
    "pkg_size": "PKG SIZE",
    "pkg_qty": "PKG QTY",
    "bill_units_per_pkg_item": "BILLUNITS",
    "bill_units_per_ndc": "BILLUNITSPKG",
}


def header(rows: list[Row]) -> Header | None:
    """The header row, if these rows are an ASP NDC-HCPCS crosswalk."""
    return locate_header(rows, ALIASES, REQUIRED)


def parse(path: Path, data: bytes, rows: list[Row], head: Header) -> ParsedFile:
    """Read the table below ``head`` into the raw canonical frame (raises ImportFailed)."""
    frame, lines = table_frame(rows, head, path)
    ndc = pl.col("ndc_or_alternate_id")
    frame = frame.with_columns(
        pl.lit(None, pl.String).alias(c) for c in COLUMNS if c not in frame.columns and c != "ndc11"
    ).with_columns(
        pl.when(ndc.str.contains(r"^[0-9]{5}-[0-9]{4}-[0-9]{2}$"))
        .then(ndc.str.replace_all("-", ""))
        .otherwise(None)
        .alias("ndc11")
    )
    frame = frame.select(COLUMNS)
    code_name = head.cells[next(p for p, c in head.columns.items() if c == "hcpcs_code")] or "code"
    require_values(
        frame, lines, path, "hcpcs_code", code_name, r"^[A-Z0-9]{5}$", "a 5-character HCPCS code"
    )
    frame, lines, dropped = drop_cpt_cdt(frame, lines)
    require_values(
        frame,
        lines,
        path,
        "ndc_or_alternate_id",
        "NDC2",
        r".",
        "an NDC or alternate ID (it is empty)",
    )
    for column, cms in _CMS_NAME.items():
        optional_values(frame, lines, path, column, cms, NUMBER, "a number")
    check_duplicates(frame, lines, ["hcpcs_code", "ndc_or_alternate_id"], path)
    return parsed_asp_file(
        path=path,
        data=data,
        rows=rows,
        head=head,
        frame=frame,
        lines=lines,
        kind=KIND,
        dataset=DATASET,
        title="ASP NDC-HCPCS Crosswalk for Medicare Part B Drugs",
        notes=lambda frame, how: [
            f"{frame.height} Level II rows ({frame['ndc11'].null_count()} with an alternate ID "
            f"instead of an NDC); {dropped} CPT/CDT rows dropped; quarter {how}."
        ],
    )
