"""Normaliser for the CMS ASP NDC–HCPCS crosswalk (dataset ``ndc_hcpcs``).

Input: the raw canonical frame of ``asp_ndc_hcpcs_crosswalk_<yyyy>_q<n>.csv`` (columns
:data:`RAW_COLUMNS`, all text). CMS names in brackets: ``hcpcs_code`` [_2025_CODE],
``ndc_or_alternate_id`` [NDC2], ``pkg_size`` [PKG SIZE, amount in one item],
``pkg_qty`` [PKG QTY, items per NDC], ``bill_units_per_pkg_item`` [BILLUNITS],
``bill_units_per_ndc`` [BILLUNITSPKG].

Output (sorted by ``hcpcs_code``, ``ndc_or_alternate_id``): the input columns typed
(package and billing-unit figures Float64, effective dates ``pl.Date``), ``ndc11``
checked — it is the digits of ``ndc_or_alternate_id`` when that is a hyphenated 5-4-2
NDC and null for the UPCs / catalog numbers CMS lists instead; a supplied ``ndc11``
that disagrees is an error — plus three derived columns:

- ``units_per_item`` (Float64): HCPCS billing units per one unit of PKG SIZE — one
  tablet or capsule, one mL, or one vial/packet, whichever CMS counted in PKG SIZE.
- ``units_per_item_method``: the arithmetic used, ``bill_units_per_ndc / (pkg_size *
  pkg_qty)`` or, when CMS rounded the per-NDC figure up, ``bill_units_per_pkg_item /
  pkg_size``.
- ``units_check``: whether the source columns agree (``BILLUNITS x PKG QTY`` against
  ``BILLUNITSPKG``):

  * ``agree`` — equal;
  * ``agree_rounded`` — BILLUNITSPKG is the product rounded up (e.g. 7.5 -> 8); the
    exact BILLUNITS figure is used;
  * ``pkg_item_is_per_ndc`` — BILLUNITS repeats the whole-NDC figure (PKG QTY > 1);
  * ``pkg_item_is_per_unit`` — BILLUNITS is already per tablet/packet;
  * ``conflict`` — BILLUNITS contradicts BILLUNITSPKG (e.g. Prograf 0.5 mg
    00469-0607-73: BILLUNITS 100, BILLUNITSPKG 50 for 100 capsules);
  * ``not_determinable`` — a figure is missing or zero; ``units_per_item`` is null.

  In every case but ``agree_rounded`` the value comes from BILLUNITSPKG, the figure
  PROVENANCE.md calls reliable for oral solids. Nothing is ever guessed from drug
  names or strengths.

``build`` is pure.
"""

from __future__ import annotations

import polars as pl

from claimscrub.refdata.sources.common import NormaliseError, iso_date, number, require_columns

DATASET = "ndc_hcpcs"
NORMALISER_VERSION = "1"
KEY_COLUMNS = ("ndc11", "hcpcs_code")

RAW_COLUMNS: tuple[str, ...] = (
    "hcpcs_code",
    "short_description",
    "labeler_name",
    "ndc_or_alternate_id",
    "ndc11",
    "drug_name",
    "hcpcs_dosage",
    "pkg_size",
    "pkg_qty",
    "bill_units_per_pkg_item",
    "bill_units_per_ndc",
    "effective_start",
    "effective_end",
)
NUMERIC_COLUMNS = ("pkg_size", "pkg_qty", "bill_units_per_pkg_item", "bill_units_per_ndc")
DERIVED_COLUMNS = ("units_per_item", "units_per_item_method", "units_check")

_TOLERANCE = 1e-9
# Rounding only removes float noise (0.30000000000000004); six places keep 1/3-type ratios.
_DECIMALS = 6


def _ndc11_from_id() -> pl.Expr:
    ident = pl.col("ndc_or_alternate_id")
    return (
        pl.when(ident.str.contains(r"^\d{5}-\d{4}-\d{2}$"))
        .then(ident.str.replace_all("-", ""))
        .otherwise(None)
    )


def _close(a: pl.Expr, b: pl.Expr) -> pl.Expr:
    return (a - b).abs() <= _TOLERANCE * pl.max_horizontal(a.abs(), b.abs(), pl.lit(1.0))


def units_columns() -> list[pl.Expr]:
    """Expressions for ``units_check``, ``units_per_item`` and its method (see module doc)."""
    size, qty = pl.col("pkg_size"), pl.col("pkg_qty")
    per_item, per_ndc = pl.col("bill_units_per_pkg_item"), pl.col("bill_units_per_ndc")
    product = per_item * qty
    per_unit_from_ndc = per_ndc / (size * qty)
    usable = pl.all_horizontal(
        *(pl.col(c).is_not_null() & (pl.col(c) > 0) for c in NUMERIC_COLUMNS)
    )
    check = (
        pl.when(~usable)
        .then(pl.lit("not_determinable"))
        .when(_close(product, per_ndc))
        .then(pl.lit("agree"))
        .when(_close(product.ceil(), per_ndc))
        .then(pl.lit("agree_rounded"))
        .when(_close(per_item, per_ndc) & (qty > 1))
        .then(pl.lit("pkg_item_is_per_ndc"))
        .when(_close(per_item, per_unit_from_ndc))
        .then(pl.lit("pkg_item_is_per_unit"))
        .otherwise(pl.lit("conflict"))
    )
    value = (
        pl.when(pl.col("units_check") == "not_determinable")
        .then(None)
        .when(pl.col("units_check") == "agree_rounded")
        .then(per_item / size)
        .otherwise(per_unit_from_ndc)
        .round(_DECIMALS)
    )
    method = (
        pl.when(pl.col("units_check") == "not_determinable")
        .then(None)
        .when(pl.col("units_check") == "agree_rounded")
        .then(pl.lit("bill_units_per_pkg_item / pkg_size"))
        .otherwise(pl.lit("bill_units_per_ndc / (pkg_size * pkg_qty)"))
    )
    return [
        check.alias("units_check"),
        value.alias("units_per_item"),
        method.alias("units_per_item_method"),
    ]


def build(raw: pl.DataFrame) -> pl.DataFrame:
    """Type one crosswalk release and derive billing units per item (pure)."""
    raw = require_columns(raw, RAW_COLUMNS, DATASET)
    derived_ndc11 = raw.select(_ndc11_from_id()).to_series()
    supplied = raw.get_column("ndc11")
    clash = supplied.is_not_null() & (supplied != derived_ndc11).fill_null(True)
    if clash.any():
        row = int(clash.arg_max() or 0)
        raise NormaliseError(
            f"{DATASET}: column ndc11, row {row + 1}: {supplied[row]!r} does not match "
            f"ndc_or_alternate_id {raw.get_column('ndc_or_alternate_id')[row]!r}"
        )
    typed = raw.with_columns(
        derived_ndc11.alias("ndc11"),
        *(number(raw, name, DATASET, pl.Float64()) for name in NUMERIC_COLUMNS),
        iso_date(raw, "effective_start", DATASET),
        iso_date(raw, "effective_end", DATASET),
    )
    exprs = units_columns()
    table = typed.with_columns(exprs[0]).with_columns(*exprs[1:])
    return table.select(*RAW_COLUMNS, *DERIVED_COLUMNS).sort(
        "hcpcs_code", "ndc_or_alternate_id", maintain_order=True
    )
