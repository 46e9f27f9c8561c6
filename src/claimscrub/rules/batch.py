"""Per-batch building blocks shared by the rules (no rule is registered here).

Many rules start from the same derived facts of the batch's lines: the HCPCS record in
force on the date of service, the crosswalk row of the NDC, the MUE, the transplant
status. Two helpers keep that work to once per batch:

- :func:`batch_shared` computes a derived frame once; every rule asking with the same
  key reads the same in-memory frame (the engine's ``refdata.shared``).
- :func:`lines_with` computes facts on the *distinct* values of the key columns they
  depend on (a few thousand even for millions of lines) and spreads them to the lines
  by position, so the per-line cost is a gather, not a join. On a small batch (fewer
  than ``SMALL_BATCH`` lines: a claim sent to the API) each line is its own key row,
  and the engine keeps what it worked out for each key for the next batches (the
  facts depend on the key values and the reference data only). The facts must
  therefore be worked out row by row, never from other rows, and ``name`` must name
  everything else they depend on (options ...).
- :func:`key_table` and :func:`with_key_row` number the distinct values of key columns
  (``KEY_ROW``), for a table worked out per key that joins back on one integer;
  :func:`keyed_table` builds such a table once per batch, and on small batches keeps
  each key's row for the next batches, as :func:`lines_with` does.
- :func:`frame_with` does for any frame derived from the batch (a claim's diagnoses,
  say) what :func:`lines_with` does for the lines.

Facts that read the date of service only as the ``as_of`` date of reference-data
lookups say so with ``classed=(date column, datasets)`` (:data:`ClassedDate`). Such a
lookup cannot tell apart the dates of one *date class*
(:mod:`claimscrub.refdata.date_classes`), so the engine may give the facts, instead of
each date, the first day of its class: lines whose keys differ only by dates within a
class share one key row (two years of dates fall in about thirty classes), and a claim
with a date never seen before reuses its neighbours' facts. Facts that compare the date
with anything else, echo it or shift it must not declare it.

All of them work without the engine too (a plain
:class:`~claimscrub.refdata.catalog.RefData` in the context): then they build the frame
with joins.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import TYPE_CHECKING

import polars as pl

from claimscrub.rules.querying import collect

if TYPE_CHECKING:
    from claimscrub.rules.context import RuleContext

KEY_ROW = "_key_row"  # a distinct key row's number (see key_table)
# A batch of fewer lines is small: :func:`lines_with` works its facts out on the lines
# themselves (numbering distinct keys would cost more than it saves), and the engine
# collects the rules one by one.
SMALL_BATCH = 2_000

# Facts for the distinct key rows: gets the distinct keys (lazy) and returns them with
# columns added, one row per key row and in the same order.
KeyFacts = Callable[[pl.LazyFrame], pl.LazyFrame]
# A table per key row: gets distinct key rows numbered by KEY_ROW (and whether they are
# every key row of the batch) and returns at most one row per key row, with KEY_ROW.
KeyTable = Callable[[pl.LazyFrame, bool], pl.LazyFrame]
_FOUND = "_keyed_table_found"
# (date column, datasets): the facts read the date only as the as_of of lookups in these.
ClassedDate = tuple[str, tuple[str, ...]]


def batch_shared(
    ctx: RuleContext, key: Hashable, build: Callable[[], pl.LazyFrame | pl.DataFrame]
) -> pl.LazyFrame:
    """``build()``, computed once per batch when the engine offers it (``refdata.shared``).

    Several rules start from the same derived frame of ``ctx.lines``; the engine's batch
    reference data hands every rule asking with the same ``key`` one in-memory frame,
    computed once. ``key`` must name everything ``build`` depends on besides the batch
    (options, pack tests). ``build`` may give the frame already collected. Without the
    engine's memo this is simply ``build()``, as a lazy frame.
    """
    share = getattr(ctx.refdata, "shared", None)
    if share is not None:
        return share(key, build)  # type: ignore[no-any-return]
    built = build()
    return built.lazy() if isinstance(built, pl.DataFrame) else built


def rows_of(ctx: RuleContext, frame: pl.LazyFrame) -> pl.DataFrame:
    """``frame`` collected; with the engine, a frame it holds in memory (the lines, a
    shared frame) comes back without a query."""
    rows = getattr(ctx.refdata, "rows", None)
    return rows(frame) if rows is not None else collect(frame)  # type: ignore[no-any-return]


def lines_with(
    ctx: RuleContext,
    name: str,
    parts: Sequence[tuple[Sequence[str], KeyFacts]],
    base: pl.LazyFrame | None = None,
    classed: ClassedDate | None = None,
) -> pl.LazyFrame:
    """``base`` (default ``ctx.lines``) with the columns each part adds, once per batch.

    Each part is (key columns, facts): ``facts`` receives the distinct values of the key
    columns in the lines and returns them with new columns, one row per key row in the
    same order; every line gets the row of its key values. ``base`` must hold the lines
    in their order (``ctx.lines`` or a frame :func:`lines_with` made). ``name`` names the
    result among the batch's shared frames. With ``classed`` (see the module doc) the
    facts may receive the first day of each date's class in place of the date.
    """

    def build() -> pl.LazyFrame | pl.DataFrame:
        key_index = getattr(ctx.refdata, "key_index", None)
        frame = ctx.lines if base is None else base
        if key_index is None:  # no engine: plain joins on the key columns
            for keys, facts in parts:
                distinct = ctx.lines.select(keys).unique(maintain_order=True)
                added = facts(distinct)
                frame = frame.join(
                    added, on=list(keys), how="left", nulls_equal=True, maintain_order="left"
                )
            return frame
        out = rows_of(ctx, frame)
        if out.height < SMALL_BATCH:  # each line as its own key row
            cached = getattr(ctx.refdata, "cached_facts", None)
            for number, (keys, facts) in enumerate(parts):
                own = _classed_keys(ctx, out[list(keys)], classed)
                added = (
                    cached((name, number), keys, facts, own)
                    if cached is not None
                    else collect(facts(own.lazy())).drop(keys).rechunk()
                )
                if added is None or added.height != own.height:
                    raise ValueError(f"{name}: facts must give one row per key row")
                out = out.hstack(added.get_columns())
            return out
        for keys, facts in parts:
            distinct, index = key_index(list(keys), classed)
            added = collect(facts(distinct.lazy())).drop(keys)
            if added.height != distinct.height:
                raise ValueError(f"{name}: facts must give one row per key row")
            out = out.hstack(added.select(pl.all().gather(index)).rechunk())
        return out

    return batch_shared(ctx, ("lines_with", name), build)


def _classed_keys(
    ctx: RuleContext, keys: pl.DataFrame, classed: ClassedDate | None
) -> pl.DataFrame:
    """Key rows of a small batch, the date as its class when ``classed`` applies and the
    engine offers classes (see the module doc)."""
    class_dates = getattr(ctx.refdata, "class_dates", None)
    if classed is None or class_dates is None or classed[0] not in keys.columns:
        return keys
    dates = class_dates(keys.get_column(classed[0]), classed[1])
    return keys if dates is None else with_column_replaced(keys, dates)


def with_column_replaced(frame: pl.DataFrame, column: pl.Series) -> pl.DataFrame:
    """``frame`` with its column of ``column``'s name replaced by ``column`` (a new frame).

    What ``frame.with_columns(column)`` gives, without a query: a claim's queries run on
    Polars' thread pool, where a query of this thread would wait behind them.
    """
    out = frame.clone()  # shares the columns' data
    out.replace_column(out.get_column_index(column.name), column)
    return out


def key_table(
    ctx: RuleContext, keys: Sequence[str], classed: ClassedDate | None = None
) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """(the distinct values of ``keys`` in the lines, the lines), both with ``KEY_ROW``.

    ``KEY_ROW`` numbers the distinct key rows and tells each line its row: a table
    worked out per key row joins back to the lines on one integer column. Computed once
    per batch and key set. With ``classed`` (see the module doc) the engine may number
    the rows with each date's class in place of the date.
    """
    key_index = getattr(ctx.refdata, "key_index", None)
    names = list(keys)
    if key_index is None:  # no engine: number the distinct rows and join
        distinct = ctx.lines.select(names).unique(maintain_order=True).with_row_index(KEY_ROW)
        lines = ctx.lines.join(
            distinct, on=names, how="left", nulls_equal=True, maintain_order="left"
        )
        return distinct, lines
    distinct_rows, index = key_index(names, classed)

    def numbered_lines() -> pl.DataFrame:
        return ctx.refdata.lines.hstack([index.alias(KEY_ROW).rechunk()])

    lines = batch_shared(ctx, ("key_table", tuple(names), classed), numbered_lines)
    return distinct_rows.with_row_index(KEY_ROW).lazy(), lines


def with_key_row(ctx: RuleContext, frame: pl.LazyFrame, keys: Sequence[str]) -> pl.LazyFrame:
    """``frame`` (the batch's lines in their order, with any added columns) with the
    ``KEY_ROW`` that :func:`key_table` gives each line for ``keys``."""
    key_index = getattr(ctx.refdata, "key_index", None)
    if key_index is None:
        distinct = key_table(ctx, keys)[0]
        return frame.join(
            distinct, on=list(keys), how="left", nulls_equal=True, maintain_order="left"
        )
    index = key_index(list(keys))[1]
    return rows_of(ctx, frame).hstack([index.alias(KEY_ROW).rechunk()]).lazy()


def facts_kept(ctx: RuleContext) -> bool:
    """True when the engine keeps this batch's per-key facts for the next batches (a
    small batch): facts worked out per key then cost nothing when a key comes again."""
    return _facts_store(ctx) is not None


def _facts_store(ctx: RuleContext) -> Callable[..., pl.DataFrame | None] | None:
    """The engine's cross-batch facts store (``refdata.cached_facts``) when this batch is
    small; None for a big batch or without the engine."""
    cached = getattr(ctx.refdata, "cached_facts", None)
    if cached is None or ctx.refdata.lines.height >= SMALL_BATCH:
        return None
    return cached  # type: ignore[no-any-return]


def keyed_table(
    ctx: RuleContext,
    name: str,
    keys: Sequence[str],
    build: KeyTable,
    classed: ClassedDate | None = None,
) -> pl.LazyFrame:
    """``build`` on the distinct values of ``keys`` (see :func:`key_table`), once per batch.

    ``build`` receives the distinct key rows with ``KEY_ROW`` and returns at most one row
    per key row, carrying ``KEY_ROW``; the result has the key columns, ``KEY_ROW`` and
    what ``build`` adds. On a small batch each key's row is kept for the next batches
    (the engine's facts store), so ``build`` must work each row out from its key values
    and the reference data only, and ``name`` must name anything else it depends on.
    With ``classed`` (see the module doc) the key rows may carry each date's class in
    place of the date: join the table to the lines on ``KEY_ROW`` from
    ``key_table(ctx, keys, classed)``, never on the date.
    """

    def make() -> pl.LazyFrame:
        distinct = key_table(ctx, keys, classed)[0]
        cached = _facts_store(ctx)
        if cached is None:
            return build(distinct, True)
        rows = collect(distinct)
        names = list(keys)

        def facts(asked: pl.LazyFrame) -> pl.LazyFrame:
            numbered = asked.with_row_index(KEY_ROW)
            built = build(numbered, False).drop(names, strict=False)
            return numbered.join(
                built.with_columns(pl.lit(True).alias(_FOUND)),
                on=KEY_ROW,
                how="left",
                maintain_order="left",
            ).drop(KEY_ROW)

        added = cached(("keyed_table", name), names, facts, rows[names])
        if added is None:  # build gave several rows for a key: no reuse
            return build(distinct, True)
        return (
            rows.hstack(added.get_columns())
            .filter(pl.col(_FOUND).fill_null(False))
            .drop(_FOUND)
            .lazy()
        )

    return batch_shared(ctx, ("keyed_table", name), make)


def frame_with(
    ctx: RuleContext,
    name: str,
    frame: pl.LazyFrame,
    keys: Sequence[str],
    facts: KeyFacts,
    classed: ClassedDate | None = None,
) -> pl.LazyFrame:
    """``frame`` with the columns ``facts`` adds for each distinct value of ``keys``.

    ``facts`` receives the distinct key rows and returns them with columns added, one
    row per key row (in any order). On a small batch each key's answer is kept for the
    next batches (the engine's facts store), so ``facts`` must work each row out from its
    key values and the reference data only, and ``name`` must name anything else it
    depends on; with ``classed`` (see the module doc) it is kept per date class. Row
    order of ``frame`` is kept.
    """
    names = list(keys)
    cached = _facts_store(ctx)
    if cached is not None:
        rows = rows_of(ctx, frame)
        # The store answers each row, in order: no join back on the keys.
        added = cached(("frame_with", name), names, facts, _classed_keys(ctx, rows[names], classed))
        if added is not None:
            return rows.hstack(added.get_columns()).lazy()
        frame = rows.lazy()
    answers = facts(frame.select(names).unique())
    return frame.join(answers, on=names, how="left", nulls_equal=True, maintain_order="left")
