"""Run rules over canonical frames and collect every finding in one frame.

Each rule returns a lazy :class:`~claimscrub.rules.finding.Finding`; the engine keeps
the violated rows, formats messages and fixes in columns, concatenates all rules and
collects once. A rule that raises — while building its plan or while it is collected —
becomes one ``ENG001`` finding naming the rule; it never hides the other rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import polars as pl

from claimscrub.model import columns as c
from claimscrub.rules.context import RuleContext

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
        "message": pl.String(),
        "fix": pl.String(),  # JSON object of corrected field values, or null
        "fix_title": pl.String(),
        "carc": pl.String(),
        "rarc": pl.List(pl.String()),
    }
)
_PLACEHOLDER = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*)\}")


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


def format_template(template: str, schema: pl.Schema) -> pl.Expr:
    """Turn ``"{units} unit(s) of {hcpcs}"`` into one vectorised string expression."""
    names = _PLACEHOLDER.findall(template)
    if not names:
        return pl.lit(template)
    missing = [n for n in names if n not in schema]
    if missing:
        raise KeyError(f"message template names unknown column(s): {', '.join(missing)}")
    fmt = _PLACEHOLDER.sub("{}", template.replace("{{", "\x00").replace("}}", "\x01"))
    fmt = fmt.replace("\x00", "{{").replace("\x01", "}}")
    return pl.format(fmt, *[_text(pl.col(n), schema[n]) for n in names])


def _fix_json(fix: Mapping[str, pl.Expr]) -> pl.Expr:
    """The fix as a JSON object; null when any corrected value is not determinable."""
    if not fix:
        return pl.lit(None, dtype=pl.String)
    complete = pl.all_horizontal([expr.is_not_null() for expr in fix.values()])
    encoded = pl.struct([expr.alias(name) for name, expr in fix.items()]).struct.json_encode()
    return pl.when(complete).then(encoded).otherwise(None)


def _plan(rule: Rule, finding: Finding) -> pl.LazyFrame:
    rows = finding.rows.filter(finding.violated)
    schema = rows.collect_schema()
    # A finding points at a line whenever the rule's rows keep ``line_no`` (whatever the
    # rule's scope, which says how far it looks); rules reporting on a whole claim drop it.
    line_no = pl.col(c.LINE_NO) if c.LINE_NO in schema else pl.lit(None)
    title = format_template(finding.fix_title, schema) if finding.fix_title else pl.lit(None)
    return rows.select(
        pl.col(c.CLAIM_KEY).cast(pl.Int64),
        line_no.cast(pl.Int64).alias(c.LINE_NO),
        pl.lit(rule.code).alias("rule"),
        pl.lit(rule.severity.value).alias("severity"),
        format_template(finding.message, schema).alias("message"),
        _fix_json(finding.fix).alias("fix"),
        pl.when(_fix_json(finding.fix).is_not_null())
        .then(title)
        .cast(pl.String)
        .alias("fix_title"),
        (finding.carc if finding.carc is not None else pl.lit(rule.carc, dtype=pl.String)).alias(
            "carc"
        ),
        (
            finding.rarc
            if finding.rarc is not None
            else pl.lit(list(rule.rarc), dtype=pl.List(pl.String))
        ).alias("rarc"),
    )


class _BatchRefData:
    """Reference data for one batch: lookups on the batch's lines are computed once.

    Many rules join the same facts onto the same lines (the HCPCS record in force, the
    crosswalk row of the NDC). The first such lookup runs eagerly on just the key columns,
    and its new columns are attached to the lines without copying the existing ones; later
    rules asking the same question get the same frame. Lookups on other frames, and
    lookups that can match several table rows per line, go to the real catalog.
    """

    def __init__(self, refdata: RefData, lines: pl.DataFrame, lazy_lines: pl.LazyFrame) -> None:
        self._refdata = refdata
        self._lines = lines
        self._lazy_lines = lazy_lines
        self._memo: dict[tuple[Any, ...], pl.LazyFrame] = {}
        self._shared: dict[Hashable, pl.LazyFrame] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._refdata, name)

    def shared(self, key: Hashable, build: Callable[[], pl.LazyFrame]) -> pl.LazyFrame:
        """The frame ``build`` derives from this batch's lines, computed once per run.

        Several rules start from the same derived frame (the Medicare benefit lines with
        their transplant status, the expected units of each line, the MUE of each line,
        the diagnoses each line points to). Each rule building its own copy of the plan
        makes ``collect_all`` compute it once per rule; every rule asking with the same
        ``key`` gets one cached plan instead, computed once when the rules are collected
        together. ``key`` must name everything ``build`` depends on besides the batch.
        """
        if key not in self._shared:
            self._shared[key] = build().cache()
        return self._shared[key]

    def lookup(
        self,
        frame: Any,
        dataset: str,
        on: Mapping[str, str],
        as_of: str | None = None,
        columns: Sequence[str] | Mapping[str, str] | None = None,
    ) -> Any:
        if frame is not self._lazy_lines:
            return self._refdata.lookup(frame, dataset, on, as_of=as_of, columns=columns)
        cols_key = tuple(columns.items()) if isinstance(columns, Mapping) else tuple(columns or ())
        key = (dataset, tuple(on.items()), as_of, cols_key)
        if key not in self._memo:
            keys = list(dict.fromkeys([*on, *([as_of] if as_of else [])]))
            answers = self._refdata.lookup(
                self._lines.select(keys), dataset, on, as_of=as_of, columns=columns
            )
            if answers.height == self._lines.height:
                self._memo[key] = self._lines.hstack(answers.drop(keys)).lazy()
            else:  # a key matched several table rows: keep the plain join semantics
                self._memo[key] = self._refdata.lookup(
                    frame, dataset, on, as_of=as_of, columns=columns
                )
        return self._memo[key]


def _has_data(lines: pl.DataFrame, column: str) -> bool:
    return column in lines.columns and lines[column].null_count() < lines.height


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
    :func:`claimscrub.engine.prepare.prepare_lines`).
    Rules whose ``inputs`` hold no data in this batch are skipped (and listed).
    """
    options = options or {}
    skipped: list[tuple[str, str]] = []
    broken: list[tuple[str, str]] = []
    plans: list[tuple[Rule, pl.LazyFrame]] = []
    lazy_lines, lazy_claims = lines.lazy(), claims.lazy()
    lazy_history = history.lazy() if history is not None else None
    batch_refdata = _BatchRefData(refdata, lines, lazy_lines)
    for rule in rules:
        absent = [col for col in rule.inputs if not _has_data(lines, col)]
        if absent and lines.height:
            skipped.append((rule.code, f"no data in {', '.join(absent)}"))
            continue
        ctx = RuleContext(
            lines=lazy_lines,
            claims=lazy_claims,
            refdata=batch_refdata,  # type: ignore[arg-type]
            history=lazy_history,
            options={**rule.options, **options.get(rule.code, {})},
            packs=packs or {},
        )
        try:
            plans.append((rule, _plan(rule, rule.func(ctx))))
        except Exception as exc:  # noqa: BLE001 - one broken rule never hides the others
            broken.append((rule.code, f"{type(exc).__name__}: {exc}"))
    frames = _collect(plans, broken)
    findings = pl.concat([pl.DataFrame(schema=FINDINGS_SCHEMA), *frames], how="vertical_relaxed")
    findings = _apply_gates(
        findings,
        [r.code for r in rules if r.gates_line],
        [r.code for r in rules if not r.depends_on_code],
    )
    if broken:
        findings = pl.concat([findings, _broken_frame(broken)], how="vertical_relaxed")
    # Stable, so several findings of one rule on one line keep the order the rule gave.
    findings = findings.sort(
        [c.CLAIM_KEY, c.LINE_NO, "rule"], nulls_last=False, maintain_order=True
    )
    return Evaluation(findings=findings, skipped=skipped, broken=broken)


def _apply_gates(
    findings: pl.DataFrame, gate_codes: list[str], independent: list[str]
) -> pl.DataFrame:
    """Drop other rules' findings on lines where a gate rule found the code itself wrong
    (findings of rules that do not depend on the code, such as NDC format, are kept)."""
    if not gate_codes or findings.is_empty():
        return findings
    gated = (
        findings.filter(pl.col("rule").is_in(gate_codes) & pl.col(c.LINE_NO).is_not_null())
        .select(c.CLAIM_KEY, c.LINE_NO)
        .unique()
        .with_columns(pl.lit(True).alias("_gated"))
    )
    return (
        findings.join(gated, on=[c.CLAIM_KEY, c.LINE_NO], how="left", maintain_order="left")
        .filter(pl.col("_gated").is_null() | pl.col("rule").is_in([*gate_codes, *independent]))
        .drop("_gated")
    )


def _collect(
    plans: list[tuple[Rule, pl.LazyFrame]], broken: list[tuple[str, str]]
) -> list[pl.DataFrame]:
    """Collect every plan together; on failure, one by one to find the broken rule."""
    if not plans:
        return []
    try:
        # The in-memory engine: on these many small, join-heavy plans over frames already
        # in memory it is about twice as fast as the streaming engine that "auto" picks.
        return pl.collect_all([lf for _, lf in plans], engine="in-memory")
    except Exception:  # noqa: BLE001 - isolate the culprit below
        frames = []
        for rule, lf in plans:
            try:
                frames.append(lf.collect(engine="in-memory"))
            except Exception as exc:  # noqa: BLE001
                broken.append((rule.code, f"{type(exc).__name__}: {exc}"))
        return frames


def _broken_frame(broken: list[tuple[str, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            c.CLAIM_KEY: [None] * len(broken),
            c.LINE_NO: [None] * len(broken),
            "rule": ["ENG001"] * len(broken),
            "severity": ["error"] * len(broken),
            "message": [f"rule {code} failed and was not applied: {err}" for code, err in broken],
            "fix": [None] * len(broken),
            "fix_title": [None] * len(broken),
            "carc": [None] * len(broken),
            "rarc": [[] for _ in broken],
        },
        schema=FINDINGS_SCHEMA,
    )
