"""Large inputs are checked in chunks: the same report as a whole-input run, in bounded pieces.

The batch below is built so that what crosses chunk boundaries matters: each patient has
several claims (supply fees within 30 days, refills, quantity limits over 30 days), the
claims are shuffled so a patient's claims lie in different chunks, and a history file
repeats some dispenses. The chunked check must give exactly the whole-input result
(claims in the same order, the same findings, statuses, summary and run facts), in
every output format, from X12 (read in chunks) and from Claims JSON.
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import io
import json
import os
import pty
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from claimscrub.cli import cli
from claimscrub.engine.scrub import ScrubOptions, make_plan, scrub
from claimscrub.engine.stream import ChunkedCheck, StreamLimits
from claimscrub.readers import read_claims

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT.parent / "shared" / "fixtures" / "x12"
CHUNK = 7  # claims per chunk in these tests: a patient's claims are spread over chunks
QUANTITY_LIMIT = {"hcpcs": "J7503", "max_units": 120, "per_days": 30}


def _to_837p() -> Any:
    spec = importlib.util.spec_from_file_location(
        "make_examples", ROOT / "scripts" / "make_examples.py"
    )
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module.to_837p


def _claim(cid: str, patient: dict, payer: dict, day: dt.date, lines: list[dict]) -> dict:
    return {
        "id": cid,
        "type": "professional",
        "payer": payer,
        "patient": patient,
        "service_date": day.isoformat(),
        "place_of_service": "12",
        "diagnoses": ["Z94.0", "Z79.621"],
        "lines": [
            {"number": i, "diagnosis_pointers": [1], **line} for i, line in enumerate(lines, 1)
        ],
    }


def make_batch(patients: int = 12, seed: int = 5) -> tuple[dict, dict]:
    """(claims document, history document): Medicare DME and commercial patients."""
    rnd = random.Random(seed)
    dme = {"type": "medicare", "id": "DME-JD", "name": "Medicare DME MAC", "policy": "medicare-dme"}
    commercial = {"type": "commercial", "id": "UHC01", "name": "Example Health Plan"}
    claims, history = [], []
    for p in range(patients):
        patient = {
            "id": f"P{p:04d}",  # (no hyphen: the X12 writer drops them)
            "birth_date": "1960-01-01",
            "sex": "F" if p % 2 else "M",
            "transplants": [
                {
                    "organ": "kidney",
                    "date": "2021-03-14",
                    "medicare_paid": True,
                    "part_a_at_transplant": True,
                }
            ],
        }
        start = dt.date(2025, 6, 1) + dt.timedelta(days=rnd.randrange(20))
        gaps = [0, rnd.choice((12, 20, 31)), rnd.choice((15, 25, 40))]
        day = start
        for n, gap in enumerate(gaps):
            day += dt.timedelta(days=gap)
            cid = f"C{p:03d}-{n}"
            # commercial: Envarsus 0.75 mg fills against a 120-unit limit per 30 days;
            # DME: tacrolimus 1 mg, 30 days, with the supply fee each time
            if p % 3 == 2:
                lines = [
                    {
                        "hcpcs": "J7503",
                        "units": 90,
                        "ndc": "68992307503",
                        "ndc_quantity": 30,
                        "ndc_unit": "UN",
                        "charge": 300.0,
                    }
                ]
                claims.append(_claim(cid, patient, commercial, day, lines))
            else:
                lines = [
                    {
                        "hcpcs": "J7507",
                        "modifiers": ["KX"],
                        "units": 60,
                        "ndc": "00781210301",
                        "ndc_quantity": 60,
                        "ndc_unit": "UN",
                        "days_supply": 30,
                        "charge": 140.0,
                    },
                    {"hcpcs": "Q0511", "modifiers": ["KX"], "units": 1, "charge": 24.0},
                ]
                claims.append(_claim(cid, patient, dme, day, lines))
            if n == 0 and p % 4 == 0:  # already billed: the same dispense in the history
                past = json.loads(json.dumps(claims[-1]))
                past["id"] = f"H{p:03d}"
                history.append(past)
    rnd.shuffle(claims)  # a patient's claims end up in different chunks
    return {"claims": claims}, {"claims": history}


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("stream")
    claims, history = make_batch()
    paths = {
        "json": folder / "batch.json",
        "x12": folder / "batch.837",
        "history": folder / "history.json",
    }
    paths["json"].write_text(json.dumps(claims, indent=1))
    paths["x12"].write_text(_to_837p()(claims))
    paths["history"].write_text(json.dumps(history, indent=1))
    return paths


@pytest.fixture(scope="module")
def plan() -> Any:
    return make_plan(ScrubOptions(rule_options={"PAU004": {"quantity_limits": [QUANTITY_LIMIT]}}))


def _whole(paths: list[Path], history: list[Path], plan: Any) -> dict:
    claims = read_claims(paths, history=history)
    doc = scrub(claims, plan, history=claims.history).to_dict()
    doc["claimscrub"].pop("generated")
    return doc


def _chunked(paths: list[Path], history: list[Path], plan: Any, limits: StreamLimits) -> dict:
    with ChunkedCheck(plan, limits) as run:
        run.run([str(p) for p in paths], history=[str(h) for h in history])
        doc = run.header()
        doc["claims"] = list(run.iter_claims())
    doc["claimscrub"].pop("generated")
    return doc


def _findings(doc: dict) -> set[tuple[str, Any, str, str]]:
    return {
        (c["id"], f["line"], f["rule"], f["message"]) for c in doc["claims"] for f in c["findings"]
    }


def test_the_batch_spreads_patients_over_chunks_and_fires_look_back_rules(batch, plan):
    ids = [c["id"] for c in json.loads(batch["json"].read_text())["claims"]]
    chunk_of: dict[str, set[int]] = {}
    for position, cid in enumerate(ids):
        chunk_of.setdefault(cid.split("-")[0], set()).add(position // CHUNK)
    assert sum(len(chunks) > 1 for chunks in chunk_of.values()) >= 8
    rules = {rule for _, _, rule, _ in _findings(_whole([batch["x12"]], [batch["history"]], plan))}
    # patient-scoped rules: a fee repeated within 30 days, a quantity limit over 30 days,
    # a dispense already in the history
    assert {"MCR018", "PAU004", "DUP002"} <= rules


@pytest.mark.parametrize("fmt", ["x12", "json"])
@pytest.mark.parametrize(
    "limits",
    [
        StreamLimits(chunk_claims=CHUNK, buckets=3),
        StreamLimits(chunk_claims=CHUNK, buckets=4, bucket_lines=10),  # buckets split again
        StreamLimits(chunk_claims=1000, buckets=1),
    ],
    ids=["3-buckets", "split-buckets", "one-bucket"],
)
def test_chunked_result_equals_whole_input_result(batch, plan, fmt, limits):
    whole = _whole([batch[fmt]], [batch["history"]], plan)
    chunked = _chunked([batch[fmt]], [batch["history"]], plan, limits)
    assert chunked["summary"] == whole["summary"]
    assert [c["id"] for c in chunked["claims"]] == [c["id"] for c in whole["claims"]]
    assert chunked == whole


def test_checking_each_chunk_alone_would_be_wrong(batch, plan):
    """Without regrouping by patient, look-back findings across chunks are lost or wrong."""
    whole = _findings(_whole([batch["x12"]], [batch["history"]], plan))
    from claimscrub.readers.x12 import iter_x12

    naive: set[tuple[str, Any, str, str]] = set()
    past = read_claims([], history=[batch["history"]]).history
    assert past.claims.height
    for chunk in iter_x12(batch["x12"], str(batch["x12"]), chunk_claims=CHUNK):
        naive |= _findings(scrub(chunk, plan, history=past).to_dict())
    assert naive != whole
    assert {f for f in whole - naive if f[2] in ("MCR018", "PAU004")}


def test_several_inputs_number_their_claims_in_order(batch, plan):
    inputs = [batch["json"], batch["x12"]]
    limits = StreamLimits(chunk_claims=CHUNK, buckets=3)
    assert _chunked(inputs, [batch["history"]], plan, limits) == _whole(
        inputs, [batch["history"]], plan
    )


@pytest.mark.parametrize(
    "name",
    sorted(p.name for p in FIXTURES.iterdir() if p.is_file() and p.name != "PROVENANCE.md"),
)
def test_every_claim_accounted_for_on_real_x12(name, plan):
    """Real and deliberately broken X12: claims and rejected inputs as in a whole-input run.

    Findings are compared by claim, line and rule: on a date of service before every
    HCPCS record (2005), the descriptor in some messages varies between two identical
    whole-input runs (an engine issue reported separately), so message texts are not.
    """
    path = FIXTURES / name
    whole = _whole([path], [], plan)
    chunked = _chunked([path], [], plan, StreamLimits(chunk_claims=2, buckets=3))
    assert chunked["summary"] == whole["summary"]
    assert [c["id"] for c in chunked["claims"]] == [c["id"] for c in whole["claims"]]
    key = lambda r: (r.get("seg_ordinal") or 0, r.get("claim_id") or "", r["reason"])  # noqa: E731
    assert sorted(chunked["rejected"], key=key) == sorted(whole["rejected"], key=key)
    assert sorted(chunked["input_warnings"], key=key) == sorted(whole["input_warnings"], key=key)
    located = lambda doc: {f[:3] for f in _findings(doc)}  # noqa: E731
    assert located(chunked) == located(whole)


# --- the command line ------------------------------------------------------------------------


def _config(folder: Path, extra: str = "") -> Path:
    path = folder / "claimscrub.toml"
    path.write_text(
        "[streaming]\nmin-size-mb = 0\nchunk-claims = 7\n\n"
        "[rules.options.PAU004]\n"
        'quantity-limits = [{hcpcs = "J7503", max_units = 120, per_days = 30}]\n' + extra
    )
    return path


def _run(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(cli, args)
    return result.exit_code, result.stdout


def _without_time(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if '"generated"' not in line)


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv", "concise", "full", "sarif", "html"])
def test_check_writes_the_same_report_in_chunks(batch, tmp_path, fmt):
    streamed = _config(tmp_path)
    whole = tmp_path / "whole.toml"
    whole.write_text(streamed.read_text().replace("min-size-mb = 0", "min-size-mb = 1000"))
    args = ["check", str(batch["x12"]), "--history", str(batch["history"]), "--format", fmt]
    code_whole, out_whole = _run([*args, "--config", str(whole)])
    code_chunked, out_chunked = _run([*args, "--config", str(streamed)])
    assert code_whole == code_chunked == 1
    if fmt == "html":  # the page embeds its generation time; compare its findings instead
        assert out_chunked.count("MCR018") == out_whole.count("MCR018") > 0
        return
    assert _without_time(out_chunked) == _without_time(out_whole)
    if fmt == "json":
        doc = json.loads(out_chunked)
        assert len(doc["claims"]) == doc["summary"]["claims"] == 36


def test_check_in_chunks_writes_to_a_file_and_counts_in_the_footer(batch, tmp_path):
    config = _config(tmp_path)
    out = tmp_path / "report.csv"
    code, stdout = _run(
        ["check", str(batch["json"]), "--config", str(config), "--format", "csv", "-o", str(out)]
    )
    assert code == 1 and stdout == ""
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert {r["rule"] for r in rows} >= {"MCR018", "PAU004"}
    code, stdout = _run(["check", str(batch["json"]), "--config", str(config)])
    footer = stdout.strip().splitlines()
    assert any(line.startswith("Checked 36 claims (60 lines):") for line in footer)


def test_exit_code_follows_fail_on_in_chunks(batch, tmp_path):
    config = _config(tmp_path)
    args = ["check", str(batch["json"]), "--config", str(config), "--format", "jsonl"]
    assert _run([*args, "--select", "MCR018"])[0] == 1
    assert _run([*args, "--select", "MCR018", "--exit-zero"])[0] == 0
    # MCR018 as a warning: below the default fail-on (error), at --fail-on warning
    sev = _config(tmp_path, '\n[rules.severity]\nMCR018 = "warning"\n')
    args = [
        "check",
        str(batch["json"]),
        "--config",
        str(sev),
        "--format",
        "jsonl",
        "--select",
        "MCR018",
    ]
    code, out = _run(args)
    assert code == 0 and '"severity": "warning"' in out
    assert _run([*args, "--fail-on", "warning"])[0] == 1


# --- the progress bar -------------------------------------------------------------------------


def _check_with_stderr(args: list[str], *, terminal: bool) -> tuple[int, str]:
    """Run the real command with stderr on a pseudo-terminal (or a pipe); return (code, stderr)."""
    env = {**os.environ, "COLUMNS": "100", "TERM": "xterm"}
    command = [sys.executable, "-m", "claimscrub", *args]
    if not terminal:
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
        return done.returncode, done.stderr
    leader, follower = pty.openpty()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=follower, env=env)
    os.close(follower)
    seen = b""
    while True:
        try:
            data = os.read(leader, 4096)
        except OSError:  # the child closed its side
            break
        if not data:
            break
        seen += data
    os.close(leader)
    return proc.wait(timeout=300), seen.decode("utf-8", "replace")


def test_progress_bar_on_a_terminal_only(batch, tmp_path):
    config = _config(tmp_path)
    out = tmp_path / "out.json"
    args = ["check", str(batch["x12"]), "--config", str(config), "--format", "json", "-o", str(out)]
    code, stderr = _check_with_stderr(args, terminal=True)
    assert code == 1
    assert "Reading" in stderr and "Checking" in stderr and "claims" in stderr
    code, stderr = _check_with_stderr(args, terminal=False)
    assert code == 1 and stderr == ""
    code, stderr = _check_with_stderr([*args, "--no-progress"], terminal=True)
    assert code == 1 and "Checking" not in stderr


def test_parquet_findings_table_in_chunks_equals_the_whole_input_table(batch, tmp_path):
    import polars as pl

    streamed = _config(tmp_path)
    whole = tmp_path / "whole.toml"
    whole.write_text(streamed.read_text().replace("min-size-mb = 0", "min-size-mb = 1000"))
    tables = []
    for config in (whole, streamed):
        out = tmp_path / f"{config.stem}.parquet"
        code, _ = _run(["check", str(batch["x12"]), "--config", str(config), "-o", str(out)])
        assert code == 1
        tables.append(pl.read_parquet(out))
    assert tables[0].height > 50
    assert tables[1].equals(tables[0])


def test_statistics_in_chunks_equal_the_whole_input_counts(batch, tmp_path):
    streamed = _config(tmp_path)
    whole = tmp_path / "whole.toml"
    whole.write_text(streamed.read_text().replace("min-size-mb = 0", "min-size-mb = 1000"))
    outs = [
        _run(["check", str(batch["x12"]), "--config", str(config), "--statistics"])
        for config in (whole, streamed)
    ]
    assert outs[0] == outs[1]
    assert "MCR018" in outs[0][1]
