"""``claimscrub explain --payer NAME`` for a user pack: ``--policy`` or the ``policy`` key."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from claimscrub.cli import cli
from example_plan import EXAMPLE_PLAN

ARGS = ["explain", "J7507", "--payer", "example-medical-plan", "--on", "2026-03-01"]


def _exclusions(output: str) -> list[str]:
    doc = json.loads(output)
    assert doc["packs"] == ["example-medical-plan"]
    payers = next(s for s in doc["sections"] if s["id"] == "payers")
    return [s["text"] for s in payers["statements"] if s["text"].startswith("Excluded")]


def test_policy_flag_explains_a_user_pack() -> None:
    result = CliRunner().invoke(
        cli, [*ARGS, "--isolated", "--policy", str(EXAMPLE_PLAN), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    (text,) = _exclusions(result.stdout)
    assert text.startswith("Excluded from the plan's benefit from 2025-01-01: oral immediate")
    assert "https://example.org/example-medical-plan/excluded-drugs#j7507" in text


def test_policy_key_of_the_configuration(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "claimscrub.toml").write_text(
        f"policy = [{json.dumps(str(EXAMPLE_PLAN))}]\n", encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, [*ARGS, "--format", "json"])
    assert result.exit_code == 0, result.output
    assert len(_exclusions(result.stdout)) == 1
    # --isolated ignores the file: the pack is unknown again.
    result = CliRunner().invoke(cli, [*ARGS, "--isolated"])
    assert result.exit_code == 2
    assert "unknown payer pack 'example-medical-plan'" in result.output


def test_bad_user_pack_exits_2_naming_file_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad-pack\nsettings:\n  no_such_setting: 1\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["explain", "J7507", "--isolated", "--policy", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}: settings:" in result.output
    assert "no_such_setting" in result.output
