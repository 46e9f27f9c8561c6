"""Payer policy packs: validated data files, inheritance, effective dating, defaults."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from claimscrub.engine.prepare import prepare_lines
from claimscrub.model.schema import CLAIMS_SCHEMA, LINES_SCHEMA, conform
from claimscrub.payers.packs import PackError, list_table, load_packs


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
