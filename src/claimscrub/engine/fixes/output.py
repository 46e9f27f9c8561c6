"""Where the corrected claims go, and writing them (Claims JSON or CSV, atomically)."""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from claimscrub.engine.fixes.run import FixRun
from claimscrub.engine.prepare import with_payer_type
from claimscrub.model import columns as c
from claimscrub.readers import ClaimSet
from claimscrub.readers.base import ClaimBatch
from claimscrub.readers.writers import write_csv, write_json

FIXED_FORMATS = ("json", "csv")
STDIN = "-"


class FixOutputError(ValueError):
    """Where the corrected claims should go cannot be worked out (a usage error)."""


@dataclass
class FixedOutput:
    """Where one input's corrected claims go, and what happened."""

    input: str
    path: Path
    format: str
    claims: int = 0
    lines: int = 0
    written: bool = False
    reason: str | None = None  # why nothing was written
    notes: list[str] = field(default_factory=list)  # what the format could not hold

    def to_dict(self) -> dict[str, Any]:
        """The output in the result JSON."""
        out: dict[str, Any] = {
            "input": self.input,
            "path": str(self.path),
            "format": self.format,
            "claims": self.claims,
            "lines": self.lines,
            "written": self.written,
        }
        if self.reason:
            out["reason"] = self.reason
        if self.notes:
            out["notes"] = self.notes
        return out


def _format_of_path(path: Path) -> str:
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FIXED_FORMATS:
        raise FixOutputError(
            f"{path}: corrected claims are written as Claims JSON or CSV; use a .json or .csv name"
        )
    return fmt


def check_fixed_output(inputs: Sequence[str], fixed_output: Path | None) -> None:
    """Fail early (before reading) when the corrected claims would have nowhere to go."""
    if fixed_output is not None:
        if str(fixed_output) == STDIN:
            raise FixOutputError("--fixed-output needs a file name (.json or .csv), not '-'")
        _format_of_path(fixed_output)
        if len(inputs) > 1:
            raise FixOutputError(
                "--fixed-output names one file; with several inputs, leave it out and each "
                "input gets <name>.fixed.<json|csv> beside it"
            )
        if fixed_output.is_dir():
            raise FixOutputError(
                f"{fixed_output}: is a directory; --fixed-output needs a file name"
            )
        parent = fixed_output.parent
        if str(parent) and not parent.is_dir():
            raise FixOutputError(f"{fixed_output}: the folder {parent} does not exist")
    elif STDIN in inputs:
        raise FixOutputError(
            "claims read from standard input: say where to write them with --fixed-output FILE"
        )


def _input_format(claims: pl.DataFrame) -> str:
    """The format an input was read from, told by the location columns its reader fills."""
    if claims[c.SEG_ORDINAL].is_not_null().any():
        return "x12"
    if claims[c.ROW].is_not_null().any():
        return "csv"
    return "json"


def plan_outputs(
    run: FixRun, inputs: Sequence[str], fixed_output: Path | None
) -> list[FixedOutput]:
    """One output per input that had claims: ``fixed_output``, or ``<stem>.fixed.<fmt>`` beside it.

    The format is that of ``fixed_output``'s extension, else the input's own (X12 input is
    written as Claims JSON: there is no X12 writer).
    """
    outputs = []
    for src in dict.fromkeys(inputs):
        claims = run.batch.claims.filter(pl.col(c.SRC) == src)
        if claims.is_empty():
            continue
        if fixed_output is not None:
            path, fmt = fixed_output, _format_of_path(fixed_output)
        else:
            fmt = _input_format(claims)
            fmt = fmt if fmt in FIXED_FORMATS else "json"
            source = Path(src)
            path = source.with_name(f"{source.stem}.fixed.{fmt}")
        lines = run.batch.lines.filter(pl.col(c.SRC) == src).height
        outputs.append(
            FixedOutput(input=src, path=path, format=fmt, claims=claims.height, lines=lines)
        )
    return outputs


def _subset(run: FixRun, src: str) -> ClaimSet:
    batch = run.batch
    keys = batch.claims.filter(pl.col(c.SRC) == src)[c.CLAIM_KEY]
    history_keys = batch.history.claims.filter(pl.col(c.SRC) == src)[c.CLAIM_KEY]
    return ClaimSet(
        claims=batch.claims.filter(pl.col(c.CLAIM_KEY).is_in(keys.implode())),
        lines=batch.lines.filter(pl.col(c.CLAIM_KEY).is_in(keys.implode())),
        history=ClaimBatch(
            claims=batch.history.claims.filter(pl.col(c.CLAIM_KEY).is_in(history_keys.implode())),
            lines=batch.history.lines.filter(pl.col(c.CLAIM_KEY).is_in(history_keys.implode())),
        ),
    )


def _write_atomically(path: Path, text: str) -> None:
    """Write the whole file or nothing: a temporary file renamed into place."""
    directory = path.parent if str(path.parent) else Path(".")
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def write_fixed(run: FixRun, outputs: Sequence[FixedOutput]) -> None:
    """Write each input's corrected claims; an input with unreadable claims is not written.

    Raises FixOutputError when a file cannot be written (permissions, full disk).

    Writing the claims that could be read, without those that could not, would lose
    claims if the file replaced the input; so such an input gets no corrected file and
    ``reason`` says why (like ruff, which leaves a file with a syntax error alone).
    """
    rejected = run.batch.rejected
    for out in outputs:
        bad = rejected.filter(pl.col(c.SRC) == out.input).height
        subset = _subset(run, out.input)
        if bad:
            out.reason = (
                f"{bad} claim(s) of {out.input} could not be read; the corrected file would "
                "lack them, so it was not written (repair them and run again)"
            )
            continue
        # X12 carries the payer type only as the claim filing indicator (SBR09), which the
        # public formats keep under x_x12 where rules do not look: write the type the check
        # used, so that checking the corrected file sees the same payer.
        subset.claims = with_payer_type(subset.claims)
        buffer = io.StringIO()
        out.notes = (write_json if out.format == "json" else write_csv)(subset, buffer)
        try:
            _write_atomically(out.path, buffer.getvalue())
        except OSError as exc:
            raise FixOutputError(f"cannot write {out.path}: {exc.strerror or exc}") from None
        out.written = True
