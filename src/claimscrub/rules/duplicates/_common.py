"""Shared pieces of the DUP rules: what makes two lines the same.

Not a rule module; the DUP rules import it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from claimscrub.model import columns as c
from claimscrub.rules.batch import lines_with
from claimscrub.rules.modifier_terms import has_modifier

if TYPE_CHECKING:
    from claimscrub.rules.context import RuleContext

ROW_ID = "_row"  # a per-line id added by the rules (line numbers may repeat in bad input)
# What makes a line the same service as another (DUP002 against history, DUP003 within the
# batch): patient, code, NDC (``ndc_key``) and date, a discarded-amount (JW) line being
# compared only with JW lines (``discard_flag``).
SAME_SERVICE = [c.PATIENT_ID, c.HCPCS, "_ndc_key", c.DOS_FROM, "_jw"]
# 837 CLM05-3 frequency codes of a replacement (7) and a void (8): they restate an earlier
# claim on purpose.
REPLACEMENT_OR_VOID = ("7", "8")


def discard_flag() -> pl.Expr:
    """The line reports a discarded amount (JW): the ``_jw`` column of ``SAME_SERVICE``."""
    return has_modifier("JW")


def correction() -> pl.Expr:
    """The line's claim is a replacement or a void (``REPLACEMENT_OR_VOID``)."""
    return pl.col(c.FREQUENCY_CODE).is_in(list(REPLACEMENT_OR_VOID)).fill_null(False)


def ndc_key() -> pl.Expr:
    """The NDC without hyphens or spaces; null when absent or blank."""
    ndc = pl.col(c.NDC).str.replace_all(r"[\s-]", "")
    return pl.when(ndc.str.len_chars() > 0).then(ndc)


def modifiers_key() -> pl.Expr:
    """The modifiers as one text, order and case ignored (``"GY,KX"``)."""
    mods = pl.col(c.MODIFIERS).fill_null(pl.lit([], dtype=pl.List(pl.String)))
    return (
        mods.list.eval(pl.element().str.strip_chars().str.to_uppercase()).list.sort().list.join(",")
    )


def describe() -> pl.Expr:
    """'J7507, NDC 00469061773, 2025-06-10' (the NDC part only when there is one)."""
    return pl.concat_str(
        [
            pl.col(c.HCPCS),
            pl.format(", NDC {}", ndc_key()),
            pl.format(", {}", pl.col(c.DOS_FROM)),
        ],
        ignore_nulls=True,
    )


def lines_with_keys(ctx: RuleContext) -> pl.LazyFrame:
    """The batch's lines with ``_ndc_key`` (:func:`ndc_key`) and ``_mods_key``
    (:func:`modifiers_key`), worked out once per distinct NDC and modifier list."""
    return lines_with(
        ctx,
        "duplicates.keys",
        [
            ((c.NDC,), lambda keys: keys.with_columns(ndc_key().alias("_ndc_key"))),
            ((c.MODIFIERS,), lambda keys: keys.with_columns(modifiers_key().alias("_mods_key"))),
        ],
    )
