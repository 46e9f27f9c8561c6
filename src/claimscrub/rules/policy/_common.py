"""Shared pieces of the PAU rules: pack policy lists, authorisations, the patient's lines.

Not a rule module; the PAU rules import it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

import polars as pl

from claimscrub.model import columns as c
from claimscrub.payers.packs import PACK, list_entries, list_table

if TYPE_CHECKING:
    from claimscrub.rules.context import RuleContext

ROW_ID = "_row"  # a per-line id added by the rules (line numbers may repeat in bad input)


def pack_list(ctx: RuleContext, setting: str, columns: Mapping[str, pl.DataType]) -> pl.LazyFrame:
    """A list setting of every pack (``pack`` + ``columns``), with absent columns as nulls."""
    table = list_table(ctx.packs, setting)
    if table.is_empty():
        table = pl.DataFrame(schema={PACK: pl.String, "hcpcs": pl.String})
    wanted = {PACK: pl.String(), **columns}
    return table.lazy().select(
        (pl.col(name).cast(dtype) if name in table.columns else pl.lit(None, dtype)).alias(name)
        for name, dtype in wanted.items()
    )


def listed_in(setting: str) -> Callable[[RuleContext], pl.Expr]:
    """An ``applies_when``: the line's code is listed in its own pack's ``setting``.

    A rule that joins ``setting`` to the lines on (pack, code) finds nothing elsewhere.
    """

    def listed(ctx: RuleContext) -> pl.Expr:
        pairs = [
            f"{name}\x1f{entry['hcpcs']}"
            for name, entry in list_entries(ctx.packs, setting)
            if entry.get("hcpcs") is not None
        ]
        return _pack_code().is_in(pairs).fill_null(False)

    return listed


def _pack_code() -> pl.Expr:
    return pl.concat_str(pl.col(PACK), pl.col(c.HCPCS), separator="\x1f")


def codes_in(entries: Iterable[Mapping[str, object]]) -> pl.Expr:
    """The line's code is the ``hcpcs`` of one of ``entries`` (of any pack)."""
    codes = sorted({str(e["hcpcs"]) for e in entries if e.get("hcpcs") is not None})
    return pl.col(c.HCPCS).is_in(codes).fill_null(False)


def authorization_number() -> pl.Expr:
    """The claim's authorisation number: 2300 REF*G1, else the 278 answer's number."""
    ref = pl.col(c.PRIOR_AUTHORIZATION).str.strip_chars()
    number = pl.col(c.AUTHORIZATION).struct.field("number").str.strip_chars()
    return pl.coalesce(
        pl.when(ref.str.len_chars() > 0).then(ref),
        pl.when(number.str.len_chars() > 0).then(number),
    )


def has_authorization() -> pl.Expr:
    """True when the claim names an authorisation: a number, or a 278 answer with a status."""
    status = pl.col(c.AUTHORIZATION).struct.field("status")
    return authorization_number().is_not_null() | status.is_not_null()


def approved_authorization() -> pl.Expr:
    """True when the claim's authorisation is not denied or pending."""
    status = pl.col(c.AUTHORIZATION).struct.field("status")
    return has_authorization() & ~status.is_in(["denied", "pending"]).fill_null(False)


def patient_organs() -> pl.Expr:
    """The organs of the patient's transplants (empty when none are given)."""
    organs = pl.col(c.TRANSPLANTS).list.eval(pl.element().struct.field("organ")).list.drop_nulls()
    return organs.fill_null(pl.lit([], dtype=pl.List(pl.String)))


def patient_lines(ctx: RuleContext) -> pl.LazyFrame:
    """Every line known for the patients: history lines, then this batch's lines.

    Columns: ``_pid`` (patient id; a claim without one stands alone as ``claim:<key>``),
    ``_other_row`` (this batch's line id, null for history), ``_other_hcpcs``,
    ``_other_ndc`` (digits only), ``_other_dos``, ``_other_units``, ``_other_claim``
    (claim id) and ``_other_line``.
    """
    batch = ctx.lines.with_row_index(ROW_ID).select(
        _pid().alias("_pid"),
        pl.col(ROW_ID).cast(pl.Int64).alias("_other_row"),
        *_other_columns(),
    )
    if ctx.history is None:
        return batch
    history = ctx.history.filter(pl.col(c.PATIENT_ID).is_not_null()).select(
        pl.col(c.PATIENT_ID).alias("_pid"),
        pl.lit(None, dtype=pl.Int64).alias("_other_row"),
        *_other_columns(),
    )
    return pl.concat([history, batch], how="vertical_relaxed")


def _pid() -> pl.Expr:
    return pl.coalesce(
        pl.col(c.PATIENT_ID), pl.format("claim:{}", pl.col(c.CLAIM_KEY).cast(pl.String))
    )


def patient_key() -> pl.Expr:
    """The key :func:`patient_lines` uses for a line's patient."""
    return _pid()


def ndc_digits(expr: pl.Expr) -> pl.Expr:
    """An NDC without hyphens or spaces (as submitted otherwise)."""
    return expr.str.replace_all(r"[\s-]", "")


def _other_columns() -> list[pl.Expr]:
    return [
        pl.col(c.HCPCS).alias("_other_hcpcs"),
        ndc_digits(pl.col(c.NDC)).alias("_other_ndc"),
        pl.col(c.DOS_FROM).alias("_other_dos"),
        pl.col(c.UNITS).alias("_other_units"),
        pl.col(c.CLAIM_ID).alias("_other_claim"),
        pl.col(c.LINE_NO).alias("_other_line"),
    ]
