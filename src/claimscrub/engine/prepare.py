"""Shape a batch for the rules: each line with its claim's columns and payer pack settings."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path

import polars as pl
import yaml

from claimscrub.model import columns as c
from claimscrub.payers.packs import PACK, Pack, PackError, pack_for_claims, with_pack_settings

_FILING_INDICATORS = Path(__file__).resolve().parent.parent / "payers" / "filing_indicators.yaml"


@cache
def _filing_indicator_types() -> dict[str, str]:
    return {str(k): str(v) for k, v in yaml.safe_load(_FILING_INDICATORS.read_text()).items()}


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
    return lines.join(claims.select([c.CLAIM_KEY, *keep]), on=c.CLAIM_KEY, how="left")


def prepare_lines(
    lines: pl.DataFrame,
    claims: pl.DataFrame,
    packs: Mapping[str, Pack],
    forced_pack: str | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Return (claims with a ``pack`` column, lines with claim columns + pack settings).

    Raises PackError when a claim names a pack that does not exist.
    """
    claims = with_payer_type(claims)
    claims = claims.with_columns(pack_for_claims(claims.lazy(), packs, forced_pack).alias(PACK))
    unknown = sorted(set(claims[PACK].drop_nulls().unique().to_list()) - set(packs))
    if unknown:
        raise PackError(
            f"unknown payer policy pack(s): {', '.join(unknown)}; known: {', '.join(sorted(packs))}"
        )
    joined = lines_with_claims(lines, claims)
    return claims, with_pack_settings(joined.lazy(), packs).collect()
