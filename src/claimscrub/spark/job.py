"""What the driver sends to every executor, and the plan each Python worker builds once.

A :class:`Job` carries the run's :class:`~claimscrub.engine.scrub.ScrubOptions`, the
payer policy packs as the driver resolved them (its own files, ``$CLAIMSCRUB_PACKS_DIR``,
``--policy`` and configured per-payer ignores: executors need none of those files) and a
fingerprint of the driver's plan. Each Python worker process builds the plan once per
job (:func:`plan_for`) from the claimscrub installed on the executor, whose bundled
reference data ships inside the package, puts the shipped packs in it, and checks that
its fingerprint equals the driver's: an executor with another claimscrub version or
other reference data (a different ``$CLAIMSCRUB_DATA_DIR``) stops the job with a
message saying what differs, instead of silently giving other findings.

This module imports neither pyspark nor the driver side: it runs on executors.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from claimscrub import __version__
from claimscrub.engine.scrub import Plan, ScrubOptions, make_plan
from claimscrub.payers.packs import Pack

DEFAULT_CHUNK_LINES = 250_000


@dataclass(frozen=True)
class Job:
    """One Spark run: options, the resolved packs, the driver's plan fingerprint, chunk size."""

    options: ScrubOptions  # with ``extra_packs`` emptied: the packs travel in ``packs``
    packs: Mapping[str, Pack]
    fingerprint: dict[str, str]
    chunk_lines: int = DEFAULT_CHUNK_LINES

    @property
    def key(self) -> str:
        """Identifies the plan this job needs (the cache key on executors)."""
        return json.dumps(self.fingerprint, sort_keys=True)


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def fingerprint(plan: Plan) -> dict[str, str]:
    """What must be equal on driver and executors for equal findings, component by component."""
    options = dataclasses.asdict(dataclasses.replace(plan.options, extra_packs=()))
    packs = {
        name: [p.priority, p.default_for, p.settings, p.periods, p.rules, p.sources]
        for name, p in sorted(plan.packs.items())
    }
    datasets = sorted({d for r in plan.rules for d in r.requires})
    releases = {
        d: [
            [r.release, r.effective_from, r.implied_to, r.bundled, r.provenance]
            for r in plan.refdata.releases(d)
        ]
        for d in datasets
    }
    return {
        "claimscrub version": __version__,
        "rules": plan.rules_hash,
        "options": _digest(options),
        "payer policy packs": _digest(packs),
        "reference data": _digest(releases),
    }


def make_job(
    options: ScrubOptions | None = None,
    plan: Plan | None = None,
    chunk_lines: int = DEFAULT_CHUNK_LINES,
) -> tuple[Job, Plan]:
    """Pack the job from ``plan`` (or resolve one from ``options``; bad selectors or packs
    fail here, on the driver, with the errors of :func:`~claimscrub.engine.scrub.make_plan`).
    """
    if plan is None:
        plan = make_plan(options or ScrubOptions())
    shipped = dataclasses.replace(plan.options, extra_packs=())
    return Job(shipped, dict(plan.packs), fingerprint(plan), chunk_lines), plan


_PLANS: dict[str, Plan] = {}  # per Python worker process: plan built once per job


def plan_for(job: Job) -> Plan:
    """The job's plan in this process, built on first use and checked against the driver's."""
    plan = _PLANS.get(job.key)
    if plan is not None:
        return plan
    # The packs come from the driver: the executor's own $CLAIMSCRUB_PACKS_DIR is not read.
    saved = os.environ.pop("CLAIMSCRUB_PACKS_DIR", None)
    try:
        plan = make_plan(job.options)
    finally:
        if saved is not None:
            os.environ["CLAIMSCRUB_PACKS_DIR"] = saved
    plan = dataclasses.replace(plan, packs=dict(job.packs))
    mine = fingerprint(plan)
    differs = [k for k in job.fingerprint if mine.get(k) != job.fingerprint[k]]
    if differs:
        raise RuntimeError(
            "this executor would not give the driver's findings: its "
            + ", ".join(differs)
            + " differ from the driver's (driver "
            + ", ".join(f"{k} {job.fingerprint[k]}" for k in differs)
            + "; executor "
            + ", ".join(f"{k} {mine.get(k)}" for k in differs)
            + "). Install the same claimscrub wheel and reference data on every node."
        )
    _PLANS[job.key] = plan
    return plan
