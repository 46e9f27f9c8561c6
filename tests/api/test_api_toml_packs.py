"""The server reads TOML payer packs as it reads YAML ones (``CLAIMSCRUB_API_PACKS``)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from claimscrub.api import ApiSettings
from example_plan import EXAMPLE_PLAN_NAME, EXAMPLE_PLAN_TOML, excluded_claim


def test_a_toml_pack_folder_from_the_environment_is_served(tmp_path: Path, make_api) -> None:
    folder = tmp_path / "packs"
    folder.mkdir()
    shutil.copy(EXAMPLE_PLAN_TOML, folder / "plan.toml")
    settings = ApiSettings.from_env({"CLAIMSCRUB_API_PACKS": str(folder)})
    client = make_api(packs=settings.packs)
    names = [p["name"] for p in client.get("/v1/payers").json()["payers"]]
    assert EXAMPLE_PLAN_NAME in names
    response = client.post(
        "/v1/check",
        content=json.dumps({"claims": [excluded_claim()]}),
        headers={"content-type": "application/json"},
        params={"select": "PAU006"},
    )
    findings: list[dict[str, Any]] = response.json()["claims"][0]["findings"]
    assert [f["rule"] for f in findings] == ["PAU006"]
    assert "pharmacy benefit only" in findings[0]["message"]
