"""``check --min-confidence`` / ``rules.min-confidence``: findings below a confidence are
left out of every report, the statuses, the counts, the exit code and ``--fix``, and the
report says how many were left out.

In the example batch every finding is high confidence except EX-1013's two payer-pattern
findings: PAU001 (error, medium: prior authorisation) and PAU005 (warning, medium:
non-preferred product).
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from claimscrub.cli import cli

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "immunosuppressants.json"
HIDDEN_LINE = "2 findings below high confidence not shown (--min-confidence)."


def _check(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["check", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def batch(tmp_path: Path) -> Path:
    """The example batch in a folder of its own (no configuration file above it)."""
    path = tmp_path / "batch.json"
    shutil.copy(EXAMPLE, path)
    return path


def _found(doc: dict) -> set[tuple[str, str]]:
    return {(c["id"], f["rule"]) for c in doc["claims"] for f in c["findings"]}


def _status(doc: dict, claim_id: str) -> str:
    return next(c["status"] for c in doc["claims"] if c["id"] == claim_id)


def test_default_reports_every_confidence(batch):
    code, out, _ = _check(str(batch), "--format", "json")
    doc = json.loads(out)
    assert {("EX-1013", "PAU001"), ("EX-1013", "PAU005")} <= _found(doc)
    assert doc["summary"]["hidden_findings"] == 0
    assert doc["claimscrub"]["min_confidence"] == "low"
    assert _status(doc, "EX-1013") == "error"


def test_high_leaves_medium_findings_out_of_findings_statuses_and_counts(batch):
    before = json.loads(_check(str(batch), "--format", "json")[1])
    code, out, _ = _check(str(batch), "--format", "json", "--min-confidence", "high")
    doc = json.loads(out)
    assert code == 1  # the high-confidence errors of other claims remain
    assert _found(doc) == _found(before) - {("EX-1013", "PAU001"), ("EX-1013", "PAU005")}
    assert _status(doc, "EX-1013") == "clean"
    assert doc["summary"]["error"] == before["summary"]["error"] - 1
    assert doc["summary"]["clean"] == before["summary"]["clean"] + 1
    assert doc["summary"]["hidden_findings"] == 2
    assert doc["claimscrub"]["min_confidence"] == "high"
    # every spec field is still there, with its meaning: the claim is listed, only clean
    assert len(doc["claims"]) == doc["summary"]["claims"] == 14


def test_medium_keeps_medium_findings(batch):
    doc = json.loads(_check(str(batch), "--format", "json", "--min-confidence", "medium")[1])
    assert ("EX-1013", "PAU001") in _found(doc)
    assert doc["summary"]["hidden_findings"] == 0


def test_exit_code_ignores_hidden_findings(batch):
    assert _check(str(batch), "--select", "PAU001,PAU005")[0] == 1
    code, out, _ = _check(str(batch), "--select", "PAU001,PAU005", "--min-confidence", "high")
    assert code == 0
    assert HIDDEN_LINE in out


@pytest.mark.parametrize("fmt", ["full", "concise"])
def test_text_formats_say_how_many_were_left_out(batch, fmt):
    _, out, _ = _check(str(batch), "--format", fmt, "--min-confidence", "high")
    assert "PAU001" not in out and "PAU005" not in out
    assert HIDDEN_LINE in out.splitlines()
    _, out, _ = _check(str(batch), "--format", fmt)
    assert "PAU001" in out and "not shown (--min-confidence)" not in out


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "sarif"])
def test_machine_formats_leave_them_out(batch, fmt):
    _, everything, _ = _check(str(batch), "--format", fmt)
    _, shown, _ = _check(str(batch), "--format", fmt, "--min-confidence", "high")
    assert "PAU001" in everything
    if fmt == "sarif":  # the rules are all described; no result is of a hidden finding
        doc = json.loads(shown)["runs"][0]
        assert {r["ruleId"] for r in doc["results"]}.isdisjoint({"PAU001", "PAU005"})
        assert doc["properties"]["hidden_findings"] == 2
        assert doc["properties"]["min_confidence"] == "high"
        return
    assert "PAU001" not in shown and "PAU005" not in shown
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(shown)))
        assert rows and {r["confidence"] for r in rows} == {"high"}


def test_statistics_count_only_shown_findings_and_say_the_rest(batch):
    _, out, _ = _check(str(batch), "--statistics", "--min-confidence", "high")
    assert "PAU001" not in out and "UNT001" in out
    assert out.splitlines()[-1] == HIDDEN_LINE


def test_configuration_sets_it_and_the_flag_overrides_the_file(batch):
    (batch.parent / "claimscrub.toml").write_text('[rules]\nmin-confidence = "high"\n')
    doc = json.loads(_check(str(batch), "--format", "json")[1])
    assert doc["summary"]["hidden_findings"] == 2 and ("EX-1013", "PAU001") not in _found(doc)
    doc = json.loads(_check(str(batch), "--format", "json", "--min-confidence", "low")[1])
    assert doc["summary"]["hidden_findings"] == 0 and ("EX-1013", "PAU001") in _found(doc)
    doc = json.loads(_check(str(batch), "--format", "json", "--isolated")[1])
    assert doc["claimscrub"]["min_confidence"] == "low"


def test_confidence_overrides_apply_before_the_threshold(batch):
    (batch.parent / "claimscrub.toml").write_text(
        '[rules]\nmin-confidence = "high"\nconfidence = { PAU001 = "high" }\n'
    )
    doc = json.loads(_check(str(batch), "--format", "json")[1])
    assert ("EX-1013", "PAU001") in _found(doc)
    assert ("EX-1013", "PAU005") not in _found(doc)
    assert doc["summary"]["hidden_findings"] == 1


def test_bad_value_in_file_or_flag_exits_2(batch):
    (batch.parent / "claimscrub.toml").write_text('[rules]\nmin-confidence = "sure"\n')
    code, _, err = _check(str(batch))
    assert code == 2
    assert "rules.min-confidence: 'sure' is not one of high, medium, low" in err
    code, _, err = _check(str(batch), "--isolated", "--min-confidence", "sure")
    assert code == 2 and "--min-confidence" in err


def test_fixes_apply_only_for_shown_findings(batch):
    """UNT001 made low confidence by the configuration: hidden, so its fixes are not made."""
    (batch.parent / "claimscrub.toml").write_text('[rules]\nconfidence = { UNT001 = "low" }\n')
    _, diff, _ = _check(str(batch), "--unsafe-fixes", "--diff")
    assert "UNT001" in diff and "EX-1002" in diff
    _, diff, _ = _check(str(batch), "--unsafe-fixes", "--diff", "--min-confidence", "medium")
    assert "UNT001" not in diff
    assert "COD003" in diff  # the shown findings' fixes are still made
    code, out, _ = _check(
        str(batch), "--unsafe-fixes", "--format", "json", "--min-confidence", "medium"
    )
    doc = json.loads(out)
    assert not any("UNT001" in e["rules"] for e in doc["fixes"]["edits"])
    assert doc["summary"]["hidden_findings"] == 2  # EX-1002 and EX-1005 are still wrong
    fixed = json.loads((batch.parent / "batch.fixed.json").read_text())
    units = {c["id"]: c["lines"][0]["units"] for c in fixed["claims"]}
    assert units["EX-1002"] == 60  # not changed to 30: nobody was shown why


def test_chunked_check_reports_the_same_as_a_whole_check(batch):
    config = batch.parent / "chunked.toml"
    config.write_text("[streaming]\nmin-size-mb = 0\nbucket-lines = 2\n")
    args = [str(batch), "--format", "json", "--min-confidence", "high"]
    whole = json.loads(_check(*args, "--isolated")[1])
    chunked = json.loads(_check(*args, "--config", str(config))[1])
    for doc in (whole, chunked):
        del doc["claimscrub"]["generated"]
    assert chunked == whole
    assert chunked["summary"]["hidden_findings"] == 2


def test_spark_refuses_rather_than_hiding_silently(batch, tmp_path):
    code, _, err = _check(
        str(batch), "--engine", "spark", "-o", str(tmp_path / "f.parquet"),
        "--min-confidence", "medium",
    )  # fmt: skip
    assert code == 2 and "use --min-confidence low" in err


def test_html_report_says_how_many_were_left_out(batch):
    _, page, _ = _check(str(batch), "--format", "html", "--min-confidence", "high")
    assert 'id="sum-hidden">2 findings below high confidence not shown' in page
    _, page, _ = _check(str(batch), "--format", "html")
    assert 'id="sum-hidden"' not in page
