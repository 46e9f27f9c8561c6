"""X12 837 reader: our own streaming tokenizer, envelope checks and loop tables.

``read_x12(path_or_stream, src_name)`` reads a whole input into one
:class:`~claimscrub.readers.base.ClaimBatch`; ``iter_x12`` yields batches of at
most ``chunk_claims`` claims so that memory stays bounded on large files.
Supported guides: 837P 005010X222 (and its errata A1, A2) and 837I 005010X223 (and
its addenda and errata A1, A2, A3).

What comes out:

* ``claims`` / ``lines``: the canonical frames (``model/schema.py``), each row
  located by ``src``, ``seg_ordinal`` (the CLM, or the SV1/SV2 of a line; 1-based
  segment count in the file), ``x12_loop`` and ``x12_seg``.
* ``rejected``: one row per CLM that cannot be read (claim id, the ordinal of the
  segment where the problem is, the reason: a misplaced or unknown segment, an
  invalid element, a transaction without SE, a malformed ISA ...), and one row per
  unreadable stretch of input that holds no claim (claim id null).
* ``warnings``: readable claims in a suspicious envelope (SE01/GE01/IEA01 counts,
  control numbers that do not match), and transaction sets that are not claims
  (835, 999), which are skipped.

Every CLM segment of the input is exactly once a row of ``claims`` or ``rejected``.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, BinaryIO

import polars as pl

from claimscrub.readers.base import ClaimBatch, without_repeated_line_numbers
from claimscrub.readers.x12.reader import read_batches
from claimscrub.readers.x12.tokenizer import DEFAULT_BLOCK_SIZE

__all__ = ["iter_x12", "read_x12"]

Source = str | os.PathLike[str] | bytes | IO[bytes] | IO[str]


@contextmanager
def _binary(source: Source) -> Iterator[BinaryIO]:
    if isinstance(source, bytes):
        yield io.BytesIO(source)
    elif isinstance(source, str | os.PathLike):
        with open(source, "rb") as fh:
            yield fh
    elif isinstance(source, io.TextIOBase):
        buffer = getattr(source, "buffer", None)
        yield buffer if buffer is not None else io.BytesIO(source.read().encode("utf-8"))
    else:
        yield source  # type: ignore[misc]


def iter_x12(
    source: Source,
    src_name: str,
    chunk_claims: int = 5_000,
    block_size: int = DEFAULT_BLOCK_SIZE,
    parallel: bool = True,
) -> Iterator[ClaimBatch]:
    """Yield batches of at most ``chunk_claims`` claims (plus their lines and problems).

    ``claim_key`` is unique across the batches of one read. Rejected inputs and
    warnings are reported in the batch that is emitted after they are found.
    ``block_size`` is the number of bytes read and split into segments at a time;
    loops are assigned and values extracted a few blocks at a time (see
    ``reader.FRAME_BLOCKS``). With ``parallel`` the next blocks are split in one
    background thread and the current frame's extraction runs in another,
    overlapping with loop assignment (results and their order are the same either
    way).
    """
    with _binary(source) as stream:
        for batch in read_batches(stream, src_name, chunk_claims, block_size, parallel):
            yield without_repeated_line_numbers(batch)  # a claim is never split over batches


def read_x12(source: Source, src_name: str) -> ClaimBatch:
    """Read a whole X12 837 input (path, bytes or binary stream) into one batch."""
    batches = list(iter_x12(source, src_name, chunk_claims=1 << 62))
    if not batches:
        return ClaimBatch()
    if len(batches) == 1:
        return batches[0]
    return _concat(batches)


def _concat(batches: list[ClaimBatch]) -> ClaimBatch:
    return ClaimBatch(
        claims=pl.concat([b.claims for b in batches]),
        lines=pl.concat([b.lines for b in batches]),
        rejected=pl.concat([b.rejected for b in batches]),
        warnings=pl.concat([b.warnings for b in batches]),
    )
