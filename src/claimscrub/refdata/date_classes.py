"""Date classes of :meth:`RefData.lookup`: dates of service a lookup cannot tell apart.

A lookup's answer depends on the date of service only through comparisons with dates of
the reference data: the release windows (and, for a date outside every window, which
release is nearest) and, for ``hcpcs``, the add / action / termination dates of the
codes. Between two consecutive dates where one of those comparisons can change, every
date gets the same answer for every key. So a caller that keeps answers across calls (the
engine's facts store for single claims) can key them by the *class* of the date (its
first day, :func:`class_start`) instead of the date: a claim with a date never seen
before then reuses what a neighbouring date worked out.

This module must follow :mod:`claimscrub.refdata.catalog`: a new comparison of the date
there (a new dataset rule, a date echoed or shifted in the output) needs its dates here,
or the dataset left out (:func:`class_starts` returns None for it). A test checks every
bundled dataset on every day of ten years.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    from claimscrub.refdata.catalog import RefData, Release

# The HCPCS lookup compares the date with these columns of every release (the record in
# force: action_eff_date <= date; validity: add_date <= date <= termination_date).
HCPCS_COMPARED = ("action_eff_date", "add_date", "termination_date")
_DAY = dt.timedelta(days=1)


def class_starts(refdata: RefData, dataset: str) -> list[dt.date] | None:
    """The sorted first days of the date classes of ``dataset``'s lookups.

    Dates before the first of them form one more class (see :func:`class_start`). None
    when the dataset is not installed or its dates cannot be classed safely (a compared
    column that is not a date).
    """
    releases = refdata.releases(dataset)
    if not releases:
        return None
    if dataset == "hcpcs":
        compared = _hcpcs_dates(refdata, releases)
        if compared is None:
            return None
        days = {d for value in compared for d in (value, value + _DAY)}
    else:
        days = _window_days(releases)
    return sorted(days)


def _hcpcs_dates(refdata: RefData, releases: list[Release]) -> set[dt.date] | None:
    """Every value of the compared columns, in every release (the record in force may
    come from any release, validity from the newest one listing the code)."""
    found: set[dt.date] = set()
    for item in releases:
        table = refdata.table("hcpcs", item.release)
        for name in HCPCS_COMPARED:
            if name not in table.columns:
                continue
            if table.schema[name] != pl.Date:
                return None
            found.update(v for v in table.get_column(name).unique().to_list() if v is not None)
    return found


def _window_days(releases: list[Release]) -> set[dt.date]:
    """Where the release picked for a date (and its in-force flag) may change.

    Inside windows: at each start and the day after each end. Outside every window the
    nearest release is used (fewest days away, a tie to the newer); between a release
    ending before the date and one starting after it, the nearer one changes at the
    midpoint of the gap: the midpoint's day and the next one start classes (a tie on
    the midpoint itself is a class of its own). Two releases on the same side keep their
    order as the date moves, so no other day matters.
    """
    days: set[dt.date] = set()
    for item in releases:
        if item.effective_from is not None:
            days.add(item.effective_from)
        if item.implied_to is not None:
            days.add(item.implied_to + _DAY)
    for before in releases:
        for after in releases:
            end, start = before.implied_to, after.effective_from
            if end is None or start is None or start <= end:
                continue
            middle = end + dt.timedelta(days=(start - end).days // 2)
            days.update((middle - _DAY, middle, middle + _DAY, middle + 2 * _DAY))
    return days


def class_start(dates: pl.Series, starts: Sequence[dt.date]) -> pl.Series:
    """Each date's class, as a date of that class: the largest of ``starts`` (sorted, from
    :func:`class_starts`) on or before it; a date before every start maps to the day
    before the first one. Nulls stay null (a lookup without a date answers differently)."""
    if not starts:  # nothing the date is compared with: one class
        return pl.select(
            pl.when(dates.is_not_null()).then(pl.lit(dt.date(2000, 1, 1))).alias(dates.name)
        ).to_series()
    before = starts[0] - _DAY
    # A bisection per distinct value, in Python: the engine asks this for every lookup of
    # every single claim (a handful of dates), where it takes a few microseconds, and
    # Polars' search_sorted with the gather around it about 0.3 ms. (A million dates take
    # about 0.1 s here; only tests ask for that many.)
    picked: dict[dt.date, dt.date] = {}
    out: list[dt.date | None] = []
    for day in dates.to_list():
        if day is not None and day not in picked:
            at = bisect.bisect_right(starts, day)
            picked[day] = starts[at - 1] if at else before
        out.append(picked[day] if day is not None else None)
    return pl.Series(dates.name, out, dtype=pl.Date)
