"""Helpers shared by the dataset normalisers: the raw canonical frame and checked casts.

The *raw canonical frame* is the contract between whoever reads a source file and the
normaliser that types it: every column a String, named exactly as the header of the
shared CSV in ``shared/refdata/``, values as in that CSV (ISO dates, trimmed, an empty
cell is null). :func:`read_raw_csv` makes one from such a CSV; the importer of the
official CMS files makes the same frame from the CMS layouts and hands it to the same
``build``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl


class NormaliseError(ValueError):
    """A raw frame that cannot be typed: the message names the dataset, column and row."""


def canonicalise(raw: pl.DataFrame) -> pl.DataFrame:
    """Cast every column to String, trim it, and turn empty cells into nulls."""
    return raw.select(
        pl.col(name).cast(pl.String).str.strip_chars().replace("", None).alias(name)
        for name in raw.columns
    )


def read_raw_csv(path: str | Path) -> pl.DataFrame:
    """Read one shared CSV as a raw canonical frame (no type inference, ever)."""
    return canonicalise(pl.read_csv(path, infer_schema=False, encoding="utf8"))


def require_columns(raw: pl.DataFrame, columns: Sequence[str], dataset: str) -> pl.DataFrame:
    """Select ``columns`` in order; raise naming every missing one."""
    missing = [c for c in columns if c not in raw.columns]
    if missing:
        raise NormaliseError(f"{dataset}: raw frame lacks column(s) {', '.join(missing)}")
    return raw.select(columns)


def checked_cast(
    raw: pl.DataFrame,
    column: str,
    expr: pl.Expr,
    dataset: str,
    *,
    what: str,
    allow: Sequence[str] = (),
) -> pl.Series:
    """Evaluate ``expr`` (a parse of ``column``); every non-null input must parse.

    Values listed in ``allow`` (e.g. CMS's "N/A") deliberately become null. The error
    names the first offending row (1-based, data rows) and value.
    """
    source = raw.get_column(column)
    parsed = raw.select(expr.alias(column)).to_series()
    bad = source.is_not_null() & parsed.is_null() & ~source.is_in(list(allow))
    if bad.any():
        row = int(bad.arg_max() or 0)
        raise NormaliseError(
            f"{dataset}: column {column}, row {row + 1}: cannot read {source[row]!r} as {what}"
        )
    return parsed


def iso_date(raw: pl.DataFrame, column: str, dataset: str) -> pl.Series:
    """An ISO ``YYYY-MM-DD`` text column as ``pl.Date``."""
    return checked_cast(
        raw,
        column,
        pl.col(column).str.to_date("%Y-%m-%d", strict=False),
        dataset,
        what="an ISO date",
    )


def number(
    raw: pl.DataFrame, column: str, dataset: str, dtype: pl.DataType, **kw: object
) -> pl.Series:
    """A numeric text column cast to ``dtype`` (Int*, Float64 or Decimal)."""
    return checked_cast(
        raw,
        column,
        pl.col(column).cast(dtype, strict=False),
        dataset,
        what=str(dtype),
        **kw,  # type: ignore[arg-type]
    )


def collapse_whitespace_expr(column: str) -> pl.Expr:
    """Runs of whitespace -> one space, trimmed; the canonical descriptor text."""
    return pl.col(column).str.replace_all(r"\s+", " ").str.strip_chars().replace("", None)
