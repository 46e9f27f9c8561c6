"""Normaliser for the CMS HCPCS Level II Alpha-Numeric file (dataset ``hcpcs``).

Input: the raw canonical frame of ``hcpcs_anweb_<year>_jan.csv`` (see
``shared/refdata/PROVENANCE.md``): every procedure record (RIC 3) and modifier record
(RIC 7) of one CMS release, continuation records already merged, columns named as
:data:`RAW_COLUMNS`, all text.

Output (one row per code, sorted by ``hcpcs_code``): every input column, typed —
dates (``add_date``, ``action_eff_date``, ``termination_date``,
``asc_group_eff_date``, ``mog_eff_date``) as ``pl.Date``, ``anesthesia_base_units``
as Int16, everything else text (codes keep their leading zeros) — with
``long_description`` and ``short_description`` whitespace-collapsed (runs of spaces
become one; CMS's .xlsx and .txt differ only in that), plus columns derived **from the
long descriptor only** (module :mod:`claimscrub.refdata.sources.descriptor`), for
procedure records:

- ``unit_amount`` (String decimal, "0.25"; null for a combination or threshold),
  ``unit_uom`` (mg, mcg, g, ml, units, iu, ...), ``unit_text`` (the descriptor's words,
  "per 5 mg");
- ``route`` (oral, parenteral, injection, intravenous, inhalation, topical, ... or null);
- ``form`` (extended release, immediate release, suspension, for suspension,
  granules, ... joined by ", "; null when not stated);
- ``ingredient`` (the leading ingredient words, "mycophenolate mofetil"; only for
  descriptors that state a unit or a route, i.e. drugs and biologicals).

``build`` is pure: same frame in, same table out; it reads no files.
"""

from __future__ import annotations

import polars as pl

from claimscrub.refdata.sources.common import (
    collapse_whitespace_expr,
    iso_date,
    number,
    require_columns,
)
from claimscrub.refdata.sources.descriptor import (
    parse_form,
    parse_ingredient,
    parse_route,
    parse_unit,
)

DATASET = "hcpcs"
NORMALISER_VERSION = "1"
KEY_COLUMNS = ("hcpcs_code",)

RAW_COLUMNS: tuple[str, ...] = (
    "hcpcs_code",
    "record_type",
    "seq_num",
    "rec_id",
    "long_description",
    "short_description",
    "price_ind_1",
    "price_ind_2",
    "price_ind_3",
    "price_ind_4",
    "multiple_price_ind",
    "cim_ref_1",
    "cim_ref_2",
    "cim_ref_3",
    "mcm_ref_1",
    "mcm_ref_2",
    "mcm_ref_3",
    "statute",
    "lab_cert_1",
    "lab_cert_2",
    "lab_cert_3",
    "lab_cert_4",
    "lab_cert_5",
    "lab_cert_6",
    "lab_cert_7",
    "lab_cert_8",
    "xref_1",
    "xref_2",
    "xref_3",
    "xref_4",
    "xref_5",
    "coverage_code",
    "asc_payment_group",
    "asc_group_eff_date",
    "mog_payment_group",
    "mog_payment_policy_ind",
    "mog_eff_date",
    "processing_note",
    "betos",
    "tos_1",
    "tos_2",
    "tos_3",
    "tos_4",
    "tos_5",
    "anesthesia_base_units",
    "add_date",
    "action_eff_date",
    "termination_date",
    "action_code",
)
DATE_COLUMNS = (
    "asc_group_eff_date",
    "mog_eff_date",
    "add_date",
    "action_eff_date",
    "termination_date",
)
DERIVED_COLUMNS = ("unit_amount", "unit_uom", "unit_text", "route", "form", "ingredient")


def derive_descriptor_columns(descriptors: pl.Series) -> pl.DataFrame:
    """One row per distinct descriptor with the derived unit/route/form/ingredient columns.

    The parsers are plain Python over the *distinct* descriptors (a few thousand per
    release, once per build), joined back in columns.
    """
    rows = []
    for text in descriptors.drop_nulls().unique().sort().to_list():
        unit = parse_unit(text)
        route = parse_route(text)
        rows.append(
            {
                "long_description": text,
                "unit_amount": unit.amount if unit else None,
                "unit_uom": unit.uom if unit else None,
                "unit_text": unit.text if unit else None,
                "route": route,
                "form": parse_form(text),
                "ingredient": parse_ingredient(text) if (unit or route) else None,
            }
        )
    schema = {"long_description": pl.String, **{name: pl.String for name in DERIVED_COLUMNS}}
    return pl.DataFrame(rows, schema=schema)


def build(raw: pl.DataFrame) -> pl.DataFrame:
    """Type one HCPCS release and add the derived descriptor columns (pure)."""
    raw = require_columns(raw, RAW_COLUMNS, DATASET)
    typed = raw.with_columns(
        collapse_whitespace_expr("long_description"),
        collapse_whitespace_expr("short_description"),
        *(iso_date(raw, name, DATASET) for name in DATE_COLUMNS),
        number(raw, "anesthesia_base_units", DATASET, pl.Int16()),
    )
    procedures = typed.filter(pl.col("record_type") == "procedure")
    derived = derive_descriptor_columns(procedures.get_column("long_description"))
    table = typed.join(
        derived.join(procedures.select("hcpcs_code", "long_description"), on="long_description"),
        on=["hcpcs_code", "long_description"],
        how="left",
        nulls_equal=True,
    )
    return table.select(*RAW_COLUMNS, *DERIVED_COLUMNS).sort("hcpcs_code", maintain_order=True)
