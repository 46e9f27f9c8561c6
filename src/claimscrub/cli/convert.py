"""``claimscrub convert INPUT… -o OUT``: X12 837, Claims JSON or Claims CSV to a public format.

The output format comes from ``--format`` or the extension of ``OUT`` (``.json``,
``.csv``, ``.parquet``); ``-o -`` (the default) writes to standard output, as JSON
unless ``--format`` says otherwise. Inputs are recognised by their content; ``-``
reads standard input.

* JSON: the public Claims JSON format, with the ``history`` of the inputs.
* CSV: the public Claims CSV format, one row per line. What it has no column for is
  named on stderr.
* Parquet: one row per line with the claim's columns joined, for analytics.

Every rejected input claim is listed on stderr with its file, position and reason,
then a summary line (``N claims, N lines, N rejected``). Exit codes: 0 all read,
1 some input was rejected (the rest is still written), 2 usage error (missing file,
unknown output extension, Parquet to a terminal).
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import click
import polars as pl

from claimscrub.cli import EXIT_FINDINGS, EXIT_OK, UserError
from claimscrub.engine.prepare import with_payer_type
from claimscrub.readers import FORMATS, ClaimSet, InputError, read_claims
from claimscrub.readers.writers import OUTPUT_FORMATS, write_csv, write_json, write_parquet

_EXTENSIONS = {".json": "json", ".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def location(row: dict[str, Any]) -> str:
    """Where a problem is in its file: ``row 7``, ``claims[2]``, ``segment 40``."""
    if row.get("seg_ordinal") is not None:
        return f"segment {row['seg_ordinal']}"
    if row.get("row") is not None:
        return f"row {row['row']}"
    return row.get("json_path") or ""


def report_problems(frame: pl.DataFrame, kind: str) -> None:
    """One stderr line per rejected input or warning: ``file:where: kind claim X: reason``."""
    for row in frame.iter_rows(named=True):
        where = location(row)
        prefix = f"{row['src']}:{where}" if where else str(row["src"])
        claim = f" claim {row['claim_id']}" if row.get("claim_id") else ""
        click.echo(f"{prefix}: {kind}{claim}: {row['reason']}", err=True)


def summary(batch: ClaimSet) -> str:
    """``N claims, N lines, N rejected`` (and the history read, when there is some)."""
    text = (
        f"{batch.claims.height} claims, {batch.lines.height} lines, "
        f"{batch.rejected.height} rejected"
    )
    if batch.history.claims.height:
        text += (
            f" (and {batch.history.claims.height} history claims, "
            f"{batch.history.lines.height} lines)"
        )
    return text


def _output_format(output: str, forced: str | None) -> str:
    if forced:
        return forced
    if output == "-":
        return "json"
    fmt = _EXTENSIONS.get(Path(output).suffix.lower())
    if fmt is None:
        raise UserError(
            f"cannot tell the output format from {output!r}: use a .json, .csv or .parquet "
            "name, or --format"
        )
    return fmt


def _render(batch: ClaimSet, fmt: str) -> tuple[bytes, list[str]]:
    # X12 carries the payer type only as the claim filing indicator (SBR09), which the
    # public formats keep under x_x12 where rules do not look: write the type check
    # derives from it, so that the converted file checks as the 837 does.
    batch.claims = with_payer_type(batch.claims)
    batch.history.claims = with_payer_type(batch.history.claims)
    if fmt == "parquet":
        buffer = io.BytesIO()
        notes = write_parquet(batch, buffer)
        return buffer.getvalue(), notes
    text = io.StringIO()
    notes = (write_json if fmt == "json" else write_csv)(batch, text)
    return text.getvalue().encode("utf-8"), notes


def _write_atomically(path: Path, data: bytes) -> None:
    """Write the whole output or nothing: a temporary file renamed into place."""
    directory = path.parent if str(path.parent) else Path(".")
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


@click.command("convert")
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@click.option(
    "-o",
    "--output",
    default="-",
    show_default=True,
    metavar="OUT",
    help="Output file (.json, .csv or .parquet); '-' for standard output.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(OUTPUT_FORMATS),
    help="Output format, whatever the extension of OUT.",
)
@click.option(
    "--input-format",
    type=click.Choice(["auto", *FORMATS]),
    default="auto",
    show_default=True,
    help="Read every input as this format instead of recognising it by content.",
)
@click.option(
    "--history",
    "history",
    multiple=True,
    metavar="PATH",
    help="An input whose claims are history (already billed); may be repeated.",
)
def command(
    inputs: tuple[str, ...],
    output: str,
    output_format: str | None,
    input_format: str,
    history: tuple[str, ...],
) -> None:
    """Convert claims (X12 837, Claims JSON, Claims CSV) to Claims JSON, Claims CSV or Parquet."""
    fmt = _output_format(output, output_format)
    if fmt == "parquet" and output == "-" and sys.stdout.isatty():
        raise UserError("Parquet is binary: write it to a file with -o OUT.parquet")
    if output != "-" and Path(output).is_dir():
        raise UserError(f"{output}: is a directory; -o needs a file name")
    if output != "-" and not Path(output).parent.is_dir() and str(Path(output).parent):
        raise UserError(f"{output}: the folder {Path(output).parent} does not exist")
    try:
        batch = read_claims(list(inputs), input_format=input_format, history=list(history))
    except InputError as exc:
        raise UserError(str(exc)) from None

    data, notes = _render(batch, fmt)
    if output == "-":
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        _write_atomically(Path(output), data)

    report_problems(batch.rejected, "rejected")
    report_problems(batch.warnings, "warning")
    for note in notes:
        click.echo(f"claimscrub: note: {note}", err=True)
    click.echo(summary(batch), err=True)
    click.get_current_context().exit(EXIT_FINDINGS if batch.rejected.height else EXIT_OK)
