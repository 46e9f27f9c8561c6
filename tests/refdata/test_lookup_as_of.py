"""Release selection by date of service, scalar and vectorised, at the window edges."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from claimscrub.refdata.catalog import RefData, RefDataError, default_refdata
from claimscrub.refdata.store import BUNDLED_ROOT, write_release

D = dt.date

# (date, release used, in force) for OPPS: 2025-10 (Oct-Dec), 2026-01 (Jan-Mar), 2026-04 (Apr-Jun)
OPPS_EDGES = [
    (D(2025, 9, 30), "2025-10", False),  # before every window: the nearest (first) release
    (D(2025, 10, 1), "2025-10", True),
    (D(2025, 12, 31), "2025-10", True),
    (D(2026, 1, 1), "2026-01", True),
    (D(2026, 3, 31), "2026-01", True),
    (D(2026, 4, 1), "2026-04", True),
    (D(2026, 6, 30), "2026-04", True),
    (D(2026, 7, 1), "2026-04", False),  # after every window: the latest release, flagged
]


@pytest.mark.parametrize(("on", "release", "in_force"), OPPS_EDGES)
def test_scalar_window_edges(bundled: RefData, on: dt.date, release: str, in_force: bool) -> None:
    item, flag = bundled.select_release("opps", on)
    assert (item.release, flag) == (release, in_force)
    assert bundled.opps("J7504", on).source.release == release


def test_vectorised_matches_scalar(bundled: RefData) -> None:
    frame = pl.DataFrame(
        {"code": ["J7504"] * len(OPPS_EDGES), "dos": [d for d, _, _ in OPPS_EDGES]}
    )
    out = bundled.lookup(
        frame, "opps", on={"code": "hcpcs_code"}, as_of="dos", columns=["status_indicator"]
    )
    assert out["opps_release"].to_list() == [r for _, r, _ in OPPS_EDGES]
    assert out["opps_in_force"].to_list() == [f for _, _, f in OPPS_EDGES]
    assert out["status_indicator"].to_list() == ["K"] * len(OPPS_EDGES)


def test_open_ended_release_runs_until_the_next_one(bundled: RefData) -> None:
    hcpcs = {r.release: r for r in bundled.releases("hcpcs")}
    assert hcpcs["2020-01"].effective_to is None
    assert hcpcs["2020-01"].implied_to == D(2025, 12, 31)
    assert hcpcs["2026-01"].implied_to is None
    mue, flag = bundled.select_release("mue", D(2030, 1, 1))
    assert (mue.release, flag) == ("2024-07-01", True)  # open-ended, still in force


def test_caveat_names_the_latest_release(bundled: RefData) -> None:
    source = bundled.asp("J7504", D(2026, 12, 4)).source
    assert source.in_force is False
    assert source.caveat(D(2026, 12, 4)) == (
        "no release in force on 2026-12-04; latest available release 2025-Q4, "
        "effective 2025-10-01 to 2025-12-31"
    )
    assert bundled.asp("J7504", D(2025, 10, 1)).source.caveat(D(2025, 10, 1)) is None


def test_hcpcs_vectorised_history(bundled: RefData) -> None:
    frame = pl.DataFrame(
        {
            "hcpcs": ["J7505", "J7505", "J7521", "J7521", "J7516", "J7516", "NOPE1", "J7507"],
            "dos": [
                D(2025, 6, 1),
                D(2026, 1, 1),
                D(2025, 3, 31),
                D(2025, 4, 1),
                D(2023, 6, 1),
                D(2024, 4, 1),
                D(2025, 1, 1),
                None,
            ],
        }
    )
    out = bundled.lookup(
        frame,
        "hcpcs",
        on={"hcpcs": "hcpcs_code"},
        as_of="dos",
        columns=["long_description", "unit_amount", "termination_date"],
    )
    assert out["hcpcs_status"].to_list() == [
        "valid",
        "terminated",
        "not_yet_valid",
        "valid",
        "valid",
        "valid",
        None,
        None,
    ]
    assert out["hcpcs_valid"].to_list() == [True, False, False, True, True, True, None, None]
    assert out["long_description"][4] == "Cyclosporin, parenteral, 250 mg"
    assert out["long_description"][5] == "Injection, cyclosporine, 250 mg"
    assert out["hcpcs_release"].to_list()[:6] == [
        "2020-01",
        "2026-01",
        "2026-01",
        "2026-01",
        "2020-01",
        "2026-01",
    ]
    # termination comes from the newest release even when the 2020 record is in force
    assert out["termination_date"][0] == D(2025, 12, 31)
    assert (
        out["long_description"][7] == "Tacrolimus, immediate release, oral, 1 mg"
    )  # no date: newest record
    # the row order and every input row are kept
    assert out["hcpcs"].to_list() == frame["hcpcs"].to_list()


def test_hcpcs_vectorised_equals_scalar(bundled: RefData) -> None:
    codes = [
        "J7500",
        "J7503",
        "J7505",
        "J7513",
        "J7514",
        "J7516",
        "J7519",
        "J7521",
        "J7528",
        "C9033",
        "KX",
    ]
    days = [D(2019, 12, 31), D(2023, 10, 1), D(2024, 3, 31), D(2025, 1, 1), D(2026, 1, 1)]
    frame = pl.DataFrame(
        [(c, d) for c in codes for d in days],
        schema={"code": pl.String, "dos": pl.Date},
        orient="row",
    )
    out = bundled.lookup(
        frame, "hcpcs", on={"code": "hcpcs_code"}, as_of="dos", columns=["long_description"]
    )
    for row in out.iter_rows(named=True):
        fact = bundled.hcpcs(row["code"], row["dos"])
        assert fact is not None
        assert (row["hcpcs_status"], row["long_description"], row["hcpcs_release"]) == (
            fact.status,
            fact.record["long_description"],
            fact.source.release,
        )


def test_lookup_keeps_frame_kind_and_order(bundled: RefData) -> None:
    frame = pl.DataFrame(
        {
            "ndc": ["00781210401", "00009722402", "99999999999"],
            "code": ["J7507", "J7504", "J7507"],
            "dos": [D(2025, 11, 1)] * 3,
        }
    )
    eager = bundled.lookup(
        frame,
        "ndc_hcpcs",
        on={"ndc": "ndc11", "code": "hcpcs_code"},
        as_of="dos",
        columns={"units_per_item": "xwalk_units_per_item"},
    )
    assert isinstance(eager, pl.DataFrame)
    assert eager["xwalk_units_per_item"].to_list() == [5.0, 0.2, None]
    assert eager["ndc_hcpcs_in_force"].to_list() == [True, True, True]
    lazy = bundled.lookup(
        frame.lazy(),
        "ndc_hcpcs",
        on={"ndc": "ndc11", "code": "hcpcs_code"},
        as_of="dos",
        columns=["units_per_item"],
    )
    assert isinstance(lazy, pl.LazyFrame)
    assert lazy.collect()["units_per_item"].to_list() == [5.0, 0.2, None]


def test_lookup_without_date_uses_newest_release(bundled: RefData) -> None:
    out = bundled.lookup(
        pl.DataFrame({"code": ["J7504"]}),
        "opps",
        on={"code": "hcpcs_code"},
        columns=["payment_rate"],
    )
    assert out["opps_release"].to_list() == ["2026-04"]
    assert out["opps_in_force"].to_list() == [None]


def test_lookup_refuses_to_overwrite_columns(bundled: RefData) -> None:
    frame = pl.DataFrame({"code": ["J7504"], "payment_limit": [1.0], "dos": [D(2025, 11, 1)]})
    with pytest.raises(ValueError, match="overwrite frame column"):
        bundled.lookup(
            frame, "asp", on={"code": "hcpcs_code"}, as_of="dos", columns=["payment_limit"]
        )
    with pytest.raises(ValueError, match="unknown column"):
        bundled.lookup(
            frame, "asp", on={"code": "hcpcs_code"}, as_of="dos", columns=["no_such_column"]
        )


def test_missing_dataset_is_a_refdata_error(tmp_path: Path) -> None:
    empty = RefData(roots=[(tmp_path / "nothing", True)])  # constructing reads nothing
    with pytest.raises(RefDataError, match="no release of reference dataset 'asp'"):
        empty.asp("J7504", D(2025, 11, 1))


def test_user_release_overrides_bundled_and_adds(user_store: Path) -> None:
    bundled_asp = RefData(roots=[(BUNDLED_ROOT, True)])
    table = bundled_asp.table("asp", "2025-Q4")
    provenance = dict(
        bundled_asp.release("asp", "2025-Q4").provenance, imported_at="2026-01-05T10:00:00Z"
    )
    changed = table.with_columns(pl.col("notes").fill_null("user copy"))
    write_release(user_store, changed, provenance)
    newer = dict(
        provenance, release="2026-Q1", effective_from="2026-01-01", effective_to="2026-03-31"
    )
    write_release(user_store, table, newer)

    merged = default_refdata()
    releases = {r.release: r for r in merged.releases("asp")}
    assert releases["2025-Q4"].overrides_bundled and not releases["2025-Q4"].bundled
    assert releases["2026-Q1"].bundled is False
    assert merged.asp("J7500", D(2025, 11, 1)).rows[0]["notes"] == "user copy"
    assert merged.select_release("asp", D(2026, 2, 1))[0].release == "2026-Q1"
