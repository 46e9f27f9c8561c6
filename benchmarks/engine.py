"""Engine throughput and single-claim latency (prints figures; not a test).

    python benchmarks/engine.py                 # 5 M lines, whole catalogue, median of 3
    python benchmarks/engine.py --lines 1000000 --runs 1
    python benchmarks/engine.py --latency-only  # only the single-claim latency

Throughput: synthetic lines with realistic errors (benchmarks/synthetic.py) are generated
once and written to Parquet; each run is a fresh process that loads them, prepares the
lines (claim columns, payer packs) and evaluates every rule of the catalogue, and reports
wall time, CPU time (all threads) and peak RSS. The synthetic lines carry data for every
rule's inputs, so no rule is skipped; the figures say how many were. Baseline for the ratio: the plain Python loop (~62 k lines/s) and
the 12-check Polars prototype (~385 k lines/s) measured on this machine class
(../shared/design/house-style.md).

Latency: one 5-line claim as Claims JSON bytes -> read -> scrub -> result dict, in
process, after warm-up; median and p95 of 200 calls, the same claim each time, then
with a new date of service each time (the engine keeps per-key facts of small batches
across calls, so the first is the warm case, the second closer to a cold one), then a
stream of different synthetic claims (codes, NDCs, dates, patients and payers drawn as
for the throughput run), one claim per call: what a clearinghouse calling the API sees.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PYTHON_LOOP_BASELINE = 62_000
POLARS_PROTOTYPE_BASELINE = 385_000

ONE_CLAIM = {
    "claims": [
        {
            "id": "LAT-1",
            "type": "professional",
            "payer": {"type": "medicare", "policy": "medicare-dme"},
            "patient": {
                "id": "P1",
                "transplants": [{"organ": "kidney", "date": "2021-03-14", "medicare_paid": False, "part_a_at_transplant": True}],
            },
            "service_date": "2025-06-10",
            "place_of_service": "12",
            "diagnoses": ["Z94.0", "Z79.621"],
            "lines": [
                {"number": 1, "hcpcs": "J7507", "modifiers": ["KX"], "units": 180, "ndc": "00781210301",
                 "ndc_quantity": 180, "ndc_unit": "UN", "days_supply": 90, "diagnosis_pointers": [1, 2]},
                {"number": 2, "hcpcs": "J7507", "modifiers": ["KX"], "units": 60, "ndc": "00781210201",
                 "ndc_quantity": 60, "ndc_unit": "UN", "days_supply": 30, "diagnosis_pointers": [1]},
                {"number": 3, "hcpcs": "J7503", "units": 90, "ndc": "68992307503", "ndc_quantity": 30,
                 "ndc_unit": "UN", "days_supply": 30, "diagnosis_pointers": [1]},
                {"number": 4, "hcpcs": "J7517", "modifiers": ["KX"], "units": 360, "ndc": "00004026001",
                 "ndc_quantity": 180, "ndc_unit": "UN", "days_supply": 90, "diagnosis_pointers": [1]},
                {"number": 5, "hcpcs": "Q0511", "modifiers": ["KX"], "units": 1, "diagnosis_pointers": [1]},
            ],
        }
    ]
}  # fmt: skip


def _child(parquet_dir: str) -> None:
    """One measured run in a fresh process: prints JSON figures."""
    import polars as pl

    from claimscrub.engine.evaluate import evaluate
    from claimscrub.engine.prepare import prepare_lines
    from claimscrub.engine.scrub import make_plan

    claims = pl.read_parquet(Path(parquet_dir) / "claims.parquet")
    lines = pl.read_parquet(Path(parquet_dir) / "lines.parquet")
    plan = make_plan()
    plan.refdata.table("hcpcs")  # reference data load is start-up cost, not per-batch work
    start, cpu = time.perf_counter(), time.process_time()
    claims, prepared = prepare_lines(lines, claims, plan.packs)
    n_lines = lines.height
    del lines  # the input as read is not the engine's memory once the lines are prepared
    result = evaluate(plan.rules, prepared, claims, plan.refdata, packs=plan.packs)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu_seconds": cpu,
                "lines": n_lines,
                "findings": result.findings.height,
                "rules": len(plan.rules),
                "skipped": len(result.skipped),
                "broken": result.broken,
                "peak_rss_mb": peak_kb / 1024,
            }
        )
    )


def varied_claims(count: int) -> list[bytes]:
    """``count`` different synthetic claims, each as its own Claims JSON document."""
    sys.path.insert(0, str(HERE))
    from synthetic import make_batch

    from claimscrub.readers.base import ClaimBatch
    from claimscrub.readers.writers import to_json_document

    claims, lines = make_batch(count * 4)
    document, _ = to_json_document(ClaimBatch(claims=claims, lines=lines))
    return [json.dumps({"claims": [claim]}).encode() for claim in document["claims"][:count]]


def latency_varied(calls: int = 200, warm: int = 20) -> tuple[float, float]:
    """Median and p95 milliseconds over a stream of different claims, after ``warm``
    others (a server that has run a while has seen more of the codes, NDCs and dates)."""
    from claimscrub.engine.scrub import make_plan, scrub
    from claimscrub.readers import read_bytes

    plan = make_plan()
    stream = varied_claims(calls + warm)
    for data in stream[:warm]:
        scrub(read_bytes(data, "one.json"), plan).to_dict()
    times = []
    for data in stream[warm:]:
        t = time.perf_counter()
        scrub(read_bytes(data, "one.json"), plan).to_dict()
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def latency(calls: int = 200, new_dates: bool = False) -> tuple[float, float]:
    """Median and p95 milliseconds for one 5-line claim, JSON bytes to result dict.

    The engine keeps what it worked out for each code, date, NDC ... of small batches, so
    the same claim again is the warm case; with ``new_dates`` every call carries a date
    of service not seen before (the facts that depend on the date are worked out anew).
    """
    from claimscrub.engine.scrub import make_plan, scrub
    from claimscrub.readers import read_bytes

    plan = make_plan()

    def claim(number: int) -> bytes:
        if not new_dates:
            return json.dumps(ONE_CLAIM).encode()
        document = json.loads(json.dumps(ONE_CLAIM))
        day = dt.date(2024, 1, 1) + dt.timedelta(days=number)
        document["claims"][0]["service_date"] = day.isoformat()
        return json.dumps(document).encode()

    for number in range(20):  # warm-up: imports, reference data, rule planning caches
        scrub(read_bytes(claim(10_000 + number), "one.json"), plan).to_dict()
    times = []
    for number in range(calls):
        data = claim(number)
        t = time.perf_counter()
        scrub(read_bytes(data, "one.json"), plan).to_dict()
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=5_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--calls", type=int, default=200, help="single-claim calls timed")
    parser.add_argument("--latency-only", action="store_true")
    parser.add_argument("--no-latency", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child)
        return
    if not args.latency_only:
        _throughput(args.lines, args.runs)
    if not args.no_latency:
        for new_dates, label in ((False, "same claim"), (True, "a new date each call")):
            p50, p95 = latency(args.calls, new_dates)
            print(
                f"single 5-line claim (JSON -> findings, in process), {label}: "
                f"median {p50:.1f} ms, p95 {p95:.1f} ms ({args.calls} calls)"
            )
        for warm in (20, 1000):
            p50, p95 = latency_varied(args.calls, warm)
            print(
                "single claim (JSON -> findings, in process), a different synthetic claim each "
                f"call after {warm} others: median {p50:.1f} ms, p95 {p95:.1f} ms "
                f"({args.calls} calls)"
            )


def _throughput(n_lines: int, n_runs: int) -> None:
    """Generate the synthetic batch once, then time ``n_runs`` fresh child processes."""
    sys.path.insert(0, str(HERE))
    from synthetic import make_batch

    with tempfile.TemporaryDirectory() as tmp:
        claims, lines = make_batch(n_lines)
        claims.write_parquet(Path(tmp) / "claims.parquet")
        lines.write_parquet(Path(tmp) / "lines.parquet")
        del claims, lines
        runs = []
        for _ in range(n_runs):
            out = subprocess.run(
                [sys.executable, __file__, "--child", tmp],
                capture_output=True,
                text=True,
                check=True,
                env=os.environ,
            )
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    secs = statistics.median(r["seconds"] for r in runs)
    cpu = statistics.median(r["cpu_seconds"] for r in runs)
    n = runs[0]["lines"]
    rate = n / secs
    print(
        f"cores: {os.cpu_count()}  rules: {runs[0]['rules']} ({runs[0]['skipped']} skipped)  "
        f"lines: {n:,}  findings: {runs[0]['findings']:,}"
    )
    print(f"whole catalogue: median {secs:.2f} s over {len(runs)} runs -> {rate:,.0f} lines/s")
    each = ", ".join(f"{r['seconds']:.2f}s" for r in runs)
    print(f"  runs: {each}; CPU (all threads) median {cpu:.2f} s")
    print(f"  peak RSS: {max(r['peak_rss_mb'] for r in runs):,.0f} MB")
    print(
        f"  vs plain Python loop ({PYTHON_LOOP_BASELINE:,}/s): {rate / PYTHON_LOOP_BASELINE:.1f}x"
    )
    print(
        f"  vs 12-check Polars prototype ({POLARS_PROTOTYPE_BASELINE:,}/s): {rate / POLARS_PROTOTYPE_BASELINE:.2f}x"
    )
    if any(r["broken"] for r in runs):
        print(f"  BROKEN RULES: {runs[0]['broken']}")


if __name__ == "__main__":
    main()
