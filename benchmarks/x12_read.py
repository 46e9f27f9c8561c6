"""Benchmark the X12 837 reader (a script that prints figures; not a test).

Reads a file into the canonical claim/line frames (streaming, ``iter_x12``) and,
as a baseline, splits the same file into segments and elements with plain Python
``str.split``. Each measurement runs in a fresh process (no warm caches, honest
peak RSS); the median of ``--runs`` runs is reported, the two kinds of run
interleaved. The ratio of the two speeds is printed too: it moves less with the
machine's load than either speed.

    python benchmarks/make_big_837.py            # benchmarks/out/big_837p.x12 (~26 MB)
    python benchmarks/x12_read.py                # reads it
    python benchmarks/make_big_837.py --large    # ~250 MB
    python benchmarks/x12_read.py benchmarks/out/big_837p_250mb.x12

The machine's load average is printed: other processes on a 2-core machine change
the figures a lot.
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

DEFAULT = Path(__file__).resolve().parent / "out" / "big_837p.x12"
# Issue #3, measured on this machine class: pure-Python split 119 MB/s; target 60 MB/s.
ISSUE_SPLIT_MB_S = 119.0
TARGET_MB_S = 60.0


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def work_read(path: Path, chunk_claims: int, block_size: int | None, parallel: bool) -> dict:
    """Read ``path`` into canonical frames, batch by batch (nothing is kept)."""
    from claimscrub.readers.x12 import iter_x12

    sizes = {"block_size": block_size} if block_size else {}  # else the reader's default
    start = time.perf_counter()
    cpu = time.process_time()
    claims = lines = rejected = 0
    for batch in iter_x12(path, path.name, chunk_claims=chunk_claims, parallel=parallel, **sizes):
        claims += batch.claims.height
        lines += batch.lines.height
        rejected += batch.rejected.height
    return {
        "seconds": time.perf_counter() - start,
        "cpu": time.process_time() - cpu,
        "claims": claims,
        "lines": lines,
        "rejected": rejected,
        "rss_mb": _peak_rss_mb(),
    }


def work_split(path: Path) -> dict:
    """Baseline: plain Python split of the whole file into segments and elements."""
    start = time.perf_counter()
    cpu = time.process_time()
    text = path.read_bytes().decode("latin-1")
    element, terminator = text[3], text[105]
    n_segments = n_elements = 0
    for segment in text.split(terminator):
        parts = segment.strip().split(element)
        n_segments += 1
        n_elements += len(parts)
    return {
        "seconds": time.perf_counter() - start,
        "cpu": time.process_time() - cpu,
        "segments": n_segments,
        "elements": n_elements,
        "rss_mb": _peak_rss_mb(),
    }


def _run(mode: str, args: argparse.Namespace) -> dict:
    cmd = [
        sys.executable,
        __file__,
        str(args.path),
        "--worker",
        mode,
        "--chunk-claims",
        str(args.chunk_claims),
        *(["--block-size", str(args.block_size)] if args.block_size else []),
        *(["--serial"] if args.serial else []),
    ]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("path", type=Path, nargs="?", default=DEFAULT)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--chunk-claims", type=int, default=5_000)
    ap.add_argument(
        "--block-size", type=int, help="bytes split at a time (default: the reader's own)"
    )
    ap.add_argument("--serial", action="store_true", help="no background threads (parallel=False)")
    ap.add_argument("--worker", choices=("read", "split"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker == "read":
        print(json.dumps(work_read(args.path, args.chunk_claims, args.block_size, not args.serial)))
        return
    if args.worker == "split":
        print(json.dumps(work_split(args.path)))
        return
    if not args.path.exists():
        raise SystemExit(f"{args.path} not found: run benchmarks/make_big_837.py first")
    size_mb = args.path.stat().st_size / 1e6
    print(
        f"file: {args.path} ({size_mb:.1f} MB), cpus: {os.cpu_count()}, load before: {os.getloadavg()[0]:.2f}"
    )
    # Interleaved, so that a change of machine load hits both measurements alike.
    runs: dict[str, list[dict]] = {"split": [], "read": []}
    for _ in range(args.runs):
        for mode in runs:
            runs[mode].append(_run(mode, args))
    speed = {}
    for mode, label in (
        ("split", "baseline: Python split into segments + elements"),
        ("read", "read_x12 into canonical frames"),
    ):
        secs = statistics.median(r["seconds"] for r in runs[mode])
        cpu = statistics.median(r["cpu"] for r in runs[mode])
        rss = max(r["rss_mb"] for r in runs[mode])
        speed[mode] = size_mb / secs
        line = f"{label}: median {secs:.2f} s = {speed[mode]:.1f} MB/s (cpu {cpu:.2f} s), peak RSS {rss:.0f} MB"
        r0 = runs[mode][0]
        if mode == "read":
            line += f", {r0['claims'] / secs:,.0f} claims/s ({r0['claims']:,} claims, {r0['lines']:,} lines, {r0['rejected']} rejected)"
        else:
            line += f" ({r0['segments']:,} segments)"
        print(line)
        print("   runs: " + ", ".join(f"{r['seconds']:.2f}s" for r in runs[mode]))
    ratio = speed["read"] / speed["split"]
    print(
        f"read / split: {ratio:.2f} (the issue's split baseline of {ISSUE_SPLIT_MB_S:.0f} MB/s "
        f"times this ratio: {ratio * ISSUE_SPLIT_MB_S:.0f} MB/s; target {TARGET_MB_S:.0f} MB/s)"
    )
    print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
