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

import polars as pl

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
