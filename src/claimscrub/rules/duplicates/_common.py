"""Shared pieces of the DUP rules: what makes two lines the same.

Not a rule module; the DUP rules import it.
"""

from __future__ import annotations

import polars as pl

from claimscrub.model import columns as c

ROW_ID = "_row"  # a per-line id added by the rules (line numbers may repeat in bad input)


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
