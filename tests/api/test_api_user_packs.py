"""User payer policy packs in the API: ``serve --policy`` / the ``policy`` key / ``packs=``.

The synthetic pack ``tests/fixtures/packs/example-medical-plan.yaml`` (extends commercial)
excludes J7507 from its medical benefit from 2025; a server given it must check claims
against it (PAU006), list it and explain it, and a server given a bad pack must not start.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from claimscrub.api import ApiSettings, create_app
from claimscrub.api.settings import PACKS_ENV
from claimscrub.cli import cli
from claimscrub.explain import build_explanation, render
from claimscrub.payers.packs import PackError, load_packs
from example_plan import EXAMPLE_PLAN, EXAMPLE_PLAN_NAME, excluded_claim

PACK = EXAMPLE_PLAN_NAME
_claim = excluded_claim


@pytest.fixture
def packed(make_api) -> Any:
    """An app given the example pack, as ``serve --policy FILE`` builds it."""
    return make_api(packs=(EXAMPLE_PLAN,))


def _check(client: Any, claim: dict[str, Any], **params: Any) -> dict[str, Any]:
    response = client.post(
        "/v1/check",
        content=json.dumps({"claims": [claim]}),
        headers={"content-type": "application/json"},
        params={"select": "PAU006", **params},
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_check_applies_the_user_pack_the_claim_names(packed, api) -> None:
    (finding,) = _check(packed, _claim(PACK))["claims"][0]["findings"]
    assert finding["rule"] == "PAU006"
    assert finding["carc"] == "CO-204"
    assert finding["message"].startswith(
        "J7507 is excluded from the benefit of payer policy example-medical-plan"
    )
    # The built-in commercial pack excludes nothing, and a server without the pack has none.
    assert _check(packed, _claim("commercial"))["claims"][0]["findings"] == []
    # A server without the pack rejects a claim that names it, and checks the others.
    response = api.post(
        "/v1/check",
        content=json.dumps({"claims": [_claim(PACK), {**_claim("commercial"), "id": "C2"}]}),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 200, response.text
    doc = response.json()
    assert [claim["id"] for claim in doc["claims"]] == ["C2"]
    (rejected,) = doc["rejected"]
    assert "payer.policy 'example-medical-plan' of claim" in rejected["reason"]
    assert "is not a payer policy pack" in rejected["reason"]


def test_check_with_other_rule_selections_and_payer_keeps_the_user_pack(packed) -> None:
    claim = _claim("commercial")
    # payer= forces the pack; another selection builds (and caches) another plan.
    doc = _check(packed, claim, payer=PACK, extend_select="UNT001")
    assert [f["rule"] for f in doc["claims"][0]["findings"]] == ["PAU006"]


def test_payers_list_the_user_pack(packed, api) -> None:
    payers = {p["name"]: p for p in packed.get("/v1/payers").json()["payers"]}
    assert payers[PACK]["title"] == "Example commercial plan, medical benefit (synthetic)"
    assert any("example.org/example-medical-plan" in s for s in payers[PACK]["sources"])
    assert PACK not in {p["name"] for p in api.get("/v1/payers").json()["payers"]}
    assert packed.get("/healthz").json()["payers"] == len(payers)


def test_code_explained_for_the_user_pack_shows_its_exclusion(packed, api) -> None:
    params = {"payer": PACK, "on": "2026-03-01"}
    response = packed.get("/v1/codes/J7507", params=params)
    assert response.status_code == 200, response.text
    doc = response.json()
    assert doc["packs"] == [PACK]
    payers = next(s for s in doc["sections"] if s["id"] == "payers")
    texts = [s["text"] for s in payers["statements"]]
    assert any(
        t.startswith("Excluded from the plan's benefit from 2025-01-01") and "pharmacy benefit" in t
        for t in texts
    ), texts
    # The same page the library builds with the same packs.
    expected = build_explanation(
        "J7507", on=dt.date(2026, 3, 1), payer=PACK, packs=load_packs([EXAMPLE_PLAN])
    )
    assert doc == json.loads(render(expected, "json"))
    # A server without the pack does not know the name.
    assert api.get("/v1/codes/J7507", params=params).status_code == 422


def test_bad_or_missing_pack_fails_when_the_app_is_built(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad-pack\nsettings:\n  no_such_setting: 1\n", encoding="utf-8")
    with pytest.raises(PackError, match=r"bad\.yaml: settings: .*no_such_setting"):
        create_app(ApiSettings(packs=(bad,)))
    with pytest.raises(PackError, match="no such pack file or folder"):
        create_app(ApiSettings(packs=(tmp_path / "missing",)))


def test_pack_paths_reach_workers_through_the_environment(tmp_path: Path) -> None:
    settings = ApiSettings(packs=(EXAMPLE_PLAN, tmp_path))
    env = settings.to_env()
    assert env[PACKS_ENV] == os.pathsep.join([str(EXAMPLE_PLAN), str(tmp_path)])
    assert ApiSettings.from_env(env) == settings
    assert ApiSettings.from_env({}).packs == ()


@pytest.fixture
def served(monkeypatch) -> dict[str, Any]:
    """Run ``claimscrub serve`` up to uvicorn and keep what it would have served."""
    import uvicorn

    # serve exports its settings for workers; restore this process's environment after.
    for name in [*ApiSettings().to_env(), PACKS_ENV]:
        monkeypatch.setenv(name, os.environ.get(name, ""))
    seen: dict[str, Any] = {}

    def run(app: Any, **options: Any) -> None:
        seen["app"] = app
        seen["env"] = os.environ.get(PACKS_ENV)

    monkeypatch.setattr(uvicorn, "run", run)
    return seen


def test_serve_policy_flag_serves_the_pack(served) -> None:
    result = CliRunner().invoke(cli, ["serve", "--isolated", "--policy", str(EXAMPLE_PLAN)])
    assert result.exit_code == 0, result.output
    assert served["env"] == str(EXAMPLE_PLAN)
    service = served["app"].state.service
    assert PACK in [p["name"] for p in service.payers()]
    service.close()


def test_serve_reads_the_policy_key_of_the_configuration(served, tmp_path, monkeypatch) -> None:
    (tmp_path / "packs").mkdir()
    (tmp_path / "packs" / "plan.yaml").write_text(EXAMPLE_PLAN.read_text(), encoding="utf-8")
    (tmp_path / "claimscrub.toml").write_text('policy = ["packs/"]\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code == 0, result.output
    assert served["env"] == str(tmp_path.resolve() / "packs")


def test_serve_with_a_bad_pack_exits_2_naming_file_and_key(served, tmp_path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad-pack\nsettings:\n  no_such_setting: 1\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["serve", "--isolated", "--policy", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}: settings:" in result.output
    assert "no_such_setting" in result.output
    assert "app" not in served  # never started
