"""Read claims from X12 837, Claims JSON, Claims CSV and flat Parquet into the canonical frames.

``read_claims(paths)`` sniffs each input's format from its first bytes (never from its
file name), reads it with the matching reader and joins the results into one
:class:`ClaimSet`, renumbering ``claim_key`` so keys stay unique.

History (claims already billed, for rules that look back in time) is kept apart from
the claims to check: ``ClaimSet.history`` is a second :class:`ClaimBatch` with the
claims of every JSON ``history`` array and of every input passed as ``history=``.
Its ``claim_key`` values continue after those of the claims, so the two can be
concatenated for a look-back by patient without renumbering. Problems found while
reading history (rejected claims, warnings) are reported in the main ``rejected`` and
``warnings`` frames, next to the others: ``history.rejected`` and
``history.warnings`` stay empty. Every input claim is a row of ``claims``,
``history.claims`` or ``rejected``, exactly once.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from claimscrub.model.schema import REJECTED_SCHEMA, conform
from claimscrub.readers.base import ClaimBatch

__all__ = [
    "FORMATS",
    "ClaimBatch",
    "ClaimSet",
    "InputError",
    "read_bytes",
    "read_claims",
    "sniff_format",
]

FORMATS = ("x12", "json", "csv", "parquet")
STDIN = "-"
_SNIFF_BYTES = 4096
_BOM = b"\xef\xbb\xbf"

PathArg = str | os.PathLike[str]


class InputError(Exception):
    """An input that cannot be opened at all (missing file, directory, unknown format name).

    Unlike a rejected claim, this is a usage problem: the CLI exits with code 2.
    """


@dataclass
class ClaimSet(ClaimBatch):
    """The claims to check (this batch) and the history read with them (``history``)."""

    history: ClaimBatch = field(default_factory=ClaimBatch)


def sniff_format(head: bytes) -> str | None:
    """The format of an input from its first bytes: ``x12``, ``json``, ``csv``, ``parquet`` or None.

    X12 starts with ``ISA`` and Claims JSON with ``{`` (or ``[``, which the JSON reader
    then explains), after an optional UTF-8 byte order mark and white space. Claims CSV
    is recognised by its header: a first line with a comma or the ``claim_id`` column.
    UTF-16 text (a UTF-16 byte order mark) is none of them.

    >>> sniff_format(b"ISA*00*          *00*")
    'x12'
    >>> sniff_format(b'\\n  {"claims": []}')
    'json'
    >>> sniff_format(b"claim_id,hcpcs\\nC1,J7507\\n")
    'csv'
    """
    if head.startswith(b"PAR1"):
        return "parquet"  # the flat line table of `claimscrub convert -o X.parquet`
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None  # UTF-16: none of the formats; the reason says how to fix it
    text = head[len(_BOM) :] if head.startswith(_BOM) else head
    text = text.lstrip(b" \t\r\n")
    if text.startswith(b"ISA"):
        return "x12"
    if text[:1] in (b"{", b"["):
        return "json"
    first_line = text.split(b"\n", 1)[0]
    if b"," in first_line or b"claim_id" in first_line:
        return "csv"
    return None


def _unknown_format_reason(head: bytes) -> str:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "the file is UTF-16 text; save it as UTF-8"
    if head.startswith((b"PK\x03\x04", b"%PDF", b"\xd0\xcf\x11\xe0")):
        return "the file is a binary document (zip, PDF or Office); export it as CSV or JSON"
    return (
        "cannot tell the format: expected X12 (starting with ISA), Claims JSON "
        "(starting with '{') or Claims CSV (a header row with claim_id)"
    )


def _problem(src: str, reason: str, *, warning: bool = False) -> ClaimSet:
    frame = pl.DataFrame(
        [{"src": src, "reason": reason}], schema={"src": pl.String, "reason": pl.String}
    )
    frame = conform(frame, REJECTED_SCHEMA)
    return ClaimSet(warnings=frame) if warning else ClaimSet(rejected=frame)


def _read_x12(source: PathArg | bytes, src: str) -> ClaimSet:
    try:
        from claimscrub.readers.x12 import read_x12
    except ImportError:  # the X12 reader is optional in a partial install
        return _problem(src, "X12 input is not supported by this installation")
    batch = read_x12(source, src)
    return ClaimSet(batch.claims, batch.lines, batch.rejected, batch.warnings)


def _read_parquet(source: PathArg | bytes, src: str) -> ClaimSet:
    from claimscrub.readers.parquet_claims import read_parquet_claims

    current, history = read_parquet_claims(source, src)
    read = ClaimSet(current.claims, current.lines, current.rejected, current.warnings, history)
    return _combine([read], [])  # history keys after the claims' keys


def read_bytes(data: bytes, src: str, *, input_format: str = "auto") -> ClaimSet:
    """Read one input held in memory (an upload, stdin).

    Args:
        data: the input's bytes.
        src: the name recorded in ``src`` and in messages.
        input_format: ``auto`` (sniff), ``x12``, ``json``, ``csv`` or ``parquet``.
    """
    fmt = _check_format(input_format)
    if fmt == "auto":
        if not re.search(rb"[^ \t\r\n\xef\xbb\xbf]", data):  # (no copy of a big input)
            return _problem(src, "the file is empty", warning=True)
        fmt = sniff_format(data[:_SNIFF_BYTES]) or ""
        if not fmt:
            return _problem(src, _unknown_format_reason(data[:_SNIFF_BYTES]))
    if fmt == "x12":
        return _read_x12(data, src)
    if fmt == "parquet":
        return _read_parquet(data, src)
    if fmt == "json":
        from claimscrub.readers.json_claims import read_json_claims

        current, history = read_json_claims(data, src)
        read = ClaimSet(current.claims, current.lines, current.rejected, current.warnings, history)
        return _combine([read], [])  # history keys after the claims' keys
    from claimscrub.readers.csv_claims import read_csv_claims

    batch = read_csv_claims(data, src)
    return ClaimSet(batch.claims, batch.lines, batch.rejected, batch.warnings)


def _check_format(input_format: str) -> str:
    if input_format not in ("auto", *FORMATS):
        raise InputError(f"unknown input format {input_format!r}; use auto, {', '.join(FORMATS)}")
    return input_format


def _read_one(path: PathArg, input_format: str) -> ClaimSet:
    name = os.fspath(path)
    if name == STDIN:
        return read_bytes(sys.stdin.buffer.read(), STDIN, input_format=input_format)
    file = Path(name)
    if not file.exists():
        raise InputError(f"{name}: no such file")
    if file.is_dir():
        raise InputError(f"{name}: is a directory, not a claims file")
    try:
        with file.open("rb") as fh:
            head = fh.read(_SNIFF_BYTES)
        fmt = input_format if input_format != "auto" else sniff_format(head)
        if fmt == "x12":
            return _read_x12(file, name)  # the X12 reader streams from the file
        if fmt == "parquet":
            return _read_parquet(file, name)
        data = file.read_bytes()
    except OSError as exc:
        raise InputError(f"{name}: cannot be read ({exc.strerror or exc})") from None
    return read_bytes(data, name, input_format=input_format)


def _as_list(inputs: PathArg | Iterable[PathArg]) -> list[PathArg]:
    if isinstance(inputs, str | os.PathLike):
        return [inputs]
    return list(inputs)


def read_claims(
    inputs: PathArg | Sequence[PathArg],
    *,
    input_format: str = "auto",
    history: PathArg | Sequence[PathArg] = (),
) -> ClaimSet:
    """Read claims from files (or ``-`` for standard input) into one :class:`ClaimSet`.

    Args:
        inputs: paths of X12 837, Claims JSON, Claims CSV or flat Parquet files; ``-`` reads stdin.
        input_format: ``auto`` (sniff each input), ``x12``, ``json``, ``csv`` or ``parquet``.
        history: inputs whose claims are all history (already billed claims).

    Returns:
        The claims, lines, rejected inputs and warnings, with ``history`` beside them.

    Raises:
        InputError: an input does not exist, is a directory or cannot be opened, or
            ``input_format`` is not a known name.
    """
    _check_format(input_format)
    names = [os.fspath(p) for p in [*_as_list(inputs), *_as_list(history)]]
    if names.count(STDIN) > 1:
        raise InputError("standard input ('-') can be read only once")
    current = [_read_one(p, input_format) for p in _as_list(inputs)]
    past = [_read_one(p, input_format) for p in _as_list(history)]
    return _combine(current, past)


def _combine(current: list[ClaimSet], past: list[ClaimSet]) -> ClaimSet:
    claims = ClaimBatch.concat([ClaimBatch(s.claims, s.lines) for s in current])
    history_parts = [s.history for s in current]
    history_parts += [ClaimBatch(s.claims, s.lines) for s in past] + [s.history for s in past]
    history = ClaimBatch.concat(history_parts)
    if history.claims.height:
        # History keys start right after the claims' keys (whatever the parts started at).
        start = int(claims.claims["claim_key"].max()) + 1 if claims.claims.height else 0  # type: ignore[arg-type]
        offset = start - int(history.claims["claim_key"].min())  # type: ignore[arg-type]
        history.claims = history.claims.with_columns(pl.col("claim_key") + offset)
        history.lines = history.lines.with_columns(pl.col("claim_key") + offset)
    problems = [*current, *past]
    return ClaimSet(
        claims=claims.claims,
        lines=claims.lines,
        rejected=pl.concat([s.rejected for s in problems] + [ClaimBatch().rejected]),
        warnings=pl.concat([s.warnings for s in problems] + [ClaimBatch().warnings]),
        history=ClaimBatch(claims=history.claims, lines=history.lines),
    )
