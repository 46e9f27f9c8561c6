"""The same input gives the same findings in every output format."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from claimscrub.cli import cli

EXAMPLE = Path(__file__).resolve().parent.parent.parent / "examples" / "immunosuppressants.json"


def _run(fmt: str) -> str:
    result = CliRunner().invoke(cli, ["check", str(EXAMPLE), "--format", fmt])
    assert result.exit_code == 1, result.output  # the example batch has findings
    return result.output


Finding = tuple[str, object, str, str, str]  # claim, line, rule, message, confidence


def _from_json() -> set[Finding]:
    doc = json.loads(_run("json"))
    return {
        (c["id"], f["line"], f["rule"], f["message"], f["confidence"])
        for c in doc["claims"]
        for f in c["findings"]
    }


def _from_jsonl() -> set[Finding]:
    items = [json.loads(x) for x in _run("jsonl").splitlines() if x.strip()]
    return {
        (i["claim"], i["line"], i["rule"], i["message"], i["confidence"])
        for i in items
        if "rule" in i
    }


def _from_csv() -> set[Finding]:
    reader = csv.DictReader(io.StringIO(_run("csv")))
    return {
        (
            r["claim_id"],
            int(r["line"]) if r["line"] else None,
            r["rule"],
            r["message"],
            r["confidence"],
        )
        for r in reader
        if r["rule"] != "INPUT"
    }


def _from_sarif() -> set[Finding]:
    log = json.loads(_run("sarif"))
    run = log["runs"][0]
    assert log["version"] == "2.1.0"
    rule_ids = {r["id"] for r in run["tool"]["driver"]["rules"]}
    assert {res["ruleId"] for res in run["results"]} <= rule_ids
    defaults = {r["id"]: r["properties"]["confidence"] for r in run["tool"]["driver"]["rules"]}
    assert defaults["COD001"] == "high" and defaults["NDC007"] == "low"
    return {
        (
            res["properties"]["claim"],
            res["properties"]["line"],
            res["ruleId"],
            res["message"]["text"],
            res["properties"]["confidence"],
        )
        for res in run["results"]
    }


def _from_concise() -> set[tuple[str, str]]:
    out = set()
    for line in _run("concise").splitlines():
        parts = line.split(":", 3)
        if len(parts) == 4 and parts[3].startswith(" ") and parts[3][1:7].isalnum():
            out.add((parts[1], parts[3].strip()))
    return out


@pytest.mark.parametrize("reader", [_from_jsonl, _from_csv, _from_sarif])
def test_machine_formats_carry_the_same_findings_as_json(reader) -> None:  # noqa: ANN001
    expected = _from_json()
    assert expected, "the example batch must produce findings"
    assert {confidence for *_, confidence in expected} >= {"high", "medium"}
    assert reader() == expected


def test_concise_output_lists_the_same_findings() -> None:
    expected = {(claim, f"{rule} {message}") for claim, _, rule, message, _ in _from_json()}
    assert _from_concise() == expected
