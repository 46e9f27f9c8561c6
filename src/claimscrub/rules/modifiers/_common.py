"""Shared pieces of the MOD rules: modifiers one per row, and what a drug line is.

Not a rule module; the MOD rules import it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from claimscrub.model import columns as c
from claimscrub.rules.modifier_terms import has_modifier, modifier_list, normalised

if TYPE_CHECKING:
    from claimscrub.rules.context import RuleContext

__all__ = [
    "DRUG_BETOS",
    "ROW_ID",
    "carries_modifiers",
    "exploded_modifiers",
    "has_modifier",
    "jw_jz_required_and_absent",
    "modifier_list",
    "normalised",
]

ROW_ID = "_row"  # a per-line id added by the rules (line numbers may repeat in bad input)
# BETOS categories of the CMS HCPCS file that are drugs: O1D (chemotherapy), O1E (other
# drugs, incl. the immunosuppressive supply fees), O1G (immunizations), D1G (drugs
# administered through DME).
DRUG_BETOS = ("O1D", "O1E", "O1G", "D1G")


def carries_modifiers(_ctx: RuleContext | None = None) -> pl.Expr:
    """The line has at least one modifier: the ``applies_when`` of the rules that judge
    the modifiers a line carries (a claim without any needs none of them)."""
    return (pl.col(c.MODIFIERS).list.len() > 0).fill_null(False)


def jw_jz_required_and_absent(_ctx: RuleContext | None = None) -> pl.Expr:
    """The line's pack requires JW/JZ on its date and it carries neither: the
    ``applies_when`` of the rules that report a missing JW/JZ (a claim to a payer without
    the requirement needs none of them)."""
    required = pl.col("pack_jw_jz_required").fill_null(False)
    return required & ~has_modifier("JW") & ~has_modifier("JZ")


def exploded_modifiers(lines: pl.LazyFrame) -> pl.LazyFrame:
    """One row per (line, modifier): ``_row``, ``_mpos`` (1-based), ``_submitted``, ``_mod``.

    ``lines`` must carry ``_row``; empty modifiers are dropped.
    """
    mods = pl.col(c.MODIFIERS).fill_null(pl.lit([], dtype=pl.List(pl.String)))
    return (
        lines.select(
            ROW_ID,
            mods.alias("_submitted"),
            pl.int_ranges(1, mods.list.len() + 1, dtype=pl.Int64).alias("_mpos"),
        )
        .explode("_submitted", "_mpos")
        .filter(pl.col("_submitted").str.strip_chars().str.len_chars() > 0)
        .with_columns(normalised(pl.col("_submitted")).alias("_mod"))
    )
