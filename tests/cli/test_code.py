"""`claimscrub code`: facts with their sources, JSON shape, exit codes 0/1/2."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from claimscrub.cli import cli
from claimscrub.refdata.catalog import default_refdata


@pytest.fixture(autouse=True)
def _bundled_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """An empty user store, so only the bundled snapshot answers."""
    monkeypatch.setenv("CLAIMSCRUB_DATA_DIR", str(tmp_path / "empty-store"))
    default_refdata.cache_clear()
    yield
    default_refdata.cache_clear()


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def code_json(*args: str) -> dict:
    status, out, err = run("code", *args, "--format", "json")
    assert status == 0, err
    return json.loads(out)


def test_text_output_labels_every_fact() -> None:
    status, out, _ = run("code", "J7507", "--on", "2025-11-01")
    assert status == 0
    assert "Tacrolimus, immediate release, oral, 1 mg" in out
    assert "VALID on 2025-11-01" in out
    for label in (
        "[hcpcs 2026-01]",
        "[mue 2024-07-01]",
        "opps 2025-10",
        "[asp 2025-Q4]",
        "[ndc_hcpcs 2025-Q4]",
    ):
        assert label in out
    assert "00781-2104-01" in out and "00781210401" in out
    assert "same ingredient" in out and "J7503" in out


def test_terminated_code() -> None:
    status, out, _ = run("code", "J7505", "--on", "2026-01-01")
    assert status == 0
    assert "TERMINATED on 2026-01-01" in out
    assert "terminated 2025-12-31" in out
    assert "Muromonab-cd3, parenteral, 5 mg" in out


def test_json_shape() -> None:
    doc = code_json("J7504", "--on", "2025-11-01")
    assert doc["schema"] == "claimscrub-code/1"
    assert set(doc) == {
        "schema",
        "query",
        "found",
        "code",
        "record_type",
        "status",
        "descriptor",
        "unit",
        "indicators",
        "mue",
        "opps",
        "asp",
        "ndcs",
        "related",
        "releases",
    }
    assert doc["query"] == {"code": "J7504", "on": "2025-11-01"}
    assert doc["status"]["value"] == "valid"
    assert doc["unit"] | {"source": None} == {
        "amount": "250",
        "uom": "mg",
        "text": "250 mg",
        "route": "parenteral",
        "form": None,
        "ingredient": "lymphocyte immune globulin",
        "derived_from": "long descriptor",
        "source": None,
    }
    assert "equine" in doc["descriptor"]["long"]
    for block in (
        doc["status"],
        doc["descriptor"],
        doc["unit"],
        doc["indicators"],
        doc["mue"],
        doc["asp"],
        doc["ndcs"],
    ):
        assert {
            "dataset",
            "release",
            "effective_from",
            "effective_to",
            "in_force",
            "label",
            "caveat",
        } <= set(block["source"])
    assert doc["asp"]["payment_limit"] == "5135.09"
    assert [o["source"]["release"] for o in doc["opps"]] == ["2025-10", "2026-01", "2026-04"]
    assert [o["selected"] for o in doc["opps"]] == [True, False, False]
    assert doc["opps"][0]["status_indicator"]["code"] == "K"
    ndc = doc["ndcs"]["items"][0]
    assert ndc["ndc"] == "00009-7224-02" and ndc["ndc11"] == "00009722402"
    assert ndc["units_per_item"] == 0.2 and ndc["bill_units_per_ndc"] == 5
    assert {m["service_type"] for m in doc["mue"]["limits"]} == {
        "practitioner",
        "outpatient_hospital",
        "dme_supplier",
    }
    assert [r["source"]["release"] for r in doc["releases"]] == ["2026-01", "2020-01"]


def test_out_of_window_releases_are_flagged() -> None:
    doc = code_json("J7507", "--on", "2026-12-04")
    assert doc["asp"]["source"]["in_force"] is False
    assert doc["asp"]["source"]["caveat"] == (
        "no release in force on 2026-12-04; latest available release 2025-Q4, "
        "effective 2025-10-01 to 2025-12-31"
    )
    assert doc["ndcs"]["source"]["in_force"] is False
    assert doc["mue"]["source"]["in_force"] is True  # open-ended


def test_descriptor_as_of_date() -> None:
    assert (
        code_json("J7516", "--on", "2023-06-01")["descriptor"]["long"]
        == "Cyclosporin, parenteral, 250 mg"
    )
    assert (
        code_json("J7516", "--on", "2024-04-01")["descriptor"]["long"]
        == "Injection, cyclosporine, 250 mg"
    )


def test_lower_case_and_modifier() -> None:
    assert code_json("j7507", "--on", "2025-11-01")["code"] == "J7507"
    modifier = code_json("KX", "--on", "2025-11-01")
    assert modifier["record_type"] == "modifier"
    assert modifier["ndcs"]["items"] == []


def test_unknown_code_exits_1() -> None:
    status, out, err = run("code", "J9998")
    assert status == 1
    assert "unknown code J9998" in err
    status, _, err = run("code", "99213")
    assert status == 1
    assert "CPT (Level I) codes are not included" in err
    status, out, _ = run("code", "J9998", "--format", "json")
    assert status == 1
    assert json.loads(out)["found"] is False


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["code", "XYZ"], "is not a HCPCS code"),
        (["code", "J7507", "--on", "2025-13-01"], "does not match the format"),
        (["code", "J7507", "--on", "yesterday"], "does not match the format"),
        (["code", "J7507", "--format", "xml"], "'xml' is not one of"),
    ],
)
def test_bad_arguments_exit_2(args: list[str], message: str) -> None:
    status, _, err = run(*args)
    assert status == 2
    assert message in err


def test_console_script_never_shows_a_traceback() -> None:
    for args in (
        ["code", "XYZ"],
        ["code", "J9998"],
        ["code", "J7507", "--on", "bad"],
        ["ndc", "12-34"],
    ):
        result = subprocess.run(
            [sys.executable, "-m", "claimscrub", *args], capture_output=True, text=True, check=False
        )
        assert result.returncode in (1, 2)
        assert "Traceback" not in result.stderr
