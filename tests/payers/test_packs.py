"""Payer policy packs: validated data files, inheritance, effective dating, defaults."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from claimscrub.cli import cli
from claimscrub.engine.prepare import prepare_lines
from claimscrub.model.schema import CLAIMS_SCHEMA, LINES_SCHEMA, conform
from claimscrub.payers.packs import PackError, list_table, load_packs
from example_plan import EXAMPLE_PLAN, excluded_claim


def test_shipped_packs_load_and_extend_base() -> None:
    packs = load_packs()
    assert {
        "base",
        "medicare-dme",
        "medicare-ab",
        "medicaid",
        "medicare-advantage",
        "commercial",
    } <= set(packs)
    dme = packs["medicare-dme"]
    assert dme.settings["supply_fees"] is True
    assert dme.settings["ndc_unit_me_accepted"] is True  # inherited from base
    assert all(source.startswith(("LCD", "CMS", "Noridian")) for source in dme.sources)


def test_medicare_dme_supply_limit_is_30_days_then_90_from_2025() -> None:
    dme = load_packs()["medicare-dme"]
    assert dme.settings_on(dt.date(2024, 12, 31))["max_days_supply"] == 30
    assert dme.settings_on(dt.date(2025, 1, 1))["max_days_supply"] == 90


def test_commercial_pack_carries_prior_authorisation_and_step_therapy() -> None:
    packs = load_packs()
    pa = list_table(packs, "prior_authorization").filter(pl.col("pack") == "commercial")
    assert set(pa["hcpcs"]) == {"J7503", "J7504", "J7511"}
    steps = list_table(packs, "step_therapy")
    assert steps.filter(pl.col("hcpcs") == "J7503")["after"].to_list() == [["J7507"]]


def _write(tmp: Path, text: str) -> Path:
    path = tmp / "pack.yaml"
    path.write_text(text)
    return path


def test_bad_pack_names_file_and_key(tmp_path: Path) -> None:
    path = _write(tmp_path, "name: my-plan\nextends: base\nsettings: {max_days_supply: -3}\n")
    with pytest.raises(PackError, match=r"pack.yaml: settings/max_days_supply: -3 is less than"):
        load_packs([path])
    path = _write(tmp_path, "name: my-plan\nextends: base\nsettings: {ndc_requird: none}\n")
    with pytest.raises(PackError, match="ndc_requird"):
        load_packs([path])


def test_user_pack_without_code_overrides_what_differs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(
        tmp_path,
        "name: acme-health\nextends: commercial\nsettings:\n"
        "  quantity_limits: [{hcpcs: J7507, max_units: 240, per_days: 30}]\n",
    )
    monkeypatch.setenv("CLAIMSCRUB_PACKS_DIR", str(tmp_path))
    packs = load_packs()
    assert packs["acme-health"].settings["contractor"] == "commercial"
    assert list_table(packs, "quantity_limits")["max_units"].to_list() == [240]


def test_each_claim_gets_its_pack_and_dated_settings() -> None:
    claims = conform(
        pl.DataFrame(
            {
                "claim_key": [0, 1, 2, 3],
                "payer_type": ["medicare", "medicare", "commercial", "medicaid"],
                "claim_type": ["professional", "professional", "professional", "professional"],
                "place_of_service": ["12", "11", "11", "11"],
                "payer_policy": [None, None, None, "medicare-dme"],
            }
        ),
        CLAIMS_SCHEMA,
    )
    lines = conform(
        pl.DataFrame(
            {
                "claim_key": [0, 0, 1, 2, 3],
                "line_no": [1, 2, 1, 1, 1],
                "dos_from": [
                    dt.date(2024, 6, 1),
                    dt.date(2025, 6, 1),
                    dt.date(2025, 6, 1),
                    None,
                    dt.date(2025, 1, 1),
                ],
            }
        ),
        LINES_SCHEMA,
    )
    claims, prepared = prepare_lines(lines, claims, load_packs())
    assert claims["pack"].to_list() == ["medicare-dme", "medicare-ab", "commercial", "medicare-dme"]
    assert prepared.height == lines.height
    assert prepared.sort(["claim_key", "line_no"])["pack_max_days_supply"].to_list() == [
        30,
        90,
        None,
        None,
        90,
    ]


def test_unknown_pack_is_an_error() -> None:
    claims = conform(pl.DataFrame({"claim_key": [0], "payer_policy": ["nope"]}), CLAIMS_SCHEMA)
    with pytest.raises(PackError, match="unknown payer policy pack"):
        prepare_lines(conform(pl.DataFrame({"claim_key": [0]}), LINES_SCHEMA), claims, load_packs())


def test_builtin_packs_list_no_excluded_products() -> None:
    # No published plan exclusion is cited for these drugs: the built-in lists stay empty.
    assert all(not p.settings["excluded_products"] for p in load_packs().values())
    assert list_table(load_packs(), "excluded_products").height == 0


def test_user_pack_lists_dated_excluded_products() -> None:
    table = list_table(load_packs([EXAMPLE_PLAN]), "excluded_products")
    assert table.filter(pl.col("ndc") == "00469064773").select("from", "to").row(0) == (
        "2025-01-01",
        "2025-12-31",
    )
    assert set(table["pack"]) == {"example-medical-plan"}


@pytest.mark.parametrize(
    ("entry", "error"),
    [
        (
            '{hcpcs: J7507, reason: "pharmacy only"}',
            r"settings/excluded_products/0: 'source' is a required property",
        ),
        (
            '{reason: r, source: "https://example.org/x"}',
            r"settings/excluded_products/0: .* is not valid under any of the given schemas",
        ),
        (
            '{ndc: "0781-2104-01", reason: r, source: "https://example.org/x"}',
            r"settings/excluded_products/0/ndc: '0781-2104-01' does not match",
        ),
        (
            '{hcpcs: J7507, reason: r, source: "see the plan booklet"}',
            r"settings/excluded_products/0/source: 'see the plan booklet' does not match",
        ),
        (
            '{hcpcs: J7507, from: 2025-02-30, reason: r, source: "https://example.org/x"}',
            r"settings/excluded_products/0/from: '2025-02-30' is not a date",
        ),
        (
            "{hcpcs: J7507, from: 2025-06-01, to: 2025-01-31, reason: r, "
            'source: "https://example.org/x"}',
            r"settings/excluded_products/0: from 2025-06-01 is after to 2025-01-31",
        ),
    ],
)
def test_bad_excluded_product_entry_names_file_entry_and_problem(
    tmp_path: Path, entry: str, error: str
) -> None:
    path = _write(
        tmp_path, f"name: my-plan\nextends: base\nsettings:\n  excluded_products: [{entry}]\n"
    )
    with pytest.raises(PackError, match=r"pack.yaml: " + error):
        load_packs([path])


def test_check_with_a_user_pack_reports_the_excluded_product(tmp_path: Path) -> None:
    # Real code and NDC (00469-0617-73 is J7507 on the bundled ASP crosswalk); the pack
    # comes from --policy, the claim names it.
    claim = excluded_claim()
    path = tmp_path / "claims.json"
    path.write_text(json.dumps({"claims": [claim]}), encoding="utf-8")
    args = ["check", str(path), "--format", "json", "--select", "PAU006"]
    result = CliRunner().invoke(cli, [*args, "--policy", str(EXAMPLE_PLAN)])
    assert result.exit_code == 1, result.output
    (finding,) = json.loads(result.output)["claims"][0]["findings"]
    assert finding["carc"] == "CO-204"
    assert finding["message"].startswith(
        "J7507 is excluded from the benefit of payer policy example-medical-plan"
    )
    assert "pharmacy benefit only" in finding["message"]

    claim["payer"] = {"type": "commercial"}  # the built-in commercial pack excludes nothing
    path.write_text(json.dumps({"claims": [claim]}), encoding="utf-8")
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("period", "error"),
    [
        (
            "{from: 2025-02-30, settings: {max_days_supply: 60}}",
            r"periods/0/from: '2025-02-30' is not a date",
        ),
        (
            "{from: 2025-06-01, to: 2025-01-31, settings: {max_days_supply: 60}}",
            r"periods/0: from 2025-06-01 is after to 2025-01-31",
        ),
    ],
)
def test_bad_period_dates_name_file_period_and_problem(
    tmp_path: Path, period: str, error: str
) -> None:
    path = _write(tmp_path, f"name: my-plan\nextends: base\nperiods: [{period}]\n")
    with pytest.raises(PackError, match=r"pack.yaml: " + error):
        load_packs([path])


def test_pack_rule_overrides_must_name_rule_codes(tmp_path: Path) -> None:
    from claimscrub.engine.scrub import ScrubOptions, make_plan

    path = _write(
        tmp_path, "name: my-plan\nextends: base\nrules:\n  ignore: [MCR008, refill-too-early]\n"
    )
    with pytest.raises(PackError, match=r"pack.yaml: rules/ignore: unknown rule code\(s\) refill"):
        make_plan(ScrubOptions(extra_packs=[path]))
