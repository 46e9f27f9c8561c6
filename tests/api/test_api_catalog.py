"""Rules, payer packs, reference data and health: the same facts the CLI prints."""

from __future__ import annotations

import json

from click.testing import CliRunner

from claimscrub.cli import cli
from claimscrub.refdata.catalog import default_refdata
from claimscrub.rules.registry import load_builtin_rules


def _cli_json(*args: str) -> dict:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_rules_list_is_the_cli_list(api) -> None:
    response = api.get("/v1/rules")
    assert response.status_code == 200
    assert response.json() == _cli_json("rules", "--format", "json")
    assert len(response.json()["rules"]) == len(load_builtin_rules())


def test_one_rule_by_code_or_name_is_the_cli_page(api) -> None:
    page = api.get("/v1/rules/unt001").json()
    assert page == _cli_json("rule", "UNT001", "--format", "json")
    assert api.get(f"/v1/rules/{page['name']}").json() == page
    assert "## What it checks" in page["doc"] or page["doc"]


def test_rules_carry_their_default_confidence(api) -> None:
    listed = {r["code"]: r["confidence"] for r in api.get("/v1/rules").json()["rules"]}
    assert listed == {code: r.confidence.value for code, r in load_builtin_rules().items()}
    assert listed["COD001"] == "high" and listed["PAU003"] == "low"
    assert api.get("/v1/rules/PAU003").json()["confidence"] == "low"
    page = CliRunner().invoke(cli, ["rule", "PAU003"]).output
    assert "Confidence: low" in page
    table = CliRunner().invoke(cli, ["rules"], env={"COLUMNS": "200"}).output
    assert "confidence" in table


def test_refdata_lists_every_installed_release(api) -> None:
    doc = api.get("/v1/refdata").json()
    refdata = default_refdata()
    listed = {(d["name"], r["release"]) for d in doc["datasets"] for r in d["releases"]}
    assert listed == {(r.dataset, r.release) for r in refdata.all_releases()}
    hcpcs = next(d for d in doc["datasets"] if d["name"] == "hcpcs")
    assert all(r["source_file"] for r in hcpcs["releases"])
    assert "/" not in json.dumps([r.get("path") for d in doc["datasets"] for r in d["releases"]])


def test_payers_are_the_packs(api) -> None:
    names = [p["name"] for p in api.get("/v1/payers").json()["payers"]]
    assert "medicare-dme" in names
    assert names == sorted(api.app.state.service.default_plan.packs)


def test_health(api) -> None:
    health = api.get("/healthz").json()
    assert health["ok"] is True
    assert health["rules"] == len(load_builtin_rules())
    assert health["auth_required"] is False


def test_page_is_served(api) -> None:
    page = api.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "/static/app.js" in page.text
    assert api.get("/static/app.css").status_code == 200
