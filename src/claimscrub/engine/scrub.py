"""One call from claims to a report: select rules, prepare lines, evaluate, apply overrides.

``scrub()`` is what the CLI, the HTTP API and the Spark runner call. The plan (rule
selection, packs, reference data) is resolved once; the rules are evaluated together
and collected once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import polars as pl

from claimscrub.diagnostics import Confidence, Severity
from claimscrub.engine.evaluate import evaluate
from claimscrub.engine.prepare import prepare_lines, without_unknown_packs
from claimscrub.engine.report import Report
from claimscrub.model import columns as c
from claimscrub.payers.packs import PACK, Pack, PackError, load_packs
from claimscrub.readers.base import ClaimBatch
from claimscrub.refdata.catalog import RefData, default_refdata
from claimscrub.rules.registry import Rule, load_builtin_rules, select


@dataclass
class ScrubOptions:
    """What to check and how: the settings a run resolves from defaults, pack, config, flags."""

    select: Sequence[str] = ("ALL",)
    ignore: Sequence[str] = ()
    extend_select: Sequence[str] = ()
    pack: str | None = None  # force one payer policy pack for every claim (--payer)
    extra_packs: Sequence[Path] = ()  # user pack files or folders (--policy)
    severity: Mapping[str, str] = field(default_factory=dict)  # rule code -> severity
    confidence: Mapping[str, str] = field(default_factory=dict)  # rule code -> confidence
    rule_options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    as_of: dt.date | None = None  # what-if: treat every line as dated this day
    min_confidence: str = Confidence.LOW.value  # findings below this are counted, not reported


@dataclass
class Plan:
    """A resolved run: rules, packs and reference data, reusable across batches."""

    rules: list[Rule]
    packs: dict[str, Pack]
    refdata: RefData
    options: ScrubOptions

    @cached_property  # read for every report; the rules of a plan do not change
    def rules_hash(self) -> str:
        """A short fingerprint of the selected rules and their documentation."""
        digest = hashlib.sha256()
        for r in self.rules:
            digest.update(
                f"{r.code}|{r.name}|{r.severity}|{r.confidence}|{r.since}|{r.doc}".encode()
            )
        return digest.hexdigest()[:16]


def make_plan(options: ScrubOptions | None = None, refdata: RefData | None = None) -> Plan:
    """Resolve selection, packs and reference data once (raises on bad selectors or packs)."""
    options = options or ScrubOptions()
    registry = load_builtin_rules()
    rules = select(registry.values(), options.select, options.ignore, options.extend_select)
    packs = load_packs(options.extra_packs)
    _check_pack_rule_codes(packs, registry)
    refdata = refdata or default_refdata()
    refdata.preload(sorted({d for r in rules for d in r.requires}))
    return Plan(rules=rules, packs=packs, refdata=refdata, options=options)


def _check_pack_rule_codes(packs: Mapping[str, Pack], known: Mapping[str, Rule]) -> None:
    """A pack's ``rules`` section names rule codes; anything else would silently do nothing."""
    for pack in packs.values():
        for key in ("ignore", "severity", "confidence"):
            named = pack.rules.get(key) or ()
            unknown = sorted(code for code in named if code not in known)
            if unknown:
                raise PackError(
                    f"{pack.path}: rules/{key}: unknown rule code(s) {', '.join(unknown)} "
                    "(packs name rules by code, e.g. MCR008)"
                )


def _with_as_of(batch: ClaimBatch, day: dt.date | None) -> ClaimBatch:
    if day is None:
        return batch
    return ClaimBatch(
        claims=batch.claims.with_columns(pl.lit(day).alias(c.SERVICE_DATE)),
        lines=batch.lines.with_columns(pl.lit(day).alias(c.DOS_FROM)),
        rejected=batch.rejected,
        warnings=batch.warnings,
    )


def _overridden(findings: pl.DataFrame, claims: pl.DataFrame, plan: Plan) -> pl.DataFrame:
    """Apply per-pack ignores, severities and confidences, then the run's own overrides."""
    if findings.is_empty():
        return findings
    ignored = [
        (name, code) for name, pack in plan.packs.items() for code in pack.rules.get("ignore", [])
    ]
    out = findings.join(
        claims.select(c.CLAIM_KEY, PACK), on=c.CLAIM_KEY, how="left", maintain_order="left"
    )
    if ignored:
        drop = pl.DataFrame(ignored, schema=[PACK, "rule"], orient="row").with_columns(
            _ignored=pl.lit(True)
        )
        out = (
            out.join(drop, on=[PACK, "rule"], how="left", maintain_order="left")
            .filter(pl.col("_ignored").is_null())
            .drop("_ignored")
        )
    # (finding column and pack key, its vocabulary, the run's overrides): pack first, run last
    overrides = (
        ("severity", Severity, plan.options.severity),
        ("confidence", Confidence, plan.options.confidence),
    )
    for column, vocabulary, by_run in overrides:
        by_pack = [
            (name, code, vocabulary(level).value)
            for name, pack in plan.packs.items()
            for code, level in pack.rules.get(column, {}).items()
        ]
        if by_pack:
            levels = pl.DataFrame(by_pack, schema=[PACK, "rule", "_level"], orient="row")
            out = (
                out.join(levels, on=[PACK, "rule"], how="left", maintain_order="left")
                .with_columns(pl.coalesce("_level", column).alias(column))
                .drop("_level")
            )
        if by_run:
            mapping = {code: vocabulary(level).value for code, level in by_run.items()}
            out = out.with_columns(
                pl.col("rule")
                .replace_strict(mapping, default=pl.col(column), return_dtype=pl.String)
                .alias(column)
            )
    return out.drop(PACK)


def _split_by_confidence(findings: pl.DataFrame, level: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(findings to report, findings below ``level``), after every confidence override.

    Rows without a confidence (none today) are reported: a filter on how sure a finding
    is must never hide one whose sureness is unknown.
    """
    floor = Confidence(level).rank
    if floor == 0 or findings.is_empty():
        return findings, findings.clear()
    ranks = {conf.value: conf.rank for conf in Confidence}
    below = pl.col("confidence").replace_strict(ranks, default=None, return_dtype=pl.Int8) < floor
    below = below.fill_null(False)
    return findings.filter(~below), findings.filter(below)


def scrub(batch: ClaimBatch, plan: Plan | None = None, history: ClaimBatch | None = None) -> Report:
    """Check every line of ``batch`` and return the report (findings, statuses, provenance)."""
    plan = plan or make_plan()
    batch = _with_as_of(batch, plan.options.as_of)
    batch = without_unknown_packs(batch, plan.packs, plan.options.pack)
    claims, lines = prepare_lines(batch.lines, batch.claims, plan.packs, plan.options.pack)
    past = None
    rejected = batch.rejected
    if history is not None and history.lines.height:
        read = history.rejected.height
        history = without_unknown_packs(history, plan.packs, plan.options.pack)
        # History claims naming an unknown pack are reported with the run's rejections.
        rejected = pl.concat([rejected, history.rejected.slice(read)])
        past = prepare_lines(history.lines, history.claims, plan.packs, plan.options.pack)[1]
    result = evaluate(
        plan.rules,
        lines,
        claims,
        plan.refdata,
        history=past,
        options=plan.options.rule_options,
        packs=plan.packs,
    )
    findings, hidden = _split_by_confidence(
        _overridden(result.findings, claims, plan), plan.options.min_confidence
    )
    return Report(
        claims=claims,
        lines=lines,
        findings=findings,
        rejected=rejected,
        warnings=batch.warnings,
        rules=plan.rules,
        refdata=plan.refdata,
        rules_hash=plan.rules_hash,
        skipped=result.skipped,
        broken=result.broken,
        hidden=hidden,
        min_confidence=Confidence(plan.options.min_confidence).value,
    )
