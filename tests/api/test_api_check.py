"""POST /v1/check answers with the CLI's result JSON, whatever way the claims are sent."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from claimscrub.api.service import CheckRequest
from claimscrub.cli import cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CONTENT_TYPES = {
    "immunosuppressants.837": "application/edi-x12",
    "immunosuppressants.json": "application/json",
    "immunosuppressants.csv": "text/csv",
}


def _without_clock(doc: dict[str, Any]) -> dict[str, Any]:
    doc = json.loads(json.dumps(doc))
    del doc["claimscrub"]["generated"]
    return doc


def _cli(monkeypatch: pytest.MonkeyPatch, name: str, *options: str, fmt: str = "json") -> str:
    # Run from examples/ with a bare file name, so the CLI records the same source name
    # that the API is given.
    monkeypatch.chdir(EXAMPLES)
    result = CliRunner().invoke(cli, ["check", name, "--format", fmt, *options])
    assert result.exit_code in (0, 1), result.output
    return result.output


@pytest.mark.parametrize("name", sorted(CONTENT_TYPES))
def test_result_is_the_cli_result(api, monkeypatch, name) -> None:
    response = api.post(
        "/v1/check",
        params={"source": name},
        content=(EXAMPLES / name).read_bytes(),
        headers={"content-type": CONTENT_TYPES[name]},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    from_api = response.json()
    from_cli = json.loads(_cli(monkeypatch, name))
    assert _without_clock(from_api) == _without_clock(from_cli)
    # The example batch is a worklist, not a clean run: the comparison is not vacuous.
    assert from_api["summary"]["error"] > 0
    assert any(c["findings"] for c in from_api["claims"])


def test_cli_options_map_to_query_parameters(api, monkeypatch) -> None:
    name = "immunosuppressants.json"
    response = api.post(
        "/v1/check",
        params={
            "source": name,
            "select": "UNT,COD",
            "ignore": "COD003",
            "payer": "medicare-dme",
            "as_of": "2026-02-01",
        },
        content=(EXAMPLES / name).read_bytes(),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 200, response.text
    options = ["--select", "UNT,COD", "--ignore", "COD003", "--payer", "medicare-dme"]
    from_cli = json.loads(_cli(monkeypatch, name, *options, "--as-of", "2026-02-01"))
    assert _without_clock(response.json()) == _without_clock(from_cli)
    rules = {f["rule"] for c in response.json()["claims"] for f in c["findings"]}
    assert rules, "the selection still finds something in the example batch"
    assert all(r.startswith(("UNT", "COD")) for r in rules)
    assert "COD003" not in rules


def test_repeated_selectors_equal_comma_separated(api, example_837) -> None:
    def rules_of(params: Any) -> set[str]:
        response = api.post("/v1/check", params=params, content=example_837)
        assert response.status_code == 200, response.text
        return {f["rule"] for c in response.json()["claims"] for f in c["findings"]}

    repeated = rules_of([("select", "UNT"), ("select", "COD")])
    assert repeated == rules_of({"select": "UNT,COD"})
    assert repeated and all(r[:3] in ("UNT", "COD") for r in repeated)


def test_multipart_upload_takes_the_file_name_as_source(api, example_837) -> None:
    response = api.post(
        "/v1/check",
        files={"file": ("C:\\billing\\batch-0105.837", example_837, "application/octet-stream")},
    )
    assert response.status_code == 200, response.text
    doc = response.json()
    assert {c["source"] for c in doc["claims"]} == {"batch-0105.837"}
    assert doc["summary"]["claims"] == 14


def test_plain_text_is_sniffed_and_input_format_overrides(api, example_837) -> None:
    sniffed = api.post("/v1/check", content=example_837, headers={"content-type": "text/plain"})
    assert sniffed.status_code == 200
    assert sniffed.json()["summary"]["claims"] == 14
    # Forcing the CSV reader on X12 text: the input is rejected with a reason, as the CLI does.
    forced = api.post(
        "/v1/check",
        params={"input_format": "csv"},
        content=example_837,
        headers={"content-type": "text/plain"},
    )
    assert forced.status_code == 200
    assert forced.json()["summary"]["claims"] == 0
    assert forced.json()["rejected"]


def test_unreadable_input_is_listed_as_rejected(api, monkeypatch, tmp_path) -> None:
    body = b"this is not a claims file\n"
    response = api.post("/v1/check", params={"source": "notes.txt"}, content=body)
    assert response.status_code == 200
    doc = response.json()
    assert doc["summary"]["rejected_input"] == 1
    assert doc["rejected"][0]["src"] == "notes.txt"
    (tmp_path / "notes.txt").write_bytes(body)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["check", "notes.txt", "--format", "json"])
    assert doc["rejected"] == json.loads(result.output)["rejected"]


def test_csv_report_is_the_cli_csv(api, monkeypatch) -> None:
    name = "immunosuppressants.837"
    response = api.post(
        "/v1/check",
        params={"source": name, "format": "csv"},
        content=(EXAMPLES / name).read_bytes(),
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert rows == list(csv.DictReader(io.StringIO(_cli(monkeypatch, name, fmt="csv"))))
    assert {r["claim_id"] for r in rows} >= {"EX-1003"}


def test_sarif_and_jsonl_reports(api, example_837) -> None:
    sarif = api.post("/v1/check", params={"format": "sarif"}, content=example_837)
    assert sarif.status_code == 200
    assert sarif.headers["content-type"] == "application/sarif+json"
    assert sarif.json()["version"] == "2.1.0"
    jsonl = api.post("/v1/check", params={"format": "jsonl"}, content=example_837)
    assert jsonl.status_code == 200
    items = [json.loads(line) for line in jsonl.text.splitlines()]
    doc = api.post("/v1/check", content=example_837).json()
    assert len(items) == sum(len(c["findings"]) for c in doc["claims"]) + len(doc["rejected"])


def test_html_report_lists_the_findings(api, example_837) -> None:
    response = api.post("/v1/check", params={"format": "html"}, content=example_837)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    doc = api.post("/v1/check", content=example_837).json()
    erroneous = [c["id"] for c in doc["claims"] if c["status"] == "error"]
    assert erroneous
    for claim_id in erroneous:
        assert claim_id in response.text


def test_server_timing_says_where_the_time_went(api, example_837) -> None:
    response = api.post("/v1/check", content=example_837)
    parts = dict(p.strip().split(";dur=") for p in response.headers["server-timing"].split(","))
    assert set(parts) == {"read", "scrub", "result", "render"}
    assert all(float(v) >= 0 for v in parts.values())


def test_other_selections_reuse_cached_plans(api, example_837) -> None:
    service = api.app.state.service
    for _ in range(2):
        assert api.post("/v1/check", params={"select": "MUE"}, content=example_837).is_success
    key = (("MUE",), (), ())
    assert key in service._plans
    first = service._plans[key]
    api.post("/v1/check", params={"select": "MUE", "payer": "medicaid"}, content=example_837)
    assert service._plans[key] is first  # payer rides on the cached plan
    assert service.plan_for(CheckRequest(body=b"", source="x")) is service.default_plan


def test_plan_cache_is_bounded(make_api, example_837) -> None:
    api = make_api(plan_cache_size=1)
    for selection in ("MUE", "UNT", "COD"):
        assert api.post("/v1/check", params={"select": selection}, content=example_837).is_success
    assert list(api.app.state.service._plans) == [(("COD",), (), ())]
