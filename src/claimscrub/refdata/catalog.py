"""The ``RefData`` facade: every reference-data lookup, as of the date of service.

Two stores are merged: the bundled snapshot inside the package and the user's store
(:func:`claimscrub.refdata.store.user_root`); a user release with the same dataset and
release id replaces the bundled one. Nothing is read until asked — constructing a
``RefData`` touches no file — and what is read is kept for the life of the object
(:func:`default_refdata` gives one per process).

**Release windows.** A release is in force from its ``effective_from`` to its
``effective_to``; an open-ended release (``effective_to`` null) runs until the day
before the next release of the same dataset starts. For a date of service the release
whose window contains the date is used. A date outside every window gets the *nearest*
release (fewest days away; a tie goes to the newer), flagged ``in_force = False`` so a
caller can say "latest available release 2025-Q4, effective to 2025-12-31".

**HCPCS history** (dataset ``hcpcs``) follows the CMS file instead of windows: the
newest release carries the add / action / termination dates of every code, so

- *validity* on date d comes from the newest release that lists the code:
  ``add_date <= d`` and (``termination_date`` null or ``d <= termination_date``);
- the *record in force* (descriptor, unit, indicators) is the newest release's record
  whose ``action_eff_date <= d`` (its text was in force then); when none is, the
  oldest release's record, flagged ``in_force = False``.

**Two kinds of lookup.** :meth:`RefData.lookup` joins a whole frame of claim lines
with the release in force on each line's date (Polars joins, no per-row Python);
rules use it. The scalar methods (:meth:`hcpcs`, :meth:`ndc`, :meth:`mue`,
:meth:`opps`, :meth:`asp`, :meth:`crosswalk_for_code`, :meth:`related_codes`) serve
the CLI; every value they return carries its :class:`Source` (dataset + release).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import polars as pl

from claimscrub.refdata.store import BUNDLED_ROOT, ReleaseRef, scan_root, user_root

FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)

HCPCS = "hcpcs"
HCPCS_STATUS_VALID = "valid"
HCPCS_STATUS_NOT_YET_VALID = "not_yet_valid"
HCPCS_STATUS_TERMINATED = "terminated"
# Columns of the newest release that decide validity (see module doc).
_HCPCS_VALIDITY_COLUMNS = ("add_date", "termination_date")
_XREF_COLUMNS = ("xref_1", "xref_2", "xref_3", "xref_4", "xref_5")
# A biosimilar's nonproprietary name ends in a four-letter suffix ("trastuzumab-qyyp").
_BIOSIMILAR_SUFFIX = r"-[a-z]{4}\b"


class RefDataError(Exception):
    """Reference data that is missing or unusable (the CLI exits 2)."""


@dataclass(frozen=True)
class Release:
    """One installed release of one dataset, with its window."""

    dataset: str
    release: str
    effective_from: dt.date | None
    effective_to: dt.date | None  # as declared; None = open-ended
    implied_to: dt.date | None  # effective_to, else the day before the next release starts
    ref: ReleaseRef
    overrides_bundled: bool = False

    @property
    def label(self) -> str:
        """'hcpcs 2026-01'."""
        return f"{self.dataset} {self.release}"

    @property
    def bundled(self) -> bool:
        """True for the snapshot shipped in the package."""
        return self.ref.bundled

    @property
    def provenance(self) -> dict[str, Any]:
        """The release's provenance.json."""
        return self.ref.provenance

    def contains(self, day: dt.date) -> bool:
        """True when ``day`` is inside this release's window."""
        if self.effective_from is not None and day < self.effective_from:
            return False
        return self.implied_to is None or day <= self.implied_to


@dataclass(frozen=True)
class Source:
    """Where a fact came from: dataset, release, its window, and whether it was in force."""

    dataset: str
    release: str
    effective_from: dt.date | None
    effective_to: dt.date | None
    in_force: bool | None
    bundled: bool

    @classmethod
    def of(cls, release: Release, in_force: bool | None) -> Source:
        """The source of a fact read from ``release``."""
        return cls(
            release.dataset,
            release.release,
            release.effective_from,
            release.implied_to,
            in_force,
            release.bundled,
        )

    @property
    def label(self) -> str:
        """'ndc_hcpcs 2025-Q4'."""
        return f"{self.dataset} {self.release}"

    def window_text(self) -> str:
        """'effective 2025-10-01 to 2025-12-31' / 'effective from 2026-01-01'."""
        start = self.effective_from.isoformat() if self.effective_from else "the start"
        if self.effective_to is None:
            return f"effective from {start}"
        return f"effective {start} to {self.effective_to.isoformat()}"

    def caveat(self, on: dt.date) -> str | None:
        """A sentence for a release used outside its window on ``on``, else None."""
        if self.in_force is not False:
            return None
        if self.effective_from is not None and on < self.effective_from:
            return (
                f"no release in force on {on.isoformat()}; earliest available release "
                f"{self.release}, {self.window_text()}"
            )
        return (
            f"no release in force on {on.isoformat()}; latest available release "
            f"{self.release}, {self.window_text()}"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "dataset": self.dataset,
            "release": self.release,
            "effective_from": _iso(self.effective_from),
            "effective_to": _iso(self.effective_to),
            "in_force": self.in_force,
            "bundled": self.bundled,
        }


@dataclass(frozen=True)
class Facts:
    """Rows read from one release, with their source."""

    source: Source
    rows: list[dict[str, Any]] = field(default_factory=list)
    # True for the release a date-of-service lookup uses (in force, or the nearest one)
    selected: bool = True


@dataclass(frozen=True)
class HcpcsFact:
    """A HCPCS code as of a date: the record in force, and whether the code was valid."""

    code: str
    on: dt.date
    record: dict[str, Any]
    source: Source  # release of ``record``; in_force False when no record's action date <= on
    status: str  # valid | not_yet_valid | terminated
    add_date: dt.date | None
    termination_date: dt.date | None
    validity_source: Source  # the newest release listing the code

    @property
    def valid(self) -> bool:
        """True when the code may be billed on ``on``."""
        return self.status == HCPCS_STATUS_VALID


@dataclass(frozen=True)
class RelatedCode:
    """A code related to another one, as of a date."""

    code: str
    relation: str  # same_ingredient | same_family | xref_successor | xref_predecessor | xref
    long_description: str | None
    unit_text: str | None
    route: str | None
    form: str | None
    status: str | None
    source: Source | None  # None for an XREF to a code no installed release lists


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _parse_date(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _columns_arg(
    columns: Sequence[str] | Mapping[str, str] | None, available: Sequence[str]
) -> dict[str, str]:
    """Normalise ``columns`` to {table column: output name}."""
    if columns is None:
        return {name: name for name in available}
    if isinstance(columns, Mapping):
        mapping = dict(columns)
    elif isinstance(columns, str):
        mapping = {columns: columns}
    else:
        mapping = {name: name for name in columns}
    unknown = [name for name in mapping if name not in available]
    if unknown:
        raise ValueError(
            f"unknown column(s) {', '.join(unknown)}; available: {', '.join(available)}"
        )
    return mapping


def ingredient_key(expr: pl.Expr) -> pl.Expr:
    """The ingredient without a biosimilar suffix: 'trastuzumab-qyyp' -> 'trastuzumab'."""
    return expr.str.replace_all(_BIOSIMILAR_SUFFIX, "")


class RefData:
    """Merged bundled + user reference data, read lazily and cached."""

    def __init__(self, roots: Sequence[tuple[Path, bool]] | None = None) -> None:
        """``roots``: (store root, is-bundled) pairs, later roots overriding earlier ones.

        Default: the bundled snapshot, then the user's store.
        """
        self._roots = list(roots) if roots is not None else None
        self._releases: dict[str, list[Release]] | None = None
        self._tables: dict[tuple[str, str], pl.DataFrame] = {}
        self._stacked_cache: dict[str, pl.DataFrame] = {}

    # --- releases -------------------------------------------------------------------
    def _load_releases(self) -> dict[str, list[Release]]:
        if self._releases is not None:
            return self._releases
        roots = (
            self._roots if self._roots is not None else [(BUNDLED_ROOT, True), (user_root(), False)]
        )
        merged: dict[tuple[str, str], tuple[ReleaseRef, bool]] = {}
        for root, bundled in roots:
            for ref in scan_root(Path(root), bundled=bundled):
                key = (ref.dataset, ref.release)
                overrides = key in merged and merged[key][0].bundled and not bundled
                merged[key] = (ref, overrides)
        by_dataset: dict[str, list[tuple[ReleaseRef, bool]]] = {}
        for (dataset, _), value in merged.items():
            by_dataset.setdefault(dataset, []).append(value)
        releases: dict[str, list[Release]] = {}
        for dataset, refs in by_dataset.items():
            refs.sort(
                key=lambda item: (
                    _parse_date(item[0].provenance.get("effective_from")) or dt.date.min,
                    item[0].release,
                )
            )
            items: list[Release] = []
            for index, (ref, overrides) in enumerate(refs):
                start = _parse_date(ref.provenance.get("effective_from"))
                end = _parse_date(ref.provenance.get("effective_to"))
                implied = end
                if implied is None and index + 1 < len(refs):
                    nxt = _parse_date(refs[index + 1][0].provenance.get("effective_from"))
                    implied = nxt - dt.timedelta(days=1) if nxt else None
                items.append(Release(dataset, ref.release, start, end, implied, ref, overrides))
            releases[dataset] = items
        self._releases = releases
        return releases

    def datasets(self) -> list[str]:
        """Names of the datasets with at least one installed release."""
        return sorted(self._load_releases())

    def releases(self, dataset: str) -> list[Release]:
        """Installed releases of ``dataset``, oldest window first (empty when none)."""
        return list(self._load_releases().get(dataset, []))

    def all_releases(self) -> list[Release]:
        """Every installed release of every dataset."""
        return [r for name in self.datasets() for r in self.releases(name)]

    def _require(self, dataset: str) -> list[Release]:
        releases = self.releases(dataset)
        if not releases:
            raise RefDataError(
                f"no release of reference dataset {dataset!r} is installed "
                "(run scripts/build_refdata.py or `claimscrub refdata import`)"
            )
        return releases

    def release(self, dataset: str, release: str | None = None) -> Release:
        """One release by id; the newest when ``release`` is None."""
        releases = self._require(dataset)
        if release is None:
            return releases[-1]
        for item in releases:
            if item.release == release:
                return item
        raise RefDataError(
            f"{dataset} has no release {release!r} (have: {', '.join(r.release for r in releases)})"
        )

    def select_release(self, dataset: str, on: dt.date | None) -> tuple[Release, bool | None]:
        """The release in force on ``on`` and True, or the nearest one and False.

        ``on`` None gives the newest release and None (no date to be in force on).
        """
        releases = self._require(dataset)
        if on is None:
            return releases[-1], None
        inside = [r for r in releases if r.contains(on)]
        if inside:
            return inside[-1], True

        def distance(r: Release) -> int:
            if r.effective_from is not None and on < r.effective_from:
                return (r.effective_from - on).days
            assert r.implied_to is not None  # a release that does not contain `on` ends before it
            return (on - r.implied_to).days

        ranked = sorted(enumerate(releases), key=lambda item: (distance(item[1]), -item[0]))
        return ranked[0][1], False

    # --- tables -----------------------------------------------------------------------
    def scan(self, dataset: str, release: str | None = None) -> pl.LazyFrame:
        """A lazy scan of one release's table (newest when ``release`` is None)."""
        return pl.scan_parquet(self.release(dataset, release).ref.data_path)

    def table(self, dataset: str, release: str | None = None) -> pl.DataFrame:
        """One release's whole table, read once and cached."""
        item = self.release(dataset, release)
        key = (dataset, item.release)
        if key not in self._tables:
            self._tables[key] = pl.read_parquet(item.ref.data_path)
        return self._tables[key]

    def preload(self, datasets: Sequence[str]) -> None:
        """Read every release of ``datasets`` into memory once (engine and server start-up)."""
        for dataset in datasets:
            for item in self._require(dataset):
                self.table(dataset, item.release)

    def _stacked(
        self, dataset: str, columns: Sequence[str], release_col: str, where: pl.Expr | None = None
    ) -> pl.LazyFrame:
        """All releases of ``dataset`` (selected columns) stacked, tagged with their id."""
        stacked = self._stacked_cache.get(dataset)
        if stacked is None and all(
            (dataset, r.release) in self._tables for r in self._require(dataset)
        ):
            # Preloaded: stack the in-memory releases once; later calls only select and filter.
            stacked = pl.concat(
                [
                    self._tables[(dataset, r.release)].with_columns(
                        pl.lit(r.release).alias("_release_id"),
                        pl.lit(rank, pl.Int32).alias("_rank"),
                    )
                    for rank, r in enumerate(self._require(dataset))
                ],
                how="diagonal_relaxed",
            )
            self._stacked_cache[dataset] = stacked
        if stacked is not None:
            lazy = stacked.lazy()
            if where is not None:
                lazy = lazy.filter(where)
            return lazy.select(*columns, pl.col("_release_id").alias(release_col), "_rank")
        frames = []
        for rank, item in enumerate(self._require(dataset)):
            # Tables a long-running caller loaded (``preload``) are read from memory; the
            # CLI's one-off lookups scan only the rows they need from Parquet.
            cached = self._tables.get((dataset, item.release))
            scan = cached.lazy() if cached is not None else pl.scan_parquet(item.ref.data_path)
            if where is not None:
                scan = scan.filter(where)
            frames.append(
                scan.select(columns).with_columns(
                    pl.lit(item.release).alias(release_col), pl.lit(rank, pl.Int32).alias("_rank")
                )
            )
        return pl.concat(frames, how="diagonal_relaxed")

    # --- vectorised lookup --------------------------------------------------------------
    def lookup(
        self,
        frame: FrameT,
        dataset: str,
        on: Mapping[str, str],
        as_of: str | None = None,
        columns: Sequence[str] | Mapping[str, str] | None = None,
    ) -> FrameT:
        """Join ``frame`` with the release of ``dataset`` in force on each row's date.

        Args:
            frame: claim lines (DataFrame or LazyFrame; the result has the same kind).
            dataset: a dataset name (``hcpcs``, ``ndc_hcpcs``, ``mue``, ...).
            on: {frame column: table column} join keys, e.g. ``{"hcpcs": "hcpcs_code"}``.
            as_of: the frame's date-of-service column (pl.Date). None uses the newest
                release for every row.
            columns: table columns to add (a sequence, or {table column: output name});
                default every non-key column.

        Returns:
            ``frame`` with the requested columns plus ``<dataset>_release`` (the release
            used) and ``<dataset>_in_force`` (False when the date is outside every
            release window and the nearest release was used; null without a date).
            A left join: rows without a match get nulls; a key that is not unique in
            the table repeats the row (join on every key column of the dataset to
            avoid that). Row order is kept.

            For ``hcpcs`` the history rules of the module doc apply, and three more
            columns are added: ``hcpcs_status`` (valid / not_yet_valid / terminated;
            null for an unknown code or without a date), ``hcpcs_valid`` (Boolean)
            and ``hcpcs_validity_release``. Requested ``add_date`` and
            ``termination_date`` come from the newest release listing the code.
        """
        if not on:
            raise ValueError("lookup needs at least one join key in `on`")
        # The answer depends on the date only through comparisons with the release windows
        # and (hcpcs) the code dates: refdata/date_classes.py lists where it may change, and
        # the engine keeps answers by those classes. A new use of the date here goes there too.
        # Read twice below (its distinct keys, then the join): computed once.
        lazy = frame.lazy().cache()
        # Claim lines repeat few (code, date) pairs: resolve each distinct key once, then
        # join the answers back (a hash join), instead of running the as-of logic per line.
        keys = list(dict.fromkeys([*on, *([as_of] if as_of is not None else [])]))
        # In a fixed order: the HCPCS lookup numbers these rows and reads them twice, and
        # two evaluations of an unordered ``unique`` may number them differently.
        distinct = lazy.select(keys).unique(maintain_order=True)
        if dataset == HCPCS:
            answers = self._lookup_hcpcs(distinct, on, as_of, columns)
        else:
            answers = self._lookup_window(distinct, dataset, on, as_of, columns)
        added = [c for c in answers.collect_schema().names() if c not in keys]
        self._check_collisions(lazy, added)
        result = lazy.join(answers, on=keys, how="left", maintain_order="left", nulls_equal=True)
        if isinstance(frame, pl.LazyFrame):
            return result  # type: ignore[return-value]
        return result.collect()  # type: ignore[return-value]

    def release_windows(self, dataset: str) -> pl.LazyFrame:
        """The installed releases of ``dataset``, oldest first, as a small frame.

        Columns: ``release``, ``effective_from``, ``in_force_until`` (``effective_to``,
        else the day before the next release starts; null = open-ended) and ``rank``
        (0 = oldest, the order of :meth:`releases`).
        """
        releases = self._require(dataset)
        return pl.LazyFrame(
            {
                "release": [r.release for r in releases],
                "effective_from": [r.effective_from for r in releases],
                "in_force_until": [r.implied_to for r in releases],
                "rank": list(range(len(releases))),
            },
            schema={
                "release": pl.String,
                "effective_from": pl.Date,
                "in_force_until": pl.Date,
                "rank": pl.Int32,
            },
        )

    def history(
        self,
        frame: pl.DataFrame | pl.LazyFrame,
        dataset: str,
        on: Mapping[str, str],
        columns: Sequence[str] | Mapping[str, str] | None = None,
    ) -> pl.LazyFrame:
        """Every installed release's rows for the distinct keys of ``frame``, whatever the date.

        For questions across releases (was a code listed before or after the release in
        force?). Returns the key columns (named as in ``frame``), the requested table
        columns, ``<dataset>_release`` and ``<dataset>_rank`` (the release's position, 0 =
        oldest; see :meth:`release_windows`); one row per key and release that lists it.
        """
        releases = self._require(dataset)
        schema = pl.scan_parquet(releases[-1].ref.data_path).collect_schema()
        table_keys = list(on.values())
        wanted = _columns_arg(columns, [c for c in schema.names() if c not in table_keys])
        release_col = f"{dataset}_release"
        asked = (
            frame.lazy()
            .select(pl.col(fc).cast(schema[tc]).alias(tc) for fc, tc in on.items())
            .unique()
        )
        return (
            self._stacked(dataset, [*table_keys, *wanted], release_col)
            .join(asked, on=table_keys, how="semi")
            .select(
                *(pl.col(tc).alias(fc) for fc, tc in on.items()),
                *(pl.col(tc).alias(out) for tc, out in wanted.items()),
                release_col,
                pl.col("_rank").alias(f"{dataset}_rank"),
            )
        )

    def _check_collisions(self, frame: pl.LazyFrame, outputs: Sequence[str]) -> None:
        existing = set(frame.collect_schema().names())
        clash = [name for name in outputs if name in existing]
        if clash:
            raise ValueError(
                f"lookup would overwrite frame column(s) {', '.join(clash)}; "
                "pass columns={table_column: new_name}"
            )

    def _release_pick(
        self, frame: pl.LazyFrame, dataset: str, as_of: str, release_col: str
    ) -> pl.LazyFrame:
        """{date -> release, in_force} for the distinct dates of ``frame`` (few rows)."""
        releases = self._require(dataset)
        windows = pl.LazyFrame(
            {
                "_release": [r.release for r in releases],
                "_from": [r.effective_from or dt.date.min for r in releases],
                "_to": [r.implied_to for r in releases],
                "_rank": list(range(len(releases))),
            },
            schema={"_release": pl.String, "_from": pl.Date, "_to": pl.Date, "_rank": pl.Int32},
        )
        day = pl.col("_d")
        inside = (day >= pl.col("_from")) & (pl.col("_to").is_null() | (day <= pl.col("_to")))
        distance = (
            pl.when(inside)
            .then(0)
            .when(day < pl.col("_from"))
            .then((pl.col("_from") - day).dt.total_days())
            .otherwise((day - pl.col("_to")).dt.total_days())
        )
        return (
            frame.select(pl.col(as_of).cast(pl.Date).alias("_d"))
            .unique()
            .drop_nulls()
            .join(windows, how="cross")
            .with_columns(inside.alias("_inside"), distance.alias("_dist"))
            .sort(["_d", "_dist", "_rank"], descending=[False, False, True])
            .group_by("_d", maintain_order=True)
            .first()
            .select(
                "_d",
                pl.col("_release").alias(release_col),
                pl.col("_inside").alias(f"{dataset}_in_force"),
            )
        )

    def _lookup_window(
        self,
        frame: pl.LazyFrame,
        dataset: str,
        on: Mapping[str, str],
        as_of: str | None,
        columns: Sequence[str] | Mapping[str, str] | None,
    ) -> pl.LazyFrame:
        releases = self._require(dataset)
        release_col, in_force_col = f"{dataset}_release", f"{dataset}_in_force"
        schema = pl.scan_parquet(releases[-1].ref.data_path).collect_schema()
        table_keys = list(on.values())
        missing = [k for k in table_keys if k not in schema]
        if missing:
            raise ValueError(f"{dataset} has no column(s) {', '.join(missing)}")
        wanted = _columns_arg(columns, [c for c in schema.names() if c not in table_keys])
        self._check_collisions(frame, [*wanted.values(), release_col, in_force_col])

        if as_of is None:
            frame = frame.with_columns(
                pl.lit(releases[-1].release).alias(release_col),
                pl.lit(None, pl.Boolean).alias(in_force_col),
            )
        else:
            pick = self._release_pick(frame, dataset, as_of, release_col)
            frame = (
                frame.with_columns(pl.col(as_of).cast(pl.Date).alias("_d"))
                .join(pick, on="_d", how="left", maintain_order="left")
                .drop("_d")
                .with_columns(pl.col(release_col).fill_null(releases[-1].release))
            )

        key_names = [f"_k{i}" for i in range(len(table_keys))]
        table = self._stacked(dataset, [*table_keys, *wanted], release_col).drop("_rank")
        table = table.rename(dict(zip(table_keys, key_names, strict=True))).rename(wanted)
        frame = frame.with_columns(
            pl.col(frame_col).cast(schema[table_col]).alias(key)
            for (frame_col, table_col), key in zip(on.items(), key_names, strict=True)
        ).cache()
        # Only the table rows whose keys the frame asks about: the frame's keys are few
        # (distinct values), the table may have 100,000 rows to hash.
        asked = frame.select(release_col, *key_names).unique()
        table = table.join(asked, on=[release_col, *key_names], how="semi")
        return frame.join(
            table, on=[release_col, *key_names], how="left", maintain_order="left"
        ).drop(key_names)

    def _lookup_hcpcs(
        self,
        frame: pl.LazyFrame,
        on: Mapping[str, str],
        as_of: str | None,
        columns: Sequence[str] | Mapping[str, str] | None,
        codes: Sequence[str] | None = None,
    ) -> pl.LazyFrame:
        if len(on) != 1 or next(iter(on.values())) != "hcpcs_code":
            raise ValueError("hcpcs lookups join on one column: on={frame_column: 'hcpcs_code'}")
        code_col = next(iter(on))
        releases = self._require(HCPCS)
        schema = pl.scan_parquet(releases[-1].ref.data_path).collect_schema()
        wanted = _columns_arg(columns, [c for c in schema.names() if c != "hcpcs_code"])
        extra = (
            "hcpcs_release",
            "hcpcs_in_force",
            "hcpcs_status",
            "hcpcs_valid",
            "hcpcs_validity_release",
        )
        self._check_collisions(frame, [*wanted.values(), *extra])

        record_cols = [c for c in wanted if c not in _HCPCS_VALIDITY_COLUMNS]
        where = pl.col("hcpcs_code").is_in(list(codes)) if codes is not None else None
        needed = list(
            dict.fromkeys(["hcpcs_code", "action_eff_date", *_HCPCS_VALIDITY_COLUMNS, *record_cols])
        )
        records = self._stacked(HCPCS, needed, "_rel", where)
        # Only the codes the frame asks about: keeps the per-code work small.
        asked = frame.select(pl.col(code_col).cast(pl.String).alias("hcpcs_code")).unique()
        records = records.join(asked, on="hcpcs_code", how="semi")
        validity = (
            records.sort("_rank", descending=True)
            .unique("hcpcs_code", keep="first", maintain_order=True)
            .select(
                pl.col("hcpcs_code").alias("_code"),
                pl.col("add_date").alias("_add"),
                pl.col("termination_date").alias("_term"),
                pl.col("_rel").alias("hcpcs_validity_release"),
            )
        )
        day = pl.col(as_of).cast(pl.Date) if as_of is not None else pl.lit(None, pl.Date)
        rows = frame.with_row_index("_row").with_columns(
            pl.col(code_col).cast(pl.String).alias("_code"), day.alias("_d")
        )
        candidates = (
            rows.select("_row", "_code", "_d")
            .join(
                records.select("hcpcs_code", "action_eff_date", "_rank"),
                left_on="_code",
                right_on="hcpcs_code",
            )
            .with_columns(_ok=pl.col("_d").is_null() | (pl.col("action_eff_date") <= pl.col("_d")))
        )
        chosen = candidates.group_by("_row").agg(
            pl.coalesce(pl.col("_rank").filter(pl.col("_ok")).max(), pl.col("_rank").min()).alias(
                "_rank"
            ),
            pl.col("_ok").any().alias("_any_ok"),
        )
        picked = records.select("hcpcs_code", "_rank", "_rel", *record_cols).rename(
            {c: wanted[c] for c in record_cols}
        )
        out = (
            rows.join(chosen, on="_row", how="left", maintain_order="left")
            .join(
                picked,
                left_on=["_code", "_rank"],
                right_on=["hcpcs_code", "_rank"],
                how="left",
                maintain_order="left",
            )
            .join(validity, on="_code", how="left", maintain_order="left")
        )
        status = (
            pl.when(pl.col("_add").is_null() | pl.col("_d").is_null())
            .then(None)
            .when(pl.col("_d") < pl.col("_add"))
            .then(pl.lit(HCPCS_STATUS_NOT_YET_VALID))
            .when(pl.col("_term").is_not_null() & (pl.col("_d") > pl.col("_term")))
            .then(pl.lit(HCPCS_STATUS_TERMINATED))
            .otherwise(pl.lit(HCPCS_STATUS_VALID))
        )
        validity_outputs = [
            pl.col(src).alias(wanted[name])
            for name, src in (("add_date", "_add"), ("termination_date", "_term"))
            if name in wanted
        ]
        return (
            out.with_columns(
                *validity_outputs,
                pl.col("_rel").alias("hcpcs_release"),
                pl.when(pl.col("_d").is_null() | pl.col("_rel").is_null())
                .then(None)
                .otherwise(pl.col("_any_ok"))
                .alias("hcpcs_in_force"),
                status.alias("hcpcs_status"),
            )
            .with_columns((pl.col("hcpcs_status") == HCPCS_STATUS_VALID).alias("hcpcs_valid"))
            .drop("_row", "_code", "_d", "_rank", "_rel", "_any_ok", "_add", "_term")
        )

    # --- scalar lookups (CLI) ------------------------------------------------------------
    def hcpcs(self, code: str, on: dt.date) -> HcpcsFact | None:
        """The HCPCS code as of ``on`` (None when no release lists it)."""
        code = code.strip().upper()
        row = self._lookup_hcpcs(
            pl.LazyFrame({"_q": [code], "_on": [on]}, schema={"_q": pl.String, "_on": pl.Date}),
            {"_q": "hcpcs_code"},
            "_on",
            None,
            codes=[code],
        ).collect()
        if row.is_empty() or row["hcpcs_release"][0] is None:
            return None
        record = row.drop("_q", "_on").row(0, named=True)
        record["hcpcs_code"] = code
        source = Source.of(
            self.release(HCPCS, record.pop("hcpcs_release")), record.pop("hcpcs_in_force")
        )
        validity = Source.of(self.release(HCPCS, record.pop("hcpcs_validity_release")), None)
        status = record.pop("hcpcs_status")
        record.pop("hcpcs_valid")
        return HcpcsFact(
            code=code,
            on=on,
            record=record,
            source=source,
            status=status,
            add_date=record.get("add_date"),
            termination_date=record.get("termination_date"),
            validity_source=validity,
        )

    def hcpcs_records(self, code: str) -> list[tuple[Release, dict[str, Any]]]:
        """The code's record in every release that lists it, newest first."""
        code = code.strip().upper()
        found = []
        for item in reversed(self.releases(HCPCS)):
            rows = (
                pl.scan_parquet(item.ref.data_path).filter(pl.col("hcpcs_code") == code).collect()
            )
            if rows.height:
                found.append((item, rows.row(0, named=True)))
        return found

    def _facts(
        self, dataset: str, on: dt.date | None, where: pl.Expr, sort: Sequence[str] = ()
    ) -> Facts:
        item, in_force = self.select_release(dataset, on)
        rows = pl.scan_parquet(item.ref.data_path).filter(where)
        if sort:
            rows = rows.sort(list(sort), maintain_order=True)
        return Facts(Source.of(item, in_force), rows.collect().to_dicts())

    def ndc(self, ndc11: str, on: dt.date | None = None) -> Facts:
        """Crosswalk rows of an 11-digit NDC in the release in force on ``on``."""
        return self._facts("ndc_hcpcs", on, pl.col("ndc11") == ndc11, ("hcpcs_code",))

    def crosswalk_for_code(self, code: str, on: dt.date | None = None) -> Facts:
        """Crosswalk rows (NDCs) of a HCPCS code in the release in force on ``on``."""
        return self._facts(
            "ndc_hcpcs", on, pl.col("hcpcs_code") == code.strip().upper(), ("ndc_or_alternate_id",)
        )

    def mue(self, code: str, on: dt.date | None = None) -> Facts:
        """MUE rows (one per service type) of a code in the release in force on ``on``."""
        return self._facts(
            "mue", on, pl.col("hcpcs_code") == code.strip().upper(), ("service_type",)
        )

    def asp(self, code: str, on: dt.date | None = None) -> Facts:
        """The ASP payment-limit row of a code in the release in force on ``on``."""
        return self._facts("asp", on, pl.col("hcpcs_code") == code.strip().upper())

    def opps(self, code: str, on: dt.date | None = None) -> Facts:
        """The Addendum B row of a code in the release in force on ``on``."""
        return self._facts("opps", on, pl.col("hcpcs_code") == code.strip().upper())

    def opps_by_release(self, code: str, on: dt.date | None = None) -> list[Facts]:
        """The code's Addendum B row in every installed release, oldest first.

        ``selected`` marks the release a lookup on ``on`` uses; ``source.in_force`` says
        whether ``on`` falls in that release's window.
        """
        code = code.strip().upper()
        stacked = self._stacked(
            "opps",
            ["hcpcs_code", "status_indicator", "payment_rate"],
            "_rel",
            pl.col("hcpcs_code") == code,
        ).collect()
        chosen = self.select_release("opps", on)[0] if on is not None else None
        out = []
        for item in self.releases("opps"):
            rows = stacked.filter(pl.col("_rel") == item.release).drop("_rel", "_rank").to_dicts()
            in_force = None if on is None else item.contains(on)
            out.append(Facts(Source.of(item, in_force), rows, selected=item == chosen))
        return out

    def related_codes(self, code: str, on: dt.date) -> list[RelatedCode]:
        """Codes related to ``code``: same ingredient, same family, XREF links.

        - same_ingredient: codes whose ingredient words start with this code's
          ingredient words or vice versa (biosimilar suffixes ignored);
        - same_family: codes with the same first four characters (J750x);
        - xref_successor / xref_predecessor / xref: codes this record lists in
          XREF1-5, or whose record lists this code; the direction comes from the dates
          (a terminated code pointing at a code added after it -> successor).
        Each is described as of ``on`` (descriptor in force, validity).
        """
        code = code.strip().upper()
        records = self._stacked(
            HCPCS,
            [
                "hcpcs_code",
                "record_type",
                "ingredient",
                *_XREF_COLUMNS,
                "add_date",
                "termination_date",
            ],
            "_rel",
        ).collect()
        latest = records.sort("_rank", descending=True).unique(
            "hcpcs_code", keep="first", maintain_order=True
        )
        own = latest.filter(pl.col("hcpcs_code") == code)
        if own.is_empty():
            return []
        me = own.row(0, named=True)
        relation: dict[str, str] = {}

        if me["record_type"] == "procedure" and len(code) == 5:
            for other in latest.filter(
                pl.col("hcpcs_code").str.starts_with(code[:4])
                & (pl.col("record_type") == "procedure")
            )["hcpcs_code"]:
                relation.setdefault(other, "same_family")
        if me["ingredient"]:
            key = re.sub(_BIOSIMILAR_SUFFIX, "", me["ingredient"])
            other_key = ingredient_key(pl.col("ingredient"))
            same = latest.filter(
                (other_key == key)
                | other_key.str.starts_with(key + " ")
                | pl.lit(key).str.starts_with(other_key + " ")
            )
            for other in same["hcpcs_code"]:
                relation[other] = "same_ingredient"
        xrefs = [me[c] for c in _XREF_COLUMNS if me[c]]
        referencing = latest.filter(pl.any_horizontal(pl.col(c) == code for c in _XREF_COLUMNS))[
            "hcpcs_code"
        ]
        linked = [*xrefs, *referencing.to_list()]
        by_code = {
            row["hcpcs_code"]: row
            for row in latest.filter(pl.col("hcpcs_code").is_in(linked)).iter_rows(named=True)
        }
        for other in linked:
            relation[other] = _xref_direction(me, by_code.get(other), other in xrefs)
        relation.pop(code, None)
        if not relation:
            return []

        ordered = sorted(relation)
        described = self._lookup_hcpcs(
            pl.LazyFrame(
                {"_q": ordered, "_on": [on] * len(ordered)},
                schema={"_q": pl.String, "_on": pl.Date},
            ),
            {"_q": "hcpcs_code"},
            "_on",
            ["long_description", "unit_text", "route", "form"],
            codes=ordered,
        ).collect()
        out = []
        for row in described.iter_rows(named=True):
            rel = row["hcpcs_release"]
            # an XREF may name a code outside HCPCS Level II (a CPT code): no source then
            source = Source.of(self.release(HCPCS, rel), row["hcpcs_in_force"]) if rel else None
            out.append(
                RelatedCode(
                    code=row["_q"],
                    relation=relation[row["_q"]],
                    long_description=row["long_description"],
                    unit_text=row["unit_text"],
                    route=row["route"],
                    form=row["form"],
                    status=row["hcpcs_status"],
                    source=source,
                )
            )
        return out


def _xref_direction(me: dict[str, Any], other: dict[str, Any] | None, listed_by_me: bool) -> str:
    """successor / predecessor from termination and add dates, else plain 'xref'."""
    if other is None:
        return "xref"
    older, newer = (me, other) if listed_by_me else (other, me)
    term, added = older.get("termination_date"), newer.get("add_date")
    if term is not None and added is not None and added > term:
        return "xref_successor" if listed_by_me else "xref_predecessor"
    return "xref"


@functools.cache
def default_refdata() -> RefData:
    """The process-wide RefData over the bundled snapshot and the user's store."""
    return RefData()
