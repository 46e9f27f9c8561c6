"""Run rules over canonical frames and collect every finding in one frame.

Each rule returns a lazy :class:`~claimscrub.rules.finding.Finding`; the engine keeps
the violated rows, formats messages and fixes in columns and concatenates all rules. A
rule that raises — while building its plan or while it is collected — becomes one
``ENG001`` finding naming the rule; it never hides the other rules.

How the work is kept proportional to what differs between lines (the rule code is the
same whatever the batch size, and small and big batches give the same findings; a test
checks it on every rule case):

- Facts several rules share (the HCPCS record in force, the crosswalk row, the MUE, the
  transplant status ...) are computed once per batch, on the distinct values of the
  columns they depend on, and spread to the lines by position
  (:mod:`claimscrub.rules.batch`, :class:`_BatchRefData`). Facts that read the date of
  service only as the date of reference-data lookups are worked out per *date class*
  (:meth:`_BatchRefData.classed_dates`): two years of dates fall in about thirty classes.
- On small batches (a claim from the API) those facts are kept across batches, per key
  (:mod:`claimscrub.engine.facts_store`); reference-data lookups by the *class* of the
  date of service, so a date never seen before reuses its neighbours' answers
  (:mod:`claimscrub.refdata.date_classes`).
- A rule that judges each line alone and declares ``distinct_on`` runs once per distinct
  combination of those columns (:func:`_distinct_view`, :func:`_spread`).
- Each rule's plan is collected on its own, on Polars' own thread pool
  (:mod:`claimscrub.rules.querying`). A big batch's plan starts as soon as it is built,
  so it runs while this thread builds the next rules' shared facts (queries that leave
  cores idle between steps); a small batch's plans (a claim from the API) start once all
  are built, as started earlier they would hold up the small queries of the facts. The
  small queries that build a claim's shared facts run on the pool too, and none of a
  small batch's queries is optimised by Polars (optimising costs more than it saves on
  a few rows).
- A rule that declares ``applies_when`` (the lines it can report on) is not run on a
  batch where that is true for no line (:func:`_applying_to_no_line`): a claim for a
  commercial plan builds none of the Medicare benefit facts.
- Batches of more than about ``BUCKET_LINES`` lines are checked in patient buckets, so
  memory stays bounded (:func:`_patient_buckets`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

import polars as pl
from polars.exceptions import PanicException

from claimscrub.engine.facts_store import (
    DICTIONARY_ROWS,
    facts_store,
    key_rows,
    key_rows_hashable,
    stored_facts,
)
from claimscrub.engine.prepare import claim_rows
from claimscrub.model import columns as c
from claimscrub.model.schema import LINES_SCHEMA
from claimscrub.refdata.date_classes import class_start, class_starts
from claimscrub.rules.batch import SMALL_BATCH, ClassedDate, with_column_replaced
from claimscrub.rules.context import RuleContext
from claimscrub.rules.querying import Running, collect, optimised, start
from claimscrub.wording import word_for

if TYPE_CHECKING:
    from claimscrub.payers.packs import Pack
    from claimscrub.refdata.catalog import RefData
    from claimscrub.rules.finding import Finding
    from claimscrub.rules.registry import Rule

FINDINGS_SCHEMA = pl.Schema(
    {
        c.CLAIM_KEY: pl.Int64(),
        c.LINE_NO: pl.Int64(),
        "rule": pl.String(),
        "severity": pl.String(),
        "confidence": pl.String(),  # high / medium / low (the rule's default, then overrides)
        "message": pl.String(),
        "fix": pl.String(),  # JSON object of corrected field values, or null
        "fix_title": pl.String(),
        "carc": pl.String(),
        "rarc": pl.List(pl.String()),
    }
)
# "{units}" is a column's text; "{units|unit}" is the number followed by the word, in the
# plural unless the number is 1 ("1 unit", "25 units").
_PLACEHOLDER = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*)(?:\|([A-Za-z][A-Za-z -]*))?\}")
# From this many lines up, a rule with ``distinct_on`` runs once per distinct combination
# of those columns, and the rules' plans are collected as one query; below, numbering the
# combinations and planning one big query cost more than they save.
SMALL_BATCH_LINES = SMALL_BATCH
DISTINCT_MIN_LINES = SMALL_BATCH
# Batches of more lines (by half again) are checked in patient buckets of about this many.
BUCKET_LINES = 750_000


@dataclass
class Evaluation:
    """The findings of one run, plus the rules that could not run and why."""

    findings: pl.DataFrame
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (rule code, reason)
    broken: list[tuple[str, str]] = field(default_factory=list)  # (rule code, error)


def _text(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """A column as message text: whole floats without '.0', lists joined, null as '?'."""
    if dtype.is_float():
        as_int = expr.round(0).cast(pl.Int64, strict=False).cast(pl.String)
        shown = pl.when(expr == expr.round(0)).then(as_int).otherwise(expr.round(4).cast(pl.String))
    elif isinstance(dtype, pl.List):
        shown = expr.cast(pl.List(pl.String)).list.join(", ")
    else:
        shown = expr.cast(pl.String)
    return shown.fill_null("?")


def _counted(expr: pl.Expr, dtype: pl.DataType, word: str) -> pl.Expr:
    """'1 unit' / '25 units' / '? units': a number and the word it counts."""
    return pl.format("{} {}", _text(expr, dtype), word_for(expr, word))


def format_template(template: str, schema: pl.Schema) -> pl.Expr:
    """Turn ``"{units|unit} of {hcpcs}"`` into one vectorised string expression."""
    placeholders = _PLACEHOLDER.findall(template)
    if not placeholders:
        return pl.lit(template)
    missing = [n for n, _ in placeholders if n not in schema]
    if missing:
        raise KeyError(f"message template names unknown column(s): {', '.join(missing)}")
    fmt = _PLACEHOLDER.sub("{}", template.replace("{{", "\x00").replace("}}", "\x01"))
    fmt = fmt.replace("\x00", "{{").replace("\x01", "}}")
    parts = [
        _counted(pl.col(n), schema[n], word) if word else _text(pl.col(n), schema[n])
        for n, word in placeholders
    ]
    return pl.format(fmt, *parts)


@cache  # per set of fixed fields: the expressions read the value columns by name
def _fix_json(fields: tuple[str, ...]) -> tuple[pl.Expr, pl.Expr]:
    """(the fix as a JSON object, whether it is complete) over the columns that
    :func:`_plan` puts each corrected value in (``_fix_value_<i>``); the JSON is null
    when any corrected value is not determinable."""
    if not fields:
        return pl.lit(None, dtype=pl.String), pl.lit(False)
    values = [pl.col(f"_fix_value_{i}") for i in range(len(fields))]
    complete = pl.all_horizontal([value.is_not_null() for value in values])
    encoded = pl.struct(
        [value.alias(name) for name, value in zip(fields, values, strict=True)]
    ).struct.json_encode()
    return pl.when(complete).then(encoded).otherwise(None), complete


# The schema of each rule's violated rows, by the circumstances that decide it (see
# _schema_key). A lazy frame's schema follows from its plan alone, never from the data,
# and resolving it costs about half a millisecond per rule: a claim checked through the
# API would pay that for every rule on every call.
_ROW_SCHEMAS: dict[Hashable, pl.Schema] = {}
_ROW_SCHEMAS_MAX = 20_000


def _schema_key(rule: Rule, ctx: RuleContext, per_key: bool, batch_key: Hashable) -> Hashable:
    """What a rule's row schema depends on besides its code: the batch's column types
    (``batch_key``), whether it runs per distinct key, its options and the packs."""
    options = repr(sorted(ctx.options.items()))
    return (rule.code, per_key, batch_key, options, tuple(sorted(ctx.packs)))


def _plan(rule: Rule, finding: Finding, schema_key: Hashable | None = None) -> pl.LazyFrame:
    rows = finding.rows.filter(finding.violated)
    schema = _ROW_SCHEMAS.get(schema_key) if schema_key is not None else None
    if schema is None:
        schema = rows.collect_schema()
        if schema_key is not None:
            if len(_ROW_SCHEMAS) >= _ROW_SCHEMAS_MAX:
                _ROW_SCHEMAS.clear()
            _ROW_SCHEMAS[schema_key] = schema
    line_no, constants, message, title = _output_columns(rule, finding, schema, schema_key)
    if finding.fix:
        # Each corrected value is worked out once, as a column: the JSON, its test and
        # the title read it (a small batch's queries are not optimised, so an expression
        # used in several places would be evaluated at each).
        rows = rows.with_columns(
            [expr.alias(f"_fix_value_{i}") for i, expr in enumerate(finding.fix.values())]
        )
    fix, complete = _fix_json(tuple(finding.fix))
    return rows.select(
        pl.col(c.CLAIM_KEY).cast(pl.Int64),
        line_no,
        *constants,
        message,
        fix.alias("fix"),
        pl.when(complete).then(title).cast(pl.String).alias("fix_title"),
        (finding.carc if finding.carc is not None else _rule_carc(rule.carc)).alias("carc"),
        (finding.rarc if finding.rarc is not None else _rule_rarc(rule.rarc)).alias("rarc"),
    )


@cache  # built once per value: a list literal costs a Series each time (rules x claims)
def _rule_carc(carc: str | None) -> pl.Expr:
    return pl.lit(carc, dtype=pl.String)


@cache
def _rule_rarc(rarc: tuple[str, ...]) -> pl.Expr:
    return pl.lit(list(rarc), dtype=pl.List(pl.String))


# The output expressions of a rule that follow from its metadata, its message templates
# and its row schema (see _output_columns), kept with the row schemas: building them
# anew (literals, one formatting expression per placeholder) cost a claim checked through
# the API a few milliseconds.
_OUTPUT_COLUMNS: dict[Hashable, tuple[pl.Expr, list[pl.Expr], pl.Expr, pl.Expr]] = {}


def _output_columns(
    rule: Rule, finding: Finding, schema: pl.Schema, schema_key: Hashable | None
) -> tuple[pl.Expr, list[pl.Expr], pl.Expr, pl.Expr]:
    """(line number, [rule, severity, confidence], message, fix title) expressions."""
    key = (
        (schema_key, rule.severity, rule.confidence, finding.message, finding.fix_title)
        if schema_key is not None
        else None
    )
    if key is not None and key in _OUTPUT_COLUMNS:
        return _OUTPUT_COLUMNS[key]
    # A finding points at a line whenever the rule's rows keep ``line_no`` (whatever the
    # rule's scope, which says how far it looks); rules reporting on a whole claim drop it.
    line_no = pl.col(c.LINE_NO) if c.LINE_NO in schema else pl.lit(None)
    title = format_template(finding.fix_title, schema) if finding.fix_title else pl.lit(None)
    built = (
        line_no.cast(pl.Int64).alias(c.LINE_NO),
        [
            pl.lit(rule.code).alias("rule"),
            pl.lit(rule.severity.value).alias("severity"),
            pl.lit(rule.confidence.value).alias("confidence"),
        ],
        format_template(finding.message, schema).alias("message"),
        title,
    )
    if key is not None:
        if len(_OUTPUT_COLUMNS) >= _ROW_SCHEMAS_MAX:
            _OUTPUT_COLUMNS.clear()
        _OUTPUT_COLUMNS[key] = built
    return built


# Answers of ``RefData.lookup`` are kept by the class of the date of service, not the
# date (see :mod:`claimscrub.refdata.date_classes`): a claim with a date not seen before
# reuses the answers of its neighbours. False keys them by the date (tests compare both).
LOOKUP_DATE_CLASSES = True
# Facts that read the date of service only through lookups (a rule helper says so, see
# :func:`claimscrub.rules.batch.lines_with`) are worked out once per date class, on big
# batches and small. False works them out per date (tests compare both).
FACTS_DATE_CLASSES = True
# Rules whose ``applies_when`` is true on no line of a batch are not run there (they
# could find nothing). False runs them anyway (tests compare both).
APPLIES_WHEN = True
# A batch of more lines than this answers the tests on its first lines first.
APPLIES_SAMPLE_LINES = 10_000


class _BatchRefData:
    """Reference data for one batch: lookups on the batch's lines are computed once.

    Many rules join the same facts onto the same lines (the HCPCS record in force, the
    crosswalk row of the NDC). A lookup on the batch's lines is answered on the distinct
    key values only (a few thousand even for millions of lines); each line then takes
    its answer by position (a gather, not a join), and the new columns are attached to
    the lines without copying the existing ones. Later rules asking the same question
    get the same frame. Lookups on other frames, and lookups that can match several
    table rows per key, go to the real catalog.
    """

    def __init__(
        self,
        refdata: RefData,
        lines: pl.DataFrame,
        lazy_lines: pl.LazyFrame,
        claims: pl.DataFrame | None = None,
    ) -> None:
        self._refdata = refdata
        self._lines = lines
        self._lazy_lines = lazy_lines
        self._claims = claims
        self._claim_row: pl.Series | None = None
        self._memo: dict[tuple[Any, ...], pl.LazyFrame] = {}
        self._shared: dict[Hashable, pl.LazyFrame] = {}
        # id of a lazy frame this batch made over a frame in memory -> (it, that frame)
        self._in_memory: dict[int, tuple[pl.LazyFrame, pl.DataFrame]] = {}
        self._remember(lazy_lines, lines)
        self._keys: dict[Hashable, tuple[pl.DataFrame, pl.Series]] = {}
        self._codes: dict[Hashable, tuple[pl.Series, int]] = {}
        self._classed: dict[tuple[str, tuple[str, ...]], pl.Series | None] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._refdata, name)

    @property
    def lines(self) -> pl.DataFrame:
        """The batch's lines (the frame every rule's ``ctx.lines`` reads)."""
        return self._lines

    @property
    def lazy_lines(self) -> pl.LazyFrame:
        """The lazy frame over :attr:`lines` that rules receive as ``ctx.lines``."""
        return self._lazy_lines

    @property
    def refdata(self) -> RefData:
        """The reference data behind this batch's memo."""
        return self._refdata

    def shared(
        self, key: Hashable, build: Callable[[], pl.LazyFrame | pl.DataFrame]
    ) -> pl.LazyFrame:
        """The frame ``build`` derives from this batch's lines, computed once per run.

        Several rules start from the same derived frame (the Medicare benefit lines with
        their transplant status, the expected units of each line, the MUE of each line,
        the diagnoses each line points to). It is computed once, when first asked for,
        and every rule asking with the same ``key`` reads the same in-memory frame, so
        the rules' plans stay small. ``key`` must name everything ``build`` depends on
        besides the batch.
        """
        if key not in self._shared:
            built = build()
            frame = built if isinstance(built, pl.DataFrame) else self.rows(built)
            self._shared[key] = self._remember(frame.lazy(), frame)
        return self._shared[key]

    def rows(self, frame: pl.LazyFrame) -> pl.DataFrame:
        """``frame`` collected; a lazy frame this batch made over a frame in memory (its
        lines, a shared frame) gives that frame back without a query."""
        known = self._in_memory.get(id(frame))
        if known is not None and known[0] is frame:
            return known[1]
        return collect(frame)

    def _remember(self, lazy: pl.LazyFrame, frame: pl.DataFrame) -> pl.LazyFrame:
        self._in_memory[id(lazy)] = (lazy, frame)  # holding ``lazy``, so its id stays its own
        return lazy

    def key_index(
        self, keys: Sequence[str], classed: ClassedDate | None = None
    ) -> tuple[pl.DataFrame, pl.Series]:
        """The distinct values of ``keys`` in the lines, and each line's row among them.

        With ``classed`` = (date column, datasets), the date column's values are the
        first days of their date classes (:meth:`classed_dates`), when there are any.
        """
        names = tuple(keys)
        dated = self.classed_dates(*classed) if classed and classed[0] in names else None
        memo = (names, classed if dated is not None else None)
        if memo not in self._keys:
            framed = self._lines[list(names)]
            if framed.height <= DICTIONARY_ROWS and key_rows_hashable(framed.schema):
                if dated is not None:
                    framed = with_column_replaced(framed, dated)
                self._keys[memo] = _small_key_index(framed)
                return self._keys[memo]
            codes = []
            for name in names:  # each column's codes serve every key set that uses it
                if dated is not None and name == dated.name:
                    code_key: Hashable = (name, memo[1])
                    if code_key not in self._codes:
                        self._codes[code_key] = _value_codes(dated)
                    framed = framed.with_columns(dated)
                else:
                    code_key = name
                    if code_key not in self._codes:
                        self._codes[code_key] = self._column_codes(name)
                codes.append(self._codes[code_key])
            self._keys[memo] = _key_index(framed, codes)
        return self._keys[memo]

    def classed_dates(self, column: str, datasets: Sequence[str]) -> pl.Series | None:
        """Each line's ``column`` date as :meth:`class_dates` gives it, once per batch."""
        memo = (column, tuple(datasets))
        if memo not in self._classed:
            dates = self._lines.get_column(column) if column in self._lines.columns else None
            self._classed[memo] = self.class_dates(dates, datasets) if dates is not None else None
        return self._classed[memo]

    def class_dates(self, dates: pl.Series, datasets: Sequence[str]) -> pl.Series | None:
        """``dates``, each as the first day of its date class for lookups in ``datasets``
        (the union of their classes, :mod:`claimscrub.refdata.date_classes`); None when a
        dataset's dates cannot be classed, ``dates`` are not dates, or classing is
        switched off (``FACTS_DATE_CLASSES``).

        Facts that read the date only as the ``as_of`` of lookups in ``datasets`` give
        every date of a class the same answer, so they can be worked out once per class.
        """
        starts = self._union_classes(tuple(datasets)) if FACTS_DATE_CLASSES else None
        if starts is None or dates.dtype != pl.Date:
            return None
        if dates.len() < SMALL_BATCH_LINES:  # a few dates: classed in place, no join back
            return class_start(dates, starts)
        distinct = dates.unique()
        table = pl.DataFrame([distinct, class_start(distinct, starts).alias("_class")])
        return (
            dates.to_frame()
            .join(table, on=dates.name, how="left", nulls_equal=True, maintain_order="left")
            .get_column("_class")
            .alias(dates.name)
        )

    def _union_classes(self, datasets: tuple[str, ...]) -> list[dt.date] | None:
        """The first days of the classes of every dataset in ``datasets``, merged."""
        days: set[dt.date] = set()
        for dataset in datasets:
            starts = self._date_classes(dataset, always=True)
            if starts is None:
                return None
            days.update(starts)
        return sorted(days)

    def _column_codes(self, name: str) -> tuple[pl.Series, int]:
        """:func:`_value_codes` of a line column; a claim-level one is coded on the claims
        (a third as many rows) and each line takes its claim's code."""
        claims = self._claims
        if claims is None or name in LINES_SCHEMA or name not in claims.columns:
            return _value_codes(self._lines.get_column(name))
        if self._claim_row is None:
            self._claim_row = claim_rows(self._lines, claims)
            if self._claim_row is None:  # claim keys repeat: code the lines themselves
                return _value_codes(self._lines.get_column(name))
        codes, count = _value_codes(claims.get_column(name))
        # A line whose claim is missing has a null there: its own code (one more).
        return codes.gather(self._claim_row).fill_null(count).cast(codes.dtype), count + 1

    def cached_facts(
        self,
        name: Hashable,
        keys: Sequence[str],
        facts: Callable[[pl.LazyFrame], pl.LazyFrame],
        frame: pl.DataFrame,
    ) -> pl.DataFrame | None:
        """The columns ``facts`` adds to the rows of ``frame`` (its ``keys`` columns), each
        key worked out once per reference data (see :mod:`claimscrub.engine.facts_store`).

        ``name`` must name everything ``facts`` depends on besides the key values and the
        reference data. None when ``facts`` does not give one row per key row.
        """
        return stored_facts(facts_store(self._refdata), name, keys, facts, frame)

    def per_line(
        self, keys: Sequence[str], answers: pl.DataFrame, classed: ClassedDate | None = None
    ) -> pl.DataFrame:
        """``answers`` (one row per distinct key of :meth:`key_index`) spread to the lines."""
        index = self.key_index(keys, classed)[1]
        return answers.select(pl.all().gather(index))

    def _stored_lookup(
        self,
        key: tuple[Any, ...],
        on: Mapping[str, str],
        as_of: str | None,
        columns: Sequence[str] | Mapping[str, str] | None,
        distinct: pl.DataFrame,
    ) -> pl.DataFrame | None:
        """:meth:`cached_facts` of ``RefData.lookup`` (``key`` names the dataset and the
        arguments) on the rows of ``distinct``, the date of service keyed by its class.

        The lookup is asked at a date of each row's class (the same answers, see
        :mod:`claimscrub.refdata.date_classes`), so the store keeps one row per key and
        class; the answers come back in the order of ``distinct``, whose own dates are
        left as they are.
        """
        dataset = key[0]
        keys = distinct.columns  # the lookup's keys (_lookup_keys), as the callers select them
        asked = distinct
        starts = self._date_classes(dataset) if as_of is not None else None
        if starts is not None and as_of not in on and distinct.schema[as_of] == pl.Date:
            asked = with_column_replaced(distinct, class_start(distinct.get_column(as_of), starts))
        return self.cached_facts(
            ("lookup", *key),
            keys,
            lambda rows: self._refdata.lookup(rows, dataset, on, as_of=as_of, columns=columns),
            asked,
        )

    def _date_classes(self, dataset: str, always: bool = False) -> list[dt.date] | None:
        """:func:`class_starts` of ``dataset``, worked out once per reference data (None
        when lookups are keyed by the date, ``LOOKUP_DATE_CLASSES``, unless ``always``)."""
        if not (LOOKUP_DATE_CLASSES or always):
            return None
        store = facts_store(self._refdata)
        with store.lock:
            if dataset in store.date_classes:
                return store.date_classes[dataset]
        starts = class_starts(self._refdata, dataset)
        with store.lock:
            store.date_classes[dataset] = starts
        return starts

    def _small_lookup(
        self,
        frame: pl.LazyFrame,
        key: tuple[Any, ...],
        on: Mapping[str, str],
        as_of: str | None,
        columns: Sequence[str] | Mapping[str, str] | None,
    ) -> pl.LazyFrame:
        """A lookup on a frame derived from a small batch's lines, through the facts store.

        Joining a few rows to a reference table inside a rule's query hashes or scans the
        whole table (1-5 ms for the HCPCS or ICD-10-CM table) on every call; the frame's
        rows are few, so they are worked out now, and each key's answer is taken from
        the facts store (computed once per reference data). Same result as the plain
        lookup; a key matching several table rows falls back to it.
        """
        rows = self.rows(frame)
        # The store answers each row, in order: no join back on the keys.
        answers = self._stored_lookup(key, on, as_of, columns, rows[_lookup_keys(on, as_of)])
        if answers is None:
            return self._refdata.lookup(rows.lazy(), key[0], on, as_of=as_of, columns=columns)
        _refuse_overwrite(answers.columns, rows.columns)
        return rows.hstack(answers.get_columns()).lazy()

    def lookup(
        self,
        frame: Any,
        dataset: str,
        on: Mapping[str, str],
        as_of: str | None = None,
        columns: Sequence[str] | Mapping[str, str] | None = None,
    ) -> Any:
        # None asks for every column, an empty list for none: they must not share a key.
        cols_key: tuple[Any, ...] | None = (
            None
            if columns is None
            else tuple(columns.items())
            if isinstance(columns, Mapping)
            else tuple(columns)
        )
        key = (dataset, tuple(on.items()), as_of, cols_key)
        if frame is not self._lazy_lines:
            if self._lines.height < SMALL_BATCH_LINES and isinstance(frame, pl.LazyFrame):
                return self._small_lookup(frame, key, on, as_of, columns)
            return self._refdata.lookup(frame, dataset, on, as_of=as_of, columns=columns)
        if key not in self._memo:
            keys = _lookup_keys(on, as_of)
            small = self._lines.height < SMALL_BATCH_LINES  # each line as its own key row
            # The answer depends on the date only through its class (small batches class
            # it in _stored_lookup): one key row per class, not per date.
            classed = (as_of, (dataset,)) if as_of is not None and as_of not in on else None
            distinct = self._lines[keys] if small else self.key_index(keys, classed)[0]
            if small:
                answers = self._stored_lookup(key, on, as_of, columns, distinct)
                answers = distinct.hstack(answers.get_columns()) if answers is not None else None
            else:
                answers = self._refdata.lookup(distinct, dataset, on, as_of=as_of, columns=columns)
            if answers is not None and answers.height == distinct.height:
                added = answers.drop(keys)
                _refuse_overwrite(added.columns, self._lines.columns)
                spread = added if small else self.per_line(keys, added, classed)
                self._memo[key] = self._lines.hstack(spread.rechunk()).lazy()
            else:  # a key matched several table rows: keep the plain join semantics
                self._memo[key] = self._refdata.lookup(
                    frame, dataset, on, as_of=as_of, columns=columns
                )
        return self._memo[key]


def _lookup_keys(on: Mapping[str, str], as_of: str | None) -> list[str]:
    """The frame columns a lookup's answer depends on: its join keys and its date."""
    return list(dict.fromkeys([*on, *([as_of] if as_of else [])]))


def _refuse_overwrite(added: Sequence[str], existing: Sequence[str]) -> None:
    """A lookup adds columns; as ``RefData.lookup`` does, it never replaces one."""
    clash = [name for name in added if name in existing]
    if clash:
        raise ValueError(
            f"lookup would overwrite frame column(s) {', '.join(clash)}; "
            "pass columns={table_column: new_name}"
        )


def _value_codes(column: pl.Series) -> tuple[pl.Series, int]:
    """An Int64 code per value (equal values, and nulls, share one) and the code count."""
    if column.dtype.is_integer() or column.dtype.is_temporal() or column.dtype == pl.Boolean:
        codes = column.to_physical().cast(pl.Int64)
        codes = codes - (codes.min() or 0)  # type: ignore[operator]
    elif column.dtype.is_float():
        # By their text (the shortest form that reads back as the same number): NaN is
        # one value, and 0.0 and -0.0 stay apart, whatever a float join would make of them.
        return _value_codes(column.cast(pl.String))
    else:  # strings, lists, structs ...: number the distinct values
        distinct = column.unique().to_frame().with_row_index("_code")
        codes = (
            column.to_frame()
            .join(distinct, on=column.name, how="left", nulls_equal=True, maintain_order="left")
            .get_column("_code")
            .cast(pl.Int64)
        )
    count = int(codes.max() or 0) + 2  # type: ignore[arg-type]
    # Kept per column for the whole batch: the narrowest type that holds the codes.
    narrow = pl.UInt32 if count < 2**32 else pl.Int64
    return codes.fill_null(count - 1).cast(narrow), count


def _small_key_index(framed: pl.DataFrame) -> tuple[pl.DataFrame, pl.Series]:
    """:func:`_key_index` of a few rows: their key values numbered in a dictionary (a
    claim's keys in some microseconds, where coding each column costs queries)."""
    numbers: dict[tuple[Any, ...], int] = {}
    first_rows: list[int] = []
    index: list[int] = []
    for position, row in enumerate(key_rows(framed)):
        number = numbers.setdefault(row, len(first_rows))
        if number == len(first_rows):
            first_rows.append(position)
        index.append(number)
    return framed[first_rows], pl.Series("_key_row", index, dtype=pl.UInt32)


def _key_index(
    framed: pl.DataFrame, column_codes: Sequence[tuple[pl.Series, int]]
) -> tuple[pl.DataFrame, pl.Series]:
    """(distinct rows of ``framed``, each row's position among them) without a wide join.

    Each key column is turned into integer codes (``column_codes``, from
    :func:`_value_codes`), the codes into one Int64 per row, and rows are numbered by
    that number: a join on many string columns costs several times more on millions of
    lines.
    """
    combined: pl.Series | None = None
    span = 1
    for codes, count in column_codes:
        if span * count >= 2**62:  # too many combinations for one Int64: join instead
            distinct = framed.unique(maintain_order=True)
            index = framed.join(
                distinct.with_row_index("_key_row"),
                on=framed.columns,
                how="left",
                nulls_equal=True,
                maintain_order="left",
            ).get_column("_key_row")
            return distinct, index
        term = codes.cast(pl.Int64) * span
        combined = term if combined is None else combined + term
        span *= count
    assert combined is not None
    if span <= 16 * max(framed.height, 1024):
        # Few enough combinations to address directly: number the ones that occur.
        # Any row of a key has that key's values, so which duplicate "wins" is irrelevant.
        some_row = pl.Series(values=[-1], dtype=pl.Int64).extend_constant(-1, span - 1)
        some_row = some_row.scatter(combined, pl.int_range(combined.len(), eager=True))
        occurs = some_row >= 0
        position = occurs.cast(pl.UInt32).cum_sum() - 1
        index = position.gather(combined).alias("_key_row")
        return framed[some_row.filter(occurs)], index
    numbered = pl.DataFrame({"_k": combined}).with_row_index("_r")
    first = numbered.unique("_k", keep="first", maintain_order=True).with_row_index("_key_row")
    index = numbered.join(
        first.select("_k", "_key_row"), on="_k", how="left", maintain_order="left"
    ).get_column("_key_row")
    return framed[first.get_column("_r")], index


def _columns_with_data(lines: pl.DataFrame, rules: Sequence[Rule]) -> set[str]:
    """The columns rules declare as ``inputs`` that hold a value on some line (each
    column counted once, not once per rule naming it)."""
    named = {col for rule in rules for col in rule.inputs}
    return {
        col
        for col in named
        if col in lines.columns and lines.get_column(col).null_count() < lines.height
    }


def evaluate(
    rules: Sequence[Rule],
    lines: pl.DataFrame,
    claims: pl.DataFrame,
    refdata: RefData,
    history: pl.DataFrame | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    packs: Mapping[str, Pack] | None = None,
) -> Evaluation:
    """Run ``rules`` and return their findings, sorted by claim, line and rule.

    ``lines`` must already carry the claim-level columns and pack settings (see
    :func:`claimscrub.engine.prepare.prepare_lines`): a line's claim-level columns hold
    its claim's values in ``claims``.
    Rules whose ``inputs`` hold no data in this batch are skipped (and listed).

    A batch of more than about ``BUCKET_LINES`` lines is checked in buckets of patients,
    one after the other, so the rules' intermediate frames stay bounded; rules look at one
    patient at a time (each declares its ``scope``), so the findings are those of one
    pass over the whole batch.
    """
    options = options or {}
    lines, claims = _rule_columns(lines), _rule_columns(claims)
    history = _rule_columns(history) if history is not None else None
    skipped: list[tuple[str, str]] = []
    runnable: list[Rule] = []
    with_data = _columns_with_data(lines, rules)
    for rule in rules:
        absent = [col for col in rule.inputs if col not in with_data]
        if absent and lines.height:
            skipped.append((rule.code, f"no data in {', '.join(absent)}"))
        else:
            runnable.append(rule)
    found: list[pl.DataFrame] = []
    broken: dict[str, str] = {}
    for bucket_lines, bucket_claims, bucket_history in _patient_buckets(lines, claims, history):
        with optimised(bucket_lines.height >= SMALL_BATCH_LINES):
            frames, errors = _evaluate_rules(
                runnable, bucket_lines, bucket_claims, refdata, bucket_history, options, packs or {}
            )
        found.extend(frames)
        for code, error in errors:
            broken.setdefault(code, error)
        del bucket_lines, bucket_claims, bucket_history  # before the next bucket is cut
    findings = pl.concat([pl.DataFrame(schema=FINDINGS_SCHEMA), *found], how="vertical_relaxed")
    if broken:  # a rule that failed on one bucket is not applied at all
        findings = findings.filter(~pl.col("rule").is_in(list(broken)))
    findings = _apply_gates(
        findings,
        [r.code for r in rules if r.gates_line],
        [r.code for r in rules if not r.depends_on_code],
    )
    failures = list(broken.items())
    if failures:
        findings = pl.concat([findings, _broken_frame(failures)], how="vertical_relaxed")
    # Stable, so several findings of one rule on one line keep the order the rule gave.
    findings = findings.sort(
        [c.CLAIM_KEY, c.LINE_NO, "rule"], nulls_last=False, maintain_order=True
    )
    return Evaluation(findings=findings, skipped=skipped, broken=failures)


def _rule_columns(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` without the columns no rule reads (``columns.UNREAD_BY_RULES``): on a
    claim's few lines, each column less in the frames its rules query makes planning
    every step of every query cheaper."""
    keep = [name for name in frame.columns if name not in c.UNREAD_BY_RULES]
    return frame if len(keep) == frame.width else frame[keep]  # a column pick, not a query


def _patient_buckets(
    lines: pl.DataFrame, claims: pl.DataFrame, history: pl.DataFrame | None
) -> Iterator[tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame | None]]:
    """The batch split by a hash of the patient (a claim without one is its own patient),
    one bucket at a time (each is a copy of its lines)."""
    count = round(lines.height / BUCKET_LINES)
    if count <= 1:
        yield lines, claims, history
        return
    patient = pl.coalesce(
        pl.col(c.PATIENT_ID), pl.format("claim:{}", pl.col(c.CLAIM_KEY).cast(pl.String))
    )
    bucket = (patient.hash() % count).alias("_bucket")
    # Lines carry their claim's patient, so a claim and its lines land together.
    line_bucket = lines.select(bucket).get_column("_bucket")
    claim_bucket = claims.select(bucket).get_column("_bucket")
    history_bucket = None
    if history is not None:  # rules read only history lines that name a patient
        history_bucket = history.select(pl.col(c.PATIENT_ID).hash() % count).to_series()
    for number in range(count):
        yield (
            lines.filter(line_bucket == number),
            claims.filter(claim_bucket == number),
            history.filter(history_bucket == number) if history is not None else None,
        )


def _evaluate_rules(
    rules: Sequence[Rule],
    lines: pl.DataFrame,
    claims: pl.DataFrame,
    refdata: RefData,
    history: pl.DataFrame | None,
    options: Mapping[str, Mapping[str, Any]],
    packs: Mapping[str, Pack],
) -> tuple[list[pl.DataFrame], list[tuple[str, str]]]:
    """Each rule's findings on one batch (or bucket), and the rules that failed."""
    broken: list[tuple[str, str]] = []
    plans: list[tuple[Rule, pl.LazyFrame]] = []
    spreads: dict[str, pl.Series] = {}  # rule code -> each line's distinct-key row
    # One chunk per column: the shared facts are attached to the lines as single-chunk
    # columns, and a frame whose columns are chunked differently is realigned (copied
    # whole) by every eager operation on it.
    lines, claims = lines.rechunk(), claims.rechunk()
    lazy_lines, lazy_claims = lines.lazy(), claims.lazy()
    lazy_history = history.rechunk().lazy() if history is not None else None
    batch_refdata = _BatchRefData(refdata, lines, lazy_lines, claims)
    # As text: a string caches its hash, so each rule's schema look-up costs little.
    batch_key = repr(
        (
            lines.height < SMALL_BATCH_LINES,
            list(lines.schema.items()),
            list(claims.schema.items()),
            list(history.schema.items()) if history is not None else None,
        )
    )
    views: dict[tuple[str, ...], tuple[_BatchRefData, pl.Series]] = {}
    # A big batch's plans start as they are built; a small batch's once all are (see the
    # module docstring). 1 M lines, all plans as one query at the end -> so: 202-210 k ->
    # 209-234 k lines/s (medians of 3 runs, three such runs each way), the same peak RSS.
    early = lines.height >= SMALL_BATCH_LINES
    running: list[tuple[Rule, Running]] = []

    def context(rule: Rule, rule_refdata: _BatchRefData) -> RuleContext:
        return RuleContext(
            lines=rule_refdata.lazy_lines,
            claims=lazy_claims,
            refdata=rule_refdata,  # type: ignore[arg-type]
            history=lazy_history,
            options={**rule.options, **options.get(rule.code, {})},
            packs=packs,
        )

    idle = _applying_to_no_line(rules, lines, lambda rule: context(rule, batch_refdata))
    try:
        for rule in rules:
            if rule.code in idle:
                continue
            rule_refdata = batch_refdata
            try:
                if rule.distinct_on and lines.height >= DISTINCT_MIN_LINES:
                    if rule.distinct_on not in views:
                        views[rule.distinct_on] = _distinct_view(batch_refdata, rule.distinct_on)
                    rule_refdata, spreads[rule.code] = views[rule.distinct_on]
                ctx = context(rule, rule_refdata)
                per_key = rule_refdata is not batch_refdata
                finding = rule.func(ctx)
                plan = _plan(rule, finding, _schema_key(rule, ctx, per_key, batch_key))
                if early:
                    running.append((rule, start(plan)))
                else:
                    plans.append((rule, plan))
            except (Exception, PanicException) as exc:  # noqa: BLE001 - one broken rule never hides the others
                broken.append((rule.code, f"{type(exc).__name__}: {exc}"))
                spreads.pop(rule.code, None)
    except BaseException:  # an interrupt: wait for the started plans (see _drain)
        _drain(running)
        raise
    collected = _results(running, broken) + _collect_each(plans, broken)
    frames = [
        _spread(frame, lines, spreads[rule.code]) if rule.code in spreads else frame
        for rule, frame in collected
    ]
    return frames, broken


def _applying_to_no_line(
    rules: Sequence[Rule], lines: pl.DataFrame, context: Callable[[Rule], RuleContext]
) -> set[str]:
    """Codes of the rules whose ``applies_when`` is true on no line of ``lines``.

    Such a rule could find nothing in this batch (a claim for a commercial plan has no
    Medicare benefit line), so neither its shared facts nor its plan are worth building.
    Every rule's test is answered in one query. A test that cannot be evaluated leaves
    its rule to run, and to report what is wrong with it.
    """
    if not APPLIES_WHEN:
        return set()
    # Rules sharing a test (a dozen ask whether the pack applies the Medicare benefit)
    # share its answer: one test per function and options.
    tests: dict[str, pl.Expr] = {}
    test_of: dict[str, str] = {}  # rule code -> its test's name in ``tests``
    named: dict[Hashable, str] = {}
    for rule in rules:
        if rule.applies_when is None:
            continue
        ctx = context(rule)
        key = _test_key(rule, ctx)
        if key not in named:
            test = _applies_test(rule, ctx, key)
            if test is None:
                continue  # the test cannot be built: the rule runs and reports it
            named[key] = f"t{len(tests)}"
            tests[named[key]] = test
        test_of[rule.code] = named[key]
    if lines.height > APPLIES_SAMPLE_LINES:
        # A big batch: a test true on its first lines is settled without reading the rest
        # (on realistic batches, all of them), so only the others go over every line.
        head = _answers(lines.head(APPLIES_SAMPLE_LINES), tests)
        tests = {name: test for name, test in tests.items() if head[name] is not True}
    if not tests:
        return set()
    false = {name for name, some_line in _answers(lines, tests).items() if some_line is False}
    return {code for code, name in test_of.items() if name in false}


# The ``applies_when`` tests, kept across batches: building some forty expressions cost a
# claim checked through the API about a millisecond and a half. A test reads only the
# rule's options, its packs and whether there is history, which the key holds (the packs
# by identity; the entry keeps them alive, so an identity is never reused while cached).
_TESTS: dict[Hashable, tuple[pl.Expr | None, tuple[object, ...]]] = {}
_TESTS_MAX = 2_000


def _test_key(rule: Rule, ctx: RuleContext) -> Hashable:
    packs = tuple((name, id(pack)) for name, pack in sorted(ctx.packs.items()))
    options = repr(sorted(ctx.options.items()))
    return (rule.applies_when, options, packs, ctx.history is None)


def _applies_test(rule: Rule, ctx: RuleContext, key: Hashable) -> pl.Expr | None:
    """The rule's ``applies_when`` as one any() expression (None when it cannot be built)."""
    if key in _TESTS:
        return _TESTS[key][0]
    assert rule.applies_when is not None
    try:
        test: pl.Expr | None = rule.applies_when(ctx).fill_null(False).any()
    except Exception:  # noqa: BLE001
        test = None
    if len(_TESTS) >= _TESTS_MAX:
        _TESTS.clear()
    _TESTS[key] = (test, tuple(ctx.packs.values()))
    return test


def _answers(lines: pl.DataFrame, tests: dict[str, pl.Expr]) -> dict[str, bool | None]:
    """Each test's answer on ``lines``, in one query; None for a test that fails."""
    try:
        return lines.select(**tests).row(0, named=True)
    except (Exception, PanicException):  # noqa: BLE001 - find the test that fails
        return {code: _answer(lines, test) for code, test in tests.items()}


def _answer(lines: pl.DataFrame, test: pl.Expr) -> bool | None:
    try:
        return bool(lines.select(test).item())
    except (Exception, PanicException):  # noqa: BLE001
        return None


def _apply_gates(
    findings: pl.DataFrame, gate_codes: list[str], independent: list[str]
) -> pl.DataFrame:
    """Drop other rules' findings on lines where a gate rule found the code itself wrong
    (findings of rules that do not depend on the code, such as NDC format, are kept)."""
    if not gate_codes or findings.is_empty():
        return findings
    by_gate = findings.get_column("rule").is_in(gate_codes)
    by_gate &= findings.get_column(c.LINE_NO).is_not_null()
    if not by_gate.any():
        return findings  # no line is gated (most batches of a few claims): no join
    gated = (
        findings.filter(by_gate)
        .select(c.CLAIM_KEY, c.LINE_NO)
        .unique()
        .with_columns(pl.lit(True).alias("_gated"))
    )
    return (
        findings.join(gated, on=[c.CLAIM_KEY, c.LINE_NO], how="left", maintain_order="left")
        .filter(pl.col("_gated").is_null() | pl.col("rule").is_in([*gate_codes, *independent]))
        .drop("_gated")
    )


def _collect_each(
    plans: list[tuple[Rule, pl.LazyFrame]], broken: list[tuple[str, str]]
) -> list[tuple[Rule, pl.DataFrame]]:
    """Each plan collected on Polars' thread pool (see :mod:`claimscrub.rules.querying`),
    every one started before the first is waited for; a plan that fails names its rule."""
    pending: list[tuple[Rule, Running]] = []
    for rule, lf in plans:
        try:
            pending.append((rule, start(lf)))
        except (Exception, PanicException) as exc:  # noqa: BLE001
            broken.append((rule.code, f"{type(exc).__name__}: {exc}"))
    return _results(pending, broken)


def _results(
    pending: list[tuple[Rule, Running]], broken: list[tuple[str, str]]
) -> list[tuple[Rule, pl.DataFrame]]:
    """The collected frames of ``pending``, in order; a plan that failed names its rule."""
    collected = []
    for position, (rule, running) in enumerate(pending):
        try:
            collected.append((rule, running.fetch_blocking()))
        except (Exception, PanicException) as exc:  # noqa: BLE001
            broken.append((rule.code, f"{type(exc).__name__}: {exc}"))
        except BaseException:  # an interrupt: wait for the others (see _drain)
            _drain(pending[position + 1 :])
            raise
    return collected


def _drain(pending: list[tuple[Rule, Running]]) -> None:
    """Wait for started plans, whatever their outcome: a query started on Polars' pool
    whose handle is dropped unfetched makes the pool thread panic, and the process abort,
    when the query ends."""
    for _, running in pending:
        try:
            running.fetch_blocking()
        except BaseException:  # noqa: BLE001, S112 - only waiting; the caller re-raises
            continue


def _distinct_view(
    batch_refdata: _BatchRefData, keys: tuple[str, ...]
) -> tuple[_BatchRefData, pl.Series]:
    """The distinct combinations of ``keys`` as lines of their own, and each line's row.

    A rule that judges each line alone (``distinct_on``) runs on these rows: each gets
    its row number as ``claim_key`` and line number 0, which :func:`_spread` replaces
    with the real claims and lines.
    """
    distinct, index = batch_refdata.key_index(keys)
    frame = distinct.with_columns(
        pl.int_range(pl.len(), dtype=pl.Int64).alias(c.CLAIM_KEY),
        pl.lit(0, dtype=pl.Int64).alias(c.LINE_NO),
    ).rechunk()
    return _BatchRefData(batch_refdata.refdata, frame, frame.lazy()), index


def _spread(found: pl.DataFrame, lines: pl.DataFrame, key_rows: pl.Series) -> pl.DataFrame:
    """Findings made per distinct key row, given to every line with that key (line order)."""
    per_line = pl.DataFrame(
        {
            "_key": key_rows.cast(pl.Int64),
            "_claim": lines.get_column(c.CLAIM_KEY).cast(pl.Int64),
            "_line": lines.get_column(c.LINE_NO).cast(pl.Int64),
        }
    )
    return (
        per_line.join(
            found.rename({c.CLAIM_KEY: "_key", c.LINE_NO: "_found_line"}),
            on="_key",
            how="inner",
            maintain_order="left_right",
        )
        .with_columns(
            pl.col("_claim").alias(c.CLAIM_KEY),
            # A rule that drops line_no reports on the claim: keep its null.
            pl.when(pl.col("_found_line").is_not_null()).then(pl.col("_line")).alias(c.LINE_NO),
        )
        .select(found.columns)
    )


def _broken_frame(broken: list[tuple[str, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            c.CLAIM_KEY: [None] * len(broken),
            c.LINE_NO: [None] * len(broken),
            "rule": ["ENG001"] * len(broken),
            "severity": ["error"] * len(broken),
            # the rule certainly failed; what it would have found is unknown
            "confidence": ["high"] * len(broken),
            "message": [f"rule {code} failed and was not applied: {err}" for code, err in broken],
            "fix": [None] * len(broken),
            "fix_title": [None] * len(broken),
            "carc": [None] * len(broken),
            "rarc": [[] for _ in broken],
        },
        schema=FINDINGS_SCHEMA,
    )
