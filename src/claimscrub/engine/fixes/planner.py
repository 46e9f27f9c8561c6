"""One fix pass: which edits to apply, which fixes to hold back, and applying them.

Everything here works on whole columns: fixes are decoded once into typed columns, one
frame per target field; conflicts are found with a window over the target; the edits
are written with one join per changed column.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from claimscrub.diagnostics import Applicability
from claimscrub.engine.fixes.records import (
    CLAIM_TARGETS,
    LINE_TARGETS,
    FieldEdit,
    HeldFix,
    edit_order,
)
from claimscrub.engine.report import Report
from claimscrub.model import columns as c
from claimscrub.model.schema import Field
from claimscrub.readers import ClaimSet
from claimscrub.readers.base import ClaimBatch


@dataclass
class PassPlan:
    line_edits: dict[str, pl.DataFrame] = field(default_factory=dict)  # column -> key + _new
    claim_edits: dict[str, pl.DataFrame] = field(default_factory=dict)
    records: list[FieldEdit] = field(default_factory=list)
    held: list[HeldFix] = field(default_factory=list)
    findings_applied: int = 0


_LINE_KEY = [c.CLAIM_KEY, c.LINE_NO]


def _allowed(unsafe: bool) -> list[str]:
    return [Applicability.SAFE.value, *([Applicability.UNSAFE.value] if unsafe else [])]


def _candidates(report: Report, unsafe: bool) -> pl.DataFrame:
    """Findings with a fix this run may apply, numbered, with their rule's applicability."""
    applicability = pl.DataFrame(
        {
            "rule": [r.code for r in report.rules],
            "applicability": [r.fix.value for r in report.rules],
        },
        schema={"rule": pl.String, "applicability": pl.String},
    )
    return (
        report.findings.filter(pl.col("fix").is_not_null() & pl.col(c.CLAIM_KEY).is_not_null())
        .select(c.CLAIM_KEY, c.LINE_NO, "rule", "fix")
        .join(applicability, on="rule", how="inner")
        .filter(pl.col("applicability").is_in(_allowed(unsafe)))
        .with_row_index("_finding")
    )


def _proposals(
    candidates: pl.DataFrame,
) -> tuple[list[tuple[str, Field, pl.DataFrame]], pl.DataFrame]:
    """Split fixes into one frame per (level, column): ``_finding, rule, keys, _new``.

    Returns the frames and the findings naming a field no claim format has.
    """
    keys_by_rule = {
        rule: list(json.loads(text))
        for rule, text in candidates.unique("rule", keep="first").select("rule", "fix").iter_rows()
    }
    names = sorted({k for keys in keys_by_rule.values() for k in keys})
    dtype = pl.Struct(
        {
            name: (LINE_TARGETS.get(name) or CLAIM_TARGETS[name]).dtype
            for name in names
            if name in LINE_TARGETS or name in CLAIM_TARGETS
        }
    )
    decoded = candidates.with_columns(pl.col("fix").str.json_decode(dtype).alias("_v"))
    frames: list[tuple[str, Field, pl.DataFrame]] = []
    unknown: list[pl.DataFrame] = []
    for name in names:
        has = pl.col("rule").is_in([r for r, keys in keys_by_rule.items() if name in keys])
        on_line = pl.col(c.LINE_NO).is_not_null()
        rows = decoded.filter(has)
        line_field, claim_field = LINE_TARGETS.get(name), CLAIM_TARGETS.get(name)
        if line_field is not None:
            frames.append(("line", line_field, _frame(rows.filter(on_line), name, line=True)))
            rows = rows.filter(~on_line)
        if claim_field is not None:
            frames.append(("claim", claim_field, _frame(rows, name, line=False)))
        elif rows.height:
            values = [json.loads(text)[name] for text in rows["fix"].to_list()]
            unknown.append(
                rows.select(
                    "_finding",
                    c.CLAIM_KEY,
                    c.LINE_NO,
                    "rule",
                    pl.lit(name).alias("_field"),
                    pl.Series("_new", [json.dumps(v) for v in values], dtype=pl.String),
                )
            )
    return frames, pl.concat(unknown) if unknown else pl.DataFrame()


def _frame(rows: pl.DataFrame, name: str, *, line: bool) -> pl.DataFrame:
    line_no = pl.col(c.LINE_NO) if line else pl.lit(None, dtype=pl.Int64).alias(c.LINE_NO)
    return rows.select(
        "_finding",
        "rule",
        "applicability",
        c.CLAIM_KEY,
        line_no,
        pl.col("_v").struct.field(name).alias("_new"),
        pl.lit(name).alias("_field"),
    )


def _with_old(level: str, target: Field, frame: pl.DataFrame, batch: ClaimBatch) -> pl.DataFrame:
    """Proposals with the current value of the field they change (``_old``)."""
    if level == "line":
        current = batch.lines.select(*_LINE_KEY, pl.col(target.name).alias("_old"))
        return frame.join(current, on=_LINE_KEY, how="left")
    current = batch.claims.select(c.CLAIM_KEY, pl.col(target.name).alias("_old"))
    return frame.join(current, on=c.CLAIM_KEY, how="left")


def _claim_facts(batch: ClaimBatch) -> dict[int, tuple[str, str]]:
    return {
        key: (claim_id, src)
        for key, claim_id, src in batch.claims.select(c.CLAIM_KEY, c.CLAIM_ID, c.SRC).iter_rows()
    }


def _held(rows: pl.DataFrame, reason: str, facts: dict[int, tuple[str, str]]) -> list[HeldFix]:
    """One HeldFix per (claim, line, field) from proposal rows ``claim_key, line_no, _field, rule, _new``."""
    out = []
    grouped = rows.group_by([c.CLAIM_KEY, c.LINE_NO, "_field"], maintain_order=True).agg(
        "rule", "_new"
    )
    for key, line, name, rules, values in grouped.iter_rows():
        claim_id, src = facts.get(key, ("?", "?"))
        proposals: list[tuple[str, Any]] = []
        for proposal in zip(rules, values, strict=True):
            if proposal not in proposals:  # (values may be lists: no set)
                proposals.append(proposal)
        out.append(HeldFix(claim_id, src, line, name, tuple(proposals), reason))
    return out


def plan_pass(report: Report, batch: ClaimBatch, unsafe: bool, pass_no: int) -> PassPlan:
    """The edits one pass applies, and the fixes it holds back."""
    plan = PassPlan()
    candidates = _candidates(report, unsafe)
    if candidates.is_empty():
        return plan
    facts = _claim_facts(batch)
    frames, unknown = _proposals(candidates)
    frames = [
        (level, target, _with_old(level, target, frame, batch)) for level, target, frame in frames
    ]
    blocked: set[int] = set()

    def usable(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.filter(~pl.col("_finding").is_in(list(blocked)))

    if not unknown.is_empty():
        blocked |= set(unknown["_finding"].to_list())
        plan.held += _held(unknown, "unknown-field", facts)

    # A line number used twice in one claim: the finding cannot say which line it means.
    twice = batch.lines.filter(pl.struct(_LINE_KEY).is_duplicated()).select(_LINE_KEY).unique()
    if twice.height:
        for level, _target, frame in frames:
            ambiguous = frame.join(twice, on=_LINE_KEY, how="semi") if level == "line" else None
            if ambiguous is not None and ambiguous.height:
                blocked |= set(ambiguous["_finding"].to_list())
                plan.held += _held(ambiguous, "ambiguous-line", facts)

    # A fix that changes a line's code comes with what follows from it (its units); the
    # line's other fixes were computed for the old code, so they wait for the re-check
    # of the new code instead of competing with it.
    changing = [
        usable(frame).filter(pl.col("_new").ne_missing(pl.col("_old")))
        for level, target, frame in frames
        if level == "line" and target.name == c.HCPCS
    ]
    changing = [frame for frame in changing if frame.height]
    if changing:
        changers = pl.concat([frame.select(*_LINE_KEY, "_finding") for frame in changing])
        on_changed = candidates.join(changers.select(_LINE_KEY).unique(), on=_LINE_KEY, how="semi")
        blocked |= set(on_changed["_finding"].to_list()) - set(changers["_finding"].to_list())

    # Different values for one field of one line (or claim): apply none of them (and
    # none of the other edits of those fixes, which are applied whole or not at all).
    clashing: set[int] = set()
    for level, _target, frame in frames:
        keys = _LINE_KEY if level == "line" else [c.CLAIM_KEY]
        clash = usable(frame).filter(pl.col("_new").n_unique().over(keys) > 1)
        if clash.height:
            clashing |= set(clash["_finding"].to_list())
            plan.held += _held(clash.sort([*keys, "rule"]), "conflict", facts)
    blocked |= clashing

    applied: set[int] = set()
    for level, target, frame in frames:
        rows = usable(frame)
        rows = rows.filter(pl.col("_new").ne_missing(pl.col("_old")))
        if rows.is_empty():
            continue
        keys = _LINE_KEY if level == "line" else [c.CLAIM_KEY]
        applied |= set(rows["_finding"].to_list())
        edits = rows.group_by(keys, maintain_order=True).agg(
            pl.col("_new").first(),
            pl.col("_old").first(),
            pl.col("rule").unique(maintain_order=True),
            pl.col("applicability").first(),
            pl.col("_field").first(),
        )
        (plan.line_edits if level == "line" else plan.claim_edits)[target.name] = edits.select(
            *keys, "_new"
        )
        for row in edits.iter_rows(named=True):
            claim_id, src = facts.get(row[c.CLAIM_KEY], ("?", "?"))
            plan.records.append(
                FieldEdit(
                    claim_key=row[c.CLAIM_KEY],
                    claim_id=claim_id,
                    source=src,
                    line=row.get(c.LINE_NO),
                    field=row["_field"],
                    old=row["_old"],
                    new=row["_new"],
                    rules=tuple(row["rule"]),
                    applicability=row["applicability"],
                    pass_no=pass_no,
                )
            )
    plan.findings_applied = len(applied)
    plan.records.sort(key=edit_order)
    return plan


def apply_pass(batch: ClaimSet, plan: PassPlan) -> ClaimSet:
    """The batch with the pass's edits written into its frames (columns, no per-row Python)."""
    lines, claims = batch.lines, batch.claims
    for column, edits in plan.line_edits.items():
        lines = (
            lines.join(edits, on=_LINE_KEY, how="left", maintain_order="left")
            .with_columns(pl.coalesce("_new", column).cast(lines.schema[column]).alias(column))
            .drop("_new")
        )
    for column, edits in plan.claim_edits.items():
        claims = (
            claims.join(edits, on=c.CLAIM_KEY, how="left", maintain_order="left")
            .with_columns(pl.coalesce("_new", column).cast(claims.schema[column]).alias(column))
            .drop("_new")
        )
    return ClaimSet(
        claims=claims,
        lines=lines,
        rejected=batch.rejected,
        warnings=batch.warnings,
        history=batch.history,
    )
