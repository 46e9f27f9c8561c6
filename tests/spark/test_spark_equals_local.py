"""On Spark (local mode), the findings equal those of the local engine, row for row."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from spark_helpers import EXAMPLES, Generated, assert_same_rows, collected, local_tables

from claimscrub.cli import cli
from claimscrub.engine.scrub import ScrubOptions, make_plan
from claimscrub.reporters.parquet_report import FINDING_SCHEMA
from claimscrub.spark import SparkInputError, scrub_lines, scrub_paths
from claimscrub.spark.runner import Summary

LOOK_BACK = {"DUP002", "MCR008"}  # rules that compare a line with the patient's history


@pytest.fixture(scope="module")
def broken_parquet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example batch as flat Parquet, with text in one ``units`` cell (row 2)."""
    from claimscrub.readers import read_claims
    from claimscrub.readers.writers import flat_lines

    table = flat_lines(read_claims([str(EXAMPLES / "immunosuppressants.json")]))
    units = pl.when(pl.int_range(pl.len()) == 1).then(pl.lit("a lot")).otherwise(pl.col("units"))
    path = tmp_path_factory.mktemp("broken") / "broken.parquet"
    table.with_columns(units.cast(pl.String).alias("units")).write_parquet(path)
    return path


def _on_spark(
    spark: object, inputs: list[Path], partitions: int
) -> tuple[pl.DataFrame, pl.DataFrame, Summary]:
    """(findings, claims, summary) of a Spark run over ``inputs``."""
    run = scrub_paths(spark, inputs, partitions=partitions).persist()  # type: ignore[arg-type]
    try:
        return collected(run.findings), collected(run.claims), run.summary()
    finally:
        run.unpersist()


def test_example_batch_in_every_format_gives_the_local_findings(
    spark: object, broken_parquet: Path
) -> None:
    # The same claims as Claims JSON and as X12 837 (same patients in both: patient-scope
    # rules see the two files together), plus a Parquet copy with an unreadable cell.
    inputs = [
        EXAMPLES / "immunosuppressants.json",
        EXAMPLES / "immunosuppressants.837",
        broken_parquet,
    ]
    findings, claims = local_tables(inputs)
    spark_findings, spark_claims, summary = _on_spark(spark, inputs, partitions=3)

    assert_same_rows(spark_findings, findings)
    assert_same_rows(spark_claims, claims)
    rejected = spark_findings.filter(pl.col("rule") == "INPUT")
    assert rejected["message"].to_list() == ["row 2, column units: a lot is not a number"]
    assert summary.claims == claims.height == 3 * 14 - 1
    assert summary.lines == 3 * 15 - 2  # the rejected claim's two lines are not checked
    assert summary.rejected == 1
    assert summary.error == claims.filter(pl.col("status") == "error").height


def test_generated_batch_with_history_gives_the_local_findings(
    spark: object, generated: Generated
) -> None:
    findings, claims = local_tables([generated.flat])
    lines = spark.read.parquet(str(generated.flat))  # type: ignore[attr-defined]
    # Small chunks: each executor calls the engine many times, cutting only between patients.
    run = scrub_lines(lines, partitions=3, chunk_lines=400).persist()
    try:
        spark_findings, spark_claims = collected(run.findings), collected(run.claims)
    finally:
        run.unpersist()

    assert_same_rows(spark_findings, findings)
    assert_same_rows(spark_claims, claims)
    assert claims.height == generated.claims.claims.height
    found = set(spark_findings["rule"].unique())
    assert found >= LOOK_BACK, "the batch must exercise the look-back rules"
    # Already billed: only the 25 claims sent again (a line whose code is wrong for its
    # product reports that instead, rules.md section 11).
    duplicates = spark_findings.filter(pl.col("rule") == "DUP002")["claim_id"]
    assert duplicates.str.starts_with("RE").all()
    assert 20 <= duplicates.n_unique() <= 25


def test_history_given_as_a_separate_claims_json_input(spark: object, generated: Generated) -> None:
    # Claims from Parquet (read by Spark), history from Claims JSON (read on executors).
    findings, _ = local_tables([generated.current], history=[generated.history_json])
    without_history, _ = local_tables([generated.current])
    run = scrub_paths(
        spark,  # type: ignore[arg-type]
        [generated.current],
        history=[generated.history_json],
        partitions=2,
        chunk_lines=700,
    )
    spark_findings = collected(run.findings)

    assert_same_rows(spark_findings, findings)
    look_back = pl.col("rule").is_in(LOOK_BACK)
    assert spark_findings.filter(look_back).height > without_history.filter(look_back).height


def test_input_warnings_are_rows_of_the_spark_table_as_locally(
    spark: object, tmp_path: Path
) -> None:
    # The example 837 with an implementation guide in ST03 the reader does not know: the
    # claims are read by GS08's guide and checked, with one input warning.
    data = (EXAMPLES / "immunosuppressants.837").read_bytes()
    unknown = tmp_path / "unknown_st03.837"
    unknown.write_bytes(data.replace(b"ST*837*0001*005010X222A1", b"ST*837*0001*005010X299A9"))
    findings, claims = local_tables([unknown])
    spark_findings, spark_claims, summary = _on_spark(spark, [unknown], partitions=2)

    assert_same_rows(spark_findings, findings)
    assert_same_rows(spark_claims, claims)
    noticed = spark_findings.filter(pl.col("name") == "input-warning")
    assert noticed["message"].to_list() == [
        "ST03 '005010X299A9' is not a known implementation guide; read as GS08 '005010X222A1'"
    ]
    assert summary.claims == 14
    assert summary.rejected == 0  # a warning is not a rejection


def test_check_engine_spark_writes_the_local_parquet_table(spark: object, tmp_path: Path) -> None:
    inputs = [str(EXAMPLES / "immunosuppressants.837")]
    local_out, spark_out = tmp_path / "local.parquet", tmp_path / "spark.parquet"
    local = CliRunner().invoke(cli, ["check", *inputs, "-o", str(local_out)])
    args = ["check", "--engine", "spark", *inputs, "-o", str(spark_out)]
    on_spark = CliRunner().invoke(cli, args)
    again = CliRunner().invoke(cli, args)  # an earlier Spark output is replaced

    assert local.exit_code == on_spark.exit_code == again.exit_code == 1, on_spark.output
    assert "Checked 14 claims (15 lines) on Spark" in on_spark.output
    written = pl.read_parquet(spark_out / "*.parquet")
    assert_same_rows(written, pl.read_parquet(local_out))
    assert written.schema == FINDING_SCHEMA


def test_spark_refuses_what_it_cannot_do(spark: object, tmp_path: Path) -> None:
    example = str(EXAMPLES / "immunosuppressants.json")
    no_output = CliRunner().invoke(cli, ["check", "--engine", "spark", example])
    fixing = CliRunner().invoke(
        cli, ["check", "--engine", "spark", "--fix", example, "-o", str(tmp_path / "x.parquet")]
    )
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    not_ours = CliRunner().invoke(
        cli, ["check", "--engine", "spark", example, "-o", str(tmp_path / "mine")]
    )
    assert no_output.exit_code == fixing.exit_code == not_ours.exit_code == 2
    assert "-o OUT.parquet" in no_output.output
    assert "--fix" in fixing.output
    assert "Spark did not write" in not_ours.output
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"

    frame = spark.createDataFrame(
        [("C1", "J7507", 1.0)], "claim_id string, hcpc string, units double"
    )  # type: ignore[attr-defined]
    with pytest.raises(SparkInputError, match="unknown column.*hcpc"):
        scrub_lines(frame)


def test_selection_and_severity_options_travel_to_the_executors(
    spark: object, generated: Generated
) -> None:
    options = ScrubOptions(select=["UNT", "MCR008"], severity={"MCR008": "info"})
    plan = make_plan(options)
    findings, _ = local_tables([generated.flat], plan=plan)
    lines = spark.read.parquet(str(generated.flat))  # type: ignore[attr-defined]
    spark_findings = collected(scrub_lines(lines, options, partitions=2).findings)

    assert_same_rows(spark_findings, findings)
    assert set(spark_findings["rule"].unique()) <= {"MCR008"} | {
        r.code for r in plan.rules if r.code.startswith("UNT")
    }
    assert set(spark_findings.filter(pl.col("rule") == "MCR008")["severity"]) == {"info"}


def test_a_users_policy_pack_and_configured_ignores_reach_the_executors(
    spark: object, tmp_path: Path
) -> None:
    # A pack only the driver has (executors read no pack files), forced on every claim,
    # with a configured per-payer ignore applied to the plan after make_plan.
    pack = tmp_path / "packs" / "acme.yaml"
    pack.parent.mkdir()
    pack.write_text(
        "name: acme\ntitle: A plan of our own\nextends: commercial\n"
        "rules:\n  ignore: [PAU005]\n  severity: {UNT001: warning}\n",
        encoding="utf-8",
    )
    (tmp_path / "claimscrub.toml").write_text(
        '[rules.per-payer-ignores]\n"acme" = ["NDC"]\n', encoding="utf-8"
    )
    example = tmp_path / "batch.json"
    example.write_bytes((EXAMPLES / "immunosuppressants.json").read_bytes())
    args = ["check", str(example), "--payer", "acme", "--policy", str(pack.parent)]
    local = CliRunner().invoke(cli, [*args, "-o", str(tmp_path / "local.parquet")])
    on_spark = CliRunner().invoke(
        cli, [*args, "--engine", "spark", "-o", str(tmp_path / "spark.parquet")]
    )
    assert local.exit_code == on_spark.exit_code == 1, on_spark.output

    written = pl.read_parquet(tmp_path / "spark.parquet" / "*.parquet")
    assert_same_rows(written, pl.read_parquet(tmp_path / "local.parquet"))
    assert not written.filter(
        pl.col("rule").is_in(["PAU005"]) | pl.col("rule").str.starts_with("NDC")
    ).height
    assert set(written.filter(pl.col("rule") == "UNT001")["severity"]) == {"warning"}
