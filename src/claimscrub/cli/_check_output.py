"""Write a chunked check's report as its claims come, and draw the progress bar.

The reporters render a whole result document; for a chunked check
(:class:`~claimscrub.engine.stream.ChunkedCheck`) the claims arrive in order, a part at a
time, and are written as they come: ``jsonl``, ``csv``, ``concise`` and ``full`` a finding
at a time; ``json`` and ``sarif`` as their document with the claims (results) array
streamed, byte for byte what the reporter writes for the whole document. Other formats
(``html``: one self-contained page) get the whole document, assembled in memory;
``parquet`` is written a row group per part of claims.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TextIO

_RANK = {"info": 0, "warning": 1, "error": 2}
_SENTINEL = "\x00claimscrub-stream\x00"


@dataclass
class Outcome:
    """What the exit code depends on: the worst severity written and the rejected inputs."""

    worst: int = -1
    rejected: int = 0
    engine_errors: int = 0

    def should_fail(self, fail_on: str) -> bool:
        """True when something at or above ``fail_on`` (or a rejected input) was reported."""
        return bool(self.rejected) or self.worst >= _RANK[fail_on]


def _watch(
    parts: Iterable[list[dict[str, Any]]], outcome: Outcome
) -> Iterator[list[dict[str, Any]]]:
    for part in parts:
        for claim in part:
            for f in claim["findings"]:
                outcome.worst = max(outcome.worst, _RANK[f["severity"]])
        yield part


def _stream_array(
    stream: TextIO,
    document: dict[str, Any],
    path: tuple[Any, ...],
    items: Iterable[list[dict[str, Any]]],
) -> None:
    """Write ``document`` as ``json.dump(indent=2)`` would, the list at ``path`` from ``items``."""
    holder: Any = document
    for step in path[:-1]:
        holder = holder[step]
    parts = iter(items)
    first = next((p for p in parts if p), None)
    if first is None:
        holder[path[-1]] = []
        json.dump(document, stream, indent=2, ensure_ascii=False)
        stream.write("\n")
        return
    holder[path[-1]] = [_SENTINEL]
    text = json.dumps(document, indent=2, ensure_ascii=False)
    marker = json.dumps(_SENTINEL)
    at = text.index(marker)
    line_start = text.rindex("\n", 0, at) + 1
    indent = text[line_start:at]
    stream.write(text[:line_start])
    separator = ""
    for part in _chain(first, parts):
        for item in part:
            body = json.dumps(item, indent=2, ensure_ascii=False).replace("\n", "\n" + indent)
            stream.write(f"{separator}{indent}{body}")
            separator = ",\n"
    stream.write(text[at + len(marker) :])
    stream.write("\n")


def _chain(
    first: list[dict[str, Any]], rest: Iterator[list[dict[str, Any]]]
) -> Iterator[list[dict[str, Any]]]:
    yield first
    yield from rest


def write_streamed(
    header: dict[str, Any],
    parts: Iterable[list[dict[str, Any]]],
    fmt: str,
    stream: TextIO,
    *,
    statistics: bool = False,
) -> Outcome:
    """Write the report of a chunked check; return what the exit code needs.

    ``header`` is the result document without claims; ``parts`` gives the claims in
    order, a list at a time.
    """
    from claimscrub.reporters import renderer

    outcome = Outcome(rejected=len(header["rejected"]), engine_errors=len(header["engine_errors"]))
    watched = _watch(parts, outcome)
    if statistics:
        from claimscrub.reporters.terminal import statistics as print_statistics

        claims = (claim for part in watched for claim in part)
        print_statistics({**header, "claims": claims}, stream)
    elif fmt in ("full", "concise"):
        from claimscrub.reporters import terminal

        console = terminal.console_for(stream)
        tally = terminal.Tally()
        for part in watched:
            terminal.render_claims(part, console, fmt, tally)
        terminal.render_rejected(header["rejected"], console)
        terminal.render_input_warnings(header.get("input_warnings", ()), console)
        terminal.footer(header, tally, console)
    elif fmt == "jsonl":
        render = renderer("jsonl")
        for part in watched:
            render({"claims": part, "rejected": []}, stream, fmt)
        render({**_inputs(header), "claims": []}, stream, fmt)
    elif fmt == "csv":
        from claimscrub.reporters.csv_report import COLUMNS, rows

        writer = csv.DictWriter(stream, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for part in watched:
            writer.writerows(rows({"claims": part, "rejected": []}))
        writer.writerows(rows({**_inputs(header), "claims": []}))
    elif fmt == "json":
        _stream_array(stream, dict(header), ("claims",), watched)
    elif fmt == "sarif":
        from claimscrub.reporters.sarif import document

        def results() -> Iterator[list[dict[str, Any]]]:
            for part in watched:
                yield document({**header, "claims": part})["runs"][0]["results"]

        _stream_array(stream, document({**header, "claims": []}), ("runs", 0, "results"), results())
    elif fmt == "parquet":
        _parquet(header, watched, stream)
    else:  # a format that needs the whole document at once
        claims = [claim for part in watched for claim in part]
        renderer(fmt)({**header, "claims": claims}, stream, fmt)
    return outcome


def _inputs(header: dict[str, Any]) -> dict[str, Any]:
    """The rejected inputs and input warnings of ``header``, written after the claims."""
    return {"rejected": header["rejected"], "input_warnings": header.get("input_warnings", [])}


def _parquet(header: dict[str, Any], parts: Iterable[list[dict[str, Any]]], stream: TextIO) -> None:
    """The findings table, a row group per part of claims (the rows ``parquet_report`` writes)."""
    import pyarrow.parquet as pq

    from claimscrub.reporters.parquet_report import finding_rows

    target = getattr(stream, "buffer", None)
    if target is None:
        raise ValueError("Parquet is binary: write it to a file (-o OUT.parquet)")
    stream.flush()
    tail = {**_inputs(header), "claims": [], "engine_errors": header["engine_errors"]}
    schema = finding_rows({"claims": []}).to_arrow().schema
    with pq.ParquetWriter(target, schema, compression="zstd") as writer:
        for part in parts:
            writer.write_table(finding_rows({"claims": part}).to_arrow().cast(schema))
        writer.write_table(finding_rows(tail).to_arrow().cast(schema))
    target.flush()


class RichProgress:
    """A progress bar on stderr for the phases of a chunked check (reading, checking, writing)."""

    _LABELS = {"reading": "Reading", "checking": "Checking", "writing": "Writing"}

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("{task.description:<9}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[amount]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=Console(file=sys.stderr),
            transient=True,
        )
        self._task: Any = None
        self._unit = ""
        self._running = False

    def begin(self) -> None:
        """Start drawing."""
        self._progress.start()
        self._running = True

    def stop(self) -> None:
        """Stop drawing (and erase the bar); later phases are not shown. Idempotent."""
        if self._running:
            self._progress.stop()
        self._running = False

    def _amount(self, done: float, total: float | None) -> str:
        if self._unit == "bytes":
            return f"{done / 1e6:,.0f}/{(total or 0) / 1e6:,.0f} MB"
        return f"{int(done):,}/{int(total or 0):,} claims"

    def start(self, phase: str, total: float | None) -> None:
        """Begin a phase (the previous one is shown complete)."""
        if not self._running:
            return
        if self._task is not None:
            task = self._progress.tasks[-1]
            self._progress.update(self._task, completed=task.total or task.completed)
        self._unit = "bytes" if phase == "reading" else "claims"
        self._task = self._progress.add_task(
            self._LABELS.get(phase, phase), total=total, amount=self._amount(0, total)
        )

    def advance(self, amount: float) -> None:
        """Move the current phase on."""
        if not self._running or self._task is None:
            return
        self._progress.advance(self._task, amount)
        task = self._progress.tasks[-1]
        self._progress.update(self._task, amount=self._amount(task.completed, task.total))
