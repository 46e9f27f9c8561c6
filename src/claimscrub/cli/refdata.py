"""``claimscrub refdata``: the installed reference data.

- ``refdata list`` — every dataset of the manifest (and any other found on disk) with
  each installed release, bundled or user: effective window, rows, publisher, source
  file and checksum.
- ``refdata import FILE...`` — normalise official CMS files into the user's store.
  The work is done by :func:`claimscrub.refdata.importer.import_files`; this command
  only parses arguments and reports.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from claimscrub.cli import UserError
from claimscrub.cli.code import FORMAT, dump_json
from claimscrub.refdata.catalog import RefData, RefDataError, Release, default_refdata
from claimscrub.refdata.manifest import load_manifest
from claimscrub.refdata.store import user_root

SCHEMA = "claimscrub-refdata-list/1"


def _release_entry(item: Release) -> dict[str, Any]:
    prov = item.provenance
    return {
        "release": item.release,
        "effective_from": item.effective_from,
        "effective_to": item.effective_to,
        "in_force_until": item.implied_to,
        "rows": prov.get("rows"),
        "origin": "bundled" if item.bundled else "user",
        "overrides_bundled": item.overrides_bundled,
        "publisher": prov.get("publisher"),
        "title": prov.get("title"),
        "source_file": prov.get("source_file"),
        "source_sha256": prov.get("source_sha256"),
        "built_from": prov.get("built_from"),
        "built_from_sha256": prov.get("built_from_sha256"),
        "recovered_from": prov.get("recovered_from"),
        "licence": prov.get("licence"),
        "imported_at": prov.get("imported_at"),
        "normaliser_version": prov.get("normaliser_version"),
        "notes": prov.get("notes"),
        "path": str(item.ref.path),
    }


def gather(refdata: RefData) -> dict[str, Any]:
    """The JSON document of ``refdata list``."""
    manifest = load_manifest()
    names = list(manifest.datasets) + [n for n in refdata.datasets() if n not in manifest.datasets]
    datasets = []
    for name in names:
        info = manifest.datasets.get(name)
        datasets.append(
            {
                "name": name,
                "title": info.title if info else None,
                "publisher": info.publisher if info else None,
                "cadence": info.cadence if info else None,
                "keys": list(info.keys) if info else None,
                "in_manifest": info is not None,
                "releases": [_release_entry(item) for item in refdata.releases(name)],
            }
        )
    return {"schema": SCHEMA, "user_store": str(user_root()), "datasets": datasets}


def _window(entry: dict[str, Any]) -> str:
    start = entry["effective_from"].isoformat() if entry["effective_from"] else "?"
    if entry["effective_to"]:
        return f"{start} .. {entry['effective_to'].isoformat()}"
    if entry["in_force_until"]:
        return f"{start} .. ({entry['in_force_until'].isoformat()})"
    return f"{start} .. open"


def render_text(doc: dict[str, Any]) -> None:
    """Per dataset: a heading, then one line per release and its source file."""
    from rich.console import Console
    from rich.markup import escape
    from rich.padding import Padding

    console = Console(highlight=False)
    for dataset in doc["datasets"]:
        title = f" — {escape(dataset['title'])}" if dataset["title"] else ""
        publisher = f" [dim]({escape(dataset['publisher'])})[/dim]" if dataset["publisher"] else ""
        console.print(f"[bold]{dataset['name']}[/bold]{title}{publisher}")
        if not dataset["releases"]:
            console.print("  [yellow]no release installed[/yellow]")
        for entry in dataset["releases"]:
            origin = entry["origin"] + (
                ", overrides the bundled release" if entry["overrides_bundled"] else ""
            )
            rows = f"{entry['rows']:,} rows" if isinstance(entry["rows"], int) else "? rows"
            checksum = entry["source_sha256"] or entry["built_from_sha256"]
            console.print(
                f"  [bold]{entry['release']:<10}[/bold] {_window(entry):<26} {rows:>12}  {origin}"
            )
            details = [f"source: {escape(entry['source_file'])}"] if entry["source_file"] else []
            details += [f"sha256 {checksum[:12]}…"] if checksum else []
            if details:
                console.print(Padding(f"[dim]{'; '.join(details)}[/dim]", (0, 0, 0, 13)))
    console.print(
        "\n[dim]Windows: 'a .. b' as declared; 'a .. (b)' open-ended, superseded by the "
        "next release; 'a .. open' in force until a newer release is installed. sha256 is the "
        "recovered source file's (or the built-from CSV's); --format json shows everything. "
        f"User store: {escape(doc['user_store'])}[/dim]"
    )


@click.group("refdata")
def command() -> None:
    """List or import the dated reference data (HCPCS, NDC crosswalk, ASP, MUE, ...)."""


@command.command("list")
@click.option(
    "--format", "fmt", type=FORMAT, default="text", show_default=True, help="Output format."
)
def list_(fmt: str) -> None:
    """Every dataset and installed release, with window, rows and provenance."""
    try:
        doc = gather(default_refdata())
    except RefDataError as exc:
        raise UserError(str(exc)) from exc
    if fmt == "json":
        dump_json(doc)
    else:
        render_text(doc)


# --- import -------------------------------------------------------------------------------
# The importer (claimscrub.refdata.importer) is written separately; this command is the
# only CLI code it needs, and reports cleanly when the module is not installed yet.
@command.command("import")
@click.argument(
    "paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--release", default=None, help="Release id to use instead of the one read from the files."
)
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Store root to write into (default: the user store).",
)
def import_(paths: tuple[Path, ...], release: str | None, root: Path | None) -> None:
    """Normalise official CMS files into the user's reference-data store."""
    try:
        from claimscrub.refdata.importer import ImportFailed, import_files
    except ModuleNotFoundError as exc:
        if exc.name != "claimscrub.refdata.importer":
            raise
        raise UserError(
            "`refdata import` is not available: claimscrub.refdata.importer is not installed"
        ) from exc
    try:
        refs = import_files(list(paths), root if root is not None else user_root(), release=release)
    except ImportFailed as exc:
        raise UserError(str(exc)) from exc
    for ref in refs:
        click.echo(
            f"imported {ref.dataset} {ref.release} "
            f"({ref.provenance.get('rows', '?')} rows) -> {ref.path}"
        )
