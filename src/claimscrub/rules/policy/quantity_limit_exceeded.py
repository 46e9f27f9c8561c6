"""PAU004: the units of a drug in the payer's quantity-limit window exceed its limit."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import polars as pl

from claimscrub.diagnostics import Confidence, Severity
from claimscrub.model import columns as c
from claimscrub.payers.packs import PACK, list_entries
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.policy._common import (
    ROW_ID,
    approved_authorization,
    codes_in,
    ndc_digits,
    pack_list,
    patient_key,
    patient_lines,
)
from claimscrub.rules.registry import rule

_LIMIT_COLUMNS: dict[str, pl.DataType] = {
    "hcpcs": pl.String(),
    "ndc": pl.String(),
    "max_units": pl.Float64(),
    "per_days": pl.Int64(),
    "reason": pl.String(),
}
# Limit columns as the rule names them (the line has its own ``ndc``).
_RENAMED = {"hcpcs": "_limit_hcpcs", "ndc": "_limit_ndc", "reason": "_limit_reason"}


def _limited_codes(ctx: RuleContext) -> pl.Expr:
    """The line's code has a limit in some pack or in this rule's option (only such
    lines are checked)."""
    packs = [entry for _, entry in list_entries(ctx.packs, "quantity_limits")]
    return codes_in([*packs, *(ctx.options.get("quantity_limits") or [])])


@rule(
    code="PAU004",
    name="quantity-limit-exceeded",
    severity=Severity.ERROR,
    # the limit is a payer pattern in the pack or an option (no published
    # source), and sums depend on the history supplied.
    confidence=Confidence.MEDIUM,
    carc="CO-151",
    rarc=("N362",),
    inputs=(c.HCPCS, c.UNITS, c.DOS_FROM),
    options={"quantity_limits": []},
    source="payer policy pack `quantity_limits` (configurable; no published tacrolimus figure); "
    "rules.md §7 (exceed -> CO-151/N362, or CO-198 with an authorisation)",
    applies_when=_limited_codes,
)
def quantity_limit_exceeded(ctx: RuleContext) -> Finding:
    """The units of the drug within the payer's quantity-limit window exceed the limit.

    ## What it checks
    Lines whose code (and NDC, when the limit names one) has a quantity limit: in the
    payer policy pack's `quantity_limits` list, or in this rule's `quantity_limits`
    option (which applies to every pack unless an entry names one). For each such line
    the units of the same code (and NDC) billed for the patient in the `per_days`
    days ending on the line's date of service — the line itself, this batch's other
    lines and the `history` claims — are added up and compared with `max_units`.
    Sums are exact (thousandths of a unit); null, zero and negative units count as 0.

    ## Why it matters
    Plans cap how much of a drug they pay for per period. Units beyond the cap are
    denied as more services than the information supports (CARC 151 with RARC N362),
    or, when the quantity was tied to an authorisation, as exceeding it (CARC 198).

    ## Example
    A plan limit of 120 units of J7503 per 30 days; 90 units billed on 2025-06-01 and
    another 90 on 2025-06-20.

    Use instead: dispense within the limit, or obtain a quantity-limit exception
    (an authorisation) first.

    ## Fix
    None: reducing units would change what was dispensed.

    ## Options
    - `quantity_limits` (list, default []): extra limits,
      `[{hcpcs, max_units, per_days, ndc (11 digits, optional), pack (optional),
      reason (optional)}]`. rules.md §7 found no published tacrolimus limit for a
      named commercial plan, so the bundled packs set none.

    ## Related
    PAU002 (units above the authorisation), the MUE rules (units above a Medically
    Unlikely Edit), the Medicare days-supply rules (30/90-day supply).

    ## References
    - rules.md §7 (quantity limits: "configurable QL table; exceed -> CO-151/N362 or
      CO-198 when tied to an auth"), §8 CARC 151, RARC N362, CARC 198.
    """
    limits = _limits(ctx, ctx.options.get("quantity_limits") or [])
    lines = (
        ctx.lines.with_row_index(ROW_ID)
        .with_columns(patient_key().alias("_pid"), ndc_digits(pl.col(c.NDC)).alias("_ndc"))
        .join(limits, left_on=c.HCPCS, right_on="_limit_hcpcs", how="inner")
        .filter(
            (pl.col("_limit_pack").is_null() | (pl.col("_limit_pack") == pl.col(PACK)))
            & (pl.col("_limit_ndc").is_null() | (pl.col("_limit_ndc") == pl.col("_ndc")))
            & pl.col(c.DOS_FROM).is_not_null()
        )
        .with_row_index("_check")
    )
    units = pl.col("_other_units")
    milli = pl.when(units > 0).then((units * 1000).round(0).cast(pl.Int64)).otherwise(0)
    window_start = pl.col(c.DOS_FROM) - pl.duration(days=pl.col("per_days") - 1)
    in_window = (
        lines.select("_check", ROW_ID, "_pid", c.HCPCS, c.DOS_FROM, "_limit_ndc", "per_days")
        .join(
            patient_lines(ctx),
            left_on=["_pid", c.HCPCS],
            right_on=["_pid", "_other_hcpcs"],
            how="inner",
        )
        .filter(
            (pl.col("_other_dos") <= pl.col(c.DOS_FROM))
            & (pl.col("_other_dos") >= window_start)
            & (pl.col("_limit_ndc").is_null() | (pl.col("_limit_ndc") == pl.col("_other_ndc")))
        )
        .group_by("_check")
        .agg(
            milli.sum().alias("_window_milli"),
            milli.filter(pl.col("_other_row") == pl.col(ROW_ID)).sum().alias("_line_milli"),
        )
    )
    rows = lines.join(in_window, on="_check", how="inner").with_columns(
        (pl.col("_window_milli") / 1000).alias("_window"),
        ((pl.col("_window_milli") - pl.col("_line_milli")) / 1000).alias("_others"),
        pl.when(pl.col("_limit_ndc").is_not_null())
        .then(pl.format("{} (NDC {})", pl.col(c.HCPCS), pl.col("_limit_ndc")))
        .otherwise(pl.col(c.HCPCS))
        .alias("_what"),
        pl.when(pl.col("_limit_reason").is_not_null())
        .then(pl.format(" ({})", pl.col("_limit_reason")))
        .otherwise(pl.lit(""))
        .alias("_why"),
    )
    limit_milli = (pl.col("max_units") * 1000).round(0).cast(pl.Int64)
    # The quantity is tied to an authorisation when the payer's answer approved a number
    # of units for this code.
    auth = pl.col(c.AUTHORIZATION)
    tied_to_auth = (
        approved_authorization()
        & auth.struct.field("units").is_not_null()
        & (auth.struct.field("hcpcs").is_null() | (auth.struct.field("hcpcs") == pl.col(c.HCPCS)))
    ).fill_null(False)
    return Finding(
        rows=rows,
        violated=pl.col("_window_milli") > limit_milli,
        message="{_window} units of {_what} in the {per_days} days to {dos_from} "
        "({units} on this line, {_others} on the patient's other lines); the limit is "
        "{max_units} per {per_days} days{_why}",
        carc=pl.when(tied_to_auth).then(pl.lit("CO-198")).otherwise(pl.lit("CO-151")),
        rarc=pl.when(tied_to_auth)
        .then(pl.lit([], dtype=pl.List(pl.String)))
        .otherwise(pl.lit(["N362"], dtype=pl.List(pl.String))),
    )


def _limits(ctx: RuleContext, extra: Iterable[Mapping[str, Any]]) -> pl.LazyFrame:
    """Pack limits and option limits as one frame; ``_limit_pack`` null = every pack."""
    from_packs = pack_list(ctx, "quantity_limits", _LIMIT_COLUMNS).rename({PACK: "_limit_pack"})
    rows = [
        {
            "_limit_pack": entry.get("pack"),
            **{name: entry.get(name) for name in _LIMIT_COLUMNS},
        }
        for entry in extra
    ]
    from_options = pl.LazyFrame(rows, schema={"_limit_pack": pl.String(), **_LIMIT_COLUMNS})
    limits = pl.concat([from_packs, from_options], how="vertical_relaxed")
    # A limit needs a positive number of units over at least one day.
    return limits.filter(
        pl.col("hcpcs").is_not_null() & (pl.col("max_units") > 0) & (pl.col("per_days") >= 1)
    ).rename(_RENAMED)
