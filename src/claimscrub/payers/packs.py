"""Payer policy packs: data files (YAML or TOML) that say what each payer requires.

A pack extends another (``base`` at the root) and overrides only what differs, in the
spirit of sqlglot dialects. Scalar settings may change over time through ``periods``
(e.g. the Medicare DME MAC 30-day supply limit until 2024-12-31, 90 days from
2025-01-01). Packs are validated against ``pack.schema.json``; a bad pack is an error
naming its file and the offending key. Users add or override packs by putting YAML
(``*.yaml``, ``*.yml``) or TOML (``*.toml``) files in a folder named by
``$CLAIMSCRUB_PACKS_DIR`` (or ``--policy FILE|FOLDER``), without code; docs/packs.md is the
guide. Both syntaxes give the same document: dates are kept as ISO text either way (YAML
without implicit timestamps; TOML's native dates written back as text), so one schema and
one set of checks apply.

For the engine a set of packs becomes frames: one row per pack and period of scalar
settings (joined onto lines by pack name and date of service), and one table per list
setting (prior authorisation, quantity limits, step therapy, preferred products,
excluded products) with a ``pack`` column, so rules stay vectorised when a batch mixes
payers. List entries may carry their own ``from`` / ``to`` dates (``excluded_products``).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from claimscrub.model import columns as c

PACKS_DIR = Path(__file__).parent / "packs"
SCHEMA_FILE = Path(__file__).parent / "pack.schema.json"
LIST_SETTINGS = (
    "prior_authorization",
    "quantity_limits",
    "step_therapy",
    "preferred_products",
    "excluded_products",
)
PACK_SUFFIXES = (".yaml", ".yml", ".toml")  # what a pack folder is searched for
PACK = "pack"  # the column naming each claim's pack
SETTING_PREFIX = "pack_"  # scalar settings joined onto lines are named pack_<setting>


class _TextDateLoader(yaml.SafeLoader):
    """YAML without implicit timestamps: dates stay text until the schema has checked them."""


_TextDateLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class PackError(ValueError):
    """A pack that cannot be used: its file and what is wrong."""


@dataclass(frozen=True)
class Pack:
    """One resolved pack: its own file merged over the pack it extends."""

    name: str
    title: str
    path: Path
    priority: int
    default_for: tuple[Mapping[str, Any], ...]
    settings: Mapping[str, Any]
    periods: tuple[Mapping[str, Any], ...]
    rules: Mapping[str, Any]
    sources: tuple[str, ...]

    def settings_on(self, day: dt.date) -> dict[str, Any]:
        """The pack's settings in force on ``day`` (periods applied in order)."""
        out = dict(self.settings)
        for period in self.periods:
            start, end = period.get("from"), period.get("to")
            if (start is None or start <= day) and (end is None or day <= end):
                out.update(period["settings"])
        return out


@cache
def _schema() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text())  # type: ignore[no-any-return]


def _as_text_dates(value: Any) -> Any:
    """TOML's native dates (and date-times, times) as the ISO text a YAML pack holds."""
    if isinstance(value, dt.date | dt.time):  # dt.datetime is a dt.date
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _as_text_dates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_text_dates(v) for v in value]
    return value


def _parse(path: Path) -> Any:
    """The pack document: TOML for ``*.toml``, else YAML (whatever the extension)."""
    try:
        text = path.read_text()
        if path.suffix.lower() == ".toml":
            return _as_text_dates(tomllib.loads(text))
        return yaml.load(text, Loader=_TextDateLoader)  # noqa: S506 - a SafeLoader
    except (OSError, UnicodeDecodeError, yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
        raise PackError(f"{path}: cannot read pack: {exc}") from None


def _read(path: Path) -> dict[str, Any]:
    import jsonschema

    doc = _parse(path)
    errors = sorted(jsonschema.Draft202012Validator(_schema()).iter_errors(doc), key=str)
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(top level)"
        raise PackError(f"{path}: {where}: {first.message}")
    for i, period in enumerate(doc.get("periods") or []):
        for key in ("from", "to"):
            if period.get(key) is not None:
                try:
                    period[key] = dt.date.fromisoformat(period[key])
                except ValueError:
                    raise PackError(
                        f"{path}: periods/{i}/{key}: {period[key]!r} is not a date"
                    ) from None
        if period.get("from") and period.get("to") and period["from"] > period["to"]:
            raise PackError(
                f"{path}: periods/{i}: from {period['from']} is after to {period['to']}"
            )
    _check_dated_entries(path, "settings", doc.get("settings") or {})
    for i, period in enumerate(doc.get("periods") or []):
        _check_dated_entries(path, f"periods/{i}/settings", period["settings"])
    return doc  # type: ignore[no-any-return]


def _check_dated_entries(path: Path, where: str, settings: Mapping[str, Any]) -> None:
    """Dated list entries (``excluded_products``) name real days, ``from`` before ``to``.

    The dates stay ISO text in the pack (rules cast them), so a pack's settings remain
    plain JSON data; the schema checks their shape, this checks what it cannot.
    """
    for i, entry in enumerate(settings.get("excluded_products") or []):
        at = f"{path}: {where}/excluded_products/{i}"
        days = {}
        for key in ("from", "to"):
            if entry.get(key) is not None:
                try:
                    days[key] = dt.date.fromisoformat(entry[key])
                except ValueError:
                    raise PackError(f"{at}/{key}: {entry[key]!r} is not a date") from None
        if len(days) == 2 and days["from"] > days["to"]:
            raise PackError(f"{at}: from {entry['from']} is after to {entry['to']}")


def _merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(dict(base))
    out.update(copy.deepcopy(dict(over)))
    return out


def pack_dirs(extra: Iterable[Path] = ()) -> list[Path]:
    """Folders searched for packs, later ones overriding earlier ones by pack name."""
    dirs = [PACKS_DIR]
    env = os.environ.get("CLAIMSCRUB_PACKS_DIR")
    if env:
        dirs.extend(Path(p) for p in env.split(os.pathsep) if p)
    dirs.extend(extra)
    return dirs


def _pack_files(folder: Path) -> list[Path]:
    """The pack files at the top level of ``folder``, by name."""
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in PACK_SUFFIXES and p.is_file())


def load_packs(extra: Iterable[Path] = ()) -> dict[str, Pack]:
    """Every pack, validated and with ``extends`` resolved.

    ``extra`` may hold folders or single pack files (YAML or TOML). A pack of a later place
    replaces an earlier one of the same name; two files of one folder naming the same pack
    are an error (nothing says which one is meant).
    """
    raw: dict[str, tuple[Path, dict[str, Any]]] = {}
    for place in pack_dirs(extra):
        if not place.exists():
            raise PackError(f"{place}: no such pack file or folder")
        files = _pack_files(place) if place.is_dir() else [place]
        here: dict[str, Path] = {}
        for path in files:
            doc = _read(path)
            if doc["name"] in here:
                raise PackError(
                    f"{path}: name: pack {doc['name']!r} is also defined by {here[doc['name']]} "
                    "in the same folder; keep one of them"
                )
            here[doc["name"]] = path
            raw[doc["name"]] = (path, doc)
    resolved: dict[str, Pack] = {}

    def resolve(name: str, chain: tuple[str, ...]) -> Pack:
        if name in resolved:
            return resolved[name]
        if name not in raw:
            raise PackError(f"pack {chain[-1]!r} extends unknown pack {name!r}")
        if name in chain:
            raise PackError(f"packs extend each other in a loop: {' -> '.join((*chain, name))}")
        path, doc = raw[name]
        parent = resolve(doc["extends"], (*chain, name)) if doc.get("extends") else None
        pack = Pack(
            name=name,
            title=doc.get("title", name),
            path=path,
            priority=int(doc.get("priority", 0)),
            default_for=tuple(doc.get("default_for") or ()),
            settings=_merge(parent.settings if parent else {}, doc.get("settings") or {}),
            periods=(*(parent.periods if parent else ()), *(doc.get("periods") or ())),
            rules=_merge(parent.rules if parent else {}, doc.get("rules") or {}),
            sources=(*(parent.sources if parent else ()), *(doc.get("sources") or ())),
        )
        resolved[name] = pack
        return pack

    for name in raw:
        resolve(name, ())
    return resolved


def pack_for_claims(
    claims: pl.LazyFrame, packs: Mapping[str, Pack], forced: str | None = None
) -> pl.Expr:
    """An expression naming each claim's pack.

    Order: ``forced`` (``--payer``) when given; else the claim's own ``payer_policy``;
    else the first ``default_for`` match by priority (payer type, claim type, place of
    service); else ``base``.
    """
    if forced is not None:
        return pl.lit(forced)
    choice: Any = pl.lit("base")
    ordered = sorted(packs.values(), key=lambda p: p.priority)  # lowest first, so highest wins last
    for pack in ordered:
        for match in pack.default_for:
            cond = pl.lit(True)
            if "payer_type" in match:
                cond &= pl.col(c.PAYER_TYPE) == match["payer_type"]
            if "claim_type" in match:
                cond &= pl.col(c.CLAIM_TYPE) == match["claim_type"]
            if "place_of_service" in match:
                cond &= pl.col(c.PLACE_OF_SERVICE).is_in(match["place_of_service"])
            choice = pl.when(cond.fill_null(False)).then(pl.lit(pack.name)).otherwise(choice)
    return pl.coalesce(pl.col(c.PAYER_POLICY), choice)


def _scalar(value: Any) -> bool:
    return not isinstance(value, list | dict)


def settings_frame(packs: Mapping[str, Pack]) -> pl.DataFrame:
    """One row per pack and period: ``pack``, ``_from``, ``_to`` and ``pack_<setting>`` columns."""
    rows = []
    for pack in packs.values():
        cuts = sorted(
            {p["from"] for p in pack.periods if p.get("from")}
            | {p["to"] + dt.timedelta(days=1) for p in pack.periods if p.get("to")}
        )
        starts = [dt.date.min, *cuts]
        for i, start in enumerate(starts):
            end = starts[i + 1] - dt.timedelta(days=1) if i + 1 < len(starts) else dt.date.max
            settings = pack.settings_on(start)
            row = {PACK: pack.name, "_from": start, "_to": end}
            row.update({SETTING_PREFIX + k: v for k, v in settings.items() if _scalar(v)})
            rows.append(row)
    return pl.DataFrame(rows, infer_schema_length=None)


def list_entries(packs: Mapping[str, Pack], setting: str) -> list[tuple[str, dict[str, Any]]]:
    """(pack name, entry) for each entry of a list setting, every pack in turn."""
    if setting not in LIST_SETTINGS:
        raise KeyError(f"{setting} is not a list setting")
    return [
        (pack.name, entry) for pack in packs.values() for entry in pack.settings.get(setting) or []
    ]


def list_table(packs: Mapping[str, Pack], setting: str) -> pl.DataFrame:
    """A list setting of every pack as one frame with a ``pack`` column."""
    rows = [{PACK: name, **entry} for name, entry in list_entries(packs, setting)]
    if not rows:
        return pl.DataFrame(schema={PACK: pl.String, "hcpcs": pl.String})
    return pl.DataFrame(rows, infer_schema_length=None)


def with_pack_settings(lines: pl.LazyFrame, packs: Mapping[str, Pack]) -> pl.LazyFrame:
    """Join each line's pack settings in force on its date of service (``pack_*`` columns)."""
    table = settings_frame(packs)
    # Periods of a pack are contiguous and do not overlap, so each (pack, date) matches one
    # period; resolve the few distinct pairs, then hash-join them back onto the lines.
    # A line without a date takes the pack's newest period.
    day = pl.col(c.DOS_FROM).fill_null(dt.date.max)
    pairs = (
        lines.select(PACK, day.alias("_day"))
        .unique()
        .join(table.lazy(), on=PACK, how="left")
        .filter(
            ((pl.col("_day") >= pl.col("_from")) & (pl.col("_day") <= pl.col("_to"))).fill_null(
                True
            )
        )
        .drop("_from", "_to")
    )
    return (
        lines.with_columns(day.alias("_day"))
        .join(pairs, on=[PACK, "_day"], how="left", maintain_order="left", nulls_equal=True)
        .drop("_day")
    )
