"""`claimscrub ndc`: normalisation for every layout, ambiguity, crosswalk, exit codes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from claimscrub.cli import cli
from claimscrub.refdata.catalog import default_refdata


@pytest.fixture(autouse=True)
def _bundled_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("CLAIMSCRUB_DATA_DIR", str(tmp_path / "empty-store"))
    default_refdata.cache_clear()
    yield
    default_refdata.cache_clear()


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def ndc_json(ndc: str, on: str = "2025-11-01") -> tuple[int, dict]:
    status, out, _ = run("ndc", ndc, "--on", on, "--format", "json")
    return status, json.loads(out)


def test_sandoz_tacrolimus_4_4_2() -> None:
    status, out, _ = run("ndc", "0781-2104-01", "--on", "2025-11-01")
    assert status == 0
    assert "00781210401" in out and "layout 4-4-2" in out
    assert "J7507" in out and "Tacrolimus, immediate release, oral, 1 mg" in out
    assert "Sandoz Inc." in out
    assert "[ndc_hcpcs 2025-Q4]" in out


@pytest.mark.parametrize(
    ("submitted", "ndc11", "layout", "hcpcs"),
    [
        ("0781-2104-01", "00781210401", "4-4-2", "J7507"),
        ("55111-527-01", "55111052701", "5-3-2", "J7507"),
        ("68992-3075-3", "68992307503", "5-4-1", "J7503"),
        ("58468-0080-1", "58468008001", "5-4-1", "J7511"),
        ("00009-7224-02", "00009722402", "5-4-2", "J7504"),
        ("00009722402", "00009722402", "11-digit", "J7504"),
    ],
)
def test_layouts(submitted: str, ndc11: str, layout: str, hcpcs: str) -> None:
    status, doc = ndc_json(submitted)
    assert status == 0
    assert (doc["status"], doc["ndc11"], doc["layout"]) == ("ok", ndc11, layout)
    assert [item["hcpcs_code"] for item in doc["crosswalk"]["items"]] == [hcpcs]


def test_json_shape_and_units() -> None:
    status, doc = ndc_json("0781-2104-01")
    assert status == 0
    assert doc["schema"] == "claimscrub-ndc/1"
    assert set(doc) == {
        "schema",
        "query",
        "status",
        "ndc11",
        "ndc",
        "layout",
        "reason",
        "candidates",
        "resolved",
        "resolution",
        "listed",
        "crosswalk",
    }
    item = doc["crosswalk"]["items"][0]
    assert (
        item["pkg_size"],
        item["pkg_qty"],
        item["bill_units_per_ndc"],
        item["units_per_item"],
    ) == (100, 1, 500, 5)
    assert item["labeler"] == "Sandoz Inc." and item["drug_name"] == "Tacrolimus"
    assert item["hcpcs"]["status"] == "valid"
    assert item["hcpcs"]["source"]["label"] == "hcpcs 2026-01"
    assert doc["crosswalk"]["source"]["label"] == "ndc_hcpcs 2025-Q4"


def test_unhyphenated_ten_digits_is_ambiguous() -> None:
    status, out, _ = run("ndc", "6899230753", "--on", "2025-11-01")
    assert "AMBIGUOUS" in out
    for layout, candidate in (
        ("4-4-2", "06899230753"),
        ("5-3-2", "68992030753"),
        ("5-4-1", "68992307503"),
    ):
        assert layout in out and candidate in out
    assert "resolved by the crosswalk: only 5-4-1 candidate 68992307503 is listed" in out
    assert status == 0
    _, doc = ndc_json("6899230753")
    assert doc["status"] == "ambiguous"
    assert doc["ndc11"] is None  # never guessed by parse_ndc
    assert [c["listed"] for c in doc["candidates"]] == [False, False, True]
    assert doc["resolved"] == {
        "by": "crosswalk",
        "layout": "5-4-1",
        "ndc11": "68992307503",
        "ndc": "68992-3075-03",
    }


def test_ambiguous_without_a_listed_candidate_exits_1() -> None:
    status, doc = ndc_json("1111111111")
    assert status == 1
    assert doc["status"] == "ambiguous" and doc["resolved"] is None
    assert doc["resolution"].startswith("not resolved")


def test_not_on_crosswalk_exits_1() -> None:
    status, _, err = run("ndc", "12345-678-90", "--on", "2025-11-01")
    assert status == 1
    assert "12345067890 is not on the ASP NDC-HCPCS crosswalk" in err


@pytest.mark.parametrize(
    "bad", ["1234", "0781-2104", "ABCDE-1234-12", "123456-12-1", "007812104011"]
)
def test_invalid_ndc_exits_2(bad: str) -> None:
    status, _, err = run("ndc", bad)
    assert status == 2
    assert "Invalid value for NDC" in err


def test_two_listed_candidates_stay_ambiguous() -> None:
    # 5009065500 is 50090-0655-00 (5-3-2) and 50090-6550-00 (5-4-1): both are on the crosswalk
    status, doc = ndc_json("5009065500")
    assert status == 1
    assert doc["resolved"] is None
    listed = [c["ndc11"] for c in doc["candidates"] if c["listed"]]
    assert sorted(listed) == ["50090065500", "50090655000"]
    assert doc["resolution"].startswith("still ambiguous: 2 candidates are listed")


def test_ndc_listed_under_two_codes_says_to_pick_the_matching_one() -> None:
    # Teva cyclosporine 25 mg 00093-9018-65 is on the 2025-Q4 crosswalk under J7502 and J7515.
    status, doc = ndc_json("00093901865", "2025-11-15")
    assert status == 0
    assert sorted({item["hcpcs_code"] for item in doc["crosswalk"]["items"]}) == ["J7502", "J7515"]
    assert doc["crosswalk"]["note"].startswith("listed under 2 codes (J7502, J7515)")
    # the two codes differ only in strength: the one of 1 unit per capsule is named
    assert doc["crosswalk"]["note"].endswith("so bill J7515 (COD009)")
    _, text, _ = run("ndc", "00093901865", "--on", "2025-11-15")
    assert "listed under 2 codes" in " ".join(text.split())
