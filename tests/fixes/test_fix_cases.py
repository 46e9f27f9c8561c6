"""Fix application cases: safe vs unsafe, conflicts, code changes, passes, outputs, exit codes.

Each case starts from claims of the example batch with one realistic mistake added
(an NDC printed with hyphens, an anatomic modifier on a drug line ...).
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner, Result

from claimscrub.cli import cli
from claimscrub.engine.fixes import apply_fixes
from claimscrub.engine.scrub import Plan, make_plan, scrub
from claimscrub.readers import read_claims
from claimscrub.readers.writers import to_json_document

EXAMPLE = Path(__file__).resolve().parent.parent.parent / "examples" / "immunosuppressants.json"


def check(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["check", *args], input=stdin)


def batch_file(folder: Path, edits: dict[str, dict], *, extra: list[dict] = ()) -> Path:
    """The example claims named in ``edits``, each first line updated with its edit."""
    doc = json.loads(EXAMPLE.read_text())
    claims = {c["id"]: c for c in doc["claims"]}
    chosen = []
    for claim_id, line_update in edits.items():
        claims[claim_id]["lines"][0].update(line_update)
        chosen.append(claims[claim_id])
    doc["claims"] = [*chosen, *extra]
    path = folder / "batch.json"
    path.write_text(json.dumps(doc))
    return path


def first_lines(path: Path) -> dict[str, dict]:
    return {c["id"]: c["lines"][0] for c in json.loads(path.read_text())["claims"]}


@pytest.fixture(scope="module")
def plan() -> Plan:
    return make_plan()


def test_fix_applies_safe_fixes_only_and_unsafe_fixes_adds_the_rest(tmp_path: Path) -> None:
    # A hyphenated NDC (safe: same product, 11-digit form) on a line that also bills a
    # capsule count as units (unsafe: changes the billed quantity).
    source = batch_file(tmp_path, {"EX-1002": {"ndc": "00781-2102-01"}, "EX-1001": {}})
    safe, unsafe = tmp_path / "safe.json", tmp_path / "unsafe.json"
    check(str(source), "--fix", "--fixed-output", str(safe))
    check(str(source), "--unsafe-fixes", "--fixed-output", str(unsafe))
    original, _ = to_json_document(read_claims([source]))
    as_read = {c["id"]: c["lines"][0] for c in original["claims"]}
    # Only the NDC changes under --fix; units stay as billed.
    assert first_lines(safe)["EX-1002"] == as_read["EX-1002"] | {"ndc": "00781210201"}
    assert first_lines(safe)["EX-1002"]["units"] == 60
    assert first_lines(unsafe)["EX-1002"]["ndc"] == "00781210201"
    assert first_lines(unsafe)["EX-1002"]["units"] == 30


def test_display_only_fixes_are_never_applied(tmp_path: Path, plan: Plan) -> None:
    # EX-1001's oral tacrolimus billed to the A/B MAC: RTE001 names the DME MAC pack as
    # where the claim belongs, but sending it there is the biller's act, so the fix is
    # display-only and the claim's pack is left alone.
    claim = next(c for c in json.loads(EXAMPLE.read_text())["claims"] if c["id"] == "EX-1001")
    claim["payer"] = {"type": "medicare", "policy": "medicare-ab"}
    claim["place_of_service"] = "11"
    source = batch_file(tmp_path, {}, extra=[claim])
    run = apply_fixes(read_claims([source]), plan, unsafe=True)
    assert run.batch.claims["payer_policy"].to_list() == ["medicare-ab"]
    assert "RTE001" in run.report.findings["rule"].to_list()
    assert run.remaining_fixable() == {"display-only": 1}


def test_conflicting_fixes_on_one_field_are_all_held_back(tmp_path: Path) -> None:
    # KX missing (MCR003 adds it, keeping RT) and an anatomic modifier on a drug line
    # (MOD003 removes RT): two different modifier lists for the same line.
    source = batch_file(tmp_path, {"EX-1008": {"modifiers": ["RT"]}})
    out = tmp_path / "out.json"
    result = check(str(source), "--unsafe-fixes", "--fixed-output", str(out), "--format", "json")
    assert first_lines(out)["EX-1008"]["modifiers"] == ["RT"]
    fixes = json.loads(result.stdout)["fixes"]
    assert fixes["edits"] == []
    assert fixes["held"] == [
        {
            "claim_id": "EX-1008",
            "source": str(source),
            "line": 1,
            "field": "modifiers",
            "reason": "conflict",
            "proposals": [
                {"rule": "MCR003", "value": ["RT", "KX"]},
                {"rule": "MOD003", "value": []},
            ],
        }
    ]
    assert "MCR003 sets [RT, KX], MOD003 sets []: conflicting fixes, none applied" in result.stderr
    assert result.exit_code == 1


def test_a_code_change_goes_first_and_the_line_is_fixed_again_for_the_new_code(
    tmp_path: Path, plan: Plan
) -> None:
    # Envarsus XR under J7507 with its NDC printed with hyphens: COD003 moves the line
    # to J7503 with units for 0.25 mg; the NDC fix waits for the re-check of the new code.
    source = batch_file(tmp_path, {"EX-1003": {"ndc": "68992-3075-03"}})
    run = apply_fixes(read_claims([source]), plan, unsafe=True)
    assert [(e.pass_no, e.field, e.old, e.new, e.rules) for e in run.edits] == [
        (1, "hcpcs", "J7507", "J7503", ("COD003",)),
        (1, "units", 23.0, 90.0, ("COD003",)),
        (2, "ndc", "68992-3075-03", "68992307503", ("NDC008",)),
    ]
    assert run.passes == 2 and run.converged
    assert run.report.findings.is_empty()


def test_max_passes_stops_the_loop_and_says_what_is_left(tmp_path: Path, plan: Plan) -> None:
    source = batch_file(tmp_path, {"EX-1003": {"ndc": "68992-3075-03"}})
    run = apply_fixes(read_claims([source]), plan, unsafe=True, max_passes=1)
    assert run.passes == 1 and not run.converged and run.pending == 1
    assert run.to_dict()["converged"] is False


def test_exit_code_is_0_when_fixing_leaves_nothing_at_fail_on(tmp_path: Path) -> None:
    source = batch_file(tmp_path, {"EX-1001": {}, "EX-1002": {}, "EX-1005": {}})
    assert check(str(source)).exit_code == 1
    result = check(str(source), "--unsafe-fixes")
    assert result.exit_code == 0, result.output
    assert first_lines(tmp_path / "batch.fixed.json")["EX-1005"]["units"] == 1500


def test_an_input_with_unreadable_claims_gets_no_corrected_file(tmp_path: Path) -> None:
    broken = json.loads(EXAMPLE.read_text())["claims"][4]
    broken["id"] = "EX-BROKEN"
    broken["lines"][0]["units"] = "one hundred"
    source = batch_file(tmp_path, {"EX-1002": {}}, extra=[broken])
    result = check(str(source), "--unsafe-fixes", "--format", "json")
    assert not (tmp_path / "batch.fixed.json").exists()
    assert "could not be read; the corrected file would lack them" in result.stderr
    assert "Would fix 1 of 1 finding" in result.stderr  # nothing was fixed on disk
    output = json.loads(result.stdout)["fixes"]["outputs"][0]
    assert output["written"] is False and output["claims"] == 1
    assert result.exit_code == 1


def test_corrected_claims_can_be_written_as_csv_and_keep_history(tmp_path: Path) -> None:
    doc = json.loads(EXAMPLE.read_text())
    doc["history"] = [doc["claims"][0]]
    doc["claims"] = [doc["claims"][1]]
    source = tmp_path / "with-history.json"
    source.write_text(json.dumps(doc))
    as_json, as_csv = tmp_path / "out.json", tmp_path / "out.csv"
    check(str(source), "--unsafe-fixes", "--fixed-output", str(as_json))
    result = check(str(source), "--unsafe-fixes", "--fixed-output", str(as_csv))
    written = json.loads(as_json.read_text())
    assert [c["id"] for c in written["history"]] == ["EX-1001"]
    assert written["history"][0]["lines"][0]["units"] == 180
    assert "EX-1002" in as_csv.read_text() and ",30," in as_csv.read_text()
    assert "1 history claim(s) left out" in result.stderr  # CSV holds no history


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-", "--fix"], "say where to write them with --fixed-output FILE"),
        ([str(EXAMPLE), "--fix", "--fixed-output", "out.txt"], "use a .json or .csv name"),
        ([str(EXAMPLE), str(EXAMPLE), "--fix", "--fixed-output", "a.json"], "several inputs"),
    ],
)
def test_nowhere_to_write_is_a_usage_error(args: list[str], message: str) -> None:
    result = check(*args, stdin="")
    assert result.exit_code == 2
    assert message in result.stderr


def test_stdin_with_a_fixed_output_file(tmp_path: Path) -> None:
    out = tmp_path / "fixed.json"
    source = batch_file(tmp_path, {"EX-1002": {}})
    result = check("-", "--unsafe-fixes", "--fixed-output", str(out), stdin=source.read_text())
    assert result.exit_code == 0, result.output
    assert first_lines(out)["EX-1002"]["units"] == 30


def test_recheck_of_changed_patients_only_equals_a_full_check(
    tmp_path: Path, plan: Plan, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The example batch, a second claim of EX-1002's patient (a refill), and clean
    # claims of other patients: the re-check after fixing covers only the patients whose
    # claims changed, and must find exactly what a full check of the corrected claims finds.
    doc = json.loads(EXAMPLE.read_text())
    refill = json.loads(json.dumps(doc["claims"][1]))
    refill["id"], refill["service_date"] = "EX-1002-R", "2025-07-20"
    refill["lines"][0]["units"] = 30  # billed right: nothing to fix on this claim
    clean = []
    for n in range(20):
        claim = json.loads(json.dumps(doc["claims"][0]))
        claim["id"], claim["patient"]["id"] = f"CLEAN-{n}", f"P-CLEAN-{n}"
        clean.append(claim)
    doc["claims"] += [refill, *clean]
    source = tmp_path / "mixed.json"
    source.write_text(json.dumps(doc))
    batch = read_claims([source])

    import claimscrub.engine.fixes.run as fixes_module

    checked: list[int] = []
    real_scrub = fixes_module.scrub

    def counting_scrub(part, plan, history=None):  # noqa: ANN001, ANN202
        checked.append(part.claims.height)
        return real_scrub(part, plan, history=history)

    monkeypatch.setattr(fixes_module, "scrub", counting_scrub)
    run = apply_fixes(batch, plan, unsafe=True)
    # first check: all 35 claims; re-check: the 7 changed claims and the refill.
    assert checked == [35, 8]
    assert "EX-1002-R" not in {e.claim_id for e in run.edits}
    full = real_scrub(run.batch, plan, history=run.batch.history)
    columns = ["claim_key", "line_no", "rule", "severity", "message", "fix"]
    assert (
        run.report.findings.select(columns)
        .sort(columns)
        .equals(full.findings.select(columns).sort(columns))
    )
    assert run.report.claim_status().sort("claim_key").equals(full.claim_status().sort("claim_key"))


def _with_extra_finding(report, claim_id: str, rule: str, fix: dict):  # noqa: ANN001, ANN202
    """The report with one more finding on the claim's first line (as another rule would add)."""
    key = report.claims.filter(pl.col("claim_id") == claim_id)["claim_key"][0]
    row = report.findings.filter(pl.col("claim_key") == key).head(1)
    extra = row.with_columns(pl.lit(rule).alias("rule"), pl.lit(json.dumps(fix)).alias("fix"))
    report.findings = pl.concat([report.findings, extra])
    return report


def test_units_computed_for_the_old_code_wait_for_the_code_change(
    tmp_path: Path, plan: Plan
) -> None:
    # COD003 moves EX-1003 to J7503 with 90 units (0.25 mg); a units fix computed for the
    # old code (J7507, 1 mg: 30 units) on the same line must not compete with it.
    source = batch_file(tmp_path, {"EX-1003": {}})
    batch = read_claims([source])
    report = _with_extra_finding(scrub(batch, plan), "EX-1003", "UNT001", {"units": 30})
    run = apply_fixes(batch, plan, unsafe=True, report=report)
    assert [(e.field, e.new, e.rules) for e in run.edits] == [
        ("hcpcs", "J7503", ("COD003",)),
        ("units", 90.0, ("COD003",)),
    ]
    assert run.held == [] and run.converged
    assert "UNT001" not in run.report.findings["rule"].to_list()


def test_two_different_code_changes_on_one_line_are_both_held_back(
    tmp_path: Path, plan: Plan
) -> None:
    source = batch_file(tmp_path, {"EX-1003": {}})
    batch = read_claims([source])
    report = _with_extra_finding(
        scrub(batch, plan), "EX-1003", "NOC001", {"hcpcs": "J7508", "units": 300}
    )
    run = apply_fixes(batch, plan, unsafe=True, report=report)
    assert run.edits == []
    assert {(h.field, h.reason) for h in run.held} == {("hcpcs", "conflict"), ("units", "conflict")}
    hcpcs = next(h for h in run.held if h.field == "hcpcs")
    assert hcpcs.proposals == (("COD003", "J7503"), ("NOC001", "J7508"))
    assert run.batch.lines["hcpcs"].to_list() == ["J7507"]


def test_a_line_number_used_twice_in_a_claim_is_not_fixed(tmp_path: Path, plan: Plan) -> None:
    # Exports sometimes repeat a line number; a finding on "line 1" cannot say which.
    doc = json.loads(EXAMPLE.read_text())
    claim = doc["claims"][1]
    claim["lines"].append(dict(claim["lines"][0]))
    doc["claims"] = [claim]
    source = tmp_path / "twice.json"
    source.write_text(json.dumps(doc))
    read = read_claims([source])
    # The reader rejects such a claim (tests/readers/test_repeated_line_numbers.py) ...
    assert read.claims.is_empty() and read.rejected["claim_id"].to_list() == [claim["id"]]
    # ... and frames built by a caller of the library are not fixed either.
    doc["claims"][0]["lines"].pop()
    source.write_text(json.dumps(doc))
    read = read_claims([source])
    read.lines = pl.concat([read.lines, read.lines])
    run = apply_fixes(read, plan, unsafe=True)
    assert run.edits == []
    assert [(h.line, h.field, h.reason, h.proposals) for h in run.held] == [
        (1, "units", "ambiguous-line", (("UNT001", 30),))
    ]
    assert run.batch.lines["units"].to_list() == [60.0, 60.0]
