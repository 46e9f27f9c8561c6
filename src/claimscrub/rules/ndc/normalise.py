"""NDC normalisation in columns: :func:`claimscrub.model.codes.parse_ndc` as Polars expressions.

``parse_ndc`` reads one submitted NDC; rules need the same answer for millions of
lines without per-row Python, so :func:`with_ndc_parse` builds it from string
expressions.
The two must agree on every input (``tests/rules/test_ndc_columns.py`` compares them
on a varied sample); change them together.

What a submitted NDC becomes (FDA layouts; rules.md R-NDC-1, R-NDC-2):

- ``ok``: an 11-digit 5-4-2 NDC (``ndc11``), read from 11 digits, from a hyphenated
  5-4-2 form, or from a hyphenated 10-digit form (4-4-2, 5-3-2, 5-4-1) padded with a
  leading zero in its short segment (``layout`` says which).
- ``ambiguous``: 10 digits without hyphens; the short segment cannot be known, so the
  three candidates (``cand_4_4_2``, ``cand_5_3_2``, ``cand_5_4_1``) are given instead.
- ``invalid``: anything else, with ``reason`` worded exactly as ``parse_ndc`` words it.

A null input gives a null status (no NDC submitted).
"""

from __future__ import annotations

from functools import cache

import polars as pl

STATUS = "status"
NDC11 = "ndc11"
LAYOUT = "layout"
REASON = "reason"
CANDIDATES = {"4-4-2": "cand_4_4_2", "5-3-2": "cand_5_3_2", "5-4-1": "cand_5_4_1"}
FIELDS = (STATUS, NDC11, LAYOUT, REASON, *CANDIDATES.values())

# Segment lengths of the hyphenated 10-digit layouts (same table as model/codes.py).
_TEN_DIGIT_LAYOUTS = {"4-4-2": (4, 4, 2), "5-3-2": (5, 3, 2), "5-4-1": (5, 4, 1)}
_DIGITS = r"^[0-9]+$"
# The characters Python's str.strip() removes (str.isspace()), so that stripping here
# matches parse_ndc exactly; Polars' default strip_chars() uses a different set.
PY_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004"
    "\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def _pad(a: pl.Expr, b: pl.Expr, c: pl.Expr) -> pl.Expr:
    return pl.concat_str([a.str.zfill(5), b.str.zfill(4), c.str.zfill(2)])


def with_ndc_parse(frame: pl.LazyFrame, column: str, prefix: str = "_ndc_") -> pl.LazyFrame:
    """``frame`` with the parse of ``column`` as ``<prefix><field>`` columns (:data:`FIELDS`).

    Built in stages of small expressions (each intermediate is a column, dropped at the
    end): one large expression repeating its sub-expressions is slow to plan when the
    frame is reused by several lookups.

    >>> df = pl.LazyFrame({"ndc": ["0781-2104-01", "6899230753", "12345"]})
    >>> with_ndc_parse(df, "ndc").collect()["_ndc_status"].to_list()
    ['ok', 'ambiguous', 'invalid']
    """
    stages, temporaries = _parse_stages(column, prefix)
    for stage in stages:
        frame = frame.with_columns(stage)
    return frame.drop(temporaries)


@cache  # the expressions depend on no batch; building them cost a claim ~1.5 ms a parse
def _parse_stages(column: str, prefix: str) -> tuple[list[list[pl.Expr]], list[str]]:
    """The column stages of :func:`with_ndc_parse`, and the temporary columns to drop."""

    def tmp(name: str) -> str:
        return f"{prefix}_{name}"

    def col(name: str) -> pl.Expr:
        return pl.col(tmp(name))

    submitted = pl.col(column)
    text = col("text")
    parts = col("parts")
    p0, p1, p2 = col("p0"), col("p1"), col("p2")
    l0, l1, l2 = col("l0"), col("l1"), col("l2")
    n_chars, hyph = col("n"), col("hyph")
    groups, digits = col("groups"), col("digits")
    is_542, ten, empty = col("is_542"), col("ten"), col("empty")
    hyph_ok, plain_11, plain_10 = col("hyph_ok"), col("plain_11"), col("plain_10")

    def shape(a: int, b: int, c: int) -> pl.Expr:
        return (l0 == a) & (l1 == b) & (l2 == c)

    ten_layout = pl.lit(None, dtype=pl.String)
    for name, dims in reversed(_TEN_DIGIT_LAYOUTS.items()):
        ten_layout = pl.when(groups & shape(*dims)).then(pl.lit(name)).otherwise(ten_layout)

    stages = [
        [
            submitted.str.strip_chars(PY_WHITESPACE)
            .str.replace_all(" ", "", literal=True)
            .alias(tmp("text"))
        ],
        [
            text.str.len_chars().alias(tmp("n")),
            text.str.contains("-", literal=True).alias(tmp("hyph")),
            text.str.contains(_DIGITS).alias(tmp("digits")),
            text.str.split("-").alias(tmp("parts")),
        ],
        [parts.list.get(i, null_on_oob=True).alias(tmp(f"p{i}")) for i in range(3)],
        [
            *(p.str.len_chars().alias(tmp(f"l{i}")) for i, p in enumerate((p0, p1, p2))),
            (
                (parts.list.len() == 3)
                & pl.all_horizontal(p.str.contains(_DIGITS).fill_null(False) for p in (p0, p1, p2))
            ).alias(tmp("groups")),
        ],
        [
            (groups & shape(5, 4, 2)).alias(tmp("is_542")),
            ten_layout.alias(tmp("ten")),
            (n_chars == 0).alias(tmp("empty")),
            (~hyph & digits & (n_chars == 11)).alias(tmp("plain_11")),
            (~hyph & digits & (n_chars == 10)).alias(tmp("plain_10")),
        ],
        [(hyph & (is_542 | ten.is_not_null())).alias(tmp("hyph_ok"))],
    ]
    status = (
        pl.when(submitted.is_null())
        .then(None)
        .when(empty)
        .then(pl.lit("invalid"))
        .when(hyph_ok | plain_11)
        .then(pl.lit("ok"))
        .when(plain_10)
        .then(pl.lit("ambiguous"))
        .otherwise(pl.lit("invalid"))
    )
    ndc11 = (
        pl.when(empty)
        .then(None)
        .when(hyph & is_542)
        .then(pl.concat_str([p0, p1, p2]))
        .when(hyph_ok)
        .then(_pad(p0, p1, p2))
        .when(plain_11)
        .then(text)
    )
    layout = (
        pl.when(empty)
        .then(None)
        .when(hyph & is_542)
        .then(pl.lit("5-4-2"))
        .when(hyph_ok)
        .then(ten)
        .when(plain_11)
        .then(pl.lit("11-digit"))
    )
    lengths = pl.concat_str([l0, l1, l2], separator="-")
    reason = (
        pl.when(empty)
        .then(pl.lit("empty NDC"))
        .when(hyph & ~groups)
        .then(pl.lit("hyphenated NDC must be three groups of digits"))
        .when(hyph & ~hyph_ok)
        .then(pl.format("segment lengths {} are not 4-4-2, 5-3-2, 5-4-1 or 5-4-2", lengths))
        .when(~hyph & ~digits)
        .then(pl.lit("NDC must contain only digits and hyphens"))
        .when(plain_10)
        .then(
            pl.lit(
                "an unhyphenated 10-digit NDC can be 4-4-2, 5-3-2 or 5-4-1; "
                "the padding cannot be known"
            )
        )
        .when(~hyph & (n_chars == 9) & ~text.str.starts_with("0"))
        # An 11-digit NDC kept as a number by a spreadsheet loses its leading zeros.
        .then(
            pl.format(
                "9 digits; an NDC has 10 or 11 (a spreadsheet may have dropped two leading "
                "zeros: 00{}?)",
                text,
            )
        )
        .when(~hyph & ~plain_11)
        .then(pl.format("{} digits; an NDC has 10 or 11", n_chars))
    )
    candidates = [
        pl.when(plain_10)
        .then(_pad(text.str.slice(0, a), text.str.slice(a, b), text.str.slice(a + b)))
        .alias(f"{prefix}{CANDIDATES[name]}")
        for name, (a, b, _c) in _TEN_DIGIT_LAYOUTS.items()
    ]
    temporaries = [
        tmp(name)
        for name in (
            "text", "n", "hyph", "digits", "parts", "p0", "p1", "p2", "l0", "l1", "l2",
            "groups", "is_542", "ten", "empty", "plain_11", "plain_10", "hyph_ok",
        )
    ]  # fmt: skip
    fields = [
        status.alias(f"{prefix}{STATUS}"),
        ndc11.alias(f"{prefix}{NDC11}"),
        layout.alias(f"{prefix}{LAYOUT}"),
        pl.when(submitted.is_not_null()).then(reason).alias(f"{prefix}{REASON}"),
        *candidates,
    ]
    return [*stages, fields], temporaries


def hyphenated(ndc11: pl.Expr) -> pl.Expr:
    """An 11-digit NDC printed 5-4-2 with hyphens ("00781-2104-01"); null stays null."""
    return pl.concat_str(
        [ndc11.str.slice(0, 5), ndc11.str.slice(5, 4), ndc11.str.slice(9, 2)], separator="-"
    )


# A product-ID qualifier typed in front of the NDC ("N400781210401", the paper
# CMS-1500 item 24A layout "N4 00781210401 UN180"): N1-N6 (the NDC qualifiers of X12
# code list 235) or two letters (UP, EN, HI ...), optional separators, then the number.
_QUALIFIER = r"(?:[Nn][1-6]|[A-Za-z]{2})"
_QUALIFIER_PREFIX = rf"^{_QUALIFIER}[\s:*-]*[0-9]"
_AFTER_QUALIFIER = rf"^{_QUALIFIER}[\s:*-]*([0-9][0-9-]*)"


def qualifier_prefix(submitted: pl.Expr) -> pl.Expr:
    """The two letters in front of an NDC typed with its qualifier, else null."""
    text = submitted.str.strip_chars(PY_WHITESPACE)
    return pl.when(text.str.contains(_QUALIFIER_PREFIX)).then(text.str.slice(0, 2))


def after_qualifier(submitted: pl.Expr) -> pl.Expr:
    """The number that follows a typed qualifier ("00781210401" of "N4 00781210401 UN180")."""
    return submitted.str.strip_chars(PY_WHITESPACE).str.extract(_AFTER_QUALIFIER, 1)


def is_blank(text: pl.Expr) -> pl.Expr:
    """True when a text column is null or holds only white space."""
    return text.is_null() | (text.str.strip_chars(PY_WHITESPACE).str.len_chars() == 0)
