"""What every reader returns: canonical frames plus the inputs it could not read."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from claimscrub.model import columns as c
from claimscrub.model.schema import (
    REJECTED_SCHEMA,
    conform,
    empty_claims,
    empty_lines,
    empty_rejected,
)

# The columns of a rejection that say where the claim was read (all but the reason).
REJECTED_PLACE = tuple(name for name in REJECTED_SCHEMA if name != "reason")


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


def without_repeated_line_numbers(batch: ClaimBatch) -> ClaimBatch:
    """``batch`` with every claim that gives one line number to two lines moved to
    ``rejected``.

    A finding, a fix and a payer's answer name a line by its claim and number, so two
    lines numbered alike would share each other's findings (each reported twice) and
    fixes. The claim is rejected, located at its second line of that number, with the
    reason; its lines leave the batch.
    """
    lines = batch.lines
    if lines.height < 2:
        return batch
    key = [c.CLAIM_KEY, c.LINE_NO]
    repeated = lines.select(pl.struct(key).is_duplicated()).to_series()
    if not repeated.any():
        return batch
    # A line that is not the first of its number: each claim's first such line.
    later = lines.select(pl.struct(key).is_first_distinct().not_()).to_series()
    first = lines.filter(later).unique(c.CLAIM_KEY, keep="first", maintain_order=True)
    named = pl.coalesce(
        pl.format("rows {}", pl.col("_rows")),
        pl.format("{}", pl.col("_paths")),
        pl.format("segments {}", pl.col("_ordinals")),
    )
    counts = (
        lines.filter(repeated)
        .join(first.select(key), on=key, how="semi")
        .group_by(key, maintain_order=True)
        .agg(
            pl.len().alias("_times"),
            pl.col(c.ROW).drop_nulls().cast(pl.String).str.join(", ").alias("_rows"),
            pl.col(c.JSON_PATH).drop_nulls().str.join(", ").alias("_paths"),
            pl.col(c.SEG_ORDINAL).drop_nulls().cast(pl.String).str.join(", ").alias("_ordinals"),
        )
        .with_columns(pl.col("_rows", "_paths", "_ordinals").replace("", None))
    )
    csv_hint = pl.when(pl.col(c.ROW).is_not_null()).then(
        pl.lit("; a row without line_number is numbered by its position in the claim")
    )
    rejected = first.join(counts, on=key, how="left").select(
        *REJECTED_PLACE,
        pl.format(
            "line number {} is given to {} lines of claim {} ({}); each line of a claim needs "
            "a number of its own{}",
            pl.col(c.LINE_NO),
            pl.col("_times"),
            pl.col(c.CLAIM_ID),
            named,
            csv_hint.fill_null(""),
        ).alias("reason"),
    )
    return without_claims(batch, first.get_column(c.CLAIM_KEY), rejected)


def without_claims(batch: ClaimBatch, keys: pl.Series, rejected: pl.DataFrame) -> ClaimBatch:
    """``batch`` less the claims (and their lines) of ``keys``, which ``rejected`` (rows of
    :data:`REJECTED_SCHEMA`'s columns) accounts for: every claim stays in one place."""
    dropped = keys.implode()
    return ClaimBatch(
        claims=batch.claims.filter(~pl.col(c.CLAIM_KEY).is_in(dropped)),
        lines=batch.lines.filter(~pl.col(c.CLAIM_KEY).is_in(dropped)),
        rejected=pl.concat([batch.rejected, conform(rejected, REJECTED_SCHEMA)]),
        warnings=batch.warnings,
    )


def sections_without_repeated_line_numbers(
    current: ClaimBatch, history: ClaimBatch
) -> tuple[ClaimBatch, ClaimBatch]:
    """:func:`without_repeated_line_numbers` for a reader's claims and history, with
    every rejection listed with the claims' (where the other rejected inputs are)."""
    current, history = (
        without_repeated_line_numbers(current),
        without_repeated_line_numbers(history),
    )
    if history.rejected.height:
        current.rejected = pl.concat([current.rejected, history.rejected])
        history.rejected = empty_rejected()
    return current, history
