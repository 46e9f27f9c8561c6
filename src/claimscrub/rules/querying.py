"""Collecting queries inside Polars' own thread pool.

A query collected from a thread of ours hands each of its operations to Polars' thread
pool and waits for it: on a claim's few rows that hand-off is most of the cost (on this
machine class a 6-step query of a join, a filter, two columns, a group-by and a sort over
5 rows costs ~0.7 ms). A query started with ``collect(background=True)`` runs on a thread
of that pool, where its operations run in place: the same query costs ~0.24 ms waited for
one at a time, ~0.14 ms each when several are started together (2 cores). The waiting
thread releases the GIL. Measured on the whole engine (benchmarks/engine.py, 2 cores):
1 M lines 137 k -> 168 k lines/s; a stream of different single claims 241 -> 207 ms
median after 20 claims; the same claim again 116 -> 131 ms, as the rule queries now
wait until all are built (started earlier, they hold up this thread's own small queries
on the pool).

Polars calls background mode unstable (its API may change without notice); it is used
here only through :func:`start` and :func:`collect`, and ``POOL_QUERIES = False`` turns
it off (tests compare both).

Inside ``optimised(False)`` (the engine's evaluation of a small batch) queries are
collected without Polars' query optimisations: on a few rows, optimising a query (pushing
predicates and projections down, eliminating common subplans ...) costs more than it
saves. Measured on a 5-line claim (benchmarks/engine.py, 2 cores): 127 -> 112 ms median
for the same claim, 187 -> 162 ms for a stream of different ones. The optimisations never
change a result; ``OPTIMISE_SMALL = True`` keeps them on (tests compare both).

An eager ``DataFrame`` method that takes expressions (``select``, ``with_columns``,
``filter`` ...) is a query too, run on the same pool: while a claim's queries run there
it waits behind them. Where the small-batch path only picks or swaps whole columns it
therefore uses ``frame[names]`` and :func:`claimscrub.rules.batch.with_column_replaced`
(a pick of 2 of 3 columns: ~90 us as ``select``, ~9 us so, on an idle pool).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Protocol

import polars as pl

__all__ = ["OPTIMISE_SMALL", "POOL_QUERIES", "Running", "collect", "optimised", "start"]

POOL_QUERIES = True
OPTIMISE_SMALL = False
_OPTIMISED: ContextVar[bool] = ContextVar("claimscrub_optimised_queries", default=True)
_NO_OPTIMISATIONS = pl.QueryOptFlags.none()


class Running(Protocol):
    """A started query: its frame, waited for."""

    def fetch_blocking(self) -> pl.DataFrame: ...


class _Done:
    """A query collected where it was started (``POOL_QUERIES`` off)."""

    def __init__(self, frame: pl.DataFrame) -> None:
        self._frame = frame

    def fetch_blocking(self) -> pl.DataFrame:
        return self._frame


@contextmanager
def optimised(optimise: bool) -> Iterator[None]:
    """Within this block (on this thread or task), queries started here are optimised by
    Polars or not (see the module docstring): not for the queries of a small batch, unless
    ``OPTIMISE_SMALL``."""
    token = _OPTIMISED.set(optimise or OPTIMISE_SMALL)
    try:
        yield
    finally:
        _OPTIMISED.reset(token)


def start(query: pl.LazyFrame) -> Running:
    """Start ``query`` on Polars' thread pool; a query that cannot start raises here, one
    that fails raises from ``fetch_blocking``."""
    flags = {} if _OPTIMISED.get() else {"optimizations": _NO_OPTIMISATIONS}
    if not POOL_QUERIES:
        return _Done(query.collect(engine="in-memory", **flags))
    return query.collect(background=True, **flags)


def collect(query: pl.LazyFrame) -> pl.DataFrame:
    """``query`` collected on Polars' thread pool (see the module docstring)."""
    return start(query).fetch_blocking()
