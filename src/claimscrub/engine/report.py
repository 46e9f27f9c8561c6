"""The finished result of a run, and its canonical JSON form (shared/spec/claim-formats.md).

Reporters (terminal, JSON, SARIF, CSV, HTML) render a :class:`Report`; none of them
computes anything. ``Report.to_dict()`` is the public result JSON: every input claim
appears once under ``claims`` (with status and findings) or under ``rejected``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from claimscrub import __version__
from claimscrub.model import columns as c
from claimscrub.refdata.catalog import HCPCS, RefData
from claimscrub.rules.registry import Rule

_SEVERITY_RANK = {"error": 2, "warning": 1, "info": 0}


@dataclass
class Report:
    """Claims, their findings and the provenance of the run."""

    claims: pl.DataFrame
    lines: pl.DataFrame
    findings: pl.DataFrame
    rejected: pl.DataFrame
    warnings: pl.DataFrame
    rules: Sequence[Rule]
    refdata: RefData
    rules_hash: str
    skipped: list[tuple[str, str]] = field(default_factory=list)
    broken: list[tuple[str, str]] = field(default_factory=list)
    # Findings below ``min_confidence`` (--min-confidence): not reported, not in the
    # statuses or the exit code, but counted in the summary so that none is lost silently.
    hidden: pl.DataFrame | None = None
    min_confidence: str = "low"

    @property
    def hidden_count(self) -> int:
        """How many findings fell below ``min_confidence``."""
        return 0 if self.hidden is None else self.hidden.height

    @property
    def rule_index(self) -> dict[str, Rule]:
        """Selected rules by code."""
        return {r.code: r for r in self.rules}

    def claim_status(self) -> pl.DataFrame:
        """claim_key -> status (error / warning / clean; info findings do not count)."""
        worst = (
            self.findings.filter(pl.col(c.CLAIM_KEY).is_not_null())
            .group_by(c.CLAIM_KEY)
            .agg(
                pl.col("severity")
                .replace_strict(_SEVERITY_RANK, return_dtype=pl.Int8)
                .max()
                .alias("_rank")
            )
        )
        return (
            self.claims.select(c.CLAIM_KEY)
            .join(worst, on=c.CLAIM_KEY, how="left")
            .with_columns(
                pl.when(pl.col("_rank") == 2)
                .then(pl.lit("error"))
                .when(pl.col("_rank") == 1)
                .then(pl.lit("warning"))
                .otherwise(pl.lit("clean"))
                .alias("status")
            )
            .drop("_rank")
        )

    def refdata_used(self) -> dict[str, str]:
        """Dataset -> release(s) in force on the batch's dates, for the datasets the rules read."""
        datasets = sorted({d for r in self.rules for d in r.requires})
        days = (
            [d for d in self.lines[c.DOS_FROM].unique().to_list() if d is not None]
            if self.lines.height
            else []
        )
        out: dict[str, str] = {}
        for dataset in datasets:
            picks = (
                {self.refdata.select_release(dataset, day)[0].release for day in days}
                if days
                else set()
            )
            if not picks or dataset == HCPCS:
                # HCPCS validity (add and termination dates) always comes from the newest
                # release that lists a code (refdata.catalog), whatever release's record
                # was in force on the date: both were read.
                picks.add(self.refdata.releases(dataset)[-1].release)
            out[dataset] = ", ".join(sorted(picks))
        return out

    def _finding_dicts(self) -> dict[int, list[dict[str, Any]]]:
        index = self.rule_index
        locs = self.lines.select(
            c.CLAIM_KEY,
            c.LINE_NO,
            c.SRC,
            c.SEG_ORDINAL,
            c.X12_LOOP,
            c.X12_SEG,
            c.ROW,
            c.JSON_PATH,
            c.HCPCS,
            pl.col(c.CHARGE).alias("_line_charge"),
        )
        # what a finding puts at risk, for reports that chart by payer and code: the line's
        # code and charge, or for a claim-level finding the claim's total charge (CLM02; the
        # sum of its line charges when the input has no total, as in Claims JSON and CSV)
        line_sums = self.lines.group_by(c.CLAIM_KEY).agg(
            pl.when(pl.col(c.CHARGE).is_not_null().any())
            .then(pl.col(c.CHARGE).sum())
            .alias("_lines_charge")
        )
        claim_facts = (
            self.claims.select(c.CLAIM_KEY, c.PAYER_TYPE, c.PAYER_ID, c.PAYER_NAME, c.TOTAL_CHARGE)
            .join(line_sums, on=c.CLAIM_KEY, how="left")
            .with_columns(pl.coalesce(c.TOTAL_CHARGE, "_lines_charge").alias("_claim_charge"))
        )
        rows = (
            self.findings.filter(pl.col(c.CLAIM_KEY).is_not_null())
            .join(locs, on=[c.CLAIM_KEY, c.LINE_NO], how="left")
            .join(claim_facts, on=c.CLAIM_KEY, how="left")
        )
        grouped: dict[int, list[dict[str, Any]]] = {}
        for row in rows.iter_rows(named=True):
            rule = index.get(row["rule"])
            item: dict[str, Any] = {
                "rule": row["rule"],
                "name": rule.name if rule else row["rule"],
                "severity": row["severity"],
                "confidence": row["confidence"],
                "line": row[c.LINE_NO],
                "message": row["message"],
                "carc": row["carc"],
                "rarc": row["rarc"] or [],
                "hcpcs": row[c.HCPCS],
                "charge": row["_claim_charge"] if row[c.LINE_NO] is None else row["_line_charge"],
                "payer": {
                    "type": row[c.PAYER_TYPE],
                    "id": row[c.PAYER_ID],
                    "name": row[c.PAYER_NAME],
                },
            }
            if row["fix"] is not None:
                item["fix"] = json.loads(row["fix"])
                item["fix_title"] = row["fix_title"]
                item["applicability"] = rule.fix.value if rule else None
            item["source"] = rule.source if rule else ""
            item["location"] = _location(row)
            grouped.setdefault(row[c.CLAIM_KEY], []).append(item)
        return grouped

    def to_dict(self) -> dict[str, Any]:
        """The public result JSON."""
        statuses = self.claim_status()
        findings = self._finding_dicts()
        claims_out = []
        meta = self.claims.select(c.CLAIM_KEY, c.CLAIM_ID, *c.LOCATION_COLUMNS).join(
            statuses, on=c.CLAIM_KEY, how="left"
        )
        for row in meta.sort(c.CLAIM_KEY).iter_rows(named=True):
            claims_out.append(
                {
                    "id": row[c.CLAIM_ID],
                    "status": row["status"],
                    "source": row[c.SRC],
                    # Where the claim starts (CLM segment, first CSV row, JSON path): two
                    # claims with one id are told apart by it.
                    "location": _location(row),
                    "findings": findings.get(row[c.CLAIM_KEY], []),
                }
            )
        counts = statuses["status"].value_counts()
        by_status = dict(zip(counts["status"].to_list(), counts["count"].to_list(), strict=True))
        return {
            "claimscrub": {
                "version": __version__,
                "refdata": self.refdata_used(),
                "rules_hash": self.rules_hash,
                "min_confidence": self.min_confidence,
                "generated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            },
            "summary": {
                "claims": self.claims.height,
                "lines": self.lines.height,
                "clean": by_status.get("clean", 0),
                "error": by_status.get("error", 0),
                "warning": by_status.get("warning", 0),
                "rejected_input": self.rejected.height,
                "hidden_findings": self.hidden_count,
            },
            "claims": claims_out,
            "rejected": [
                {k: v for k, v in r.items() if v is not None}
                for r in self.rejected.iter_rows(named=True)
            ],
            # What the readers noticed but read anyway (an unknown ST03 read as GS08's
            # guide, say): located like ``rejected``.
            "input_warnings": [
                {k: v for k, v in r.items() if v is not None}
                for r in self.warnings.iter_rows(named=True)
            ],
            "skipped_rules": [{"rule": code, "reason": why} for code, why in self.skipped],
            "engine_errors": [{"rule": code, "error": why} for code, why in self.broken],
        }


def _location(row: dict[str, Any]) -> dict[str, Any]:
    """The result JSON's ``location`` of a claim or line row (its location columns)."""
    return {
        "source": row[c.SRC],
        "x12": (
            {"loop": row[c.X12_LOOP], "segment": row[c.X12_SEG], "ordinal": row[c.SEG_ORDINAL]}
            if row[c.X12_SEG]
            else None
        ),
        "row": row[c.ROW],
        "json_path": row[c.JSON_PATH],
    }
