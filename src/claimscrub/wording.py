"""Small wording helpers shared by the reports: a count and the word it counts."""

from __future__ import annotations

import polars as pl


def counted(count: int, word: str, plural: str | None = None, *, grouped: bool = False) -> str:
    """'1 finding', '3 findings', '2 passes' (``plural`` when adding 's' is wrong);
    ``grouped`` writes thousands with commas ('1,204 lines')."""
    number = f"{count:,}" if grouped else str(count)
    return f"{number} {word if count == 1 else plural or word + 's'}"


def word_for(count: pl.Expr, word: str) -> pl.Expr:
    """``word`` where ``count`` is 1, else ``word`` + 's': :func:`counted` in a column."""
    return pl.when(count == 1).then(pl.lit(word)).otherwise(pl.lit(word + "s"))
