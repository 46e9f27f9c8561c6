"""A lookup gives every date of a date class the same answer (see refdata.date_classes).

The engine keeps lookup answers of single claims by (key, date class); these tests ask
``RefData.lookup`` on every day of ten years (and a few far dates) for real keys of each
dataset, once with the date itself and once with its class's date, and want the same rows.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from claimscrub.refdata.catalog import RefData
from claimscrub.refdata.date_classes import class_start, class_starts
from claimscrub.refdata.store import write_release

D = dt.date
# The column each dataset is looked up by in the rules (one is enough: the date is what varies).
KEY_COLUMN = {
    "asp": "hcpcs_code",
    "carc_rarc": "code",
    "hcpcs": "hcpcs_code",
    "icd10cm": "code",
    "mue": "hcpcs_code",
    "ndc_hcpcs": "ndc11",
    "opps": "hcpcs_code",
    "pos": "pos_code",
}


def _every_day() -> pl.Series:
    days = pl.date_range(D(2018, 1, 1), D(2027, 12, 31), "1d", eager=True)
    far = pl.Series([D(1900, 1, 1), D(1981, 12, 31), D(2099, 12, 31), None], dtype=pl.Date)
    return pl.concat([days, far]).alias("dos")


def _sample_keys(refdata: RefData, dataset: str) -> list[str]:
    """Some keys of every release, keys only some releases list, and one no release lists;
    for HCPCS also codes added, terminated or revised (a new action date) in the decade."""
    key = KEY_COLUMN[dataset]
    tables = [refdata.table(dataset, r.release) for r in refdata.releases(dataset)]
    listed = [set(t.get_column(key).drop_nulls().to_list()) for t in tables]
    keys = {k for t in tables for k in t.get_column(key).drop_nulls().head(4).to_list()}
    for own in listed:
        others = set().union(*(s for s in listed if s is not own))
        keys.update(sorted(own - others)[:4])
    if dataset == "hcpcs":
        in_decade = pl.col("_d").is_between(D(2018, 1, 1), D(2027, 12, 31))
        for name in ("add_date", "termination_date", "action_eff_date"):
            for table in tables:
                picked = (
                    table.with_columns(pl.col(name).alias("_d"))
                    .filter(in_decade)
                    .unique(name, keep="first")
                    .sort(name)
                    .get_column(key)
                    .head(6)
                )
                keys.update(picked.to_list())
    keys.add("ZZ999")
    return sorted(keys)


def _assert_classes_hold(
    refdata: RefData, dataset: str, key: str, keys: list[str], days: pl.Series
) -> None:
    """One frame of every key on every day: the lookup at the day and at its class agree."""
    starts = class_starts(refdata, dataset)
    assert starts is not None
    frame = (
        pl.DataFrame({"key": keys})
        .join(days.to_frame(), how="cross")
        .with_columns(pl.col("key").cast(refdata.table(dataset).schema[key]))
    )
    classed = frame.with_columns(class_start(frame.get_column("dos"), starts))
    assert classed.get_column("dos").n_unique() < frame.get_column("dos").n_unique()
    on = {"key": key}
    plain = refdata.lookup(frame, dataset, on, as_of="dos")
    by_class = refdata.lookup(classed, dataset, on, as_of="dos").drop("dos")
    assert plain.height == by_class.height >= frame.height  # MUE: a row per service type
    answers = plain.drop("dos")
    same = pl.DataFrame([answers[name].eq_missing(by_class[name]) for name in answers.columns])
    differing = plain.filter(~same.select(pl.all_horizontal(pl.all())).to_series())
    assert differing.is_empty(), differing.head(5)
    assert answers.equals(by_class)


@pytest.mark.parametrize("dataset", sorted(KEY_COLUMN))
def test_a_date_and_its_class_get_the_same_answer(bundled: RefData, dataset: str) -> None:
    keys = _sample_keys(bundled, dataset)
    _assert_classes_hold(bundled, dataset, KEY_COLUMN[dataset], keys, _every_day())


def test_class_start_keeps_nulls_and_maps_early_dates_to_one_class(bundled: RefData) -> None:
    starts = class_starts(bundled, "opps")
    assert starts is not None
    dates = pl.Series("dos", [None, D(1900, 1, 1), D(2025, 9, 30), D(2025, 10, 1)], pl.Date)
    first = starts[0]
    assert class_start(dates, starts).to_list() == [None, D(2025, 9, 30), D(2025, 9, 30), first]


def _write(
    root: Path, dataset: str, releases: list[tuple[str, str, str | None, pl.DataFrame]]
) -> RefData:
    """A store of these (release, start, end, table) of one dataset, as reference data."""
    for release, start, end, table in releases:
        provenance = {
            "dataset": dataset,
            "release": release,
            "effective_from": start,
            "effective_to": end,
        }
        write_release(root, table, provenance)
    return RefData(roots=[(root, True)])


def test_nearest_release_switches_exactly_between_windows(tmp_path: Path) -> None:
    """Gaps of an even number of days (a tie on the middle day goes to the newer
    release) and an odd one, an overlap, an open-ended release: checked day by day."""
    windows = [
        ("r1", "2020-01-01", "2020-01-31"),
        ("r2", "2020-03-01", "2020-03-31"),  # a tie on 2020-02-15
        ("r3", "2020-03-15", "2020-05-31"),  # overlaps r2
        ("r4", "2020-08-01", "2020-08-31"),  # a tie on 2020-07-01
        ("r5", "2021-01-01", None),  # no tie: r4 to 2020-10-31, r5 from 2020-11-01
    ]
    refdata = _write(
        tmp_path,
        "toy",
        [
            (release, start, end, pl.DataFrame({"code": ["A1", f"R{n}"], "value": [n, 20]}))
            for n, (release, start, end) in enumerate(windows)
        ],
    )
    pick = refdata.lookup(
        pl.DataFrame({"code": ["A1"] * 3, "dos": [D(2020, 2, 15), D(2020, 2, 14), D(2020, 7, 1)]}),
        "toy",
        {"code": "code"},
        as_of="dos",
    )
    assert pick.get_column("toy_release").to_list() == ["r2", "r1", "r4"]  # the ties
    days = pl.date_range(D(2019, 6, 1), D(2021, 6, 30), "1d", eager=True).alias("dos")
    _assert_classes_hold(refdata, "toy", "code", ["A1", "R0", "R4", "none"], days)


def test_hcpcs_classes_follow_add_action_and_termination_dates(tmp_path: Path) -> None:
    """A code terminated on a day no other code's dates are near (the bundled file ends
    codes the day before others start, so it cannot show a missing day after an end)."""

    def table(description: str, action: dt.date) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "hcpcs_code": ["X1", "X2"],
                "long_description": [description, "other"],
                "action_eff_date": [action, D(2019, 5, 5)],
                "add_date": [D(2020, 3, 10), D(2019, 5, 5)],
                "termination_date": [D(2020, 6, 15), None],
            }
        )

    refdata = _write(
        tmp_path,
        "hcpcs",
        [
            ("h1", "2020-01-01", None, table("first", D(2020, 3, 10))),
            ("h2", "2020-09-01", None, table("revised", D(2020, 9, 5))),
        ],
    )
    days = pl.date_range(D(2019, 1, 1), D(2021, 6, 30), "1d", eager=True).alias("dos")
    _assert_classes_hold(refdata, "hcpcs", "hcpcs_code", ["X1", "X2", "X3"], days)
