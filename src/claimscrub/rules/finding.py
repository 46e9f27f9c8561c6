"""What a rule returns: the rows it looked at, which of them violate it, and how to say so."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl


@dataclass
class Finding:
    """A rule's verdict, still lazy: the engine filters, formats and collects it.

    ``rows`` are canonical lines (or claims) with whatever extra columns the rule
    joined or computed; they must keep ``claim_key`` and, for line rules, ``line_no``.
    ``message`` is a template whose ``{column}`` placeholders name columns of ``rows``;
    numbers are printed without trailing zeros. ``fix`` maps a canonical field to an
    expression giving its corrected value (omitted when not determinable).
    """

    rows: pl.LazyFrame
    violated: pl.Expr
    message: str
    fix: dict[str, pl.Expr] = field(default_factory=dict)
    fix_title: str | None = None
