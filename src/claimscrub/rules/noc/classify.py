"""Which HCPCS codes are "not otherwise classified" (NOC), read from the CMS descriptor.

No list of codes is kept here. A code is NOC when its long descriptor (CMS HCPCS file)
says so *and* states no billing unit:

- the wording: "not otherwise classified", "not otherwise specified", "unclassified",
  "unlisted", "NOC" as a word, or "NOS" after a comma or in parentheses (so the
  "nsclc-nos" of quality-reporting codes does not count); "reason not otherwise
  specified" is a quality-reporting phrase, not a NOC code;
- no unit (``unit_uom`` null, derived from the same descriptor by
  ``refdata/sources/descriptor.py``): "Injection, acetaminophen, not otherwise
  specified, 10 mg" is a *specific* code for the products other codes do not name,
  billed per 10 mg; "Immunosuppressive drug, not otherwise classified" (J7599),
  "Unclassified drugs" (J3490), "Compounded drug, not otherwise classified" (J7999)
  and "Prescription drug, oral, non chemotherapeutic, nos" (J8499) have no unit.

Whether a NOC code is a *drug* NOC code is decided from the same descriptor: it names
a drug or biological.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from claimscrub.model import columns as c

_NOC_WORDING = (
    r"(?i)not otherwise (?:classified|specified)|\bunclassified\b|\bunlisted\b|\bnoc\b"
    r"|(?:^|,\s*|\()nos\b"
)
_QUALITY_REPORTING = r"(?i)reason not otherwise specified"
_DRUG_WORDING = r"(?i)\bdrugs?\b|\bbiologic(?:al)?s?\b"


def is_noc(long_description: pl.Expr, unit_uom: pl.Expr) -> pl.Expr:
    """True for a NOC code (see the module doc); null when the descriptor is unknown."""
    return (
        long_description.str.contains(_NOC_WORDING)
        & ~long_description.str.contains(_QUALITY_REPORTING)
        & unit_uom.is_null()
    )


def names_a_drug(long_description: pl.Expr) -> pl.Expr:
    """True when the descriptor names a drug or biological ("Unclassified drugs")."""
    return long_description.str.contains(_DRUG_WORDING)


# Releases of the HCPCS file (label, table file) -> the codes NOC in any of them.
_NOC_CODES: dict[tuple[tuple[str, str], ...], pl.Series] = {}


def noc_codes(refdata: Any) -> pl.Series:
    """Every code that is NOC (:func:`is_noc`) in some release of ``refdata``'s HCPCS
    file, worked out once per set of releases."""
    releases = refdata.releases("hcpcs")
    key = tuple((r.release, str(r.ref.data_path)) for r in releases)
    if key not in _NOC_CODES:
        tables = [refdata.table("hcpcs", r.release) for r in releases]
        _NOC_CODES[key] = (
            pl.concat([t.select("hcpcs_code", "long_description", "unit_uom") for t in tables])
            .filter(is_noc(pl.col("long_description"), pl.col("unit_uom")).fill_null(False))
            .get_column("hcpcs_code")
            .unique()
            .sort()
        )
    return _NOC_CODES[key]


def billed_noc_code(ctx: Any) -> pl.Expr:
    """The line's code is NOC in some release of the HCPCS file. NOC001 and NOC002 report
    only lines whose code is NOC in the release in force on their date, so this is their
    ``applies_when``: a claim of specific codes builds neither query."""
    return pl.col(c.HCPCS).is_in(noc_codes(ctx.refdata).implode())
