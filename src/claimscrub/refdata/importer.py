"""``claimscrub refdata import FILE…``: official CMS files -> new dated releases in the user store.

All or nothing: every file is read and checked (:mod:`claimscrub.refdata.official`),
grouped into releases — the three MUE tables of one date make one ``mue`` release — and
typed by its dataset's builder (``claimscrub.refdata.sources.<dataset>.build``) *before*
anything is written. Only when every file and every table is good is each release
written with :func:`claimscrub.refdata.store.write_release` (atomic: a release folder
appears complete or not at all, and a replaced release stays intact until its successor
is in place). Any problem raises :class:`ImportFailed` naming the file and the line.

The release id and effective window are read from each file; ``release=`` overrides the
id (and the window it implies) for every file of the call, for a file that does not say
which release it is.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from claimscrub.refdata import store
from claimscrub.refdata.official import ImportFailed, ParsedFile, parse_file
from claimscrub.refdata.official.base import release_window
from claimscrub.refdata.sources import source_module
from claimscrub.refdata.sources.common import NormaliseError

__all__ = ["ImportFailed", "import_files", "parse_files"]

LICENCE = (
    "CMS content (US Government work), public domain. CPT and CDT rows were dropped on import."
)


def parse_files(paths: Iterable[str | Path], release: str | None = None) -> list[ParsedFile]:
    """Read and check every file; raise one ImportFailed listing every bad file."""
    parsed: list[ParsedFile] = []
    problems: list[str] = []
    for path in paths:
        try:
            item = parse_file(path)
            if release is not None:
                item = _with_release(item, release)
            parsed.append(item)
        except ImportFailed as exc:
            problems.append(str(exc))
    if problems:
        raise ImportFailed("\n".join(problems)) if len(problems) > 1 else ImportFailed(problems[0])
    if not parsed:
        raise ImportFailed("no files to import")
    return parsed


def _with_release(item: ParsedFile, release: str) -> ParsedFile:
    """Apply a caller's release id: the window it implies replaces the detected one."""
    try:
        start, end = release_window(item.dataset, release)
    except ValueError as exc:
        raise ImportFailed(str(exc), path=item.path) from None
    raw = item.raw
    if "effective_start" in raw.columns:
        raw = raw.with_columns(
            pl.lit(start.isoformat()).alias("effective_start"),
            pl.lit(end.isoformat() if end else None, pl.String).alias("effective_end"),
        )
    if "effective_date" in raw.columns:
        raw = raw.with_columns(pl.lit(start.isoformat()).alias("effective_date"))
    notes = [*item.notes, f"Release {release} given by the user (file said {item.release})."]
    return ParsedFile(
        path=item.path,
        kind=item.kind,
        dataset=item.dataset,
        release=release,
        effective_from=start,
        effective_to=end,
        raw=raw,
        lines=item.lines,
        sha256=item.sha256,
        title=item.title,
        notes=notes,
        part=item.part,
    )


def _group(parsed: Sequence[ParsedFile]) -> dict[tuple[str, str], list[ParsedFile]]:
    """Files per (dataset, release); only MUE releases may have several (distinct) parts."""
    groups: dict[tuple[str, str], list[ParsedFile]] = {}
    for item in parsed:
        groups.setdefault((item.dataset, item.release), []).append(item)
    for (dataset, release), items in groups.items():
        if len(items) == 1:
            continue
        names = ", ".join(i.path.name for i in items)
        if dataset != "mue":
            raise ImportFailed(
                f"{len(items)} files are {dataset} release {release} ({names}); import one of them"
            )
        parts = [i.part for i in items]
        repeated = sorted({p for p in parts if parts.count(p) > 1 and p is not None})
        if repeated:
            raise ImportFailed(
                f"two MUE files of {release} are both {', '.join(repeated)} tables ({names})"
            )
    return groups


def _build(dataset: str, items: Sequence[ParsedFile]) -> pl.DataFrame:
    """The typed table of one release; a builder error is reported at its file and line."""
    raw = pl.concat([i.raw for i in items], how="vertical")
    origins = [(i, line) for i in items for line in i.lines]
    try:
        return source_module(dataset).build(raw)
    except NormaliseError as exc:
        message = str(exc)
        m = re.search(r"\brow (\d+)\b", message)
        if m and 0 < int(m.group(1)) <= len(origins):
            item, line = origins[int(m.group(1)) - 1]
            raise ImportFailed(message, path=item.path, line=line) from None
        raise ImportFailed(message, path=items[0].path) from None


def _provenance(dataset: str, items: Sequence[ParsedFile], module: Any) -> dict[str, Any]:
    first = items[0]
    files = ", ".join(i.path.name for i in items)
    return {
        "dataset": dataset,
        "release": first.release,
        "effective_from": first.effective_from.isoformat(),
        "effective_to": first.effective_to.isoformat() if first.effective_to else None,
        "publisher": "CMS",
        "title": first.title
        if len(items) == 1
        else f"{first.title.split(',')[0]}, {first.release} ({files})",
        "source_file": files,
        # one file: its SHA-256; several (the MUE service tables): "name=sha256; ..."
        "source_sha256": first.sha256
        if len(items) == 1
        else "; ".join(f"{i.path.name}={i.sha256}" for i in items),
        "recovered_from": "imported by the user with `claimscrub refdata import`",
        "licence": LICENCE,
        "imported_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "normaliser_version": getattr(module, "NORMALISER_VERSION", None),
        "importer_kinds": sorted({i.kind for i in items}),
        "notes": " ".join(note for i in items for note in i.notes),
    }


def import_files(
    paths: Iterable[str | Path], root: Path | None = None, release: str | None = None
) -> list[store.ReleaseRef]:
    """Import official files as new releases under ``root`` (default: the user store).

    Returns the written releases, in (dataset, release) order. Raises ImportFailed —
    before writing anything — if any file or any resulting table is bad.
    """
    parsed = parse_files(paths, release)
    groups = _group(parsed)
    built: list[tuple[pl.DataFrame, dict[str, Any]]] = []
    for (dataset, _release), items in sorted(groups.items()):
        table = _build(dataset, items)
        built.append((table, _provenance(dataset, items, source_module(dataset))))
    target_root = Path(root) if root is not None else store.user_root()
    written: list[store.ReleaseRef] = []
    for table, provenance in built:
        path = store.write_release(target_root, table, provenance)
        meta = dict(provenance, rows=table.height)
        written.append(
            store.ReleaseRef(
                provenance["dataset"], provenance["release"], path, meta, bundled=False
            )
        )
    return written
