"""Read the flat Parquet line table back into the canonical ``claims`` and ``lines`` frames.

The table is the one ``claimscrub convert -o OUT.parquet`` writes (and that warehouses can
export): one row per line, the claim's columns repeated on each of its lines, a
``history`` flag for claims already billed, the location columns (``src``,
``seg_ordinal``, ``x12_loop``, ``x12_seg``, ``row``, ``json_path``) of the line in its
original input, and the canonical column names of ``model/schema.py``. ``ndc11`` (a
convenience column of the writer) is ignored: the rules normalise NDCs themselves.

* Columns may be missing (they are null); ``claim_key`` may be missing (claims are then
  told apart by ``src``, ``claim_id`` and ``history``, in order of first appearance).
* An unknown column, a missing ``claim_id`` column, or a column whose type cannot become
  the canonical one rejects the whole file, naming the columns.
* A cell that cannot be converted (text in ``units``, a date that is not ``YYYY-MM-DD``),
  or claim-level columns that differ between the lines of one claim, reject that claim
  with the row numbers; a row without a claim id is rejected on its own.
* A row without ``src`` is located in the Parquet file itself: ``src`` is the file's
  name and ``row`` the 1-based row number.

:func:`claims_from_flat` is the same conversion on a frame already in memory; the Spark
runner uses it on each executor's share of the table.
"""

from __future__ import annotations

import io
import os

import polars as pl

from claimscrub.model import columns as c
from claimscrub.model.schema import (
    CLAIMS_SCHEMA,
    LINES_SCHEMA,
    REJECTED_SCHEMA,
    conform,
    empty_claims,
    empty_lines,
)
from claimscrub.readers.base import ClaimBatch, sections_without_repeated_line_numbers

HISTORY = "history"
DERIVED = ("ndc11",)  # written by `convert` for analytics; not an input of the rules
KNOWN_COLUMNS = (*dict.fromkeys([*CLAIMS_SCHEMA, *LINES_SCHEMA, HISTORY]), *DERIVED)
CLAIM_LEVEL = tuple(
    name
    for name in CLAIMS_SCHEMA
    if name not in (c.CLAIM_KEY, c.CLAIM_ID, *c.LOCATION_COLUMNS) and name not in LINES_SCHEMA
)
MAX_PROBLEMS = 5  # messages kept per rejected claim; the rest are counted
_POS = "_parquet_row"  # 1-based row number in the table
_PROBLEM = "_problem"


def read_parquet_claims(
    source: str | os.PathLike[str] | bytes, src: str
) -> tuple[ClaimBatch, ClaimBatch]:
    """Read a flat Parquet line table: (claims to check, history).

    Args:
        source: a path or the file's bytes.
        src: the name recorded for rows without their own ``src`` and in messages.
    """
    try:
        frame = pl.read_parquet(io.BytesIO(source) if isinstance(source, bytes) else source)
    except Exception as exc:  # noqa: BLE001 - polars/arrow raise many kinds for a bad file
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return _file_problem(src, f"not a readable Parquet file ({first})"), ClaimBatch()
    return claims_from_flat(frame, src)


def _file_problem(src: str, reason: str) -> ClaimBatch:
    row = pl.DataFrame(
        [{c.SRC: src, "reason": reason}], schema={c.SRC: pl.String, "reason": pl.String}
    )
    return ClaimBatch(rejected=conform(row, REJECTED_SCHEMA))


def _converted(name: str, dtype: pl.DataType, target: pl.DataType) -> pl.Expr:
    """Column ``name`` as ``target``: null where a cell cannot be converted."""
    col = pl.col(name)
    if dtype == target:
        return col
    if dtype == pl.String and target == pl.Date:
        return col.str.strip_chars().str.to_date("%Y-%m-%d", strict=False)
    if dtype == pl.String and target == pl.Boolean:
        text = col.str.strip_chars().str.to_lowercase()
        return (
            pl.when(text.is_in(["true", "1", "yes"]))
            .then(True)
            .when(text.is_in(["false", "0", "no"]))
            .then(False)
        )
    if isinstance(dtype, pl.Datetime) and target == pl.Date:
        return col.dt.date()
    return col.cast(target, strict=False)


_TYPE_WORDS = {
    pl.Float64(): "number",
    pl.Int64(): "whole number",
    pl.Date(): "date (YYYY-MM-DD)",
    pl.Boolean(): "true/false value",
}


def type_words(dtype: pl.DataType) -> str:
    """How a message names a canonical type: ``number``, ``date (YYYY-MM-DD)`` ..."""
    return _TYPE_WORDS.get(dtype, str(dtype))


def _typed(frame: pl.DataFrame) -> tuple[pl.DataFrame, str | None]:
    """Canonical dtypes, with a ``_problem`` list of the cells that could not be converted;
    or a file-level problem."""
    schema = {**CLAIMS_SCHEMA, **LINES_SCHEMA, HISTORY: pl.Boolean()}
    converted, problems, wrong = [], [], []
    for name in frame.columns:
        if name in DERIVED or name == _POS:
            continue
        dtype, target = frame.schema[name], schema[name]
        expr = _converted(name, dtype, target)
        try:
            frame.head(0).select(expr)
        except Exception:  # noqa: BLE001 - a type polars cannot convert at all
            wrong.append(f"{name} ({dtype}, expected {target})")
            continue
        converted.append(expr.alias(name))
        if dtype != target:
            text = pl.col(name).cast(pl.String, strict=False)
            shown = pl.when(text.is_null()).then(pl.lit(str(dtype))).otherwise(text)
            problems.append(
                pl.when(pl.col(name).is_not_null() & expr.is_null()).then(
                    pl.format(
                        f"row {{}}, column {name}: {{}} is not a {type_words(target)}",
                        pl.col(_POS),
                        shown,
                    )
                )
            )
    if wrong:
        return frame, "column(s) of the wrong type: " + ", ".join(wrong)
    found = (
        pl.concat_list(problems).list.drop_nulls() if problems else pl.lit([], pl.List(pl.String))
    )
    return frame.select(*converted, pl.col(_POS), found.alias(_PROBLEM)), None


def claims_from_flat(frame: pl.DataFrame, src: str) -> tuple[ClaimBatch, ClaimBatch]:
    """The flat line table as (claims to check, history); see the module docstring."""
    unknown = [name for name in frame.columns if name not in KNOWN_COLUMNS]
    if unknown:
        return _file_problem(
            src, "file rejected: unknown column(s) " + ", ".join(unknown)
        ), ClaimBatch()
    if c.CLAIM_ID not in frame.columns:
        return _file_problem(src, "file rejected: no claim_id column"), ClaimBatch()
    frame = frame.with_row_index(_POS, offset=1).with_columns(pl.col(_POS).cast(pl.Int64))
    frame, file_problem = _typed(frame)
    if file_problem:
        return _file_problem(src, "file rejected: " + file_problem), ClaimBatch()

    had_keys = c.CLAIM_KEY in frame.columns
    frame = conform(
        frame,
        pl.Schema(
            {
                **CLAIMS_SCHEMA,
                **LINES_SCHEMA,
                HISTORY: pl.Boolean(),
                _POS: pl.Int64(),
                _PROBLEM: pl.List(pl.String()),
            }
        ),
    )
    # A row that does not say where it came from is located in the Parquet file itself.
    own_location = pl.col(c.SRC).is_not_null()
    frame = frame.with_columns(
        pl.when(own_location).then(pl.col(c.SRC)).otherwise(pl.lit(src)).alias(c.SRC),
        pl.when(own_location).then(pl.col(c.ROW)).otherwise(pl.col(_POS)).alias(c.ROW),
        pl.col(HISTORY).fill_null(False),
    )
    if not had_keys:  # claims told apart by (src, claim id, history), in order of appearance
        identity = [c.SRC, c.CLAIM_ID, HISTORY]
        keys = frame.select(identity).unique(maintain_order=True).with_row_index("_first")
        frame = (
            frame.join(keys, on=identity, how="left", nulls_equal=True)
            .with_columns(pl.col("_first").cast(pl.Int64).alias(c.CLAIM_KEY))
            .drop("_first")
        )

    no_id = pl.col(c.CLAIM_ID).is_null() | (pl.col(c.CLAIM_ID).str.strip_chars() == "")
    orphans = frame.filter(no_id).with_columns(
        pl.format("row {}: no claim_id", pl.col(_POS)).alias("reason")
    )
    frame = frame.filter(~no_id)
    no_key = pl.col(c.CLAIM_KEY).is_null()
    orphans = pl.concat(
        [
            orphans,
            frame.filter(no_key).with_columns(
                pl.format("row {}: no claim_key", pl.col(_POS)).alias("reason")
            ),
        ]
    )
    frame = frame.filter(~no_key)

    rejected_claims = _claim_problems(frame)
    if rejected_claims.height:
        frame = frame.join(
            rejected_claims.select(HISTORY, c.CLAIM_KEY), on=[HISTORY, c.CLAIM_KEY], how="anti"
        )
    rejected = pl.concat(
        [conform(orphans, REJECTED_SCHEMA), conform(rejected_claims, REJECTED_SCHEMA)]
    )

    # Claims are renumbered in their order (claims to check first, then history), so
    # keys of history and of claims never collide, whatever the table held.
    order = frame.select(HISTORY, c.CLAIM_KEY).unique().sort(HISTORY, c.CLAIM_KEY)
    order = order.with_row_index("_key").with_columns(pl.col("_key").cast(pl.Int64))
    frame = (
        frame.join(order, on=[HISTORY, c.CLAIM_KEY], how="left")
        .with_columns(pl.col("_key").alias(c.CLAIM_KEY))
        .sort(c.CLAIM_KEY, maintain_order=True)
    )
    current, past = frame.filter(~pl.col(HISTORY)), frame.filter(pl.col(HISTORY))
    return sections_without_repeated_line_numbers(
        ClaimBatch(*_frames(current), rejected=rejected.sort(c.ROW, maintain_order=True)),
        ClaimBatch(*_frames(past)),
    )


def _claim_problems(frame: pl.DataFrame) -> pl.DataFrame:
    """One row per claim to reject (its first row's location), with the reason."""
    same_claim = (pl.col(c.CLAIM_KEY) == pl.col(c.CLAIM_KEY).shift()) & (
        pl.col(HISTORY) == pl.col(HISTORY).shift()
    )
    disagree = [
        pl.when(same_claim & pl.col(name).ne_missing(pl.col(name).shift())).then(
            pl.format(
                f"row {{}}, column {name}: differs from the claim's earlier rows "
                "(claim-level columns repeat on every line)",
                pl.col(_POS),
            )
        )
        for name in CLAIM_LEVEL
    ]
    empty = pl.DataFrame(schema={**REJECTED_SCHEMA, HISTORY: pl.Boolean(), c.CLAIM_KEY: pl.Int64()})
    if frame.is_empty():
        return empty
    ordered = frame.sort(HISTORY, c.CLAIM_KEY, maintain_order=True)
    # Cheap test first (one comparison per cell); messages only for the claims it flags.
    differs = pl.any_horizontal(
        [same_claim & pl.col(n).ne_missing(pl.col(n).shift()) for n in CLAIM_LEVEL]
    )
    flagged = ordered.filter(differs | (pl.col(_PROBLEM).list.len() > 0)).select(
        HISTORY, c.CLAIM_KEY
    )
    if flagged.is_empty():
        return empty
    ordered = ordered.join(
        flagged.unique(), on=[HISTORY, c.CLAIM_KEY], how="semi", maintain_order="left"
    )
    found = ordered.select(
        HISTORY,
        c.CLAIM_KEY,
        pl.concat_list(pl.col(_PROBLEM), *disagree).list.drop_nulls().alias(_PROBLEM),
    ).filter(pl.col(_PROBLEM).list.len() > 0)
    reasons = (
        found.explode(_PROBLEM)
        .group_by(HISTORY, c.CLAIM_KEY, maintain_order=True)
        .agg(pl.col(_PROBLEM).head(MAX_PROBLEMS), pl.len().alias("_n"))
        .with_columns(
            pl.concat_str(
                pl.col(_PROBLEM).list.join("; "),
                pl.when(pl.col("_n") > MAX_PROBLEMS).then(
                    pl.format(" (and {} more)", pl.col("_n") - MAX_PROBLEMS)
                ),
                ignore_nulls=True,
            ).alias("reason")
        )
    )
    first_rows = ordered.unique([HISTORY, c.CLAIM_KEY], keep="first", maintain_order=True)
    return first_rows.join(
        reasons.select(HISTORY, c.CLAIM_KEY, "reason"), on=[HISTORY, c.CLAIM_KEY]
    )


def _frames(rows: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    if rows.is_empty():
        return empty_claims(), empty_lines()
    claims = rows.unique(c.CLAIM_KEY, keep="first", maintain_order=True)
    # A claim's location is that of its first line's input; X12 claim segments are not in
    # the flat table, and no rule or report reads them.
    claims = claims.select(c.CLAIM_KEY, c.CLAIM_ID, c.SRC, *CLAIM_LEVEL)
    return conform(claims, CLAIMS_SCHEMA), conform(rows, LINES_SCHEMA)
