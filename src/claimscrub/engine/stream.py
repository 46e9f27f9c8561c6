"""Check inputs of any size in bounded memory: read in chunks, check by patient, report in order.

The in-memory path (``read_claims`` → ``scrub``) holds every claim and every rule's
intermediate frames at once: fine for a day's batch, not for a 1 GB X12 file. Here the
same engine runs in three passes whose memory does not grow with the input:

1. **Read and spill.** X12 inputs stream through :func:`~claimscrub.readers.x12.iter_x12`
   a chunk of claims at a time (CSV and JSON inputs have no streaming reader: they are
   read whole, then spilled). Each chunk's claims and lines are appended, by a hash of
   the claim's patient, to one of *B* bucket files (Arrow IPC streams, LZ4) in a
   temporary folder. Rejected inputs are spilled too; nothing else is kept.
2. **Check a bucket at a time.** Each bucket holds every claim of its patients, so
   ``scrub(bucket, plan, history=…)`` sees, for each patient, exactly what a whole-input
   run sees. The plan is built once (:func:`~claimscrub.engine.scrub.make_plan`). Each
   claim's result (status and findings, as in the result JSON) is spilled, sorted by
   claim key.
3. **Report in input order.** :meth:`ChunkedCheck.iter_claims` merges the sorted bucket
   results by claim key, so claims come out in the order a whole-input run gives, one at
   a time, and the reporters write them as they come.

What crosses chunk boundaries, and why the findings are those of a whole-input run:
rules are evaluated per line, per claim or per patient (house style, decision 2; each
rule declares its ``scope``). Look-back rules (refill timing, supply fees, duplicates
against history, quantity limits, authorisation totals, step therapy) group lines by
``patient_id``; a claim without one stands alone. Chunks are cut by the reader wherever
it likes, so one patient's claims may lie in many chunks; the buckets re-group them. A
patient's claims always land in one bucket, with the patient's ``--history`` claims (and
the ``history`` arrays of JSON inputs), so every patient-scoped rule sees the same lines
in the same order (claim keys are those of a whole-input run). One fact about the
history is run-wide, whether there is any: every bucket's history holds at least one
history claim (another patient's when the bucket's own patients have none). Claim keys run on across
chunks and inputs exactly as ``read_claims`` numbers them. The run-wide parts of the
report are merged: counts are summed, the reference-data releases are those in force
on every date of service seen, ``skipped_rules`` lists the rules skipped in every bucket
(a rule is skipped when a bucket has no data for its inputs; a rule whose inputs are
present only in different buckets is run by a whole-input run and finds nothing on
lines without data in its inputs, so it is not listed), and ``engine_errors`` is the
union.

Memory: one chunk while reading, one bucket (about ``bucket_lines`` lines) while checking,
one result batch per bucket while reporting, plus the history and the rejected inputs,
which are held whole.
"""

from __future__ import annotations

import heapq
import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import polars as pl
import pyarrow as pa
import pyarrow.ipc as ipc

from claimscrub.engine.report import Report
from claimscrub.engine.scrub import Plan, scrub
from claimscrub.model import columns as c
from claimscrub.model.schema import REJECTED_SCHEMA, conform, empty_claims, empty_lines
from claimscrub.readers import STDIN, ClaimBatch, InputError, read_claims, sniff_format
from claimscrub.rules.registry import Rule

_HASH = "_patient_hash"
_SNIFF = 4096
_RESULT_BATCH = 512  # claims per record batch of a bucket's results (memory while merging)
# Summary fields that are run-wide, not sums over buckets.
_NOT_SUMMED = ("rejected_input",)


class ProgressSink(Protocol):
    """Where a chunked check reports how far it is (the CLI draws a progress bar)."""

    def start(self, phase: str, total: float | None) -> None:
        """A new phase begins (``reading`` bytes, ``checking`` / ``writing`` claims)."""

    def advance(self, amount: float) -> None:
        """``amount`` more units of the current phase are done."""


class _NoProgress:
    def start(self, phase: str, total: float | None) -> None:
        pass

    def advance(self, amount: float) -> None:
        pass


@dataclass(frozen=True)
class StreamLimits:
    """How big the pieces are: the memory of a chunked check grows with these, not the input."""

    chunk_claims: int = 5000  # claims per chunk read from an X12 input
    bucket_lines: int = 100_000  # lines checked together (the engine's working set)
    bytes_per_line: int = 200  # input bytes per claim line, to size the buckets up front
    buckets: int | None = None  # force the number of buckets (tests)


class _Counting:
    """A binary file that tells ``progress`` how many bytes were read."""

    def __init__(self, raw: BinaryIO, on_bytes: Callable[[int], None]) -> None:
        self._raw = raw
        self._on_bytes = on_bytes

    def read(self, n: int = -1) -> bytes:
        data = self._raw.read(n)
        self._on_bytes(len(data))
        return data

    def readinto(self, buffer: Any) -> int:
        n = self._raw.readinto(buffer)
        self._on_bytes(n or 0)
        return n

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


class _Spill:
    """Append-only Arrow IPC stream files, one per name, opened on first write."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._writers: dict[str, tuple[Any, ipc.RecordBatchStreamWriter, pa.Schema]] = {}
        self.rows: dict[str, int] = {}

    def append(self, name: str, frame: pl.DataFrame) -> None:
        table = frame.to_arrow()
        if name not in self._writers:
            sink = pa.OSFile(str(self.folder / f"{name}.arrows"), "wb")
            options = ipc.IpcWriteOptions(compression="lz4")
            writer = ipc.new_stream(sink, table.schema, options=options)
            self._writers[name] = (sink, writer, table.schema)
        _, writer, schema = self._writers[name]
        if table.schema != schema:  # a chunk whose all-null column got another type
            table = table.cast(schema)
        writer.write_table(table)
        self.rows[name] = self.rows.get(name, 0) + frame.height

    def close(self) -> None:
        for sink, writer, _ in self._writers.values():
            writer.close()
            sink.close()
        self._writers.clear()

    def read(self, name: str) -> pl.DataFrame | None:
        path = self.folder / f"{name}.arrows"
        if not path.exists():
            return None
        with pa.memory_map(str(path)) as source:
            table = ipc.open_stream(source).read_all()
        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        return frame.rechunk()


def _patient_hash(claims: pl.DataFrame) -> pl.Expr:
    """One hash per patient (a claim without a patient id is its own patient)."""
    patient = pl.coalesce(
        pl.col(c.PATIENT_ID), pl.format("claim:{}", pl.col(c.CLAIM_KEY).cast(pl.String))
    )
    return patient.hash(seed=20261204)


@dataclass
class _Totals:
    summary: dict[str, Any] = field(default_factory=dict)
    days: set[Any] = field(default_factory=set)
    skipped_everywhere: list[str] | None = None  # rules skipped in every bucket so far
    present: set[str] = field(default_factory=set)  # rule inputs with data in some bucket
    broken: dict[str, str] = field(default_factory=dict)

    def add(self, result: dict[str, Any], report: Report) -> None:
        for key, value in result["summary"].items():
            if key in _NOT_SUMMED or not isinstance(value, int | float):
                continue
            self.summary[key] = self.summary.get(key, 0) + value
        lines = report.lines
        self.days.update(d for d in lines[c.DOS_FROM].unique().to_list() if d is not None)
        if lines.height:
            skipped = [code for code, _ in report.skipped]
            if self.skipped_everywhere is None:
                self.skipped_everywhere = skipped
            else:
                self.skipped_everywhere = [k for k in self.skipped_everywhere if k in skipped]
            inputs = {col for r in report.rules for col in r.inputs} - self.present
            self.present.update(
                col
                for col in inputs
                if col in lines.columns and lines[col].null_count() < lines.height
            )
        for code, error in report.broken:
            self.broken.setdefault(code, error)

    def skipped(self, rules: Sequence[Rule]) -> list[tuple[str, str]]:
        """The rules a whole-input run skips, with its reason (the inputs with no data)."""
        by_code = {r.code: r for r in rules}
        out = []
        for code in self.skipped_everywhere or []:
            absent = [col for col in by_code[code].inputs if col not in self.present]
            if absent:  # (else each bucket lacked a different input: a whole run runs it)
                out.append((code, f"no data in {', '.join(absent)}"))
        return out


class ChunkedCheck:
    """One chunked check: :meth:`run` reads and checks, then the result is read in order.

    Use as a context manager: the temporary folder is removed on exit.
    """

    def __init__(
        self,
        plan: Plan,
        limits: StreamLimits | None = None,
        progress: ProgressSink | None = None,
        workdir: Path | None = None,
    ) -> None:
        self.plan = plan
        self.limits = limits or StreamLimits()
        self.progress = progress or _NoProgress()
        self._tmp = Path(tempfile.mkdtemp(prefix="claimscrub-", dir=workdir))
        self._inputs = _Spill(self._tmp)
        self._results: list[Path] = []
        self._rejected: list[pl.DataFrame] = []
        self._warnings: list[pl.DataFrame] = []
        self._history = ClaimBatch()
        self._totals = _Totals()
        self._buckets = 1
        self.claims = 0
        self.lines = 0

    def __enter__(self) -> ChunkedCheck:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Remove the temporary files."""
        self._inputs.close()
        shutil.rmtree(self._tmp, ignore_errors=True)

    # --- pass 1: read and spill -------------------------------------------------------------
    def run(
        self,
        inputs: Sequence[str],
        *,
        input_format: str = "auto",
        history: Sequence[str] = (),
    ) -> None:
        """Read every input, then check every bucket (passes 1 and 2).

        Raises InputError for an input that cannot be opened (as ``read_claims`` does);
        PackError / RefDataError from the engine propagate.
        """
        if STDIN in inputs or STDIN in history:
            raise InputError("standard input cannot be checked in chunks; pass a file")
        for name in [*inputs, *history]:
            if not Path(name).exists():
                raise InputError(f"{name}: no such file")
            if Path(name).is_dir():
                raise InputError(f"{name}: is a directory, not a claims file")
        total = sum(os.path.getsize(p) for p in inputs)
        per_bucket = self.limits.bucket_lines * self.limits.bytes_per_line
        self._buckets = self.limits.buckets or max(1, math.ceil(total / per_bucket))
        self.progress.start("reading", total)
        embedded: list[ClaimBatch] = []
        offset = 0
        for name in inputs:
            offset = self._read_input(name, input_format, offset, embedded)
        past = read_claims([], input_format=input_format, history=list(history))
        self._rejected.append(past.rejected)
        self._warnings.append(past.warnings)
        self._history = self._number_history([*embedded, past.history], offset)
        self._inputs.close()
        self._check_buckets()

    def _read_input(
        self, name: str, input_format: str, offset: int, embedded: list[ClaimBatch]
    ) -> int:
        """Spill one input's claims with keys from ``offset``; return the next free key."""
        with open(name, "rb") as fh:
            fmt = input_format if input_format != "auto" else sniff_format(fh.read(_SNIFF))
        if fmt == "x12":
            from claimscrub.readers.x12 import iter_x12

            top = -1
            with open(name, "rb") as raw:
                stream = _Counting(raw, self.progress.advance)
                for batch in iter_x12(stream, name, chunk_claims=self.limits.chunk_claims):
                    self._spill(batch, offset)
                    if batch.claims.height:
                        top = max(top, int(batch.claims[c.CLAIM_KEY].max()))  # type: ignore[arg-type]
            return offset + top + 1
        read = read_claims([name], input_format=input_format)
        self.progress.advance(os.path.getsize(name))
        self._spill(read, offset)
        embedded.append(read.history)
        return offset + (int(read.claims[c.CLAIM_KEY].max()) + 1 if read.claims.height else 0)  # type: ignore[arg-type]

    def _spill(self, batch: ClaimBatch, offset: int) -> None:
        self._rejected.append(batch.rejected)
        self._warnings.append(batch.warnings)
        if not batch.claims.height:
            return
        key = pl.col(c.CLAIM_KEY) + offset
        claims = batch.claims.with_columns(key)
        claims = claims.with_columns(_patient_hash(claims).alias(_HASH))
        lines = batch.lines.with_columns(key).join(
            claims.select(c.CLAIM_KEY, _HASH), on=c.CLAIM_KEY, how="left"
        )
        self.claims += claims.height
        self.lines += lines.height
        bucket = (pl.col(_HASH) % self._buckets).alias("_bucket")
        for (b,), part in claims.with_columns(bucket).partition_by("_bucket", as_dict=True).items():
            self._inputs.append(f"claims-{b}", part.drop("_bucket"))
        for (b,), part in lines.with_columns(bucket).partition_by("_bucket", as_dict=True).items():
            self._inputs.append(f"lines-{b}", part.drop("_bucket"))

    def _number_history(self, parts: list[ClaimBatch], claims_end: int) -> ClaimBatch:
        """History keys follow the claims' keys, as ``read_claims`` numbers them."""
        history = ClaimBatch.concat(parts)
        if not history.claims.height:
            return ClaimBatch()
        shift = claims_end - int(history.claims[c.CLAIM_KEY].min())  # type: ignore[arg-type]
        claims = history.claims.with_columns(pl.col(c.CLAIM_KEY) + shift)
        claims = claims.with_columns(_patient_hash(claims).alias(_HASH))
        lines = history.lines.with_columns(pl.col(c.CLAIM_KEY) + shift).join(
            claims.select(c.CLAIM_KEY, _HASH), on=c.CLAIM_KEY, how="left"
        )
        return ClaimBatch(claims=claims, lines=lines)

    # --- pass 2: check a bucket at a time ---------------------------------------------------
    def _check_buckets(self) -> None:
        self.progress.start("checking", self.claims)
        for b in range(self._buckets):
            claims = self._inputs.read(f"claims-{b}")
            if claims is None:
                continue
            lines = self._inputs.read(f"lines-{b}")
            lines = (
                lines
                if lines is not None
                else empty_lines().with_columns(pl.lit(None, dtype=pl.UInt64).alias(_HASH))
            )
            # A bucket larger than planned (the input had more lines per byte than
            # estimated) is checked in parts, split by the same patient hash.
            parts = max(1, math.ceil(lines.height / self.limits.bucket_lines))
            for part in range(parts):
                pick = (pl.col(_HASH) // self._buckets) % parts == part
                self._check(b, part, claims.filter(pick), lines.filter(pick), parts)
            del claims, lines

    def _check(
        self, b: int, part: int, claims: pl.DataFrame, lines: pl.DataFrame, parts: int
    ) -> None:
        if not claims.height:
            return
        in_bucket = ((pl.col(_HASH) % self._buckets) == b) & (
            (pl.col(_HASH) // self._buckets) % parts == part
        )
        past = None
        if self._history.lines.height:
            # Whether a history was given at all is run-wide: some rules only ask for
            # earlier steps when there is a history (PAU003). The claim of the first
            # history line keeps every bucket's history non-empty; it belongs to another
            # patient (or to these), so no patient-scoped rule sees more than it should.
            anchor = pl.col(c.CLAIM_KEY) == self._history.lines[c.CLAIM_KEY][0]
            past = ClaimBatch(
                claims=self._history.claims.filter(in_bucket | anchor).drop(_HASH),
                lines=self._history.lines.filter(in_bucket | anchor).drop(_HASH),
            )
        batch = ClaimBatch(claims=claims.drop(_HASH), lines=lines.drop(_HASH))
        report = scrub(batch, self.plan, history=past)
        result = report.to_dict()
        self._totals.add(result, report)
        keys = report.claims[c.CLAIM_KEY].sort().to_list()  # to_dict's claim order
        payloads = [json.dumps(item, ensure_ascii=False) for item in result["claims"]]
        self._write_results(keys, payloads)
        self.progress.advance(claims.height)

    def _write_results(self, keys: list[int], payloads: list[str]) -> None:
        path = self._tmp / f"result-{len(self._results)}.arrow"
        schema = pa.schema([("key", pa.int64()), ("claim", pa.large_string())])
        with pa.OSFile(str(path), "wb") as sink:
            options = ipc.IpcWriteOptions(compression="lz4")
            with ipc.new_file(sink, schema, options=options) as writer:
                for start in range(0, len(keys), _RESULT_BATCH):
                    stop = start + _RESULT_BATCH
                    writer.write_batch(
                        pa.record_batch(
                            [pa.array(keys[start:stop]), pa.array(payloads[start:stop])],
                            schema=schema,
                        )
                    )
        self._results.append(path)

    # --- pass 3: the result, in claim order -------------------------------------------------
    def header(self) -> dict[str, Any]:
        """The result document without its claims (``claims`` is an empty list).

        Its keys and their order are those of :meth:`Report.to_dict`; ``summary`` is
        summed over the buckets, the rest describes the whole run.
        """
        days = sorted(self._totals.days)
        lines = pl.concat(
            [
                empty_lines(),
                conform(
                    pl.DataFrame({c.DOS_FROM: days}, schema={c.DOS_FROM: pl.Date}),
                    empty_lines().schema,
                ),
            ]
        )
        rejected, warnings = (
            pl.concat(
                [pl.DataFrame(schema=REJECTED_SCHEMA), *[r for r in frames if r.height]],
                how="vertical_relaxed",
            )
            for frames in (self._rejected, self._warnings)
        )
        template = Report(
            claims=empty_claims(),
            lines=lines,
            findings=_empty_findings(),
            rejected=rejected,
            warnings=warnings,
            rules=self.plan.rules,
            refdata=self.plan.refdata,
            rules_hash=self.plan.rules_hash,
            skipped=self._totals.skipped(self.plan.rules),
            broken=list(self._totals.broken.items()),
            min_confidence=self.plan.options.min_confidence,
        ).to_dict()
        for key, value in self._totals.summary.items():
            template["summary"][key] = value
        template["summary"]["lines"] = self.lines
        return template

    def iter_claims(self) -> Iterator[dict[str, Any]]:
        """Every claim's result (id, status, source, findings), in claim-key order."""
        streams = [_result_rows(path) for path in self._results]
        count = 0
        for _, payload in heapq.merge(*streams, key=lambda row: row[0]):
            count += 1
            yield json.loads(payload)
        if count != self.claims:  # every claim read is reported once: never lose one silently
            raise RuntimeError(f"chunked check reported {count} of {self.claims} claims")

    def parts(self, size: int = 1000) -> Iterator[list[dict[str, Any]]]:
        """:meth:`iter_claims` in lists of ``size`` claims (and the progress of writing)."""
        self.progress.start("writing", self.claims)
        part: list[dict[str, Any]] = []
        for claim in self.iter_claims():
            part.append(claim)
            if len(part) >= size:
                yield part
                self.progress.advance(len(part))
                part = []
        if part:
            yield part
            self.progress.advance(len(part))


def _result_rows(path: Path) -> Iterator[tuple[int, str]]:
    with pa.memory_map(str(path)) as source:
        reader = ipc.open_file(source)
        for i in range(reader.num_record_batches):
            batch = reader.get_batch(i)
            yield from zip(batch.column(0).to_pylist(), batch.column(1).to_pylist(), strict=True)


def _empty_findings() -> pl.DataFrame:
    from claimscrub.engine.evaluate import FINDINGS_SCHEMA

    return pl.DataFrame(schema=FINDINGS_SCHEMA)
