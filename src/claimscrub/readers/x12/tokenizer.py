"""Streaming X12 tokenizer: separators from each ISA, segments with 1-based ordinals.

An X12 interchange declares its own delimiters in the fixed-width ISA header: the
element separator is the byte after ``ISA``, ISA11 is the repetition separator
(00501), ISA16 the component separator and the byte after ISA16 ends every segment.
A file may hold several interchanges whose delimiters differ, so the tokenizer
re-reads them at every ISA.

Input is read in blocks (never the whole file). :func:`iter_blocks` yields
:class:`Block` objects: runs of complete segments that share one set of delimiters,
cut only at segment terminators. :func:`segment_frame` splits a block into a Polars
frame (one row per segment) and :func:`iter_segments` offers the same stream as
Python objects for callers that want one segment at a time.

Whitespace (CR, LF, spaces, tabs) before a segment and blanks, CR or LF after it are
not part of the segment: files are often written one segment per line, and some
exports pad each segment with blanks before its terminator. Empty segments are
dropped and not counted, so ordinals match what an editor shows after splitting on
the terminator. File padding is layout too: a UTF-8 byte-order mark (Windows editors
write one before the ISA), NUL bytes and the DOS end-of-file byte (0x1A) that older
systems append. None of them can be X12 data (control characters and U+FEFF are
outside the X12 character sets), so a segment made only of them is empty.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import polars as pl

# Element widths of the fixed-length ISA header, ISA01..ISA16 (X12 5010 control standards).
ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)
_LEADING_WS = " \t\r\n"
_TRAILING_WS = " \r\n"  # blanks before the terminator: exports that pad segments
_BOM = b"\xef\xbb\xbf"
_PADDING = "\x00\x1a\ufeff"  # NUL, DOS end-of-file, byte-order mark (decoded)
DEFAULT_BLOCK_SIZE = 3 << 19  # 1.5 MB: splitting a block briefly takes ~10x its size


@dataclass(frozen=True)
class Separators:
    """The delimiters of one interchange."""

    element: str
    component: str
    repetition: str | None
    segment: str


@dataclass(frozen=True)
class IsaHeader:
    """What the ISA at the start of an interchange says, and what is wrong with it."""

    separators: Separators | None
    problems: tuple[str, ...]
    length: int  # bytes of the ISA segment including its terminator (0 when unreadable)


@dataclass(frozen=True)
class Block:
    """A run of complete segments that share one set of separators.

    ``separators`` is ``None`` for input that is not inside any readable ISA
    interchange (text before the first ISA, or after an ISA whose delimiters cannot
    be read); ``guessed`` then holds delimiters inferred only so that the stretch
    can be reported segment by segment. ``isa`` is set on the block that starts an
    interchange.
    """

    data: bytes
    separators: Separators | None
    isa: IsaHeader | None = None
    guessed: Separators | None = None

    @property
    def effective(self) -> Separators | None:
        """The separators to split this block with (declared, else guessed)."""
        return self.separators or self.guessed


@dataclass(frozen=True)
class Segment:
    """One segment: its 1-based ordinal in the file, its id and its elements."""

    ordinal: int
    id: str
    elements: tuple[str, ...]  # elements[0] is the segment id; elements[i] is element i
    separators: Separators

    def element(self, index: int) -> str:
        """Element ``index`` (1-based) or ``""`` when absent."""
        return self.elements[index] if index < len(self.elements) else ""


def _is_delimiter(ch: int) -> bool:
    # Delimiters must not be letters, digits or space: those occur inside data.
    return not (chr(ch).isalnum() or ch == 0x20)


def read_isa(head: bytes) -> IsaHeader:
    """Read the delimiters from an ISA header (``head`` starts with ``ISA``).

    The fixed 106-byte layout is checked; when it is off (an element of the wrong
    width) the delimiters are still recovered by counting element separators, and
    the problem is reported so that the interchange can be rejected.
    """
    problems: list[str] = []
    if len(head) < 4 or not _is_delimiter(head[3]):
        return IsaHeader(None, ("ISA has no element separator after 'ISA'",), 0)
    sep = head[3]
    # Positions of the first 16 element separators.
    positions: list[int] = []
    start = 3
    while len(positions) < 16:
        at = head.find(bytes([sep]), start)
        if at < 0 or at > 400:
            return IsaHeader(None, ("ISA is truncated: fewer than 16 elements",), 0)
        positions.append(at)
        start = at + 1
    component_at = positions[15] + 1
    if component_at + 1 >= len(head):
        return IsaHeader(None, ("ISA is truncated before ISA16",), 0)
    component = head[component_at]
    terminator = head[component_at + 1]
    length = component_at + 2
    widths = [positions[i + 1] - positions[i] - 1 for i in range(15)] + [1]
    wrong = [
        f"ISA{i + 1:02d} is {w} characters (expected {e})"
        for i, (w, e) in enumerate(zip(widths, ISA_WIDTHS, strict=True))
        if w != e
    ]
    if wrong:
        problems.append("ISA is not the fixed 106-character layout: " + "; ".join(wrong))
    crlf = terminator == 0x0D and head[component_at + 2 : component_at + 3] == b"\n"
    if terminator == 0x0A or crlf:
        # A line break right after ISA16 is the terminator itself (newline-terminated
        # files); in a CRLF file the CR is whitespace before it. A bare CR is kept: some
        # translators end every segment with CR alone.
        terminator = 0x0A
    if not _is_delimiter(component) or not _is_delimiter(terminator):
        return IsaHeader(None, (*problems, "ISA16 or the segment terminator is not a delimiter"), 0)
    if len({sep, component, terminator}) < 3:
        return IsaHeader(
            None, (*problems, "ISA element, component and segment delimiters are not distinct"), 0
        )
    rep_char = head[positions[10] + 1] if widths[10] == 1 else None
    repetition = None
    if (
        rep_char is not None
        and _is_delimiter(rep_char)
        and rep_char not in (sep, component, terminator)
    ):
        repetition = chr(rep_char)
    return IsaHeader(
        Separators(chr(sep), chr(component), repetition, chr(terminator)), tuple(problems), length
    )


def guess_separators(data: bytes) -> Separators | None:
    """Infer delimiters of headerless X12 text, only to report its segments.

    The element separator is the first byte after a leading 2-3 character segment
    id; the terminator is the delimiter that ends the first line (or the newline).
    """
    text = data.lstrip()
    m = re.match(rb"[A-Z0-9]{2,3}([^A-Za-z0-9 \r\n])", text)
    if not m:
        return None
    element = m.group(1)
    line_end = text.find(b"\n")
    terminator = b"\n"
    if line_end > 0:
        last = text[:line_end].rstrip(b"\r")[-1:]
        if last and _is_delimiter(last[0]) and last != element:
            terminator = last
    else:
        m2 = re.search(rb"[~'!\x1c\x85]", text)
        if m2 and m2.group(0) != element:
            terminator = m2.group(0)
    component = b":" if element != b":" and terminator != b":" else b">"
    return Separators(
        element.decode("latin-1"), component.decode(), None, terminator.decode("latin-1")
    )


def _isa_at_segment_start(buf: bytes, at: int, terminators: bytes) -> bool:
    """True when the ``ISA`` at ``at`` starts a segment (only whitespace back to a terminator)."""
    i = at - 1
    while i >= 0:
        if buf[i] in terminators:  # checked first: the terminator may itself be a line feed
            return True
        if i >= 2 and buf[i - 2 : i + 1] == _BOM:  # files joined with `cat` keep their BOMs
            i -= 3
            continue
        if buf[i] not in b" \t\r\n":
            return False
        i -= 1
    return True


def _next_isa(buf: bytes, start: int, terminators: bytes, end: int | None = None) -> int:
    """Offset of the next ``ISA`` that begins a segment in ``[start, end)``, or -1.

    ``bytes.find`` does the scanning (fast); the few false hits inside data
    ("LISA") are ruled out by looking back for a terminator.
    """
    stop = len(buf) if end is None else min(end + 3, len(buf))
    at = buf.find(b"ISA", start, stop)
    while at >= 0:
        after = buf[at + 3 : at + 4]
        if after and _is_delimiter(after[0]) and _isa_at_segment_start(buf, at, terminators):
            return at
        at = buf.find(b"ISA", at + 1, stop)
    return -1


class _Buffer:
    """Bytes read ahead from the stream, refilled in ``block_size`` reads."""

    def __init__(self, stream: BinaryIO, block_size: int) -> None:
        self.stream = stream
        self.block_size = block_size
        self.data = b""
        self.eof = False

    def fill(self, n: int) -> None:
        parts = [self.data]
        have = len(self.data)
        while not self.eof and have < n:
            chunk = self.stream.read(max(self.block_size, n - have))
            if not chunk:
                self.eof = True
            else:
                parts.append(chunk)
                have += len(chunk)
        if len(parts) > 1:
            self.data = b"".join(parts)

    def take(self, n: int) -> bytes:
        out, self.data = self.data[:n], self.data[n:]
        return out


def iter_blocks(stream: BinaryIO, block_size: int = DEFAULT_BLOCK_SIZE) -> Iterator[Block]:
    """Yield runs of complete segments, reading ``stream`` ``block_size`` bytes at a time.

    Each block belongs to one interchange (one set of separators); a block that
    begins an interchange carries its :class:`IsaHeader`.
    """
    buf = _Buffer(stream, block_size)
    seps: Separators | None = None
    guess: Separators | None = None  # separators guessed for a run of headerless input
    any_terminator = b"~\x1c\x85'!\n"  # headerless text: a line start is a segment start
    while True:
        buf.fill(block_size)
        if not buf.data:
            return
        if seps is not None and _starts_isa(buf.data):
            seps = None  # the previous interchange ended exactly at a block boundary
        if seps is None:
            offset = _layout_length(buf.data[:4096])
            if offset == len(buf.data):
                if buf.eof:
                    return
                buf.take(offset)
                continue
            if buf.data.startswith(b"ISA", offset):
                buf.fill(offset + 512)
                header = read_isa(buf.data[offset:])
                if header.separators is not None:
                    seps, guess = header.separators, None
                    yield from _interchange_block(buf, seps, header, offset + header.length)
                    continue
                # Unreadable delimiters: report the stretch up to the next ISA.
                data = _take_headless(buf, offset + 3, any_terminator, None)
                guess = guess_separators(data)
                yield Block(data, None, header, guess)
                continue
            data = _take_headless(buf, 0, any_terminator, guess)
            guess = guess or guess_separators(data)
            if _layout_length(data) < len(data):
                yield Block(data, None, None, guess)
            continue
        yield from _interchange_block(buf, seps, None, 0)


def _layout_length(head: bytes) -> int:
    """Bytes of whitespace and padding (NUL, 0x1A, UTF-8 byte-order marks) starting ``head``."""
    offset = 0
    while True:
        rest = head[offset:].lstrip(b" \t\r\n\x0b\x0c\x00\x1a")
        offset = len(head) - len(rest)
        if not rest.startswith(_BOM):
            return offset
        offset += len(_BOM)


def _starts_isa(data: bytes) -> bool:
    head = data[:4096]
    return head.startswith(b"ISA", _layout_length(head))


def _padding(data: bytes, seps: Separators) -> str:
    """The padding characters to strip from segments of ``data`` ("" when it holds none)."""
    if not (b"\x00" in data or b"\x1a" in data or _BOM in data):
        return ""
    used = {seps.element, seps.component, seps.segment}
    return "".join(ch for ch in _PADDING if ch not in used)  # a declared delimiter stays one


def _take_headless(buf: _Buffer, start: int, terminators: bytes, guess: Separators | None) -> bytes:
    """Take input that is outside any readable interchange, up to the next ISA.

    Without an ISA in sight the stretch is cut after the last (guessed) terminator,
    so that no segment is split between two blocks.
    """
    floor = max(4 * buf.block_size, 1 << 16)
    nxt = _next_isa(buf.data, start, terminators)
    while nxt < 0 and not buf.eof and len(buf.data) < floor:
        buf.fill(len(buf.data) + buf.block_size)
        nxt = _next_isa(buf.data, start, terminators)
    if nxt >= 0 or buf.eof:
        return buf.take(nxt if nxt >= 0 else len(buf.data))
    guess = guess or guess_separators(buf.data)
    term = guess.segment.encode("latin-1") if guess else b"\n"
    last = buf.data.rfind(term)
    return buf.take(last + len(term) if last >= 0 else len(buf.data))


def _interchange_block(
    buf: _Buffer, seps: Separators, header: IsaHeader | None, start: int
) -> Iterator[Block]:
    """Yield one block of the current interchange: up to the next ISA or ~block_size.

    The block ends after a segment terminator (the last one before ``block_size``,
    or the first one after it when a segment is longer than a block).
    """
    term = seps.segment.encode("latin-1")
    while True:
        limit = max(buf.block_size, start)
        nxt = _next_isa(buf.data, max(start, 1), term, limit + 1)
        if 0 <= nxt <= limit:
            yield Block(buf.take(nxt), seps, header)
            return
        if buf.eof and len(buf.data) <= limit:
            yield Block(buf.take(len(buf.data)), seps, header)
            return
        last = buf.data.rfind(term, start, limit)
        end = last + len(term) if last >= 0 else -1
        if end < 0:
            after = buf.data.find(term, limit)
            end = after + len(term) if after >= 0 else -1
        if end >= 0:
            yield Block(buf.take(nxt if 0 <= nxt < end else end), seps, header)
            return
        if buf.eof:
            yield Block(buf.take(len(buf.data)), seps, header)
            return
        buf.fill(len(buf.data) + buf.block_size)


def decode(data: bytes) -> str:
    """Decode X12 bytes: UTF-8 when valid, else Latin-1 (every byte maps to a character)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def segment_frame(block: Block, first_ordinal: int) -> pl.DataFrame:
    """Split a block into one row per segment: ``ord`` (1-based), ``id``, ``e`` (elements).

    ``e`` holds the segment id at index 0 and element *i* at index *i*, so
    ``e[1]`` is the first element. Composite elements stay joined; callers split
    them with the interchange's component separator.
    """
    seps = block.effective
    if seps is None:
        return pl.DataFrame(schema={"ord": pl.Int64, "id": pl.String, "e": pl.List(pl.String)})
    data = _without_line_breaks(block.data, seps)
    raw = pl.Series("s", [decode(data)], dtype=pl.String).str.split(seps.segment).explode()
    pad = _padding(data, seps)
    if (
        pad
        or seps.segment in "\r\n"
        or (raw.str.starts_with(" ") | raw.str.starts_with("\t") | raw.str.ends_with(" ")).any()
    ):
        raw = raw.str.strip_chars_start(_LEADING_WS + pad).str.strip_chars_end(_TRAILING_WS + pad)
    empty = raw.str.len_bytes() == 0
    if empty.any():
        raw = raw.filter(~empty)
    elements = raw.str.split(seps.element)
    n = raw.len()
    return pl.DataFrame(
        {
            "ord": pl.int_range(first_ordinal, first_ordinal + n, dtype=pl.Int64, eager=True),
            "id": elements.list.first(),
            "e": elements,
        }
    )


def _without_line_breaks(data: bytes, seps: Separators) -> bytes:
    """Drop line breaks that only lay the file out (one segment per line).

    X12 data elements cannot hold CR or LF, so when the terminator is not a line
    break itself every CR/LF is layout. Removing them in bytes (C speed) spares a
    strip of every segment.
    """
    if seps.segment not in "\r\n" and (b"\n" in data or b"\r" in data):
        data = data.replace(b"\r", b"").replace(b"\n", b"")
    return data


def iter_segments(stream: BinaryIO, block_size: int = DEFAULT_BLOCK_SIZE) -> Iterator[Segment]:
    """Yield every segment of ``stream`` with its 1-based ordinal, one at a time.

    Segments outside a readable interchange are yielded with guessed separators
    (they exist, and their ordinals count), or skipped when nothing can be guessed.
    """
    ordinal = 0
    for block in iter_blocks(stream, block_size):
        seps = block.effective
        if seps is None:
            continue
        data = _without_line_breaks(block.data, seps)
        pad = _padding(data, seps)
        for raw in decode(data).split(seps.segment):
            raw = raw.lstrip(_LEADING_WS + pad).rstrip(_TRAILING_WS + pad)
            if not raw:
                continue
            ordinal += 1
            parts = tuple(raw.split(seps.element))
            yield Segment(ordinal, parts[0], parts, seps)
