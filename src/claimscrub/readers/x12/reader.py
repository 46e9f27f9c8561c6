"""Stream an X12 837 file into canonical claim frames, in bounded memory.

Pipeline (see ``tokenizer.py``, ``envelope.py``, ``loops.py``, ``flatten.py``):

1. blocks of about a MB of complete segments are split into segment frames and
   their segment ids and loop qualifiers coded as small integers (ordinals
   continue across blocks) -- in a background thread;
2. blocks are coalesced into frames of ``FRAME_BLOCKS`` blocks (and files of
   many tiny interchanges into one frame); the rows from the last CLM/HL/ST on are
   held back as the *tail* (a claim is never split between two frames), and the
   *context* carried from the previous frame is prepended (the open transaction's
   header and HL levels, so that loops resolve and header errors reach every
   claim under them);
3. envelope segments go to the :class:`EnvelopeTracker`;
4. per implementation guide, loops are assigned (here) and values extracted,
   joined and derived (``flatten``, in a worker thread, overlapping with the next
   frame); results are collected in order;
5. results are kept per transaction set until its SE is seen (a transaction that
   ends without SE has all its claims rejected), then released in batches of
   ``chunk_claims`` claims with dense ``claim_key`` values.

Every CLM segment of the input ends up exactly once in ``claims`` or ``rejected``;
``parallel=False`` gives the same result without threads.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import BinaryIO, TypeVar

import polars as pl

from claimscrub.model import columns as c
from claimscrub.model.schema import (
    CLAIMS_SCHEMA,
    LINES_SCHEMA,
    REJECTED_SCHEMA,
    conform,
    empty_rejected,
)
from claimscrub.readers.base import ClaimBatch
from claimscrub.readers.x12.envelope import EnvelopeTracker
from claimscrub.readers.x12.flatten import LITERAL_COLUMNS, Flat, compact, flatten, segments
from claimscrub.readers.x12.guides import GUIDES, Guide
from claimscrub.readers.x12.loops import Assigned, assign_events, segment_codes, vocabulary
from claimscrub.readers.x12.tokenizer import DEFAULT_BLOCK_SIZE, Block, iter_blocks, segment_frame

_ENVELOPE = ("ISA", "GS", "ST", "SE", "GE", "IEA")
_OUTER_ENVELOPE = ("ISA", "GS", "GE", "IEA")
# A frame is cut before one of these: what follows never needs rows after the cut.
_CUT_BEFORE = ("CLM", "HL", "ST", "GE", "IEA", "ISA")
# The columns of a segment frame as the reader keeps it (see tokenizer.segment_frame
# and loops.segment_codes; the segment id is e[0]).
_SEGMENT_COLUMNS = ("ord", "e", "sc", "qc")
_ID = pl.col("e").list.first().alias("id")


def _codes(ids: tuple[str, ...]) -> list[int]:
    return [vocabulary().seg_code[i] for i in ids]


_ISSUE_SCHEMA = {"ord": pl.Int64, "claim_id": pl.String, "reason": pl.String}
# Blocks per frame: loops are assigned and values extracted for this many blocks at once.
FRAME_BLOCKS = 3
# Blocks the tokenizer thread may split ahead of the reading thread (more is faster
# when the machine has a core to spare, and costs memory: see benchmarks/x12_read.py).
PREFETCH_BLOCKS = 2
_T = TypeVar("_T")
_END = object()


@dataclass
class _Pending:
    """Extraction results of one frame, possibly still being computed in a worker."""

    first: int  # first ordinal of the frame's new rows
    result: Flat | Future[Flat]
    tracked: bool = False  # its context errors are recorded


class X12Reader:
    """One read of one X12 input; use :meth:`batches`."""

    def __init__(
        self,
        src_name: str,
        chunk_claims: int = 5_000,
        block_size: int = DEFAULT_BLOCK_SIZE,
        parallel: bool = True,
    ):
        self.src = src_name
        self.parallel = parallel
        self.isa_problems: dict[int, tuple[str, ...]] = {}  # ISA ordinal -> layout problems
        self.chunk_claims = max(1, chunk_claims)
        self.block_size = block_size
        self.tracker = EnvelopeTracker()
        self.ordinal = 0
        self.component = ":"
        self.tail: pl.DataFrame | None = None
        self.context: pl.DataFrame | None = None
        self.pending: list[_Pending] = []
        self.backlog: list[int] = []  # closed transactions not yet released
        self.executor: ThreadPoolExecutor | None = None
        self.ctx_errors: dict[int, tuple[int, str]] = {}  # error ordinal -> (txn, reason)
        self.consumed: set[int] = set()  # context-error ordinals that rejected a claim
        self.out_claims: list[pl.DataFrame] = []
        self.out_lines: list[pl.DataFrame] = []
        self.out_rejected: list[pl.DataFrame] = []
        self.out_warnings: list[pl.DataFrame] = []
        self.n_claims = 0
        self.next_key = 0
        self._stretch: list | None = None  # [first, last, reason, bytes] of unreadable input

    # --- driver ---------------------------------------------------------------------
    def batches(self, stream: BinaryIO) -> Iterator[ClaimBatch]:
        """Yield :class:`ClaimBatch` chunks of about ``chunk_claims`` claims.

        Blocks are coalesced into frames of about ``FRAME_BLOCKS`` blocks, across
        interchanges as long as the component separator stays the same (it is the
        only delimiter still needed after splitting): a file of thousands of small
        interchanges costs what one large interchange costs. Splitting small blocks
        keeps the tokenizer's memory low; processing several at once spreads the
        fixed cost of each frame's queries.
        """
        if self.parallel:
            self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="x12-flatten")
        try:
            yield from self._batches(stream)
        finally:
            if self.executor is not None:
                self.executor.shutdown(wait=True, cancel_futures=True)

    def _batches(self, stream: BinaryIO) -> Iterator[ClaimBatch]:
        pending: list[pl.DataFrame] = []
        pending_bytes = 0
        # While this frame's loops are assigned, the next frame's blocks are split.
        for block, frame, first in _prefetch(
            _frames(stream, self.block_size),
            PREFETCH_BLOCKS if self.parallel else 0,
        ):
            self.ordinal = first + frame.height - 1
            if block.separators is None:
                self._flush(pending, final=True)
                pending, pending_bytes = [], 0
                self._end_of_readable(first)
                self._headless(block, frame, first)
                continue
            self._flush_stretch()
            if block.isa is not None:
                self.isa_problems[first] = block.isa.problems
                if pending and block.separators.component != self.component:
                    self._flush(pending, final=True)
                    pending, pending_bytes = [], 0
                self.component = block.separators.component
            pending.append(frame)
            pending_bytes += len(block.data)
            # Blocks end a little before block_size: count the last one as half full.
            if pending_bytes >= self.block_size * FRAME_BLOCKS - self.block_size // 2:
                self._flush(pending, final=False)
                pending, pending_bytes = [], 0
                yield from self._emit(final=False)
        self._flush(pending, final=True)
        self._end_of_readable(self.ordinal + 1)
        self._flush_stretch()
        yield from self._emit(final=True)

    def _flush(self, frames: list[pl.DataFrame], final: bool) -> None:
        if frames:
            frame = pl.concat(frames, rechunk=False) if len(frames) > 1 else frames[0]
            self._process(frame, final=final)
        elif final and self.tail is not None:
            self._process(self.tail.clear(), final=True)

    def _end_of_readable(self, at_ordinal: int) -> None:
        """Readable input ended (EOF or unreadable text): close what is still open."""
        self.context = None
        self.tracker.end_interchange(at_ordinal)
        self._release(self.tracker.drain_closed(), wait=True)
        self._drain_issues()

    # --- frames ---------------------------------------------------------------------
    def _process(self, new_rows: pl.DataFrame, final: bool) -> None:
        rows = (
            pl.concat([self.tail, new_rows], rechunk=False) if self.tail is not None else new_rows
        )
        self.tail = None
        if rows.height == 0:
            return
        cut = rows.height
        if not final:
            cuts = rows["sc"].is_in(_codes(_CUT_BEFORE)).arg_true()
            cut = int(cuts[-1]) if cuts.len() else 0
            self.tail = compact(rows.slice(cut)) if cut < rows.height else None
            if cut == 0:
                return
        proc = rows.slice(0, cut)
        envelope = proc.filter(pl.col("sc").is_in(_codes(_ENVELOPE))).select("ord", _ID, "e")
        for ordinal, seg_id, elements in envelope.iter_rows():
            if seg_id == "ISA":
                self.tracker.start_interchange(
                    ordinal, elements, self.isa_problems.pop(ordinal, ())
                )
            else:
                self.tracker.segment(ordinal, seg_id, elements)
        full = pl.concat([self.context, proc], rechunk=False) if self.context is not None else proc
        outer = full["sc"].is_in(_codes(_OUTER_ENVELOPE))
        if outer.any():
            full = full.filter(~outer)
        full = _with_txn(full)
        new_from = int(proc["ord"][0])
        if full["_txn"].null_count():
            self._outside(full.filter(pl.col("_txn").is_null() & (pl.col("ord") >= new_from)))
            full = full.filter(pl.col("_txn").is_not_null())
        if full.height == 0:
            self.context = None
            self._release(self.tracker.drain_closed(), wait=final)
            return
        txns = self.tracker.transactions
        guide_of = {
            t: (txns[t].guide.name if txns[t].guide else "")
            for t in full["_txn"].unique().to_list()
        }
        names = set(guide_of.values())
        if len(names) > 1:
            full = full.with_columns(
                pl.col("_txn").replace_strict(guide_of, return_dtype=pl.String).alias("_guide")
            )
        assigned_frames: list[Assigned] = []
        for guide in GUIDES:
            if guide.name not in names:
                continue
            part = full if len(names) == 1 else full.filter(pl.col("_guide") == guide.name)
            # One chunk: the many column operations of assign are much slower on several
            # (and columns chunked differently from each other trip up some Polars kernels).
            assigned = assign_events(part.select(_SEGMENT_COLUMNS).rechunk(), guide)
            if self.executor is not None:
                # Extraction of this frame overlaps with splitting and loop assignment
                # of the next one; results are consumed in order (see _release). The
                # frame is split here: it balances the two threads' work, and the
                # worker need not hold the whole frame.
                result: Flat | Future[Flat] = self.executor.submit(
                    flatten, segments(assigned, guide), guide, self.component
                )
            else:
                result = flatten(segments(assigned, guide), guide, self.component)
            self.pending.append(_Pending(new_from, result))
            assigned_frames.append(assigned)
        if "" in names:
            rest = full if len(names) == 1 else full.filter(pl.col("_guide") == "")
            self._unguided(rest.filter(pl.col("ord") >= new_from))
        context = None if final else _context_rows(full, assigned_frames, self.tracker)
        self.context = compact(context) if context is not None else None
        self._release(self.tracker.drain_closed(), wait=final)

    # --- outcomes --------------------------------------------------------------------
    def _track_context_errors(self, flat: Flat, new_from: int) -> None:
        self.consumed.update(flat.rejected[c.SEG_ORDINAL].drop_nulls().to_list())
        for _key, ordinal, reason, txn in flat.context_errors.iter_rows():
            if ordinal >= new_from and ordinal not in self.ctx_errors:
                self.ctx_errors[ordinal] = (txn, reason)

    def _resolve(self, wait: bool) -> int | None:
        """Collect finished extraction results in order; return the first ordinal still pending.

        Without ``wait`` only the newest frame may stay unfinished (it is being
        computed while the next frame is split), so older results never wait long.
        """
        for i, entry in enumerate(self.pending):
            if isinstance(entry.result, Future):
                if not wait and i == len(self.pending) - 1 and not entry.result.done():
                    return entry.first
                entry.result = entry.result.result()
            if not entry.tracked:
                # Results may be held a while (until their transaction ends): copy their
                # strings out of the blocks' text. Done here, in the reading thread,
                # which has more time to spare than the worker.
                flat = entry.result
                flat.claims = compact(flat.claims, skip=LITERAL_COLUMNS)
                flat.lines = compact(flat.lines, skip=LITERAL_COLUMNS)
                self._track_context_errors(flat, entry.first)
                entry.tracked = True
        return None

    def _release(self, closed: list[int], wait: bool = False) -> None:
        """Hand over the claims of closed transactions whose frames are all extracted."""
        self.backlog.extend(closed)
        boundary = self._resolve(wait)
        txns = self.tracker.transactions
        ready = [t for t in self.backlog if boundary is None or (txns[t].closed_at or 0) < boundary]
        if not ready:
            self._drain_issues()
            return
        ready_set = set(ready)
        self.backlog = [t for t in self.backlog if t not in ready_set]
        done = pl.Series(ready, dtype=pl.Int64).implode()
        keep: list[_Pending] = []
        for entry in self.pending:
            flat = entry.result
            if isinstance(flat, Future):
                keep.append(entry)
                continue
            claims, later_claims = _by_txn(flat.claims, done)
            lines, later_lines = _by_txn(flat.lines, done)
            rejected, later_rejected = _by_txn(flat.rejected, done)
            if claims.height or rejected.height:
                self._accept(claims, lines, rejected)
            rest = Flat(later_claims, later_lines, later_rejected, flat.context_errors, flat.guide)
            if rest.claims.height or rest.rejected.height:
                keep.append(_Pending(entry.first, rest, tracked=True))
        self.pending = keep
        for ordinal, (txn, reason) in list(self.ctx_errors.items()):
            if txn in ready_set:
                if ordinal not in self.consumed:
                    self._reject(ordinal, None, reason)
                del self.ctx_errors[ordinal]
        self._drain_issues()

    def _accept(self, claims: pl.DataFrame, lines: pl.DataFrame, rejected: pl.DataFrame) -> None:
        if rejected.height:
            self.out_rejected.append(
                rejected.select(pl.col(c.SEG_ORDINAL).alias("ord"), c.CLAIM_ID, "reason")
            )
        if claims.height == 0:
            return
        txns = self.tracker.transactions
        reasons = {
            t: (txns[t].reject, txns[t].reject_ordinal) for t in claims["_txn"].unique().to_list()
        }
        bad_txns = [t for t, (r, _) in reasons.items() if r]
        if bad_txns:
            bad = claims.filter(pl.col("_txn").is_in(bad_txns))
            self.out_rejected.append(
                bad.select(
                    pl.col("_txn")
                    .replace_strict({t: reasons[t][1] for t in bad_txns}, return_dtype=pl.Int64)
                    .alias("ord"),
                    pl.col(c.CLAIM_ID),
                    pl.col("_txn")
                    .replace_strict({t: reasons[t][0] for t in bad_txns}, return_dtype=pl.String)
                    .alias("reason"),
                )
            )
            claims = claims.filter(~pl.col("_txn").is_in(bad_txns))
            lines = lines.filter(~pl.col("_txn").is_in(bad_txns))
        if claims.height == 0:
            return
        versions = {t: txns[t].version for t in claims["_txn"].unique().to_list()}
        claims = claims.with_columns(
            pl.col("_txn")
            .replace_strict(versions, return_dtype=pl.String)
            .alias(c.IMPLEMENTATION_GUIDE)
        )
        self.out_claims.append(claims)
        self.out_lines.append(lines)
        self.n_claims += claims.height

    def _reject(self, ordinal: int | None, claim_id: str | None, reason: str) -> None:
        self.out_rejected.append(
            pl.DataFrame(
                {"ord": [ordinal], "claim_id": [claim_id], "reason": [reason]}, schema=_ISSUE_SCHEMA
            )
        )

    def _drain_issues(self) -> None:
        for issue in self.tracker.issues:
            target = self.out_rejected if issue.severity == "rejected" else self.out_warnings
            target.append(
                pl.DataFrame(
                    {"ord": [issue.ordinal], "claim_id": [None], "reason": [issue.reason]},
                    schema=_ISSUE_SCHEMA,
                )
            )
        self.tracker.issues.clear()

    def _outside(self, rows: pl.DataFrame) -> None:
        """Segments between SE and the next ST (or before the first): not in any transaction."""
        for ordinal, seg_id, elements in rows.select("ord", _ID, "e").iter_rows():
            claim_id = elements[1] if seg_id == "CLM" and len(elements) > 1 else None
            self._reject(
                ordinal, claim_id, f"segment {ordinal} {seg_id}: outside any ST…SE transaction set"
            )

    def _unguided(self, rows: pl.DataFrame) -> None:
        """CLM segments of transactions no guide reads (unsupported 837 version, 835 ...)."""
        clms = rows.filter(pl.col("sc") == _codes(("CLM",))[0])
        txns = self.tracker.transactions
        for ordinal, elements, txn in clms.select("ord", "e", "_txn").iter_rows():
            t = txns[txn]
            reason = t.reject or f"CLM in a transaction set {t.set_id} (not an 837 claim)"
            self._reject(
                ordinal,
                elements[1] if len(elements) > 1 else None,
                f"segment {ordinal} CLM: {reason}",
            )

    def _headless(self, block: Block, frame: pl.DataFrame, first: int) -> None:
        """Input outside any readable interchange: report it, and every CLM in it."""
        if block.isa is not None:
            why = "interchange header ISA cannot be read: " + "; ".join(block.isa.problems)
        else:
            why = "no ISA interchange header before this input"
        last = first + frame.height - 1
        run = self._stretch
        if block.isa is None and run is not None and run[1] == first - 1:
            run[1] = last  # the same unreadable stretch continues in the next block
        else:
            self._flush_stretch()
            self._stretch = [first, last, why, len(block.data)]
        clm = pl.col("sc") == _codes(("CLM",))[0]
        for ordinal, elements in frame.filter(clm).select("ord", "e").iter_rows():
            claim_id = elements[1] if len(elements) > 1 else None
            self._reject(ordinal, claim_id, f"segment {ordinal} CLM: {why}")

    def _flush_stretch(self) -> None:
        if self._stretch is None:
            return
        first, last, why, size = self._stretch
        span = f"segments {first}-{last}" if last >= first else f"{size} bytes"
        self._reject(first if last >= first else None, None, f"{why}; {span} cannot be read")
        self._stretch = None

    # --- output ----------------------------------------------------------------------
    def _emit(self, final: bool) -> Iterator[ClaimBatch]:
        while self.n_claims >= self.chunk_claims or (
            final and (self.n_claims or self._has_issues())
        ):
            claims = pl.concat(self.out_claims, how="diagonal_relaxed") if self.out_claims else None
            lines = pl.concat(self.out_lines, how="diagonal_relaxed") if self.out_lines else None
            take = min(self.chunk_claims, self.n_claims)
            if claims is not None and lines is not None:
                if not claims["_clm"].is_sorted():
                    claims = claims.sort("_clm")
                now, later = claims.slice(0, take), claims.slice(take)
                # Claims are in file order: the batch's lines are those of the claims up to its last.
                in_now = pl.col("_clm") <= now["_clm"][-1]
                now_lines = lines.filter(in_now)
                later_lines = lines.filter(~in_now)
                self.out_claims = [later] if later.height else []
                self.out_lines = [later_lines] if later_lines.height else []
                self.n_claims -= take
            else:
                now, now_lines = None, None
            yield self._batch(now, now_lines)
            if final and not self.n_claims:
                break

    def _has_issues(self) -> bool:
        return bool(self.out_rejected or self.out_warnings)

    def _batch(self, claims: pl.DataFrame | None, lines: pl.DataFrame | None) -> ClaimBatch:
        rejected = self._issues(self.out_rejected)
        warnings = self._issues(self.out_warnings)
        self.out_rejected, self.out_warnings = [], []
        if claims is None or claims.height == 0:
            return ClaimBatch(rejected=rejected, warnings=warnings)
        # Claims come sorted by CLM ordinal (see _emit): their keys count up from next_key.
        keys = pl.int_range(
            self.next_key, self.next_key + claims.height, dtype=pl.Int64, eager=True
        )
        self.next_key += claims.height
        claims = claims.with_columns(keys.alias(c.CLAIM_KEY), pl.lit(self.src).alias(c.SRC))
        assert lines is not None
        if not _in_file_order(lines):
            lines = lines.sort("_clm", "_lx")
        lines = lines.with_columns(
            pl.col("_clm")
            .replace_strict(claims["_clm"], keys, return_dtype=pl.Int64)
            .alias(c.CLAIM_KEY),
            pl.lit(self.src).alias(c.SRC),
        )
        return ClaimBatch(
            claims=conform(claims, CLAIMS_SCHEMA),
            lines=conform(lines, LINES_SCHEMA),
            rejected=rejected,
            warnings=warnings,
        )

    def _issues(self, frames: list[pl.DataFrame]) -> pl.DataFrame:
        if not frames:
            return empty_rejected()
        df = pl.concat([f.cast(_ISSUE_SCHEMA) for f in frames]).sort("ord", nulls_last=False)  # type: ignore[arg-type]
        return conform(
            df.select(
                pl.lit(self.src).alias(c.SRC),
                pl.col("ord").alias(c.SEG_ORDINAL),
                c.CLAIM_ID,
                "reason",
            ),
            REJECTED_SCHEMA,
        )


def _by_txn(df: pl.DataFrame, done: pl.Series) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows of the transactions in ``done``, rows of the others); rows without one in neither."""
    in_done = df["_txn"].is_in(done)
    if not in_done.has_nulls():
        if in_done.all():
            return df, df.clear()
        if not in_done.any():
            return df.clear(), df
    return df.filter(in_done), df.filter(~in_done)


def _in_file_order(lines: pl.DataFrame) -> bool:
    """True when lines are sorted by (claim, line) ordinal already (the usual case)."""
    step = pl.col("_clm").diff()
    return bool(
        lines.select(((step > 0) | ((step == 0) & (pl.col("_lx").diff() > 0))).all()).item()
    )


def _frames(stream: BinaryIO, block_size: int) -> Iterator[tuple[Block, pl.DataFrame, int]]:
    """Blocks of the input with their segment frames and first ordinal."""
    ordinal = 0
    for block in iter_blocks(stream, block_size):
        # Coding the segments here puts the string lookups in the tokenizer's thread;
        # the id column is dropped (it is e[0]): frames are held a while.
        frame = segment_codes(segment_frame(block, ordinal + 1)).select(_SEGMENT_COLUMNS)
        yield block, frame, ordinal + 1
        ordinal += frame.height


def _prefetch(items: Iterator[_T], depth: int = 1) -> Iterator[_T]:
    """Produce ``items`` in a background thread, at most ``depth`` ahead (0: no thread).

    Splitting the next block (Polars, GIL released) overlaps with loop assignment
    and extraction of the current one: on two cores this is the cheapest
    parallelism, and memory stays bounded by ``depth`` blocks.
    """
    if depth <= 0:
        yield from items
        return
    q: queue.Queue[tuple[str, object]] = queue.Queue()
    slots = threading.Semaphore(depth)  # items produced but not yet taken
    stop = threading.Event()

    def produce() -> None:
        try:
            while True:
                slots.acquire()  # build the next item only when the consumer took one
                if stop.is_set():
                    return
                item = next(items, _END)
                if item is _END:
                    q.put(("done", None))
                    return
                q.put(("item", item))
        except BaseException as exc:  # handed to the consumer, re-raised there
            q.put(("error", exc))

    worker = threading.Thread(target=produce, name="x12-tokenizer", daemon=True)
    worker.start()
    try:
        while True:
            kind, value = q.get()
            if kind == "done":
                return
            if kind == "error":
                raise value  # type: ignore[misc]
            slots.release()
            yield value  # type: ignore[misc]
    finally:
        stop.set()
        slots.release()
        worker.join()


def _with_txn(full: pl.DataFrame) -> pl.DataFrame:
    """Ordinal of the ST of the transaction each segment sits in (null between SE and ST)."""
    st, se = _codes(("ST", "SE"))
    start = pl.when(pl.col("sc") == st).then(pl.col("ord")).forward_fill()
    ended = pl.when(pl.col("sc") == se).then(pl.col("ord")).shift(1).forward_fill().fill_null(0)
    return full.with_columns(pl.when(start > ended).then(start).alias("_txn"))


def _context_rows(
    full: pl.DataFrame, assigned: list[Assigned], tracker: EnvelopeTracker
) -> pl.DataFrame | None:
    """Rows to carry into the next frame: the open transaction's header and HL levels.

    These are the segments of the open transaction that sit outside any claim and in
    the scopes still open at the cut (header, billing provider, subscriber,
    patient): the next frame needs them to resolve loops and to reject claims whose
    context is broken. The scope keys only change at events, so which rows to keep
    is decided per event.
    """
    open_txn = tracker.open_transaction()
    if open_txn is None:
        return None
    txn = open_txn.st_ordinal
    frame = next(
        (
            a
            for a in assigned
            if a.frame.height and a.keys(a.frame.tail(1), ("k_txn",))[0][0] == txn
        ),
        None,
    )
    if frame is None:
        st = full.filter(pl.col("ord") == txn)
        return st.select(_SEGMENT_COLUMNS) if st.height else None
    names = ("k_txn", "k_billing", "k_subscriber", "k_patient", "k_claim")
    last = dict(zip(names, (k[0] for k in frame.keys(frame.frame.tail(1), names)), strict=True))

    def open_scope(key: str) -> pl.Expr:
        return (pl.col(key) == last[key]) if last[key] is not None else pl.lit(False)

    no_patient = pl.col("k_patient").is_null()
    no_subscriber = no_patient & pl.col("k_subscriber").is_null()
    keep = (
        (pl.col("k_txn") == txn)
        & pl.col("k_claim").is_null()
        & (
            open_scope("k_patient")
            | (no_patient & open_scope("k_subscriber"))
            | (no_subscriber & open_scope("k_billing"))
            | (no_subscriber & pl.col("k_billing").is_null())
        )
    )
    kept = frame.events.select(keep.fill_null(False).alias("keep"))["keep"].arg_true()
    rows = frame.frame.select(*_SEGMENT_COLUMNS, "_ev")
    last_event = rows["_ev"]
    if last_event.has_nulls():
        return rows.filter(pl.col("_ev").is_in(kept.implode())).select(_SEGMENT_COLUMNS)
    # Rows are in file order, so each kept event's rows are one slice of the frame.
    starts = last_event.search_sorted(kept, side="left")
    ends = last_event.search_sorted(kept, side="right")
    slices = [rows.slice(a, b - a) for a, b in zip(starts, ends, strict=True) if b > a]
    if not slices:
        return rows.clear().select(_SEGMENT_COLUMNS)
    return pl.concat(slices).select(_SEGMENT_COLUMNS)


def read_batches(
    stream: BinaryIO,
    src_name: str,
    chunk_claims: int = 5_000,
    block_size: int = DEFAULT_BLOCK_SIZE,
    parallel: bool = True,
) -> Iterator[ClaimBatch]:
    """Stream ``stream`` as :class:`ClaimBatch` chunks of at most ``chunk_claims`` claims."""
    yield from X12Reader(src_name, chunk_claims, block_size, parallel).batches(stream)


__all__ = ["X12Reader", "read_batches", "Guide"]
