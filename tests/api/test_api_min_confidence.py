"""POST /v1/check?min_confidence=… mirrors ``claimscrub check --min-confidence``."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from claimscrub.cli import cli

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "immunosuppressants.json"


def _post(api: Any, **params: str) -> Any:
    return api.post(
        "/v1/check",
        params={"source": "immunosuppressants.json", **params},
        content=EXAMPLE.read_bytes(),
        headers={"content-type": "application/json"},
    )


def _rules(doc: dict[str, Any]) -> set[str]:
    return {f["rule"] for c in doc["claims"] for f in c["findings"]}


def test_min_confidence_leaves_findings_out_and_counts_them(api) -> None:
    everything = _post(api).json()
    assert {"PAU001", "PAU005"} <= _rules(everything)
    assert everything["summary"]["hidden_findings"] == 0
    response = _post(api, min_confidence="high")
    assert response.status_code == 200, response.text
    doc = response.json()
    assert _rules(doc) == _rules(everything) - {"PAU001", "PAU005"}
    assert doc["summary"]["hidden_findings"] == 2
    assert doc["claimscrub"]["min_confidence"] == "high"
    assert doc["summary"]["clean"] == everything["summary"]["clean"] + 1
    # the default plan is shared: a later request without the parameter sees everything
    assert _rules(_post(api).json()) == _rules(everything)


def test_the_answer_is_the_cli_answer(api, monkeypatch) -> None:
    monkeypatch.chdir(EXAMPLE.parent)
    result = CliRunner().invoke(
        cli, ["check", EXAMPLE.name, "--format", "json", "--min-confidence", "high"]
    )
    from_cli = json.loads(result.stdout)
    from_api = _post(api, min_confidence="high").json()
    for doc in (from_cli, from_api):
        del doc["claimscrub"]["generated"]
    assert from_api == from_cli


def test_other_formats_and_selections_respect_it(api) -> None:
    response = _post(api, min_confidence="high", format="csv", select="PAU,UNT")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert {r["rule"] for r in rows} == {"UNT001", "UNT002"}
    response = _post(api, min_confidence="medium", select="PAU")
    assert _rules(response.json()) == {"PAU001", "PAU005"}


def test_unknown_level_is_a_422_in_the_error_envelope(api) -> None:
    response = _post(api, min_confidence="sure")
    assert response.status_code == 422
    body = response.json()
    assert body["ok"] is False and body["status"] == 422
    assert any(e["loc"] == "query.min_confidence" for e in body["errors"])
