"""scrub() end to end on real reference data: the result JSON honours the public format."""

from __future__ import annotations

import json

import claimscrub
from claimscrub.engine.scrub import ScrubOptions, make_plan, scrub
from claimscrub.readers.json_claims import read_json_claims
from claimscrub.rules.registry import load_builtin_rules

DOC = {
    "claims": [
        {
            "id": "C1",
            "type": "professional",
            "payer": {"type": "medicare"},
            "service_date": "2026-01-05",
            "place_of_service": "12",
            "diagnoses": ["Z94.0"],
            "lines": [
                {"number": 1, "hcpcs": "J7505", "units": 1},
                {"number": 2, "hcpcs": "J7507", "units": 30},
            ],
        },
        {
            "id": "C2",
            "type": "professional",
            "payer": {"type": "commercial"},
            "service_date": "2025-06-05",
            "diagnoses": ["Z94.0"],
            "lines": [{"number": 1, "hcpcs": "J7507", "units": 30}],
        },
    ]
}


def _report(options: ScrubOptions | None = None) -> dict:
    batch, _ = read_json_claims(json.dumps(DOC).encode(), "batch.json")
    return scrub(batch, make_plan(options or ScrubOptions(select=["COD001"]))).to_dict()


def test_result_json_has_the_public_shape() -> None:
    result = _report()
    assert set(result) >= {"claimscrub", "summary", "claims", "rejected"}
    assert result["claimscrub"]["refdata"]["hcpcs"]
    assert result["summary"] == {
        "claims": 2,
        "lines": 3,
        "clean": 1,
        "error": 1,
        "warning": 0,
        "rejected_input": 0,
        "hidden_findings": 0,  # additive: findings below --min-confidence (none by default)
    }
    first = result["claims"][0]
    assert (first["id"], first["status"]) == ("C1", "error")
    finding = first["findings"][0]
    for key in ("rule", "name", "severity", "line", "message", "carc", "rarc", "source"):
        assert key in finding
    assert finding["rule"] == "COD001" and finding["line"] == 1
    assert (finding["carc"], finding["rarc"]) == ("CO-181", ["M20"])
    assert finding["location"]["json_path"] == "claims[0].lines[0]"
    assert result["claims"][1] == {
        "id": "C2",
        "status": "clean",
        "source": "batch.json",
        # additive: where the claim starts, so two claims with one id are told apart
        "location": {"source": "batch.json", "x12": None, "row": None, "json_path": "claims[1]"},
        "findings": [],
    }


def test_severity_override_changes_status() -> None:
    result = _report(ScrubOptions(select=["COD001"], severity={"COD001": "warning"}))
    assert result["claims"][0]["status"] == "warning"
    assert result["summary"]["warning"] == 1


def test_every_finding_carries_its_rules_default_confidence() -> None:
    doc = {
        "claims": [
            {
                "id": "C3",
                "type": "professional",
                "payer": {"type": "medicare", "policy": "medicare-dme"},
                "service_date": "2026-01-05",
                "place_of_service": "12",
                "diagnoses": ["Z94.0"],
                "lines": [
                    # NDC007 (low): a well-formed NDC the crosswalk does not list
                    {"number": 1, "hcpcs": "J7507", "units": 30, "ndc": "99999999999",
                     "ndc_quantity": 30, "ndc_unit": "UN"},
                    {"number": 2, "hcpcs": "J7505", "units": 1},
                ],
            }
        ]
    }  # fmt: skip
    batch, _ = read_json_claims(
        json.dumps({"claims": DOC["claims"] + doc["claims"]}).encode(), "b.json"
    )
    result = scrub(batch, make_plan(ScrubOptions(select=["ALL"]))).to_dict()
    rules = load_builtin_rules()
    findings = [f for claim in result["claims"] for f in claim["findings"]]
    assert {f["confidence"] for f in findings} >= {"high", "low"}
    for f in findings:
        assert f["confidence"] == rules[f["rule"]].confidence.value, f["rule"]


def test_confidence_override_per_run_and_per_pack(tmp_path) -> None:
    assert load_builtin_rules()["COD001"].confidence == "high"
    by_run = _report(ScrubOptions(select=["COD001"], confidence={"COD001": "low"}))
    assert [f["confidence"] for f in by_run["claims"][0]["findings"]] == ["low"]
    (tmp_path / "unsure.yaml").write_text(
        "name: unsure-plan\nextends: commercial\nrules:\n  confidence: {COD001: medium}\n"
    )
    by_pack = ScrubOptions(select=["COD001"], pack="unsure-plan", extra_packs=[tmp_path])
    assert [f["confidence"] for f in _report(by_pack)["claims"][0]["findings"]] == ["medium"]
    # the run's own override wins over the pack's, as for severity
    both = ScrubOptions(
        select=["COD001"], pack="unsure-plan", extra_packs=[tmp_path], confidence={"COD001": "low"}
    )
    assert [f["confidence"] for f in _report(both)["claims"][0]["findings"]] == ["low"]
    # confidence never changes a claim's status
    assert by_run["claims"][0]["status"] == "error"


def test_public_api_is_lazy_and_complete() -> None:
    assert claimscrub.__all__ == sorted(claimscrub.__all__)
    for name in claimscrub.__all__:
        assert getattr(claimscrub, name) is not None


def test_a_wrong_code_replaces_the_checks_that_assume_the_code() -> None:
    """rules.md section 11: a line whose code is wrong for the product reports that, not
    the diagnosis or routing problems of the wrong code."""
    doc = {
        "claims": [
            {
                "id": "SEED",
                "type": "professional",
                "payer": {"type": "medicare", "policy": "medicare-dme"},
                "service_date": "2025-09-15",
                "place_of_service": "12",
                "diagnoses": ["Z94.1"],
                "lines": [
                    {"number": 1, "hcpcs": "J7504", "modifiers": ["KX"], "units": 300, "ndc": "00781210401",
                     "ndc_quantity": 60, "ndc_unit": "UN", "diagnosis_pointers": [1]}
                ],
            }
        ]
    }  # fmt: skip
    batch, _ = read_json_claims(json.dumps(doc).encode(), "seed.json")
    findings = scrub(batch, make_plan()).to_dict()["claims"][0]["findings"]
    line_rules = [f["rule"] for f in findings if f["line"] == 1]
    assert line_rules == ["COD004"]
    assert findings[0]["fix"] == {"hcpcs": "J7507", "units": 300}


def test_ndc_format_findings_survive_a_wrong_code() -> None:
    doc = {
        "claims": [
            {
                "id": "SEED2",
                "type": "professional",
                "payer": {"type": "medicare", "policy": "medicare-dme"},
                "service_date": "2025-09-15",
                "place_of_service": "12",
                "diagnoses": ["Z94.1"],
                "lines": [
                    {"number": 1, "hcpcs": "J7504", "modifiers": ["KX"], "units": 300, "ndc": "0781-2104-01",
                     "ndc_quantity": 60, "ndc_unit": "UN", "diagnosis_pointers": [1]}
                ],
            }
        ]
    }  # fmt: skip
    batch, _ = read_json_claims(json.dumps(doc).encode(), "seed.json")
    findings = scrub(batch, make_plan()).to_dict()["claims"][0]["findings"]
    assert sorted(f["rule"] for f in findings) == ["COD004", "NDC008"]
