"""Cold-start time of ``claimscrub code J7507``, each run in a fresh process.

Prints median / min / max wall time over N runs (default 15) for:

- ``python -c "import polars"`` — the floor every command pays;
- ``claimscrub code J7507`` (text output, the real console script);
- ``claimscrub code J7507 --format json``;
- ``claimscrub ndc 0781-2104-01``.

Usage::

    python benchmarks/cold_start.py [--runs 15]

A figure, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def claimscrub_command() -> list[str]:
    """The installed console script next to this interpreter, else ``python -m claimscrub``."""
    script = Path(sys.executable).with_name("claimscrub")
    if script.exists():
        return [str(script)]
    found = shutil.which("claimscrub")
    return [found] if found else [sys.executable, "-m", "claimscrub"]


def time_runs(argv: list[str], runs: int) -> list[float]:
    """Wall seconds of ``runs`` fresh processes (output discarded; a failure stops the run)."""
    env = dict(os.environ, COLUMNS="100")
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
        )
        times.append(time.perf_counter() - start)
    return times


def main() -> int:
    """Run the benchmark and print one line per command."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    cli = claimscrub_command()
    cases = [
        ('python -c "import polars"', [sys.executable, "-c", "import polars"]),
        ("claimscrub code J7507", [*cli, "code", "J7507"]),
        ("claimscrub code J7507 --format json", [*cli, "code", "J7507", "--format", "json"]),
        ("claimscrub ndc 0781-2104-01", [*cli, "ndc", "0781-2104-01"]),
    ]
    time_runs(cases[1][1], 2)  # warm the OS file cache; every measured run is still a new process
    print(f"{args.runs} fresh processes each (wall time, seconds)")
    for name, argv in cases:
        times = time_runs(argv, args.runs)
        print(
            f"{name:<38} median {statistics.median(times):.3f}  "
            f"min {min(times):.3f}  max {max(times):.3f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
