"""End-to-end ``claimscrub check`` on large X12 and CSV inputs (a script that prints figures).

Generates the inputs into benchmarks/out/ (git-ignored): 837P files of the requested sizes
with ``make_big_837.py`` (a real TR3 claim replicated with J75xx codes and crosswalk NDCs,
6 lines per claim, one patient per claim), and Claims CSV files converted from some of
them with ``claimscrub convert``. Then runs the real command line,

    claimscrub check FILE --format jsonl -o benchmarks/out/e2e-report.jsonl

each run in a fresh process, and reports wall time, MB/s, claims/s, lines/s and the
process's peak RSS (median of ``--runs``). Inputs at or above ``streaming.min-size-mb``
(32 MB) are checked in chunks; here every input is (``min-size-mb = 0``). Memory should
not grow with the input.

Baselines measured in the same run: the X12 reader alone (``iter_x12`` into canonical
frames, nothing checked) on the same file, and the whole-input (in-memory) path of
``check`` on the smallest X12 file, forced with ``streaming.min-size-mb = 100000``.

    python benchmarks/check_e2e.py                                  # 26 + 250 MB X12, 2 CSVs, 3 runs
    python benchmarks/check_e2e.py --x12 1000 --csv --runs 1        # the 1 GB X12 once

The machine's load average is printed: other processes on a 2-core machine change the
figures a lot.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
BYTES_PER_CLAIM = 1_299  # make_big_837's claims, measured on its 20,000-claim file
REPORT = OUT / "e2e-report.jsonl"


# --- workers (run in a fresh process each) ---------------------------------------------------


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker_check(path: str, config: str, fmt: str) -> dict:
    """Run the command line in this process; return time, counts and peak RSS."""
    import claimscrub.engine.stream as stream
    from claimscrub.cli import main

    seen: dict = {}
    header = stream.ChunkedCheck.header

    def recording_header(self: stream.ChunkedCheck) -> dict:  # the summary, for the counts
        doc = header(self)
        seen.update(doc["summary"])
        return doc

    stream.ChunkedCheck.header = recording_header  # type: ignore[method-assign]
    import claimscrub.engine.report as report

    to_dict = report.Report.to_dict

    def recording_to_dict(self: report.Report) -> dict:  # the in-memory path's summary
        doc = to_dict(self)
        if not seen or doc["summary"]["claims"] > seen.get("claims", 0):
            seen.update(doc["summary"])
        return doc

    report.Report.to_dict = recording_to_dict  # type: ignore[method-assign]
    args = ["check", path, "--config", config, "--format", fmt, "-o", str(REPORT)]
    start = time.perf_counter()
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
        if code not in (0, 1):
            print(f"claimscrub exited {code}", file=sys.stderr)
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "exit": code,
        "claims": seen.get("claims"),
        "lines": seen.get("lines"),
        "rss_mb": _peak_rss_mb(),
        "report_mb": _remove(REPORT),
    }


def _remove(path: Path) -> float:
    """Delete the report (gigabytes for the largest inputs); return its size in MB."""
    size = path.stat().st_size / 1e6 if path.exists() else 0.0
    path.unlink(missing_ok=True)
    return size


def worker_read(path: str) -> dict:
    """The X12 reader alone: canonical frames, chunk by chunk, nothing kept."""
    from claimscrub.readers.x12 import iter_x12

    start = time.perf_counter()
    claims = lines = 0
    for batch in iter_x12(path, path):
        claims += batch.claims.height
        lines += batch.lines.height
    return {
        "seconds": time.perf_counter() - start,
        "claims": claims,
        "lines": lines,
        "rss_mb": _peak_rss_mb(),
    }


# --- inputs -----------------------------------------------------------------------------------


def make_x12(size_mb: int) -> Path:
    path = OUT / f"e2e_{size_mb}mb.x12"
    if not path.exists():
        sys.path.insert(0, str(HERE))
        import make_big_837

        claims = int(size_mb * 1e6 / BYTES_PER_CLAIM)
        t = time.perf_counter()
        size, n = make_big_837.build(make_big_837.DEFAULT_BASE, path, claims, 100, 7)
        print(
            f"  generated {path.name}: {size / 1e6:.0f} MB, {n:,} claims ({time.perf_counter() - t:.0f} s)"
        )
    return path


def make_csv(x12: Path) -> Path:
    path = x12.with_suffix(".csv")
    if not path.exists():
        t = time.perf_counter()
        subprocess.run(
            ["claimscrub", "convert", str(x12), "-o", str(path)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        print(
            f"  converted {x12.name} -> {path.name}: {path.stat().st_size / 1e6:.0f} MB ({time.perf_counter() - t:.0f} s)"
        )
    return path


def config_file(min_size_mb: int) -> Path:
    path = OUT / f"e2e_config_{min_size_mb}.toml"
    path.write_text(f"[streaming]\nmin-size-mb = {min_size_mb}\n")
    return path


# --- measuring --------------------------------------------------------------------------------


def run_worker(kind: str, *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--worker", kind, *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"worker {kind} {args} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(label: str, path: Path, runs: int, kind: str, *args: str) -> dict:
    results = [run_worker(kind, str(path), *args) for _ in range(runs)]
    failed = [r for r in results if r.get("exit") not in (None, 0, 1)]
    if failed:  # exit 2: a usage, data or internal error; the figures would mean nothing
        raise SystemExit(f"{label} on {path.name}: claimscrub exited {failed[0]['exit']}")
    seconds = statistics.median(r["seconds"] for r in results)
    rss = statistics.median(r["rss_mb"] for r in results)
    first = results[0]
    mb = path.stat().st_size / 1e6
    row = {
        "label": label,
        "file": path.name,
        "mb": mb,
        "runs": runs,
        "seconds": seconds,
        "all_seconds": [round(r["seconds"], 1) for r in results],
        "mb_s": mb / seconds,
        "claims": first.get("claims"),
        "lines": first.get("lines"),
        "lines_s": (first.get("lines") or 0) / seconds,
        "claims_s": (first.get("claims") or 0) / seconds,
        "rss_mb": rss,
        "exit": first.get("exit"),
        "report_mb": first.get("report_mb"),
        "load": os.getloadavg()[0],
    }
    print(
        f"{label:<34} {mb:>7.0f} MB  {seconds:>7.1f} s  {row['mb_s']:>6.2f} MB/s  "
        f"{row['lines_s']:>8,.0f} lines/s  {row['claims_s']:>7,.0f} claims/s  "
        f"peak RSS {rss:>6,.0f} MB  (runs {row['all_seconds']}, load {row['load']:.1f})",
        flush=True,
    )
    return row


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--x12", default="26,250", help="X12 sizes in MB, comma-separated")
    ap.add_argument(
        "--csv",
        action="store_true",
        help="also CSV inputs converted from the X12 sizes in --csv-from",
    )
    ap.add_argument("--csv-from", default="26,100", help="X12 sizes (MB) to convert to CSV")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--format", default="jsonl", help="report format (written to benchmarks/out/)")
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        kind, *rest = args.worker
        result = worker_check(*rest) if kind == "check" else worker_read(*rest)
        print(json.dumps(result))
        return
    OUT.mkdir(parents=True, exist_ok=True)
    print(f"load average at start: {os.getloadavg()}; cpus: {os.cpu_count()}")
    sizes = [int(s) for s in args.x12.split(",") if s]
    chunked, whole = config_file(0), config_file(100_000)
    rows = []
    print("inputs:")
    x12 = {
        size: make_x12(size)
        for size in sorted(
            set(sizes) | (set(int(s) for s in args.csv_from.split(",")) if args.csv else set())
        )
    }
    csvs = [make_csv(x12[int(s)]) for s in args.csv_from.split(",")] if args.csv else []
    print(f"end to end (claimscrub check FILE --format {args.format} -o FILE):")
    for size in sizes:
        rows.append(
            measure("check X12 (chunked)", x12[size], args.runs, "check", str(chunked), args.format)
        )
    for path in csvs:
        rows.append(
            measure("check CSV (chunked)", path, args.runs, "check", str(chunked), args.format)
        )
    if not args.no_baseline:
        print("baselines (same run):")
        for size in sizes:
            rows.append(measure("X12 reader alone (iter_x12)", x12[size], args.runs, "read"))
        smallest = x12[min(sizes)]
        rows.append(
            measure(
                "check X12 whole-input (in memory)",
                smallest,
                args.runs,
                "check",
                str(whole),
                args.format,
            )
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
