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
    numbers are printed without trailing zeros. ``fix`` maps a public claim field name
    (as in the Claims JSON format: ``units``, ``hcpcs``, ``ndc``, ``modifiers`` ...) to an
    expression giving its corrected value; a null value means "not determinable" and
    the fix is omitted for that row.
    """

    rows: pl.LazyFrame
    violated: pl.Expr
    message: str
    fix: dict[str, pl.Expr] = field(default_factory=dict)
    fix_title: str | None = None
    # Per-row payer answer when it depends on the row (e.g. CO-11 for commercial, CO-50
    # for Medicare); otherwise the rule's declared ``carc`` / ``rarc`` apply.
    carc: pl.Expr | None = None
    rarc: pl.Expr | None = None  # a List(String) expression
