"""Shape a batch for the rules: each line with its claim's columns and payer pack settings."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path

import polars as pl
import yaml

from claimscrub.model import columns as c
from claimscrub.payers.packs import PACK, Pack, PackError, pack_for_claims, with_pack_settings
from claimscrub.readers.base import REJECTED_PLACE, ClaimBatch, without_claims
from claimscrub.rules.batch import SMALL_BATCH
from claimscrub.rules.querying import collect

_FILING_INDICATORS = Path(__file__).resolve().parent.parent / "payers" / "filing_indicators.yaml"


@cache
def _filing_indicator_types() -> dict[str, str]:
    return {str(k): str(v) for k, v in yaml.safe_load(_FILING_INDICATORS.read_text()).items()}


def _compact(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` in one chunk per column, its all-null columns held as a single null.

    Canonical frames have many columns a given input never fills (X12 loops absent from a
    CSV, dose fields on oral drugs ...); held as one repeated null they take no memory
    as the lines are filtered, gathered and joined, instead of a slot for every line.
    """
    if frame.height < SMALL_BATCH:  # a few rows: nothing worth saving
        return frame.rechunk()
    counts = frame.null_count().row(0)
    empty = [
        name for name, nulls in zip(frame.columns, counts, strict=True) if nulls == frame.height
    ]
    if empty:
        frame = frame.with_columns(pl.lit(None, frame.schema[name]).alias(name) for name in empty)
    return frame.rechunk()


def with_payer_type(claims: pl.DataFrame) -> pl.DataFrame:
    """Fill a missing payer type from the X12 claim filing indicator (SBR09)."""
    derived = pl.col(c.CLAIM_FILING_INDICATOR).replace_strict(
        _filing_indicator_types(), default=None, return_dtype=pl.String
    )
    return claims.with_columns(pl.coalesce(pl.col(c.PAYER_TYPE), derived).alias(c.PAYER_TYPE))


def lines_with_claims(lines: pl.DataFrame, claims: pl.DataFrame) -> pl.DataFrame:
    """Lines with their claim's claim-level columns joined (location columns excluded)."""
    keep = [
        col for col in claims.columns if col not in lines.columns and col not in c.LOCATION_COLUMNS
    ]
    claim_row = claim_rows(lines, claims)
    if claim_row is None:  # keep the join's semantics
        return lines.join(claims.select([c.CLAIM_KEY, *keep]), on=c.CLAIM_KEY, how="left")
    # The claim columns are gathered by position, so the (wide) lines are never copied
    # through a join.
    return lines.hstack(claims.select(pl.col(keep).gather(claim_row)).rechunk().get_columns())


def claim_rows(lines: pl.DataFrame, claims: pl.DataFrame) -> pl.Series | None:
    """Each line's row number in ``claims`` (null when its claim is missing), found on
    ``claim_key`` alone; None when claim keys repeat (a line would have several rows)."""
    if not claims.get_column(c.CLAIM_KEY).is_unique().all():
        return None
    return (
        lines[[c.CLAIM_KEY]]
        .join(
            claims[[c.CLAIM_KEY]].with_row_index("_claim_row"),
            on=c.CLAIM_KEY,
            how="left",
            maintain_order="left",
        )
        .get_column("_claim_row")
    )


def without_unknown_packs(
    batch: ClaimBatch, packs: Mapping[str, Pack], forced_pack: str | None = None
) -> ClaimBatch:
    """``batch`` without the claims whose ``payer.policy`` names no known pack.

    Such a claim is input the run cannot judge (which payer's rules?), not a setting of
    the run: it is rejected with where and why, and the other claims are checked. With
    ``--payer`` (``forced_pack``) every claim takes that pack and nothing is rejected.
    """
    if forced_pack is not None or batch.claims.is_empty():
        return batch
    named = batch.claims.get_column(c.PAYER_POLICY)
    unknown = named.is_not_null() & ~named.is_in(sorted(packs))
    if not unknown.any():
        return batch
    bad = batch.claims.filter(unknown)
    rejected = bad.select(
        *REJECTED_PLACE,
        pl.format(
            "payer.policy '{}' of claim {} is not a payer policy pack (known: {}); add the "
            "pack with --policy or name a known one",
            pl.col(c.PAYER_POLICY),
            pl.col(c.CLAIM_ID),
            pl.lit(", ".join(sorted(packs))),
        ).alias("reason"),
    )
    return without_claims(batch, bad.get_column(c.CLAIM_KEY), rejected)


def prepare_lines(
    lines: pl.DataFrame,
    claims: pl.DataFrame,
    packs: Mapping[str, Pack],
    forced_pack: str | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Return (claims with a ``pack`` column, lines with claim columns + pack settings).

    Raises PackError when a claim names a pack that does not exist.
    """
    # One chunk per column: gathering a column read in several chunks (nested ones
    # above all) is many times slower.
    claims = with_payer_type(_compact(claims))
    claims = claims.with_columns(pack_for_claims(claims.lazy(), packs, forced_pack).alias(PACK))
    unknown = sorted(set(claims[PACK].drop_nulls().unique().to_list()) - set(packs))
    if unknown:
        raise PackError(
            f"unknown payer policy pack(s): {', '.join(unknown)}; known: {', '.join(sorted(packs))}"
        )
    joined = lines_with_claims(_compact(lines), claims)
    return claims, joined.hstack(_pack_settings(joined[[PACK, c.DOS_FROM]], packs))


def _pack_settings(keys: pl.DataFrame, packs: Mapping[str, Pack]) -> list[pl.Series]:
    """The ``pack_*`` columns of each (pack, date of service) row of ``keys``.

    They depend on the pair only: resolved once per distinct pair (a few thousand) and
    given to each line by position, rather than joining every line.
    """

    def joined() -> list[pl.Series]:
        return collect(with_pack_settings(keys.lazy(), packs)).drop(keys.columns).get_columns()

    if keys.height < SMALL_BATCH:
        return joined()
    distinct = keys.unique(maintain_order=True)
    settings = collect(with_pack_settings(distinct.lazy(), packs))
    if settings.height != distinct.height:  # overlapping periods: the join's semantics
        return joined()
    position = keys.join(
        distinct.with_row_index("_pair"),
        on=keys.columns,
        how="left",
        nulls_equal=True,
        maintain_order="left",
    ).get_column("_pair")
    return settings.drop(keys.columns).select(pl.all().gather(position)).rechunk().get_columns()
