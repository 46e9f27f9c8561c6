"""Read the public Claims CSV format (``shared/spec/claim-formats.md``) into canonical frames.

One row per claim line; claim-level columns repeat on every line of the claim. The
columns, their level (claim or line) and how each cell is read come from the shipped
schema ``schemas/claims-csv.schema.json`` (``x-level``, ``x-type``, ``pattern``,
``enum``), so the published schema and the reader cannot drift apart.

Work is done in columns with Polars: the file is read with every column as text, each
column is checked with one expression, and the bad cells are collected by filtering,
never by looping over rows in Python.

Decisions (the spec leaves them open):

* ``row`` is the 1-based data record after the header (the header is row 0). Blank
  records are skipped but counted, so without quoted line breaks row N is line N+1.
* Cells are trimmed of surrounding spaces, except ``narrative``; an empty cell is an
  absent value. Booleans are ``true`` / ``false`` in any letter case; numbers are plain
  decimals (no exponent, currency sign or thousands separator); dates are
  ``YYYY-MM-DD`` only.
* A header problem (unknown, duplicated or unnamed column, a missing ``claim_id``
  column) rejects the whole file: one rejected row per claim id found (at the claim's
  first row), or one row for the file when no claim id can be read. Unknown names are
  listed, with the closest known name when there is one (``CLAIM_ID``: ``claim_id``).
  An unnamed column with no value in any row (a spreadsheet's trailing separators) is
  ignored, with an input warning.
* A bad cell, a row with more fields than the header, a claim-level cell that differs
  from the claim's first row, or a gap in ``dx1``..``dx12`` (pointers would shift)
  rejects that claim, with every problem named by row and column. A row without a
  ``claim_id`` is rejected on its own.
* Rows with the same ``claim_id`` form one claim even when not adjacent; its location
  is its first row. Gaps in ``mod1``..``mod4`` are closed up (position carries no meaning).
* An empty ``line_number`` is the line's position among the claim's rows (1-based). A
  claim that ends up with one number on two lines is rejected (a finding names its line
  by the number).
"""

from __future__ import annotations

import difflib
import io
import json
import re
from functools import lru_cache
from importlib import resources
from typing import Any

import polars as pl

from claimscrub.model import columns as c
from claimscrub.model.schema import (
    CLAIMS_SCHEMA,
    LINES_SCHEMA,
    REJECTED_SCHEMA,
    TRANSPLANT,
    conform,
)
from claimscrub.readers.base import ClaimBatch, without_repeated_line_numbers

SCHEMA_FILE = "claims-csv.schema.json"
MAX_MESSAGES = 10  # per rejected claim; the rest are counted
NOT_TRIMMED = frozenset({"narrative"})

_ROW = "\x00row"  # internal column names that no header can clash with
_EXTRA = "\x00extra"

_DX = [f"dx{i}" for i in range(1, 13)]
_MODS = [f"mod{i}" for i in range(1, 5)]

_EXPECTED = {
    "enum": "is not one of {values}",
    "date": "is not a date (YYYY-MM-DD)",
    "boolean": "is not true or false",
    "number": "is not a number",
    "positive-integer": "is not a whole number of 1 or more",
    "count": "is not a whole number of 0 or more",
    "pointer-list": "is not a list of diagnosis pointers such as 1,2",
}


@lru_cache(maxsize=1)
def csv_schema() -> dict[str, Any]:
    """The JSON Schema of one Claims CSV row, as shipped in the package."""
    text = resources.files("claimscrub.readers").joinpath("schemas", SCHEMA_FILE).read_text("utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


def csv_columns() -> dict[str, dict[str, Any]]:
    """Column name -> its schema (in the spec's order), with ``x-level`` and ``x-type``."""
    return csv_schema()["properties"]  # type: ignore[no-any-return]


def claim_level_columns() -> list[str]:
    """Columns that describe the claim and repeat on each of its rows."""
    return [name for name, spec in csv_columns().items() if spec["x-level"] == "claim"]


# --- small frame helpers ---------------------------------------------------------------------


def _rejected(rows: pl.DataFrame | list[dict[str, Any]]) -> pl.DataFrame:
    frame = (
        rows
        if isinstance(rows, pl.DataFrame)
        else pl.DataFrame(
            rows,
            schema={c.SRC: pl.String, c.ROW: pl.Int64, c.CLAIM_ID: pl.String, "reason": pl.String},
        )
    )
    return conform(frame, REJECTED_SCHEMA)


def _file_problem(src: str, reason: str) -> ClaimBatch:
    return ClaimBatch(
        rejected=_rejected([{c.SRC: src, c.ROW: None, c.CLAIM_ID: None, "reason": reason}])
    )


def _shown(value: pl.Expr) -> pl.Expr:
    """A cell shortened for a message."""
    return pl.when(value.str.len_chars() > 40).then(value.str.slice(0, 37) + "...").otherwise(value)


def _at(column: str, text: str | pl.Expr) -> pl.Expr:
    """``row N, column X: <text>`` for the current row."""
    parts = [pl.lit("row "), pl.col(_ROW).cast(pl.String), pl.lit(f", column {column}: ")]
    return pl.concat_str([*parts, text if isinstance(text, pl.Expr) else pl.lit(text)])


# --- reading the table -----------------------------------------------------------------------


def _read_table(data: bytes, width: int) -> pl.DataFrame:
    """All records as text: columns ``_c0``..``_c{width-1}``, ``_EXTRA`` and ``_ROW``."""
    # One spare column catches records with more fields than the header (their extra
    # fields would otherwise be dropped silently); shorter records read as empty cells.
    names = [f"_c{i}" for i in range(width)] + [_EXTRA]
    table = pl.read_csv(
        io.BytesIO(data),
        has_header=False,
        schema=dict.fromkeys(names, pl.String),
        missing_columns="insert",
        truncate_ragged_lines=True,
    )
    return table.with_row_index(_ROW).with_columns(pl.col(_ROW).cast(pl.Int64))


def _header_problems(header: list[str]) -> list[str]:
    known = list(csv_columns())
    problems: list[str] = []
    unnamed = [str(i + 1) for i, name in enumerate(header) if not name]
    if unnamed:
        problems.append(f"header column(s) {', '.join(unnamed)} have no name")
    duplicated = sorted({name for name in header if name and header.count(name) > 1})
    if duplicated:
        problems.append("duplicated column(s) " + ", ".join(f"'{n}'" for n in duplicated))
    unknown = [name for name in header if name and name not in known]
    if unknown:
        described = []
        for name in unknown:
            # Names are lower case: CLAIM_ID or Claim_Id is meant as claim_id.
            close = difflib.get_close_matches(name.lower(), known, n=1)
            described.append(f"'{name}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
        problems.append("unknown column(s) " + ", ".join(described))
        if len(header) == 1 and any(sep in header[0] for sep in (";", "\t", "|")):
            problems.append("the header looks separated by ';', tab or '|'; Claims CSV uses commas")
    if "claim_id" not in header:
        problems.append("no claim_id column")
    return problems


def _reject_file(
    table: pl.DataFrame, header: list[str], src: str, problems: list[str]
) -> ClaimBatch:
    """Every claim of the file rejected with the file's problem (one row if none is found).

    Rows without a claim id are rejected one by one, as when the header is fine.
    """
    reason = "file rejected: " + "; ".join(problems)
    if "claim_id" not in header:
        return _file_problem(src, reason)
    cells = [f"_c{i}" for i in range(len(header))] + [_EXTRA]
    records = table.filter(
        pl.any_horizontal([pl.col(n).str.strip_chars().ne("") for n in cells])
    ).select(_ROW, pl.col(f"_c{header.index('claim_id')}").str.strip_chars().alias(c.CLAIM_ID))
    has_id = pl.col(c.CLAIM_ID).is_not_null() & (pl.col(c.CLAIM_ID) != "")
    claims = (
        records.filter(has_id)
        .group_by(c.CLAIM_ID, maintain_order=True)
        .agg(pl.col(_ROW).min().alias(c.ROW))
        .with_columns(pl.lit(reason).alias("reason"))
    )
    orphans = records.filter(~has_id).select(
        pl.col(_ROW).alias(c.ROW),
        pl.lit(None, pl.String).alias(c.CLAIM_ID),
        pl.concat_str(
            [
                pl.lit("row "),
                pl.col(_ROW).cast(pl.String),
                pl.lit(f", column claim_id: empty; {reason}"),
            ]
        ).alias("reason"),
    )
    if not claims.height and not orphans.height:
        return _file_problem(src, reason)
    rejected = pl.concat([claims.select(c.ROW, c.CLAIM_ID, "reason"), orphans]).sort(c.ROW)
    return ClaimBatch(rejected=_rejected(rejected.with_columns(pl.lit(src).alias(c.SRC))))


# --- checks ------------------------------------------------------------------------------------


def _typed_name(name: str) -> str:
    """Internal name of the typed (parsed) version of a column."""
    return name + "\x00typed"


def _parsed(name: str, spec: dict[str, Any]) -> pl.Expr:
    """The typed value of a (trimmed, non-empty) cell; null when it cannot be read."""
    value = pl.col(name)
    kind = spec["x-type"]
    pattern = spec.get("pattern")
    matches = value.str.contains(pattern) if pattern else pl.lit(True)
    if kind == "date":
        return pl.when(matches).then(value.str.to_date("%Y-%m-%d", strict=False))
    if kind == "boolean":
        return pl.when(matches).then(value.str.to_lowercase() == "true")
    if kind == "number":
        # A number too big for a float (a 400-digit cell) is out of range, as in JSON.
        number = value.cast(pl.Float64, strict=False)
        return pl.when(matches & number.is_finite()).then(number)
    if kind in ("positive-integer", "count"):
        # The cast is null for a number too big for Int64: reported as a bad cell.
        return pl.when(matches).then(value.cast(pl.Int64, strict=False))
    if kind == "pointer-list":
        parts = value.str.split(",").list.eval(
            pl.element().str.strip_chars().cast(pl.Int64, strict=False)
        )
        return pl.when(matches & ~parts.list.eval(pl.element().is_null()).list.any()).then(parts)
    if kind == "enum":
        return pl.when(value.is_in(spec["enum"])).then(value)
    return value


def _typed(name: str) -> pl.Expr:
    """The typed value of a column that is in the file."""
    spec = csv_columns()[name]
    return pl.col(name if spec["x-type"] == "string" else _typed_name(name))


def _cell_errors(header: list[str]) -> list[pl.Expr]:
    """One expression per checked column: the message for a bad cell, else null."""
    checks = []
    for name in header:
        spec = csv_columns()[name]
        kind = spec["x-type"]
        if kind == "string":
            continue
        expected: pl.Expr = pl.lit(_EXPECTED[kind].format(values=", ".join(spec.get("enum", ()))))
        if kind == "number":  # the form of a number, too big for a float
            expected = (
                pl.when(pl.col(name).str.contains(spec["pattern"]))
                .then(pl.lit("is out of range"))
                .otherwise(expected)
            )
        if kind == "date":  # 2025-02-30 has the form of a date, but the day does not exist
            expected = (
                pl.when(pl.col(name).str.contains(r"^\d{4}-\d{2}-\d{2}$"))
                .then(pl.lit("is not a day of the calendar"))
                .otherwise(expected)
            )
        bad = pl.col(name).is_not_null() & pl.col(_typed_name(name)).is_null()
        text = pl.concat_str([pl.lit("'"), _shown(pl.col(name)), pl.lit("' "), expected])
        checks.append(pl.when(bad).then(_at(name, text)))
    checks.append(
        pl.when(pl.col(_EXTRA).is_not_null()).then(
            pl.concat_str(
                [
                    pl.lit("row "),
                    pl.col(_ROW).cast(pl.String),
                    pl.lit(f": more fields than the {len(header)} of the header"),
                ]
            )
        )
    )
    return checks


def _disagreeing_claims(rows: pl.DataFrame, claim_columns: list[str]) -> pl.DataFrame:
    """Ids of claims whose claim-level cells are not the same on all their rows."""
    if not claim_columns:
        return rows.select(c.CLAIM_ID).clear()
    # Sorted by claim (stably), each row is compared with the one before it: cheap, exact,
    # and the wording of a difference is worked out only for the (normally no) claims
    # where one is found.
    ordered = rows.select(c.CLAIM_ID, *[_typed(n).alias(n) for n in claim_columns]).sort(
        c.CLAIM_ID, maintain_order=True
    )
    same_claim = pl.col(c.CLAIM_ID) == pl.col(c.CLAIM_ID).shift()
    differs = pl.any_horizontal([pl.col(n).ne_missing(pl.col(n).shift()) for n in claim_columns])
    return ordered.filter(same_claim & differs).select(c.CLAIM_ID).unique()


def _agreement_errors(claim_columns: list[str]) -> list[pl.Expr]:
    """Messages for claim-level cells that differ from the same cell on the claim's first row."""
    checks = []
    for name in claim_columns:
        value = pl.col(name)
        same = _typed(name)  # TRUE and true are the same value
        first = value.first().over(c.CLAIM_ID)
        first_row = pl.col(_ROW).first().over(c.CLAIM_ID)

        def shown(v: pl.Expr) -> pl.Expr:
            return (
                pl.when(v.is_null())
                .then(pl.lit("empty"))
                .otherwise(pl.concat_str([pl.lit("'"), _shown(v), pl.lit("'")]))
            )

        text = pl.concat_str(
            [
                shown(value),
                pl.lit(" differs from "),
                shown(first),
                pl.lit(" on row "),
                first_row.cast(pl.String),
                pl.lit(", the claim's first row (claim-level columns repeat on every line)"),
            ]
        )
        checks.append(pl.when(same.ne_missing(same.first().over(c.CLAIM_ID))).then(_at(name, text)))
    return checks


def _dx_gap_errors(present: list[str]) -> list[pl.Expr]:
    """On a claim's first row: an empty dx column before a filled one (pointers would shift)."""
    checks = []
    for i in range(1, len(_DX)):
        before = _DX[i - 1]
        later = [dx for dx in _DX[i:] if dx in present]
        if not later:
            continue
        set_later = pl.any_horizontal([pl.col(dx).is_not_null() for dx in later])
        empty_before = pl.col(before).is_null() if before in present else pl.lit(True)
        message = "empty while a later dx column is set (fill dx1, dx2, ... without gaps)"
        checks.append(pl.when(empty_before & set_later).then(_at(before, message)))
    return checks


def _collect(frame: pl.DataFrame, checks: list[pl.Expr]) -> pl.DataFrame:
    """``(row, claim_id, message)`` for every non-null message of ``checks``."""
    if not checks:
        return pl.DataFrame(schema={_ROW: pl.Int64, c.CLAIM_ID: pl.String, "message": pl.String})
    return (
        frame.select(_ROW, c.CLAIM_ID, pl.concat_list(checks).list.drop_nulls().alias("message"))
        .filter(pl.col("message").list.len() > 0)
        .explode("message")
    )


# --- the reader --------------------------------------------------------------------------------


def read_csv_claims(data: bytes, src: str) -> ClaimBatch:
    """Read one Claims CSV file.

    Args:
        data: the file's bytes (UTF-8, a BOM is allowed).
        src: the name to record in ``src`` (the file name, ``-`` for stdin).

    Returns:
        The claims and lines read, every other claim under ``rejected`` with its reason.
    """
    if not re.search(rb"[^ \t\r\n\xef\xbb\xbf]", data):
        return ClaimBatch(
            warnings=_rejected(
                [{c.SRC: src, c.ROW: None, c.CLAIM_ID: None, "reason": "the file is empty"}]
            )
        )
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return _file_problem(
            src,
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "save the file as UTF-8",
        )
    try:
        head = pl.read_csv(
            io.BytesIO(data),
            has_header=False,
            n_rows=1,
            infer_schema=False,
            truncate_ragged_lines=True,
        )
        header = [(name or "").strip() for name in head.row(0)]
        table = _read_table(data, len(header))
    except pl.exceptions.PolarsError as exc:
        if data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"["):
            return _file_problem(
                src, "not readable as CSV: it looks like JSON; send it as Claims JSON"
            )
        detail = str(exc).split("Original error:")[-1].strip(" `\n")
        detail = " ".join(detail.split())[:200]
        return _file_problem(src, f"not readable as CSV: {detail}")

    table = table.slice(1)  # the header record
    table, header, ignored = _without_empty_unnamed_columns(table, header)
    problems = _header_problems(header)
    if problems:
        batch = _reject_file(table, header, src, problems)
    else:
        table = table.rename({f"_c{i}": name for i, name in enumerate(header)})
        batch = without_repeated_line_numbers(_read_rows(table, header, src))
    if ignored:
        reason = (
            f"header column(s) {', '.join(ignored)} have no name and no value in any row "
            "(trailing separators of a spreadsheet export, say); they are ignored"
        )
        noticed = _rejected([{c.SRC: src, c.ROW: None, c.CLAIM_ID: None, "reason": reason}])
        batch.warnings = pl.concat([noticed, batch.warnings])
    return batch


def _without_empty_unnamed_columns(
    table: pl.DataFrame, header: list[str]
) -> tuple[pl.DataFrame, list[str], list[str]]:
    """The data records and the header less the columns without a name that hold
    nothing (the others renumbered ``_c0`` ...); and those columns' 1-based positions.

    A spreadsheet saved as CSV often ends every record with separators of empty columns;
    an unnamed column that holds a value stays, and the header check rejects the file.
    """
    unnamed = [i for i, name in enumerate(header) if not name]
    empty = set()
    if unnamed:
        blank = table.select(
            (
                pl.col(f"_c{i}").str.strip_chars().replace("", None).null_count() == table.height
            ).alias(str(i))
            for i in unnamed
        ).row(0)
        empty = {i for i, is_blank in zip(unnamed, blank, strict=True) if is_blank}
    if not empty:
        return table, header, []
    kept = [(i, name) for i, name in enumerate(header) if i not in empty]
    table = table.drop([f"_c{i}" for i in sorted(empty)]).rename(
        {f"_c{i}": f"_c{j}" for j, (i, _) in enumerate(kept)}
    )
    return table, [name for _, name in kept], [str(i + 1) for i in sorted(empty)]


def _clean(table: pl.DataFrame, header: list[str]) -> pl.DataFrame:
    """Trim cells, make empty cells null, and drop blank records (still counted in ``row``)."""
    # Stripping every cell is the slowest step of the reader; most files have no padding,
    # so look first and strip only the columns that need it.
    padded = table.select(
        pl.col(n).str.contains(r"^[ \t]|[ \t]$").any() for n in header if n not in NOT_TRIMMED
    ).row(0, named=True)
    cells = []
    for name in header:
        value = pl.col(name).str.strip_chars(" \t") if padded.get(name) else pl.col(name)
        cells.append(pl.when(value != "").then(value).alias(name))
    table = table.with_columns(cells)
    return table.filter(pl.any_horizontal([pl.col(n).is_not_null() for n in [*header, _EXTRA]]))


def _read_rows(table: pl.DataFrame, header: list[str], src: str) -> ClaimBatch:
    spec = csv_columns()
    table = _clean(table, header).with_columns(
        _parsed(name, spec[name]).alias(_typed_name(name))
        for name in header
        if spec[name]["x-type"] != "string"
    )

    cell_errors = _collect(table, _cell_errors(header))
    with_id = table.filter(pl.col(c.CLAIM_ID).is_not_null())
    claim_cols = [n for n in claim_level_columns() if n in header and n != "claim_id"]
    disagreeing = _disagreeing_claims(with_id, claim_cols)[c.CLAIM_ID]
    agreement_errors = _collect(
        with_id.filter(pl.col(c.CLAIM_ID).is_in(disagreeing.implode())),
        _agreement_errors(claim_cols) if disagreeing.len() else [],
    )
    first_rows = with_id.filter(pl.col(c.CLAIM_ID).is_first_distinct())
    gap_errors = _collect(first_rows, _dx_gap_errors(header))

    # Rows without a claim id: rejected one by one.
    orphans = (
        table.filter(pl.col(c.CLAIM_ID).is_null())
        .select(_ROW)
        .join(cell_errors.select(_ROW, "message"), on=_ROW, how="left", maintain_order="left")
        .group_by(_ROW, maintain_order=True)
        .agg(pl.col("message").drop_nulls())
        .select(
            pl.col(_ROW).alias(c.ROW),
            pl.lit(None, pl.String).alias(c.CLAIM_ID),
            _reason(
                pl.concat_list(
                    pl.concat_str(
                        [
                            pl.lit("row "),
                            pl.col(_ROW).cast(pl.String),
                            pl.lit(", column claim_id: empty"),
                        ]
                    ),
                    pl.col("message"),
                )
            ).alias("reason"),
        )
    )
    errors = pl.concat(
        [cell_errors.filter(pl.col(c.CLAIM_ID).is_not_null()), agreement_errors, gap_errors]
    )
    bad_claims = (
        errors.sort(_ROW, maintain_order=True)
        .group_by(c.CLAIM_ID, maintain_order=True)
        .agg(pl.col(_ROW).min().alias(c.ROW), pl.col("message"))
    )
    rejected = pl.concat(
        [bad_claims.select(c.ROW, c.CLAIM_ID, _reason(pl.col("message")).alias("reason")), orphans]
    ).with_columns(pl.lit(src).alias(c.SRC))

    good = (
        with_id.filter(~pl.col(c.CLAIM_ID).is_in(bad_claims[c.CLAIM_ID].implode()))
        if bad_claims.height
        else with_id
    )
    claims, lines = _frames(good, header, src)
    return ClaimBatch(claims=claims, lines=lines, rejected=_rejected(rejected.sort(c.ROW)))


def _reason(messages: pl.Expr) -> pl.Expr:
    """Join a claim's messages, at most MAX_MESSAGES of them, then count the rest."""
    shown = messages.list.head(MAX_MESSAGES).list.join("; ")
    more = messages.list.len().cast(pl.Int64) - MAX_MESSAGES
    return (
        pl.when(more > 0)
        .then(
            pl.concat_str(
                [shown, pl.lit("; and "), more.cast(pl.String), pl.lit(" more problem(s)")]
            )
        )
        .otherwise(shown)
    )


def _compact_list(frame: pl.DataFrame, names: list[str]) -> pl.Expr:
    """The non-empty cells of ``names`` as a list, in column order (gaps closed up)."""
    if not names:
        return pl.lit([], dtype=pl.List(pl.String))
    if frame.select(
        pl.any_horizontal(pl.col(n).str.contains("\x1f", literal=True).any() for n in names)
    ).item():
        return pl.concat_list(names).list.drop_nulls()  # exact, but ten times slower
    joined = pl.concat_str(names, separator="\x1f", ignore_nulls=True)
    return (
        pl.when(joined == "")
        .then(pl.lit([], dtype=pl.List(pl.String)))
        .otherwise(joined.str.split("\x1f"))
    )


def _grouped(rows: pl.DataFrame) -> pl.DataFrame:
    """The rows with each claim's rows together, claims in order of their first row."""
    runs = rows.select(
        pl.col(c.CLAIM_ID).rle_id().max().alias("runs"), pl.col(c.CLAIM_ID).n_unique().alias("ids")
    ).row(0)
    if rows.height == 0 or runs[0] + 1 == runs[1]:
        return rows  # the usual case: nothing to move
    first = rows.filter(pl.col(c.CLAIM_ID).is_first_distinct()).select(
        c.CLAIM_ID, pl.int_range(pl.len()).alias("\x00order")
    )
    return (
        rows.join(first, on=c.CLAIM_ID, how="left", maintain_order="left")
        .sort("\x00order", _ROW)
        .drop("\x00order")
    )


def _frames(good: pl.DataFrame, header: list[str], src: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Canonical claim and line frames from the rows of valid claims."""
    rows = _grouped(good)
    new_claim = pl.col(c.CLAIM_ID).ne_missing(pl.col(c.CLAIM_ID).shift())
    rows = rows.with_columns(
        (new_claim.cum_sum().cast(pl.Int64) - 1).alias(c.CLAIM_KEY),
        new_claim.alias("\x00first"),
    )

    def col(name: str, dtype: pl.DataType) -> pl.Expr:
        return _typed(name) if name in header else pl.lit(None, dtype=dtype)

    transplant_cols = [
        "transplant_organ",
        "transplant_date",
        "transplant_medicare_paid",
        "part_a_at_transplant",
    ]
    present_transplant = [t for t in transplant_cols if t in header]
    transplant = pl.struct(
        col("transplant_organ", pl.String()).alias("organ"),
        col("transplant_date", pl.Date()).alias("date"),
        col("transplant_medicare_paid", pl.Boolean()).alias("medicare_paid"),
        col("part_a_at_transplant", pl.Boolean()).alias("part_a_at_transplant"),
    ).cast(TRANSPLANT)
    has_transplant = (
        pl.any_horizontal([pl.col(t).is_not_null() for t in present_transplant])
        if present_transplant
        else pl.lit(False)
    )

    # Claim-level cells agree on every row of a valid claim: its first row speaks for it.
    first_rows = rows.filter(pl.col("\x00first"))
    claims = first_rows.select(
        c.CLAIM_KEY,
        c.CLAIM_ID,
        pl.lit(src).alias(c.SRC),
        pl.col(_ROW).alias(c.ROW),
        col("claim_type", pl.String()).alias(c.CLAIM_TYPE),
        col("payer_type", pl.String()).alias(c.PAYER_TYPE),
        col("payer_id", pl.String()).alias(c.PAYER_ID),
        col("payer_policy", pl.String()).alias(c.PAYER_POLICY),
        col("patient_id", pl.String()).alias(c.PATIENT_ID),
        col("birth_date", pl.Date()).alias(c.BIRTH_DATE),
        col("sex", pl.String()).alias(c.SEX),
        pl.when(has_transplant).then(pl.concat_list(transplant)).alias(c.TRANSPLANTS),
        col("esrd_only_entitlement", pl.Boolean()).alias(c.ESRD_ONLY_ENTITLEMENT),
        col("part_b_id", pl.Boolean()).alias(c.PART_B_ID),
        col("part_a_snf_stay", pl.Boolean()).alias(c.PART_A_SNF_STAY),
        col("service_date", pl.Date()).alias(c.SERVICE_DATE),
        col("place_of_service", pl.String()).alias(c.PLACE_OF_SERVICE),
        col("bill_type", pl.String()).alias(c.BILL_TYPE),
        _compact_list(first_rows, [d for d in _DX if d in header]).alias(c.DIAGNOSES),
        col("prior_authorization", pl.String()).alias(c.PRIOR_AUTHORIZATION),
    )
    # A line without a date of its own takes the claim's service_date as given, never
    # another line's date (it stays undated: COD006).
    given_date = claims[c.SERVICE_DATE]
    if "line_service_date" in header and claims[c.SERVICE_DATE].null_count():
        # columns.SERVICE_DATE: the earliest line date when the claim has none.
        earliest = rows.group_by(c.CLAIM_KEY).agg(
            _typed("line_service_date").min().alias("\x00min")
        )
        claims = (
            claims.join(earliest, on=c.CLAIM_KEY, how="left", maintain_order="left")
            .with_columns(pl.coalesce(c.SERVICE_DATE, "\x00min").alias(c.SERVICE_DATE))
            .drop("\x00min")
        )

    index = pl.int_range(pl.len(), dtype=pl.Int64)
    position = index - pl.when(pl.col("\x00first")).then(index).forward_fill() + 1
    if "line_number" in header and not rows[_typed_name("line_number")].null_count():
        line_no = _typed("line_number")
    else:
        line_no = pl.coalesce(col("line_number", pl.Int64()), position)

    claim_date = given_date.gather(rows[c.CLAIM_KEY])
    lines = rows.with_columns(claim_date.alias("\x00claim_date")).select(
        c.CLAIM_KEY,
        c.CLAIM_ID,
        pl.lit(src).alias(c.SRC),
        pl.col(_ROW).alias(c.ROW),
        line_no.alias(c.LINE_NO),
        col("hcpcs", pl.String()).alias(c.HCPCS),
        _compact_list(rows, [m for m in _MODS if m in header]).alias(c.MODIFIERS),
        col("units", pl.Float64()).alias(c.UNITS),
        col("charge", pl.Float64()).alias(c.CHARGE),
        pl.coalesce(col("line_service_date", pl.Date()), pl.col("\x00claim_date")).alias(
            c.DOS_FROM
        ),
        pl.coalesce(
            col("diagnosis_pointers", pl.List(pl.Int64())), pl.lit([], dtype=pl.List(pl.Int64))
        ).alias(c.DIAGNOSIS_POINTERS),
        col("ndc", pl.String()).alias(c.NDC),
        col("ndc_quantity", pl.Float64()).alias(c.NDC_QTY),
        col("ndc_unit", pl.String()).alias(c.NDC_UNIT),
        col("days_supply", pl.Int64()).alias(c.DAYS_SUPPLY),
        col("narrative", pl.String()).alias(c.NARRATIVE),
    )
    return conform(claims, CLAIMS_SCHEMA), conform(lines, LINES_SCHEMA)
