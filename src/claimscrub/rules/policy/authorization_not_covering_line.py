"""PAU002: the claim's authorisation does not cover the line (status, code, dates or units)."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Severity
from claimscrub.model import columns as c
from claimscrub.payers.packs import PACK
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.policy._common import ROW_ID, authorization_number, pack_list
from claimscrub.rules.registry import rule

_AUTH = pl.col(c.AUTHORIZATION)


@rule(
    code="PAU002",
    name="authorization-not-covering-line",
    severity=Severity.ERROR,
    carc="CO-198",
    inputs=(c.HCPCS, c.AUTHORIZATION),
    source="payer 278 answer (claims[].authorization); rules.md §7 (units above the authorized "
    "quantity = CO-198); §8 PA_EXCEEDED",
)
def authorization_not_covering_line(ctx: RuleContext) -> Finding:
    """The claim's authorisation is denied or pending, or does not cover the line's code, date or units.

    ## What it checks
    Claims that carry the payer's authorisation answer (JSON `authorization`: number,
    status, hcpcs, units, start, end). Each line that needs the authorisation — its
    code is in the pack's `prior_authorization` list, or it is the code the
    authorisation names — is checked, first reason first:

    1. the authorisation's status is `denied` or `pending`;
    2. the authorisation names another HCPCS code;
    3. the line's date of service is before `start` or after `end`;
    4. the units billed under it exceed `units`: this claim's lines of the code within
       the authorisation's dates, plus the patient's earlier claims (history) that
       carry the same authorisation number and code.

    ## Why it matters
    Payers pay an authorised drug only as authorised: a different product, a date
    outside the approval, or more units than approved are denied as exceeding the
    authorisation (CARC 198); a refused or still-pending request is no authorisation.

    ## Example
    Authorisation PA-88 approved for 120 units of J7503 from 2025-01-01 to 2025-12-31;
    a claim bills 90 units on 2025-06-10 after an earlier claim under PA-88 billed 90.

    Use instead: bill within the 30 remaining units, or ask the payer to extend the
    authorisation first.

    ## Fix
    None: the remedy (a new request, an extension, a corrected code) is the payer's
    and the prescriber's.

    ## Options
    None.

    ## Related
    PAU001 (authorisation missing), PAU004 (quantity limit exceeded).

    ## References
    - ASC X12 278 (health care services review) response; 837 2300 REF*G1.
    - rules.md §7 ("units above the authorized quantity = CO-198"), §8 CARC 198.
    """
    required = (
        pack_list(ctx, "prior_authorization", {"hcpcs": pl.String()})
        .unique()
        .with_columns(pl.lit(True).alias("_required"))
    )
    base = ctx.lines.with_row_index(ROW_ID).filter(_AUTH.is_not_null())
    lines = base.join(required, on=[PACK, c.HCPCS], how="left").filter(
        pl.col("_required").fill_null(False) | (_AUTH.struct.field("hcpcs") == pl.col(c.HCPCS))
    )
    lines = lines.with_columns(
        authorization_number().fill_null("(no number)").alias("_auth_no"),
        _AUTH.struct.field("status").alias("_status"),
        _AUTH.struct.field("hcpcs").alias("_auth_hcpcs"),
        _AUTH.struct.field("units").alias("_auth_units"),
        _AUTH.struct.field("start").alias("_start"),
        _AUTH.struct.field("end").alias("_end"),
    )
    start, end, dos = pl.col("_start"), pl.col("_end"), pl.col(c.DOS_FROM)
    in_window = ~((start.is_not_null() & (dos < start)) | (end.is_not_null() & (dos > end)))
    in_window = in_window.fill_null(True)

    # Units in thousandths (inputs have at most three decimals): sums stay exact.
    units = pl.col(c.UNITS)
    milli = pl.when(units > 0).then((units * 1000).round(0).cast(pl.Int64)).otherwise(0)
    this_claim = (
        lines.filter(in_window).group_by(c.CLAIM_KEY, c.HCPCS).agg(milli.sum().alias("_this_milli"))
    )
    lines = lines.join(this_claim, on=[c.CLAIM_KEY, c.HCPCS], how="left")
    if ctx.history is not None:
        earlier = (
            ctx.history.filter(pl.col(c.PATIENT_ID).is_not_null())
            .with_columns(authorization_number().alias("_auth_no"))
            .filter(pl.col("_auth_no").is_not_null())
            .group_by(c.PATIENT_ID, "_auth_no", c.HCPCS)
            .agg(milli.sum().alias("_earlier_milli"))
        )
        lines = lines.join(earlier, on=[c.PATIENT_ID, "_auth_no", c.HCPCS], how="left")
    else:
        lines = lines.with_columns(pl.lit(None, dtype=pl.Int64).alias("_earlier_milli"))
    lines = lines.with_columns(
        (pl.col("_this_milli").fill_null(0) / 1000).alias("_this"),
        (pl.col("_earlier_milli").fill_null(0) / 1000).alias("_earlier"),
        ((pl.col("_this_milli").fill_null(0) + pl.col("_earlier_milli").fill_null(0)) / 1000).alias(
            "_used"
        ),
    )
    allowed = pl.col("_auth_units")
    allowed_milli = pl.when(allowed >= 0).then((allowed * 1000).round(0).cast(pl.Int64))
    used_milli = pl.col("_this_milli").fill_null(0) + pl.col("_earlier_milli").fill_null(0)

    denied = pl.col("_status").is_in(["denied", "pending"]).fill_null(False)
    other_code = (pl.col("_auth_hcpcs") != pl.col(c.HCPCS)).fill_null(False)
    exceeded = (in_window & allowed_milli.is_not_null() & (used_milli > allowed_milli)).fill_null(
        False
    )
    dates = pl.format(
        "{} to {}",
        pl.col("_start").cast(pl.String).fill_null("open"),
        pl.col("_end").cast(pl.String).fill_null("open"),
    )
    why = (
        pl.when(denied)
        .then(pl.format("authorisation {} is {}", pl.col("_auth_no"), pl.col("_status")))
        .when(other_code)
        .then(
            pl.format(
                "authorisation {} is for {}, the line bills {}",
                pl.col("_auth_no"),
                pl.col("_auth_hcpcs"),
                pl.col(c.HCPCS),
            )
        )
        .when(~in_window)
        .then(
            pl.format(
                "the line is dated {}, outside authorisation {} ({})",
                pl.col(c.DOS_FROM),
                pl.col("_auth_no"),
                dates,
            )
        )
        .otherwise(
            pl.format(
                "authorisation {} allows {} units of {}; {} are billed under it "
                "({} on this claim, {} on earlier claims)",
                pl.col("_auth_no"),
                _plain(pl.col("_auth_units")),
                pl.col(c.HCPCS),
                _plain(pl.col("_used")),
                _plain(pl.col("_this")),
                _plain(pl.col("_earlier")),
            )
        )
    )
    return Finding(
        rows=lines.with_columns(why.alias("_why")),
        violated=denied | other_code | ~in_window | exceeded,
        message="{_why}",
    )


def _plain(expr: pl.Expr) -> pl.Expr:
    """A number as text without a trailing '.0' (units have at most three decimals)."""
    whole = expr == expr.round(0)
    return (
        pl.when(whole)
        .then(expr.round(0).cast(pl.Int64).cast(pl.String))
        .otherwise(expr.round(3).cast(pl.String))
    )
