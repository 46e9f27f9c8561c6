"""Tokenizer: delimiters from each ISA, streaming blocks, ordinals, line breaks."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from conftest import ALL_FILES

from claimscrub.readers.x12 import read_x12
from claimscrub.readers.x12.tokenizer import iter_blocks, iter_segments, read_isa, segment_frame

DIFFERENT = "imsweb-x12-parser__x12_valid_different_separators.txt"
PLAIN = "imsweb-x12-parser__x12_valid.txt"


def _segments(data: bytes, block_size: int = 1 << 20) -> list[tuple[int, tuple[str, ...]]]:
    return [(s.ordinal, s.elements) for s in iter_segments(io.BytesIO(data), block_size)]


def test_separators_come_from_the_isa(fixtures_dir: Path) -> None:
    head = (fixtures_dir / DIFFERENT).read_bytes()
    seps = read_isa(head).separators
    assert seps is not None
    assert (seps.element, seps.component, seps.segment) == ("~", "^", "_")
    assert seps.repetition is None  # ISA11 is "U" (4010 style), not a separator
    plain = read_isa((fixtures_dir / "lfhx12__demo.837").read_bytes()).separators
    assert plain is not None
    assert (plain.element, plain.component, plain.repetition, plain.segment) == ("*", ":", "^", "~")


def test_different_separators_give_the_same_segments(fixtures_dir: Path) -> None:
    different = _segments((fixtures_dir / DIFFERENT).read_bytes())
    plain = _segments((fixtures_dir / PLAIN).read_bytes())
    assert len(different) == len(plain) == 38
    # Same content written with other delimiters (SV101 composite uses "^" vs ":").
    for (o1, e1), (o2, e2) in zip(different, plain, strict=True):
        assert o1 == o2
        assert [x.replace("^", ":") for x in e1] == list(e2)


def test_different_separators_read_the_same_claims(fixtures_dir: Path) -> None:
    a = read_x12(fixtures_dir / DIFFERENT, "a")
    b = read_x12(fixtures_dir / PLAIN, "b")
    assert a.rejected.drop("src").equals(b.rejected.drop("src"))
    assert a.rejected["claim_id"].to_list() == ["A37YH556", "A37YH667"]


def test_malformed_isa_layout_still_yields_its_delimiters(fixtures_dir: Path) -> None:
    header = read_isa((fixtures_dir / "imsweb-x12-parser__x12_bad_first_line.txt").read_bytes())
    assert header.separators is not None and header.separators.segment == "~"
    assert header.problems and "ISA02 is 9 characters (expected 10)" in header.problems[0]


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.name)
def test_block_size_does_not_change_segments(path: Path) -> None:
    data = path.read_bytes()
    reference = _segments(data)
    for block_size in (1, 13, 97, 1000):
        assert _segments(data, block_size) == reference
    # The Polars split gives the same rows as the segment iterator.
    rows, ordinal = [], 0
    for block in iter_blocks(io.BytesIO(data), 333):
        frame = segment_frame(block, ordinal + 1)
        ordinal += frame.height
        rows += [(o, tuple(e)) for o, e in frame.select("ord", "e").iter_rows()]
    assert rows == reference


def test_line_breaks_after_terminators_are_layout(fixtures_dir: Path) -> None:
    data = (fixtures_dir / "lfhx12__demo.drug.example10.3.837").read_bytes()
    reference = _segments(data)
    one_line = data.replace(b"~\n", b"~")
    crlf = data.replace(b"~\n", b"~\r\n")
    assert b"\n" not in one_line and b"\r\n" in crlf
    assert _segments(one_line) == reference
    assert _segments(crlf) == reference
    assert read_x12(crlf, "crlf").lines.drop("src").equals(read_x12(data, "lf").lines.drop("src"))


@pytest.mark.parametrize("terminator", [b"\r", b"\n", b"\r\n"], ids=["cr", "lf", "crlf"])
def test_a_line_break_as_the_segment_terminator(fixtures_dir: Path, terminator: bytes) -> None:
    # Some translators end every segment with a bare CR (no "~", no LF): a CR right
    # after ISA16 is then the terminator itself, not whitespace before an LF.
    data = (fixtures_dir / "lfhx12__demo.drug.example10.3.837").read_bytes()
    reference = read_x12(data, "tilde")
    changed = data.rstrip(b"\n").replace(b"~\n", terminator).rstrip(b"~") + terminator
    assert b"~" not in changed
    batch = read_x12(changed, "broken")
    assert batch.rejected.height == 0 and batch.claims.height == reference.claims.height > 0
    assert batch.lines.drop("src").equals(reference.lines.drop("src"))
    for block_size in (1, 97):
        assert _segments(changed, block_size) == _segments(data)


def test_ordinals_are_one_based_and_continue_across_interchanges(fixtures_dir: Path) -> None:
    first = (
        fixtures_dir / "badx12__X222-drug-administered-in-the-physician-office.edi"
    ).read_bytes()
    second = (fixtures_dir / DIFFERENT).read_bytes()
    segments = list(iter_segments(io.BytesIO(first + b"\n" + second), 64))
    n_first = len(_segments(first))
    assert segments[0].ordinal == 1 and segments[0].id == "ISA"
    assert segments[n_first].id == "ISA" and segments[n_first].ordinal == n_first + 1
    assert segments[n_first].separators.element == "~"
    assert segments[-1].id == "IEA" and segments[-1].ordinal == len(segments)


def test_input_without_isa_is_split_with_guessed_delimiters(fixtures_dir: Path) -> None:
    segments = _segments((fixtures_dir / "imsweb-x12-parser__x12_no_isa_line.txt").read_bytes())
    assert segments[0][1][:2] == ("GS", "HC") and segments[-1][1][0] == "IEA"


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (b"\xef\xbb\xbf", b""),  # UTF-8 byte-order mark written by Windows editors
        (b"", b"\r\n\x1a"),  # DOS end-of-file byte
        (b"", b"\x00" * 64),  # NUL padding of a fixed-size transfer block
        (b"\x00\r\n", b"\n"),
    ],
    ids=["bom", "ctrl-z", "nul-padding", "nul-before-isa"],
)
def test_file_padding_is_not_a_rejected_segment(
    fixtures_dir: Path, before: bytes, after: bytes
) -> None:
    data = (fixtures_dir / "lfhx12__demo.drug.example10.1.837").read_bytes()
    plain = read_x12(data, "f")
    padded = read_x12(before + data + after, "f")
    assert padded.rejected.height == 0 and padded.warnings.height == 0
    assert padded.claims.drop("src").equals(plain.claims.drop("src"))
    assert padded.lines.drop("src").equals(plain.lines.drop("src"))
    for block_size in (1, 97):
        assert _segments(before + data + after, block_size) == _segments(data)


def test_files_joined_with_their_byte_order_marks(fixtures_dir: Path) -> None:
    data = b"\xef\xbb\xbf" + (fixtures_dir / "lfhx12__demo.drug.example10.1.837").read_bytes()
    batch = read_x12(data + data, "f")
    assert batch.claims["claim_id"].to_list() == ["CLMNO12345", "CLMNO12345"]
    assert batch.rejected.height == 0
    # the copies (and samples from one generator) share sender, receiver and ISA13
    assert batch.warnings["reason"].str.contains("repeats the interchange").all()
    assert batch.lines["hcpcs"].to_list() == ["90782", "J1550"] * 2


def test_blanks_before_the_segment_terminator(fixtures_dir: Path) -> None:
    # Some exports pad every segment with blanks; LX01 "1   " must still be line 1.
    data = (fixtures_dir / "lfhx12__demo.drug.example10.1.837").read_bytes()
    isa_end = data.index(b"~") + 1
    padded = data[:isa_end] + data[isa_end:].replace(b"~", b"   ~")
    plain, read = read_x12(data, "f"), read_x12(padded, "f")
    assert read.rejected.height == 0 and read.warnings.height == 0
    assert read.claims.equals(plain.claims) and read.lines.equals(plain.lines)
    for block_size in (1, 97):
        assert _segments(padded, block_size) == _segments(data)
