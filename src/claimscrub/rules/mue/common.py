"""The MUE lookup shared by the MUE rules (no rule is registered here).

Which CMS table applies (practitioner, outpatient hospital, DME supplier) is a payer
pack setting, ``mue_service_type``, in force on the line's date; a pack without one
(Medicaid, commercial ...) has no Medicare MUE. The MUE release in force on the date of
service comes from dataset ``mue``; codes created after that release have no row and
therefore no edit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from claimscrub.model import columns as c
from claimscrub.rules.batch import lines_with
from claimscrub.rules.units.common import line_facts, positive

if TYPE_CHECKING:
    from claimscrub.rules.context import RuleContext

SERVICE_TYPE = "pack_mue_service_type"
_SERVICE_TEXT = {
    "practitioner": "practitioner",
    "outpatient_hospital": "outpatient hospital",
    "dme_supplier": "DME supplier",
}
# MUE adjudication indicators in our own words (CMS NCCI MUE documentation).
_MAI_TEXT = {
    1: "MAI 1, a line edit: each line is judged on its own",
    2: "MAI 2, a date-of-service limit set by policy: no modifier or appeal lifts it",
    3: (
        "MAI 3, a clinical date-of-service limit: the day's units are denied, and an appeal "
        "with medical records may pay them"
    ),
}


def with_mue(ctx: RuleContext) -> pl.LazyFrame:
    """Lines that have an MUE in force above zero for their code and service type.

    Adds ``_mue`` (Int64), ``_mai``, ``_mai_text``, ``_service_text`` and ``_rationale``.
    Left out: codes invalid on the date (COD001), non-positive units (UNT003), NDCs
    listed only under other codes (COD003 / COD004), MUE 0 ("not payable in this setting":
    a routing question for RTE001 / RTE002) and, unless the option
    ``apply_outside_release_window`` is true, dates before the MUE release in force.
    """
    return _with_mue(ctx)


def with_line_mue(ctx: RuleContext, rows: pl.LazyFrame) -> pl.LazyFrame:
    """``rows`` (some of the batch's lines) with the MUE :func:`with_mue` gives their line:
    ``_line_mue``, ``_mue_service_text`` and ``_mue_release``, null where the line has
    none. For a rule that weighs a figure of its own against the MUE (a units fix, say)."""
    mue = with_mue(ctx).select(
        c.CLAIM_KEY,
        c.LINE_NO,
        pl.col("_mue").alias("_line_mue"),
        pl.col("_service_text").alias("_mue_service_text"),
        pl.col("mue_release").alias("_mue_release"),
    )
    return rows.join(mue, on=[c.CLAIM_KEY, c.LINE_NO], how="left", maintain_order="left")


def _mue_facts(ctx: RuleContext, keys: pl.LazyFrame) -> pl.LazyFrame:
    return ctx.refdata.lookup(
        keys,
        "mue",
        on={c.HCPCS: "hcpcs_code", SERVICE_TYPE: "service_type"},
        as_of=c.DOS_FROM,
        columns={"mue_value": "_mue", "mai": "_mai", "mue_rationale": "_rationale"},
    )


def _with_mue(ctx: RuleContext) -> pl.LazyFrame:
    # The MUE of every line (once per distinct code, service type and date), then the
    # lines that have a service type.
    lines = lines_with(
        ctx,
        "mue.lines",
        [((c.HCPCS, SERVICE_TYPE, c.DOS_FROM), lambda keys: _mue_facts(ctx, keys))],
        base=line_facts(ctx),
        classed=(c.DOS_FROM, ("mue",)),  # the date is only the lookup's as_of
    ).filter(pl.col(SERVICE_TYPE).is_not_null())
    in_force = pl.col("mue_in_force").fill_null(False)
    if ctx.options.get("apply_outside_release_window", False):
        in_force = pl.lit(True)
    return lines.filter(
        pl.col("_code_valid")
        & positive(pl.col(c.UNITS))
        & ~pl.col("_ndc_other_code")
        & (pl.col("_mue") > 0).fill_null(False)
        & in_force
    ).with_columns(
        pl.col("_mue").cast(pl.Int64),
        _mai_text=pl.col("_mai").cast(pl.Int64).replace_strict(_MAI_TEXT, default=None),
        _service_text=pl.col(SERVICE_TYPE).replace_strict(
            _SERVICE_TEXT, default=pl.col(SERVICE_TYPE)
        ),
    )
