"""Each executor builds the plan once and refuses to run with other reference data or
another claimscrub than the driver's (no Spark needed: this is the executor's code)."""

from __future__ import annotations

import dataclasses

import pytest

from claimscrub.engine.scrub import ScrubOptions
from claimscrub.spark import job as spark_job


def test_plan_is_built_once_per_worker_and_packs_come_from_the_driver() -> None:
    job, driver_plan = spark_job.make_job(ScrubOptions(select=["UNT"]))
    first = spark_job.plan_for(job)
    assert spark_job.plan_for(job) is first
    assert [r.code for r in first.rules] == [r.code for r in driver_plan.rules]
    assert first.packs == driver_plan.packs


def test_executor_with_other_reference_data_stops_the_job() -> None:
    job, _ = spark_job.make_job(ScrubOptions(select=["UNT"]))
    elsewhere = dict(job.fingerprint, **{"reference data": "0000000000000000"})
    other = dataclasses.replace(job, fingerprint=elsewhere)
    with pytest.raises(RuntimeError, match="reference data differ from the driver's"):
        spark_job.plan_for(other)


def test_every_rule_looks_no_further_than_one_patient() -> None:
    # Spark partitions by patient: a rule that compared different patients' claims would
    # give other findings on Spark than locally. A new scope must come with a new
    # partitioning in claimscrub.spark.runner.
    from claimscrub.rules.registry import load_builtin_rules

    scopes = {rule.code: rule.scope for rule in load_builtin_rules().values()}
    assert set(scopes.values()) <= {"line", "claim", "patient"}, scopes
