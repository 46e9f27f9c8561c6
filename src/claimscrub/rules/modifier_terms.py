"""A line's modifiers as rules read them: trimmed and upper case, however submitted.

Every rule that asks whether a line carries a modifier asks here, so ``" KX "``, ``"kx"``
and ``"KX"`` are the same modifier for all of them (a padded KX once read as "no KX" in
the Medicare rules and as KX in the duplicate rules). Not a rule module.
"""

from __future__ import annotations

from functools import cache

import polars as pl

from claimscrub.model import columns as c

__all__ = ["has_modifier", "modifier_list", "normalised"]


def normalised(expr: pl.Expr) -> pl.Expr:
    """A modifier as the HCPCS file spells it: no padding, upper case."""
    return expr.str.strip_chars().str.to_uppercase()


@cache  # an expression depends on nothing else; rules ask for it on every batch
def modifier_list() -> pl.Expr:
    """The line's modifiers, normalised, never null."""
    mods = pl.col(c.MODIFIERS).fill_null(pl.lit([], dtype=pl.List(pl.String)))
    return mods.list.eval(normalised(pl.element()))


@cache
def has_modifier(code: str) -> pl.Expr:
    """True when the line carries ``code`` (any case or padding); False without modifiers."""
    return modifier_list().list.contains(pl.lit(code.strip().upper()))
