"""The fix loop: plan a pass, apply it, re-check what changed, until nothing is left."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

from claimscrub.diagnostics import Applicability
from claimscrub.engine.fixes.planner import PassPlan, apply_pass, plan_pass
from claimscrub.engine.fixes.records import FieldEdit, HeldFix
from claimscrub.engine.report import Report
from claimscrub.engine.scrub import Plan, scrub
from claimscrub.model import columns as c
from claimscrub.readers import ClaimSet
from claimscrub.readers.base import ClaimBatch

if TYPE_CHECKING:
    from claimscrub.engine.fixes.output import FixedOutput

MAX_PASSES = 5


@dataclass
class FixRun:
    """The outcome of :func:`apply_fixes`."""

    batch: ClaimSet  # the corrected claims (every input claim, changed or not)
    report: Report  # the check of the corrected claims
    edits: list[FieldEdit]
    held: list[HeldFix]  # fixes still held back in the corrected claims
    unsafe: bool
    passes: int  # fix passes that changed something
    converged: bool  # False when max_passes ran out with fixes still to apply
    pending: int  # field edits still to apply when max_passes ran out
    fixed_findings: int  # findings whose fix was applied (over all passes)
    original_findings: int

    def remaining_fixable(self) -> dict[str, int]:
        """Fix-carrying findings left in the corrected claims, by applicability."""
        index = self.report.rule_index
        rules = self.report.findings.filter(pl.col("fix").is_not_null())["rule"].to_list()
        counts: dict[str, int] = {}
        for code in rules:
            rule = index.get(code)
            kind = rule.fix.value if rule else Applicability.NONE.value
            counts[kind] = counts.get(kind, 0) + 1
        return dict(sorted(counts.items()))

    def to_dict(
        self, outputs: Sequence[FixedOutput] = (), *, dry_run: bool = False
    ) -> dict[str, Any]:
        """The ``fixes`` object added to the result JSON."""
        return {
            "mode": "unsafe" if self.unsafe else "safe",
            "dry_run": dry_run,
            "passes": self.passes,
            "converged": self.converged,
            "pending_edits": self.pending,
            "findings_before": self.original_findings,
            "findings_fixed": self.fixed_findings,
            "findings_remaining": self.report.findings.height,
            "edits": [e.to_dict() for e in self.edits],
            "held": [h.to_dict() for h in self.held],
            "remaining_fixable": self.remaining_fixable(),
            "outputs": [o.to_dict() for o in outputs],
        }


def _changed_claims(plan: PassPlan) -> pl.Series:
    keys = [frame[c.CLAIM_KEY] for frame in [*plan.line_edits.values(), *plan.claim_edits.values()]]
    return pl.concat(keys).unique()


def _recheck(previous: Report, batch: ClaimSet, plan: Plan, changed: pl.Series) -> Report:
    """Check again the claims of the patients whose claims changed; keep the other findings.

    Rules look at one patient at a time (house rule: a rule's scope is at most the
    patient), so a claim's findings can change only when a claim of the same patient
    changed. Claims without a patient id are re-checked alone. When every claim is
    affected, this is a plain full check.
    """
    claims = batch.claims
    patients = claims.filter(pl.col(c.CLAIM_KEY).is_in(changed.implode()))[c.PATIENT_ID]
    affected = pl.col(c.CLAIM_KEY).is_in(changed.implode()) | pl.col(c.PATIENT_ID).is_in(
        patients.drop_nulls().unique().implode()
    )
    redo = claims.filter(affected)[c.CLAIM_KEY]
    if redo.len() == claims.height:
        return scrub(batch, plan, history=batch.history)
    part = ClaimBatch(
        claims=claims.filter(affected),
        lines=batch.lines.filter(pl.col(c.CLAIM_KEY).is_in(redo.implode())),
    )
    fresh = scrub(part, plan, history=batch.history)
    kept = pl.col(c.CLAIM_KEY).is_not_null() & ~pl.col(c.CLAIM_KEY).is_in(redo.implode())
    by_key = [c.CLAIM_KEY]
    return Report(
        claims=pl.concat([previous.claims.filter(kept), fresh.claims], how="diagonal_relaxed").sort(
            by_key, maintain_order=True
        ),
        lines=pl.concat([previous.lines.filter(kept), fresh.lines], how="diagonal_relaxed").sort(
            by_key, maintain_order=True
        ),
        findings=pl.concat(
            [
                previous.findings.filter(kept),
                fresh.findings.filter(pl.col(c.CLAIM_KEY).is_not_null()),
                previous.findings.filter(pl.col(c.CLAIM_KEY).is_null()),  # engine errors
            ],
            how="vertical_relaxed",
        ).sort([c.CLAIM_KEY, c.LINE_NO, "rule"], nulls_last=False, maintain_order=True),
        rejected=previous.rejected,
        warnings=previous.warnings,
        rules=previous.rules,
        refdata=previous.refdata,
        rules_hash=previous.rules_hash,
        skipped=previous.skipped,
        broken=previous.broken,
        hidden=_hidden_after_recheck(previous.hidden, fresh.hidden, kept),
        min_confidence=previous.min_confidence,
    )


def _hidden_after_recheck(
    previous: pl.DataFrame | None, fresh: pl.DataFrame | None, kept: pl.Expr
) -> pl.DataFrame | None:
    """Findings below --min-confidence: the kept claims' old ones and the redone claims' new."""
    parts = [
        h for h in (previous.filter(kept) if previous is not None else None, fresh) if h is not None
    ]
    return pl.concat(parts, how="vertical_relaxed") if parts else None


def apply_fixes(
    batch: ClaimSet,
    plan: Plan,
    *,
    unsafe: bool = False,
    report: Report | None = None,
    max_passes: int = MAX_PASSES,
) -> FixRun:
    """Apply the allowed fixes to ``batch`` until none is left (or ``max_passes``), re-checking.

    Args:
        batch: the claims as read (with their history).
        plan: the run's plan (the same rules, packs and reference data re-check the claims).
        unsafe: also apply unsafe fixes (units, codes, modifiers, dates); display-only
            fixes are never applied.
        report: the check of ``batch`` when the caller already has it.
        max_passes: the most fix passes to make; each is followed by a re-check.

    Returns:
        The corrected claims, their report, every field edit and the fixes held back.
    """
    report = report or scrub(batch, plan, history=batch.history)
    original = report.findings.height
    edits: list[FieldEdit] = []
    fixed = passes = 0
    step = plan_pass(report, batch, unsafe, 1)
    while step.records and passes < max_passes:
        batch = apply_pass(batch, step)
        passes += 1
        edits += step.records
        fixed += step.findings_applied
        report = _recheck(report, batch, plan, _changed_claims(step))
        step = plan_pass(report, batch, unsafe, passes + 1)
    return FixRun(
        batch=batch,
        report=report,
        edits=edits,
        held=step.held,
        unsafe=unsafe,
        passes=passes,
        converged=not step.records,
        pending=len(step.records),
        fixed_findings=fixed,
        original_findings=original,
    )
