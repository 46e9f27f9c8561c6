"""Load benchmark of ``claimscrub serve``: single-claim POST /v1/check on loopback.

Starts ``claimscrub serve --workers 2`` on a free loopback port, warms every worker up,
then sends single-claim checks from this (separate) client process with a fixed number of
requests in flight, until ``--requests`` are done or ``--seconds`` have passed. The claims
are the real ones of ``examples/immunosuppressants.json``, one claim per request, in turn.

Printed, all measured in the same run:

- POST /v1/check latency p50 / p90 / p99 / max and requests per second;
- where the time goes, from the server's ``Server-Timing`` header (read, scrub, result
  document, render), and the rest: HTTP, framework, thread hand-off and the client;
- baseline 1, the server without the engine: GET /healthz at the same concurrency;
- baseline 2, the engine without the server: the same checks called in-process, one at a
  time (read_bytes + scrub + to_dict + json.dumps), as the API's worker thread runs them;
- the ratio of each figure to the targets (p50 < 15 ms, p99 < 50 ms).

Usage::

    python benchmarks/serve_load.py [--workers 2] [--concurrency 2] [--requests 400]
                                    [--seconds 60] [--warmup 10]

A figure, not a test: nothing here asserts a time. The machine's other load shows in the
figures, so compare a run's numbers with its own baselines.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "immunosuppressants.json"
TARGET_P50_MS, TARGET_P99_MS = 15.0, 50.0


def single_claim_bodies() -> list[bytes]:
    """One Claims JSON document per claim of the example batch (history dropped)."""
    doc = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    return [json.dumps({"claims": [claim]}).encode() for claim in doc["claims"]]


def free_port() -> int:
    """A TCP port nobody listens on, on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100), nearest rank."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def start_server(workers: int, port: int, log: Path) -> subprocess.Popen[bytes]:
    """``claimscrub serve`` in the background, logging to ``log``; waits until it answers."""
    argv = [sys.executable, "-m", "claimscrub", "serve", "--port", str(port)]
    argv += ["--workers", str(workers), "--no-access-log", "--log-level", "warning"]
    with log.open("wb") as sink:
        process = subprocess.Popen(argv, stdout=sink, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    process.terminate()
    raise SystemExit(f"server did not start in time:\n{log.read_text()}")


def parse_timing(header: str | None) -> dict[str, float]:
    """``read;dur=1.2, scrub;dur=3.4`` -> {"read": 1.2, "scrub": 3.4} (milliseconds)."""
    out: dict[str, float] = {}
    for part in (header or "").split(","):
        name, _, duration = part.strip().partition(";dur=")
        if duration:
            out[name] = float(duration)
    return out


async def drive(
    url: str,
    method: str,
    bodies: list[bytes],
    concurrency: int,
    max_requests: int,
    max_seconds: float,
) -> tuple[list[float], list[dict[str, float]], Counter[int], float]:
    """Send requests with ``concurrency`` in flight; latencies (ms), timings, statuses, wall s."""
    latencies: list[float] = []
    timings: list[dict[str, float]] = []
    statuses: Counter[int] = Counter()
    issued = 0
    start = time.perf_counter()
    stop_at = start + max_seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=120) as client:

        async def one_worker() -> None:
            nonlocal issued
            while issued < max_requests and time.perf_counter() < stop_at:
                body = bodies[issued % len(bodies)] if bodies else b""
                issued += 1
                sent = time.perf_counter()
                if method == "POST":
                    response = await client.post(
                        url, content=body, headers={"content-type": "application/json"}
                    )
                else:
                    response = await client.get(url)
                latencies.append((time.perf_counter() - sent) * 1000)
                statuses[response.status_code] += 1
                timings.append(parse_timing(response.headers.get("server-timing")))

        await asyncio.gather(*(one_worker() for _ in range(concurrency)))
    return latencies, timings, statuses, time.perf_counter() - start


def in_process_engine(bodies: list[bytes], count: int) -> list[float]:
    """Latency (ms) of the same checks called directly, one at a time, after a warm-up."""
    from claimscrub.engine.scrub import make_plan, scrub
    from claimscrub.readers import read_bytes

    plan = make_plan()

    def run(body: bytes) -> None:
        claims = read_bytes(body, "bench.json")
        json.dumps(scrub(claims, plan, history=claims.history).to_dict())

    for body in bodies[:3]:
        run(body)
    latencies = []
    for index in range(count):
        started = time.perf_counter()
        run(bodies[index % len(bodies)])
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def describe(name: str, latencies: list[float], wall: float | None = None) -> str:
    """One line of figures."""
    if not latencies:
        return f"{name:<34} no requests completed"
    rate = f"  {len(latencies) / wall:7.1f} req/s" if wall else ""
    return (
        f"{name:<34} n={len(latencies):<5} p50 {percentile(latencies, 50):8.1f} ms  "
        f"p90 {percentile(latencies, 90):8.1f}  p99 {percentile(latencies, 99):8.1f}  "
        f"max {max(latencies):8.1f}{rate}"
    )


def main() -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=2, help="requests in flight")
    parser.add_argument("--requests", type=int, default=400, help="stop after this many")
    parser.add_argument("--seconds", type=float, default=60.0, help="or after this long")
    parser.add_argument("--warmup", type=int, default=10, help="warm-up requests per worker")
    parser.add_argument("--engine-runs", type=int, default=30, help="in-process baseline runs")
    args = parser.parse_args()

    bodies = single_claim_bodies()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    print(f"claimscrub serve --workers {args.workers} on {base}; {len(bodies)} single-claim bodies")
    print(
        f"client: httpx, {args.concurrency} in flight, at most {args.requests} requests / "
        f"{args.seconds:g} s; machine: {os.cpu_count()} cores"
    )
    with tempfile.TemporaryDirectory() as folder:
        server = start_server(args.workers, port, Path(folder) / "serve.log")
        try:
            # Warm-up: every worker process compiles its first queries on its first checks.
            asyncio.run(
                drive(
                    f"{base}/v1/check",
                    "POST",
                    bodies,
                    max(2, args.workers),
                    args.warmup * args.workers,
                    300,
                )
            )
            health, _, health_status, health_wall = asyncio.run(
                drive(f"{base}/healthz", "GET", [], args.concurrency, 2000, 10)
            )
            latencies, timings, statuses, wall = asyncio.run(
                drive(
                    f"{base}/v1/check",
                    "POST",
                    bodies,
                    args.concurrency,
                    args.requests,
                    args.seconds,
                )
            )
        finally:
            server.terminate()
            server.wait(timeout=30)
    engine = in_process_engine(bodies, args.engine_runs)

    print()
    print(describe("POST /v1/check (single claim)", latencies, wall))
    print(describe("baseline: GET /healthz", health, health_wall))
    print(describe("baseline: engine in-process, serial", engine))
    print(f"statuses: {dict(statuses)}; healthz statuses: {dict(health_status)}")
    if timings and latencies:
        parts = sorted({k for t in timings for k in t})
        medians = {p: statistics.median(t.get(p, 0.0) for t in timings) for p in parts}
        server_side = statistics.median(sum(t.values()) for t in timings)
        overhead = percentile(latencies, 50) - server_side
        print()
        print("where a check's time goes (medians, ms, from Server-Timing):")
        for part in parts:
            print(f"  {part:<8} {medians[part]:8.1f}")
        print(f"  {'in app':<8} {server_side:8.1f}  (sum of the above)")
        print(
            f"  {'rest':<8} {overhead:8.1f}  (p50 - in app: HTTP, framework, thread hand-off,"
            " queueing, client)"
        )
        p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
        print()
        print(
            f"targets: p50 {p50:.1f} ms vs {TARGET_P50_MS:g} ms ({p50 / TARGET_P50_MS:.1f}x); "
            f"p99 {p99:.1f} ms vs {TARGET_P99_MS:g} ms ({p99 / TARGET_P99_MS:.1f}x)"
        )
        engine_p50 = percentile(engine, 50)
        print(
            f"engine share of the p50: {engine_p50:.1f} ms in-process "
            f"({engine_p50 / p50:.0%} of the served p50); "
            f"server floor (GET /healthz p50): {percentile(health, 50):.1f} ms"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
