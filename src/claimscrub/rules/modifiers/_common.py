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
    "jz_added_when_nothing_discarded",
    "modifier_list",
    "normalised",
    "with_claim_jw_line",
    "with_jw_jz_context",
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


# X12 SV101-3..6 / SV202-3..6: a line carries at most four modifiers.
MAX_MODIFIERS = 4


def with_jw_jz_context(
    ctx: RuleContext, lines: pl.LazyFrame, indicators: list[str]
) -> pl.LazyFrame:
    """``lines`` with what MOD004 and MOD007 judge besides the code: ``_jw_line`` (the
    claim has a JW line of the same code and date: the waste is reported there, which
    covers this line) and ``_packaged`` (an institutional line whose code OPPS does not
    pay separately on the date, status indicator not in ``indicators``: no modifier is
    needed)."""
    lines = ctx.refdata.lookup(
        with_claim_jw_line(ctx, lines),
        "opps",
        on={c.HCPCS: "hcpcs_code"},
        as_of=c.DOS_FROM,
        columns={"status_indicator": "_si"},
    )
    institutional = (pl.col(c.CLAIM_TYPE) == "institutional").fill_null(False)
    paid_separately = pl.col("_si").is_in(indicators).fill_null(False)
    return lines.with_columns((institutional & ~paid_separately).alias("_packaged"))


def with_claim_jw_line(ctx: RuleContext, lines: pl.LazyFrame) -> pl.LazyFrame:
    """``lines`` with ``_jw_line``: the claim has a JW line of the same code and date."""
    jw_lines = (
        ctx.lines.filter(has_modifier("JW"))
        .select(c.CLAIM_KEY, c.HCPCS, c.DOS_FROM)
        .unique()
        .with_columns(pl.lit(True).alias("_jw_line"))
    )
    return lines.join(
        jw_lines, on=[c.CLAIM_KEY, c.HCPCS, c.DOS_FROM], how="left", nulls_equal=True
    ).with_columns(pl.col("_jw_line").fill_null(False))


def jz_added_when_nothing_discarded() -> pl.Expr:
    """The line's modifiers with JZ added, when it says nothing was discarded
    (``discarded.amount`` 0) and has room for another modifier; else null."""
    nothing_discarded = pl.col(c.DISCARDED_AMOUNT) == 0
    return pl.when(nothing_discarded & (modifier_list().list.len() < MAX_MODIFIERS)).then(
        pl.col(c.MODIFIERS)
        .fill_null(pl.lit([], dtype=pl.List(pl.String)))
        .list.concat(pl.lit(["JZ"], dtype=pl.List(pl.String)))
    )


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
