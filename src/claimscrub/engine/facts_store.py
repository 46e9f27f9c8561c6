"""Facts worked out for small batches, kept per reference data across batches.

What a fact function says about a key (a code and a date, an NDC, a modifier list ...)
depends on the key and the reference data only, so an API serving one claim at a time works
each key out once. A table holds the key columns, the facts and ``_HIT``; a table that
grows past ``FACTS_STORE_ROWS`` starts again.

Finding a few rows' keys in a table: a join hashes the whole table on every call (about
0.4 ms for a few thousand rows on this machine class, and a claim asks some 50 times), so
each table also keeps a dictionary from key values to row, and the rows of a small frame
are found there and gathered (about 0.04 ms). Lists and structs (a modifier list, a
patient's transplants) are frozen into tuples first; keys whose values Python would
compare differently from a join (floats, with NaN; decimals; datetimes) are joined.
"""

from __future__ import annotations

import datetime as dt
import threading
import weakref
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from claimscrub.rules.querying import collect

__all__ = [
    "DICTIONARY_ROWS",
    "FACTS_STORE_ROWS",
    "FactsStore",
    "facts_store",
    "key_rows",
    "key_rows_hashable",
    "stored_facts",
]

FACTS_STORE_ROWS = 100_000
# Frames of at most this many rows are answered from the dictionary (a claim's keys).
DICTIONARY_ROWS = 256
_HIT = "_facts_hit"


@dataclass(frozen=True)
class _Table:
    """One kind of fact: the key and fact columns with ``_HIT``, the fact columns alone
    (what is gathered), the key columns' names and types, and each key's row (None when
    the keys cannot be hashed safely). ``rows`` only grows, under the store's lock; a
    reader holding an older table ignores rows beyond its own ``facts``."""

    frame: pl.DataFrame
    facts: pl.DataFrame
    key_names: tuple[str, ...]
    key_types: tuple[pl.DataType, ...]
    rows: dict[tuple[Any, ...], int] | None

    @property
    def nested(self) -> bool:
        """Whether a key column holds lists or structs (its values must be frozen)."""
        return any(dtype.is_nested() for dtype in self.key_types)


class FactsStore:
    """The tables of facts of one reference data (see the module docstring)."""

    def __init__(self) -> None:
        self.tables: dict[Hashable, _Table] = {}
        self.lock = threading.Lock()
        # dataset -> first days of its lookups' date classes (None: keyed by the date)
        self.date_classes: dict[str, list[dt.date] | None] = {}


_STORES: weakref.WeakKeyDictionary[Any, FactsStore] = weakref.WeakKeyDictionary()
_STORES_LOCK = threading.Lock()


def facts_store(refdata: Any) -> FactsStore:
    """The store of ``refdata`` (made on first use; it goes when ``refdata`` goes)."""
    with _STORES_LOCK:
        store = _STORES.get(refdata)
        if store is None:
            store = _STORES[refdata] = FactsStore()
        return store


def key_rows_hashable(schema: pl.Schema) -> bool:
    """Whether Python's equality on these columns' values, frozen by :func:`_frozen`, is
    the join's (nulls equal): text, dates, integers, booleans, and lists and structs of
    them (a modifier list, a patient's transplants)."""
    return all(_hashable_type(dtype) for dtype in schema.values())


def _hashable_type(dtype: pl.DataType) -> bool:
    if isinstance(dtype, pl.List):
        return _hashable_type(dtype.inner)
    if isinstance(dtype, pl.Struct):
        return all(_hashable_type(f.dtype) for f in dtype.fields)
    return dtype.is_integer() or dtype in (pl.String, pl.Date, pl.Boolean, pl.Categorical)


def _frozen(value: Any) -> Any:
    """A key value as a hashable one: lists as tuples, structs as tuples of their fields
    (in the struct's order, which the schema check fixes)."""
    if isinstance(value, list):
        return tuple(_frozen(item) for item in value)
    if isinstance(value, dict):
        return tuple(_frozen(item) for item in value.values())
    return value


def _key_rows(keys: pl.DataFrame, nested: bool) -> Iterator[tuple[Any, ...]]:
    """The key values of each row, frozen when a key column is a list or a struct."""
    if not nested:
        return keys.iter_rows()
    return (tuple(_frozen(value) for value in row) for row in keys.iter_rows())


def key_rows(keys: pl.DataFrame) -> Iterator[tuple[Any, ...]]:
    """Each row's key values as a hashable tuple (lists and structs frozen)."""
    return _key_rows(keys, any(dtype.is_nested() for dtype in keys.dtypes))


def _gathered(table: _Table, frame: pl.DataFrame) -> pl.DataFrame | None:
    """The facts of every row of ``frame`` from the dictionary; None when a key is
    missing or the dictionary cannot answer."""
    if table.rows is None or frame.height > DICTIONARY_ROWS:
        return None
    if tuple(frame.columns) != table.key_names or tuple(frame.dtypes) != table.key_types:
        return None
    if frame.height == 0:
        return table.facts.clear()
    found = [table.rows.get(row) for row in _key_rows(frame, table.nested)]
    if None in found or max(found) >= table.facts.height:  # type: ignore[type-var]
        return None
    return table.facts[found]


def stored_facts(
    store: FactsStore,
    name: Hashable,
    keys: Sequence[str],
    facts: Callable[[pl.LazyFrame], pl.LazyFrame],
    frame: pl.DataFrame,
) -> pl.DataFrame | None:
    """The columns ``facts`` adds to the rows of ``frame`` (its ``keys`` columns), in the
    order of ``frame``, each key worked out once per store.

    ``name`` must name everything ``facts`` depends on besides the key values and the
    reference data. None when ``facts`` does not give one row per key row.
    """
    names = list(keys)
    with store.lock:
        table = store.tables.get(name)
    if table is not None:
        gathered = _gathered(table, frame)
        if gathered is not None:
            return gathered
        found = frame.join(
            table.frame, on=names, how="left", nulls_equal=True, maintain_order="left"
        )
        if found.get_column(_HIT).null_count() == 0:
            return found.drop(*names, _HIT).rechunk()
        missing = frame.filter(found.get_column(_HIT).is_null()).unique(maintain_order=True)
    else:
        missing = frame.unique(maintain_order=True)
    new = collect(facts(missing.lazy()))
    if new.height != missing.height:
        return None
    new = new.with_columns(pl.lit(True).alias(_HIT))
    with store.lock:
        table = _grown(store.tables.get(name), new, frame, names)
        store.tables[name] = table
    gathered = _gathered(table, frame)
    if gathered is not None:
        return gathered
    found = frame.join(table.frame, on=names, how="left", nulls_equal=True, maintain_order="left")
    return found.drop(*names, _HIT).rechunk()


def _grown(
    table: _Table | None, new: pl.DataFrame, asked: pl.DataFrame, names: list[str]
) -> _Table:
    """``table`` with the rows of ``new`` whose keys it lacks (another thread may have
    added some meanwhile). A table that would grow past ``FACTS_STORE_ROWS`` starts again
    from the rows the keys of ``asked`` need."""
    if table is not None:
        if table.rows is not None:
            fresh = [row not in table.rows for row in _key_rows(new[names], table.nested)]
            new = new.filter(pl.Series(fresh, dtype=pl.Boolean))
        else:
            new = new.join(table.frame[names], on=names, how="anti", nulls_equal=True)
    if table is None:
        frame, start, rows = new.rechunk(), 0, {}
    elif table.frame.height + new.height <= FACTS_STORE_ROWS:
        frame = pl.concat([table.frame, new], how="vertical_relaxed").rechunk()
        start, rows = table.frame.height, table.rows
    else:
        kept = table.frame.join(asked, on=names, how="semi", nulls_equal=True)
        new = pl.concat([kept, new], how="vertical_relaxed")
        frame, start, rows = new.rechunk(), 0, {}
    keys = frame[names]
    if not key_rows_hashable(keys.schema):
        rows = None
    elif rows is None:  # the keys were not hashable before (a column of nulls, say)
        rows = {row: number for number, row in enumerate(key_rows(keys))}
    else:
        added = key_rows(new[names])
        rows.update((row, start + number) for number, row in enumerate(added))
    return _Table(frame, frame.drop(*names, _HIT), tuple(names), tuple(keys.dtypes), rows)
