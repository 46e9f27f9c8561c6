"""``check --fix`` / ``--unsafe-fixes`` / ``--diff`` on the bundled example batch.

The example batch holds the common billing mistakes (capsule counts billed as units,
Envarsus under the immediate-release code, oral tacrolimus under J7504, a missing KX ...).
The corrected file must carry the corrections, keep every claim, and check clean of the
rules whose fixes were applied.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from claimscrub.cli import cli
from claimscrub.readers import read_claims
from claimscrub.readers.writers import to_json_document

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLES = ROOT / "examples"
# The rules whose (unsafe) fixes the example batch exercises.
FIXED_RULES = {"UNT001", "UNT002", "COD003", "COD004", "MCR003", "MCR004"}


def check(*args: str) -> Result:
    return CliRunner().invoke(cli, ["check", *args])


def findings(result_json: dict) -> set[tuple[str, object, str]]:
    return {(c["id"], f["line"], f["rule"]) for c in result_json["claims"] for f in c["findings"]}


def lines_by_claim(document: dict) -> dict[str, dict]:
    return {c["id"]: c["lines"][0] for c in document["claims"]}


@pytest.fixture(scope="module")
def fixed_json(tmp_path_factory: pytest.TempPathFactory) -> tuple[Result, Path]:
    folder = tmp_path_factory.mktemp("json")
    source = folder / "batch.json"
    shutil.copyfile(EXAMPLES / "immunosuppressants.json", source)
    result = check(str(source), "--unsafe-fixes", "--format", "json")
    return result, folder


def test_unsafe_fixes_write_the_corrections_beside_the_input(fixed_json) -> None:
    result, folder = fixed_json
    written = folder / "batch.fixed.json"
    assert written.exists(), result.stderr
    lines = lines_by_claim(json.loads(written.read_text()))
    # 60 capsules of 0.5 mg are 30 mg: 30 units of J7507 (1 mg), not 60.
    assert lines["EX-1002"]["units"] == 30
    # Envarsus XR is J7503 in 0.25 mg units: the code and the units change together.
    assert (lines["EX-1003"]["hcpcs"], lines["EX-1003"]["units"]) == ("J7503", 90)
    # Oral tacrolimus billed under J7504 (equine ATG): the product's code is J7507.
    assert (lines["EX-1004"]["hcpcs"], lines["EX-1004"]["units"]) == ("J7507", 300)
    # Astagraf XL 5 mg x 30 in 0.1 mg units.
    assert lines["EX-1005"]["units"] == 1500
    # Atgam 1,000 mg is 4 units of 250 mg, not the 20 mL.
    assert lines["EX-1007"]["units"] == 4
    assert lines["EX-1008"]["modifiers"] == ["KX"]
    assert "modifiers" not in lines["EX-1010"]  # KX removed: a cornea transplant does not qualify
    # The unhyphenated 10-digit NDC is not guessed (rules.md R-NDC-2): display-only.
    assert lines["EX-1012"]["ndc"] == "6899230753"
    assert f"Wrote {written} (14 claims, 15 lines, json)." in result.stderr


def test_no_claim_is_lost_and_untouched_claims_are_unchanged(fixed_json) -> None:
    _, folder = fixed_json
    written = json.loads((folder / "batch.fixed.json").read_text())
    original, _ = to_json_document(read_claims([folder / "batch.json"]))
    assert [c["id"] for c in written["claims"]] == [c["id"] for c in original["claims"]]
    changed = {"EX-1002", "EX-1003", "EX-1004", "EX-1005", "EX-1007", "EX-1008", "EX-1010"}
    for before, after in zip(original["claims"], written["claims"], strict=True):
        if before["id"] not in changed:
            assert after == before, before["id"]
        else:  # only the lines changed; the claim's other facts and extensions stay
            assert {k: v for k, v in after.items() if k != "lines"} == {
                k: v for k, v in before.items() if k != "lines"
            }


def test_rechecking_the_corrected_file_finds_what_the_fix_run_reported(fixed_json) -> None:
    result, folder = fixed_json
    after_fix = json.loads(result.stdout)
    recheck = check(str(folder / "batch.fixed.json"), "--format", "json")
    again = json.loads(recheck.stdout)
    assert findings(again) == findings(after_fix)
    assert not {rule for _, _, rule in findings(again)} & FIXED_RULES


def test_json_result_carries_the_fix_summary_and_keeps_the_spec_fields(fixed_json) -> None:
    result, folder = fixed_json
    doc = json.loads(result.stdout)
    assert {"claimscrub", "summary", "claims", "rejected"} <= set(doc)
    assert doc["summary"]["claims"] == 14
    fixes = doc["fixes"]
    assert fixes["mode"] == "unsafe" and fixes["dry_run"] is False and fixes["converged"]
    edit = next(e for e in fixes["edits"] if e["claim_id"] == "EX-1002")
    assert edit == {
        "claim_id": "EX-1002",
        "source": str(folder / "batch.json"),
        "line": 1,
        "field": "units",
        "old": 60,
        "new": 30,
        "rules": ["UNT001"],
        "applicability": "unsafe",
        "pass": 1,
    }
    assert fixes["outputs"] == [
        {
            "input": str(folder / "batch.json"),
            "path": str(folder / "batch.fixed.json"),
            "format": "json",
            "claims": 14,
            "lines": 15,
            "written": True,
        }
    ]
    assert fixes["findings_remaining"] == sum(len(c["findings"]) for c in doc["claims"])


def test_the_diff_on_stderr_names_claim_line_field_values_and_rule(fixed_json) -> None:
    result, _ = fixed_json
    rows = [" ".join(line.split()) for line in result.stderr.splitlines()]
    assert "EX-1003 line 1 hcpcs J7507 → J7503 COD003 (unsafe)" in rows
    assert "EX-1003 line 1 units 23 → 90 COD003 (unsafe)" in rows
    assert "EX-1008 line 1 modifiers [] → [KX] MCR003 (unsafe)" in rows


def test_exit_code_is_1_while_errors_remain(fixed_json) -> None:
    result, _ = fixed_json
    assert result.exit_code == 1  # EX-1006 (terminated code) has no fix


def test_safe_fix_alone_leaves_unsafe_corrections_out(tmp_path: Path) -> None:
    out = tmp_path / "safe.json"
    result = check(str(EXAMPLES / "immunosuppressants.json"), "--fix", "--fixed-output", str(out))
    assert result.exit_code == 1
    written = json.loads(out.read_text())
    original, _ = to_json_document(read_claims([EXAMPLES / "immunosuppressants.json"]))
    assert written == original  # every fix in the example batch is unsafe
    assert "unsafe fixes need --unsafe-fixes" in result.stderr


def test_csv_input_gives_a_csv_with_only_the_fixed_cells_changed(tmp_path: Path) -> None:
    source = tmp_path / "batch.csv"
    shutil.copyfile(EXAMPLES / "immunosuppressants.csv", source)
    result = check(str(source), "--unsafe-fixes", "--format", "json")
    written = tmp_path / "batch.fixed.csv"
    assert written.exists(), result.stderr
    before = list(csv.DictReader(io.StringIO(source.read_text())))
    after = list(csv.DictReader(io.StringIO(written.read_text())))
    assert len(after) == len(before)
    changes = {
        (b["claim_id"], b["line_number"], k, b[k], a[k])
        for b, a in zip(before, after, strict=True)
        for k in b
        if a[k] != b[k]
    }
    assert changes == {
        ("EX-1002", "1", "units", "60", "30"),
        ("EX-1003", "1", "hcpcs", "J7507", "J7503"),
        ("EX-1003", "1", "units", "23", "90"),
        ("EX-1004", "1", "hcpcs", "J7504", "J7507"),
        ("EX-1005", "1", "units", "150", "1500"),
        ("EX-1007", "1", "units", "20", "4"),
        ("EX-1008", "1", "mod1", "", "KX"),
        ("EX-1010", "1", "mod1", "KX", ""),
    }
    recheck = json.loads(check(str(written), "--format", "json").stdout)
    assert findings(recheck) == findings(json.loads(result.stdout))
    assert not {rule for _, _, rule in findings(recheck)} & FIXED_RULES


def test_x12_input_is_written_as_claims_json_that_checks_the_same(tmp_path: Path) -> None:
    source = tmp_path / "batch.837"
    shutil.copyfile(EXAMPLES / "immunosuppressants.837", source)
    result = check(str(source), "--unsafe-fixes", "--format", "json")
    written = tmp_path / "batch.fixed.json"
    assert written.exists(), result.stderr
    lines = lines_by_claim(json.loads(written.read_text()))
    assert (lines["EX-1003"]["hcpcs"], lines["EX-1003"]["units"]) == ("J7503", 90)
    assert lines["EX-1003"]["x_x12"]["unit_basis"] == "UN"  # X12-only facts are kept
    recheck = json.loads(check(str(written), "--format", "json").stdout)
    assert findings(recheck) == findings(json.loads(result.stdout))


def test_diff_prints_the_changes_and_writes_nothing(tmp_path: Path) -> None:
    source = tmp_path / "batch.json"
    shutil.copyfile(EXAMPLES / "immunosuppressants.json", source)
    result = check(str(source), "--diff", "--unsafe-fixes")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["batch.json"]
    assert result.exit_code == 1  # like ruff --diff: something would change
    rows = [" ".join(line.split()) for line in result.stdout.splitlines()]
    assert rows[0] == str(source)
    assert "EX-1005 line 1 units 150 → 1500 UNT001 (unsafe)" in rows
    assert result.stderr.startswith("Would fix 7 of 16 findings")


def test_diff_with_only_safe_fixes_on_the_example_changes_nothing(tmp_path: Path) -> None:
    source = tmp_path / "batch.json"
    shutil.copyfile(EXAMPLES / "immunosuppressants.json", source)
    result = check(str(source), "--diff")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["batch.json"]
