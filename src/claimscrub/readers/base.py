"""What every reader returns: canonical frames plus the inputs it could not read."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from claimscrub.model.schema import empty_claims, empty_lines, empty_rejected


@dataclass
class ClaimBatch:
    """Claims and lines read from one or more inputs.

    ``rejected`` holds one row per input claim (or unreadable stretch of input) that
    could not be read, with file, position and reason. Every claim of the input is
    either a row of ``claims`` or a row of ``rejected``, never both, never neither.
    ``warnings`` are readable-but-suspicious facts about the input (not business rules).
    """

    claims: pl.DataFrame = field(default_factory=empty_claims)
    lines: pl.DataFrame = field(default_factory=empty_lines)
    rejected: pl.DataFrame = field(default_factory=empty_rejected)
    warnings: pl.DataFrame = field(default_factory=empty_rejected)

    @staticmethod
    def concat(batches: list[ClaimBatch]) -> ClaimBatch:
        """Join batches, renumbering ``claim_key`` so keys stay unique."""
        if not batches:
            return ClaimBatch()
        if len(batches) == 1:  # keys stay as they are: no renumbering query
            only = batches[0]
            return ClaimBatch(only.claims, only.lines, only.rejected, only.warnings)
        claims, lines, offset = [], [], 0
        for b in batches:
            claims.append(b.claims.with_columns(pl.col("claim_key") + offset))
            lines.append(b.lines.with_columns(pl.col("claim_key") + offset))
            if b.claims.height:
                offset += int(b.claims["claim_key"].max()) + 1  # type: ignore[arg-type]
        return ClaimBatch(
            claims=pl.concat(claims, how="vertical"),
            lines=pl.concat(lines, how="vertical"),
            rejected=pl.concat([b.rejected for b in batches], how="vertical"),
            warnings=pl.concat([b.warnings for b in batches], how="vertical"),
        )
