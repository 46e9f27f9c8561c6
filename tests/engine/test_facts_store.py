"""The facts store: each key's facts worked out once, answered in the order asked."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from claimscrub.engine import facts_store as fs

DAY = dt.date(2025, 6, 1)


class Counting:
    """A fact function that counts the key rows it is asked about."""

    def __init__(self) -> None:
        self.asked: list[tuple] = []

    def __call__(self, rows: pl.LazyFrame) -> pl.LazyFrame:
        frame = rows.collect()
        self.asked.extend(frame.rows())
        return frame.lazy().with_columns(
            pl.col("code").str.len_chars().alias("length"),
            pl.concat_str("code", pl.lit("!")).alias("shout"),
        )


def _keys(codes: list[str | None], days: list[dt.date | None] | None = None) -> pl.DataFrame:
    return pl.DataFrame(
        {"code": codes, "day": days or [DAY] * len(codes)},
        schema={"code": pl.String, "day": pl.Date},
    )


def test_each_key_is_worked_out_once_and_answers_keep_the_order_asked() -> None:
    store, facts = fs.FactsStore(), Counting()
    first = fs.stored_facts(store, "n", ["code", "day"], facts, _keys(["J7507", "J7503"]))
    again = fs.stored_facts(
        store, "n", ["code", "day"], facts, _keys(["J7503", None, "J7507", "J7503"])
    )
    assert first is not None and first.rows() == [(5, "J7507!"), (5, "J7503!")]
    assert again is not None
    assert again.rows() == [(5, "J7503!"), (None, None), (5, "J7507!"), (5, "J7503!")]
    # J7507 and J7503 once, the null code once (null keys are equal to each other)
    assert facts.asked == [("J7507", DAY), ("J7503", DAY), (None, DAY)]
    assert fs.stored_facts(store, "n", ["code", "day"], facts, _keys([])).height == 0


def test_list_and_struct_keys_are_found_like_a_join_finds_them() -> None:
    store = fs.FactsStore()

    def facts(rows: pl.LazyFrame) -> pl.LazyFrame:
        return rows.with_columns(pl.col("mods").list.len().alias("count"))

    schema = {"mods": pl.List(pl.String), "t": pl.List(pl.Struct({"organ": pl.String}))}
    asked = pl.DataFrame(
        {
            "mods": [["KX"], ["KX", "GY"], None, [], ["KX"]],
            "t": [[{"organ": "kidney"}], [], None, [{"organ": None}], [{"organ": "kidney"}]],
        },
        schema=schema,
    )
    first = fs.stored_facts(store, "m", ["mods", "t"], facts, asked)
    second = fs.stored_facts(store, "m", ["mods", "t"], facts, asked.reverse())
    assert first is not None and second is not None
    assert first["count"].to_list() == [1, 2, None, 0, 1]
    assert second["count"].to_list() == [1, 0, None, 2, 1]
    assert store.tables["m"].rows is not None  # answered from the dictionary
    assert store.tables["m"].frame.height == 4  # the repeated key is kept once


def test_float_keys_are_joined() -> None:
    store = fs.FactsStore()

    def facts(rows: pl.LazyFrame) -> pl.LazyFrame:
        return rows.with_columns((pl.col("x") * 2).alias("twice"))

    asked = pl.DataFrame({"x": [1.5, float("nan"), 1.5]})
    assert fs.stored_facts(store, "f", ["x"], facts, asked)["twice"].to_list()[0] == 3.0
    assert store.tables["f"].rows is None
    again = fs.stored_facts(store, "f", ["x"], facts, asked)
    assert again is not None and again.height == 3


def test_a_full_store_starts_again_and_still_answers_every_row(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fs, "FACTS_STORE_ROWS", 3)
    store, facts = fs.FactsStore(), Counting()
    fs.stored_facts(store, "n", ["code", "day"], facts, _keys(["A1", "B22", "C333"]))
    # one known key and one new key: the table would hold 4 rows, so it starts again
    out = fs.stored_facts(store, "n", ["code", "day"], facts, _keys(["A1", "D4444"]))
    assert out is not None and out["length"].to_list() == [2, 5]
    assert sorted(store.tables["n"].frame["code"].to_list()) == ["A1", "D4444"]


def test_a_key_added_by_another_thread_meanwhile_is_kept_once() -> None:
    store, facts = fs.FactsStore(), Counting()
    fs.stored_facts(store, "n", ["code", "day"], facts, _keys(["J7507"]))
    # as if another caller worked J7507 out again before this one stored it
    table = store.tables["n"]
    new = table.frame.head(1)
    grown = fs._grown(table, new, _keys(["J7507"]), ["code", "day"])
    assert grown.frame.height == 1
