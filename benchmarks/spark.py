"""Spark throughput against the in-process engine on the same input (prints figures; not a test).

    python benchmarks/spark.py                      # 300 k lines, local[1] and local[2]
    python benchmarks/spark.py --lines 1000000 --masters 'local[2]'
    python benchmarks/spark.py --masters 'local[2]' 'local[2]+1t'   # +1t: POLARS_MAX_THREADS=1

Input: synthetic lines with realistic errors (benchmarks/synthetic.py), about four claims
per patient; claims before June 2025 are history. They are written once as the flat
Parquet line table (what ``claimscrub convert -o X.parquet`` writes).

Each measurement is a fresh process:

* **in-process**: read the Parquet table, scrub with a plan built once, turn the report
  into the findings table (``check -o OUT.parquet`` without the write), twice: the
  second run finds the reference-data caches warm, like a Spark worker's second chunk.
  The plan build is reported apart: it is what each Spark Python worker pays once.
* **Spark local[k]**: start a session (timed: the fixed start-up cost), then run the
  same input with ``scrub_paths`` twice, writing the findings table as Parquet. The
  first run pays the Python workers' start and their plan; the second reuses both (Spark
  reuses Python workers), so it shows the steady rate. Before them, a 15-line run (the
  example batch, cold workers) and a second one (warm) show the fixed cost of a job.

Lines/s is input lines (claims and history) over wall time. The machine is shared: read
every figure against the in-process baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXAMPLE = HERE.parent / "examples" / "immunosuppressants.json"


def _make_input(n_lines: int, folder: Path) -> tuple[Path, int]:
    """The flat Parquet table of a synthetic batch with history; (path, lines)."""
    import polars as pl

    sys.path.insert(0, str(HERE))
    from synthetic import make_batch

    from claimscrub.readers import ClaimSet
    from claimscrub.readers.base import ClaimBatch
    from claimscrub.readers.writers import write_parquet

    claims, lines = make_batch(n_lines)
    past = pl.col("service_date") < dt.date(2025, 6, 1)
    keys_past = claims.filter(past)["claim_key"].implode()
    history = ClaimBatch(claims.filter(past), lines.filter(pl.col("claim_key").is_in(keys_past)))
    current = ClaimSet(
        claims.filter(~past),
        lines.filter(~pl.col("claim_key").is_in(keys_past)),
        history=history,
    )
    path = folder / "batch.parquet"
    write_parquet(current, str(path))
    return path, lines.height


def _in_process(path: str) -> dict[str, float]:
    from claimscrub.engine.scrub import make_plan, scrub
    from claimscrub.readers import read_claims
    from claimscrub.reporters.parquet_report import finding_rows

    t = time.perf_counter()
    plan = make_plan()
    figures = {"plan_seconds": time.perf_counter() - t}
    for name in ("first_seconds", "seconds"):  # the second run finds the caches warm
        t = time.perf_counter()
        claims = read_claims([path])
        result = scrub(claims, plan, history=claims.history).to_dict()
        figures["findings"] = finding_rows(result).height
        figures[name] = time.perf_counter() - t
    return figures


def _on_spark(path: str, master: str, out: str) -> dict[str, float]:
    one_thread = master.endswith("+1t")
    master = master.removesuffix("+1t")
    t = time.perf_counter()
    from claimscrub.spark import scrub_paths, spark_session

    inside = master.removeprefix("local").strip("[]")
    cores = os.cpu_count() or 1 if inside in ("", "*") else int(inside)
    spark = spark_session(
        master,
        conf={
            "spark.ui.enabled": "false",
            "spark.sql.shuffle.partitions": str(2 * cores),
            "spark.driver.memory": "4g",
            # One Polars thread per Spark task: Spark already runs a task per core.
            **({"spark.executorEnv.POLARS_MAX_THREADS": "1"} if one_thread else {}),
        },
    )
    spark.sparkContext.setLogLevel("ERROR")
    figures: dict[str, float] = {"session_seconds": time.perf_counter() - t}

    def timed(inputs: list[str], name: str) -> float:
        t = time.perf_counter()
        run = scrub_paths(spark, inputs, partitions=2 * cores)
        run.findings.write.mode("overwrite").parquet(out)
        figures[name] = time.perf_counter() - t
        return figures[name]

    timed([str(EXAMPLE)], "tiny_cold_seconds")
    timed([str(EXAMPLE)], "tiny_warm_seconds")
    timed([path], "first_seconds")
    timed([path], "seconds")
    figures["findings"] = spark.read.parquet(out).count()
    spark.stop()
    return figures


def _child(kind: str, path: str, out: str) -> None:
    figures = _in_process(path) if kind == "local" else _on_spark(path, kind, out)
    print(json.dumps(figures))


def _run_child(kind: str, path: Path, out: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(path), str(out)],
        capture_output=True,
        text=True,
        env=os.environ,
    )
    if done.returncode:
        sys.exit(f"{kind} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=300_000)
    parser.add_argument("--masters", nargs="+", default=["local[1]", "local[2]"])
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return

    folder = Path(tempfile.mkdtemp(prefix="claimscrub-spark-bench-"))
    try:
        path, n = _make_input(args.lines, folder)
        print(f"cores: {os.cpu_count()}  input: {n:,} lines (claims and history), flat Parquet")
        base = _run_child("local", path, folder / "local")
        rate = n / base["seconds"]
        print(
            f"in-process engine: {base['seconds']:.1f} s -> {rate:,.0f} lines/s "
            f"({base['findings']:,} findings); first run {base['first_seconds']:.1f} s; "
            f"plan build {base['plan_seconds']:.2f} s"
        )
        for master in args.masters:
            fig = _run_child(master, path, folder / "spark.parquet")
            steady = n / fig["seconds"]
            first = n / fig["first_seconds"]
            print(
                f"Spark {master}: {fig['seconds']:.1f} s -> {steady:,.0f} lines/s "
                f"({steady / rate:.2f}x in-process); first run {fig['first_seconds']:.1f} s "
                f"-> {first:,.0f} lines/s ({first / rate:.2f}x)"
            )
            same = "same" if fig["findings"] == base["findings"] else "DIFFERENT"
            print(
                f"  fixed costs: session start {fig['session_seconds']:.1f} s; 15-line job "
                f"{fig['tiny_cold_seconds']:.1f} s cold (workers start, plan built), "
                f"{fig['tiny_warm_seconds']:.1f} s warm; findings {fig['findings']:,} ({same} count)"
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
