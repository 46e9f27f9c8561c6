"""Payer policy packs written in TOML: read wherever a YAML pack is, same schema, same errors.

``fixtures/packs/example-medical-plan.toml`` is the TOML twin of the synthetic
``example-medical-plan.yaml``; one of its dates is a TOML date, another a string.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from claimscrub.cli import cli
from claimscrub.payers.packs import PackError, load_packs
from example_plan import EXAMPLE_PLAN, EXAMPLE_PLAN_NAME, EXAMPLE_PLAN_TOML, excluded_claim


def _pack(path: Path) -> Any:
    return dataclasses.replace(load_packs([path])[EXAMPLE_PLAN_NAME], path=None)


def test_toml_twin_is_the_same_pack_as_the_yaml_one() -> None:
    toml_pack = _pack(EXAMPLE_PLAN_TOML)
    assert toml_pack == _pack(EXAMPLE_PLAN)
    # inherited from commercial, and the dates kept as ISO text as the YAML loader keeps them
    assert toml_pack.settings["contractor"] == "commercial"
    assert [(e.get("from"), e.get("to")) for e in toml_pack.settings["excluded_products"]] == [
        ("2025-01-01", None),
        ("2025-01-01", "2025-12-31"),
    ]


def _batch() -> dict[str, Any]:
    """Claims on both sides of the example plan's dated exclusions."""
    excluded = excluded_claim()
    before = copy.deepcopy(excluded) | {"id": "SYN-EXCL-2", "service_date": "2024-11-05"}
    astagraf = copy.deepcopy(excluded) | {"id": "SYN-EXCL-3"}
    astagraf["lines"][0] |= {"hcpcs": "J7508", "ndc": "00469064773", "units": 60}
    later = copy.deepcopy(astagraf) | {"id": "SYN-EXCL-4", "service_date": "2026-02-03"}
    return {"claims": [excluded, before, astagraf, later]}


def _check(claims: Path, *args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(cli, ["check", str(claims), "--format", "json", *args])
    assert result.exit_code in (0, 1), result.output
    doc = json.loads(result.stdout)
    del doc["claimscrub"]["generated"]
    return result.exit_code, doc


def test_toml_and_yaml_packs_give_identical_findings(tmp_path: Path) -> None:
    claims = tmp_path / "claims.json"
    claims.write_text(json.dumps(_batch()), encoding="utf-8")
    from_yaml = _check(claims, "--policy", str(EXAMPLE_PLAN))
    from_toml = _check(claims, "--policy", str(EXAMPLE_PLAN_TOML))
    assert from_toml == from_yaml
    excluded = {
        c["id"] for c in from_toml[1]["claims"] for f in c["findings"] if f["rule"] == "PAU006"
    }
    assert excluded == {"SYN-EXCL-1", "SYN-EXCL-3"}  # in the windows; not before or after


def test_a_folder_reads_yaml_yml_and_toml_packs(tmp_path: Path, monkeypatch) -> None:
    folder = tmp_path / "packs"
    folder.mkdir()
    shutil.copy(EXAMPLE_PLAN_TOML, folder / "plan.toml")
    (folder / "other.yml").write_text("name: other-plan\nextends: commercial\n")
    (folder / "notes.txt").write_text("not a pack")
    packs = load_packs([folder])
    assert packs[EXAMPLE_PLAN_NAME].path == folder / "plan.toml"
    assert "other-plan" in packs
    monkeypatch.setenv("CLAIMSCRUB_PACKS_DIR", str(folder))
    assert EXAMPLE_PLAN_NAME in load_packs()


def test_check_reads_a_toml_pack_from_the_configured_policy(tmp_path: Path) -> None:
    shutil.copy(EXAMPLE_PLAN_TOML, tmp_path / "plan.toml")
    (tmp_path / "claimscrub.toml").write_text('policy = ["plan.toml"]\n[rules]\nselect = ["PAU"]\n')
    claims = tmp_path / "claims.json"
    claims.write_text(json.dumps({"claims": [excluded_claim()]}), encoding="utf-8")
    code, doc = _check(claims)
    assert code == 1
    assert [f["rule"] for f in doc["claims"][0]["findings"]] == ["PAU006"]


def test_two_files_of_one_folder_defining_one_pack_is_an_error(tmp_path: Path) -> None:
    shutil.copy(EXAMPLE_PLAN, tmp_path / "plan.yaml")
    shutil.copy(EXAMPLE_PLAN_TOML, tmp_path / "plan.toml")
    with pytest.raises(PackError, match=r"plan.yaml: name: pack 'example-medical-plan' is also"):
        load_packs([tmp_path])
    result = CliRunner().invoke(cli, ["explain", "J7507", "--policy", str(tmp_path)])
    assert result.exit_code == 2
    assert "plan.toml" in result.stderr and "plan.yaml" in result.stderr
    # in two places, the later one replaces the earlier (as for YAML packs)
    assert load_packs([EXAMPLE_PLAN, EXAMPLE_PLAN_TOML])[EXAMPLE_PLAN_NAME].path == (
        EXAMPLE_PLAN_TOML
    )


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (
            'name = "my-plan"\nextends = "base"\n[settings]\nmax_days_supply = -3\n',
            r"pack.toml: settings/max_days_supply: -3 is less than",
        ),
        (
            'name = "my-plan"\n[settings]\nndc_requird = "none"\n',
            r"pack.toml: settings: .*'ndc_requird'",
        ),
        (
            'name = "my-plan"\n[[periods]]\nfrom = "2025-02-30"\nsettings = {max_days_supply = 60}\n',
            r"pack.toml: periods/0/from: '2025-02-30' is not a date",
        ),
        (  # a date-time is not a date, as in YAML (where it stays text)
            'name = "my-plan"\n[[periods]]\nfrom = 2025-07-01T08:00:00\n'
            "settings = {max_days_supply = 60}\n",
            r"pack.toml: periods/0/from: .*'2025-07-01T08:00:00'",
        ),
        (
            'name = "my-plan"\nsettings = {max_days_supply = }\n',
            r"pack.toml: cannot read pack: ",
        ),
    ],
)
def test_bad_toml_pack_names_file_and_entry(tmp_path: Path, text: str, error: str) -> None:
    path = tmp_path / "pack.toml"
    path.write_text(text)
    with pytest.raises(PackError, match=error):
        load_packs([path])


def test_toml_dates_and_date_strings_are_the_same_day(tmp_path: Path) -> None:
    periods = []
    for name, day in (("native", "2025-07-01"), ("text", '"2025-07-01"')):
        path = tmp_path / f"{name}.toml"
        path.write_text(
            f'name = "plan-{name}"\nextends = "medicare-dme"\n'
            f"[[periods]]\nfrom = {day}\nsettings = {{max_days_supply = 60}}\n"
        )
        pack = load_packs([path])[f"plan-{name}"]
        periods.append(pack.periods)
        assert pack.settings_on(dt.date(2025, 6, 30))["max_days_supply"] == 90
        assert pack.settings_on(dt.date(2025, 7, 1))["max_days_supply"] == 60
    assert periods[0] == periods[1]
