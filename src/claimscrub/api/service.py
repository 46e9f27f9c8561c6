"""What the routes call: resolved plans, the check pipeline, and a bounded worker pool.

Reference data and the default plan are loaded once, when the app is built. A request
with other rule selections gets a plan from a small LRU cache; the payer, as-of and
min-confidence options do not change which rules or packs are loaded, so they ride on a
cached plan instead of making a new one.

Checks run in a thread pool so the event loop keeps answering (health checks, other
requests) while Polars works; each run has a time limit (504) and the number of runs in
flight per process is bounded (503), so a flood of large uploads cannot queue forever.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from claimscrub.api.errors import ApiError
from claimscrub.api.settings import ApiSettings
from claimscrub.engine.scrub import Plan, ScrubOptions, make_plan, scrub
from claimscrub.payers.packs import PackError
from claimscrub.readers import read_bytes
from claimscrub.refdata.catalog import RefData, RefDataError
from claimscrub.refdata.manifest import load_manifest
from claimscrub.rules.registry import Rule, SelectionError, load_builtin_rules

T = TypeVar("T")

# Report formats of POST /v1/check -> media type. JSON is the canonical document.
REPORT_MEDIA_TYPES = {
    "json": "application/json",
    "jsonl": "application/x-ndjson",
    "csv": "text/csv; charset=utf-8",
    "sarif": "application/sarif+json",
    "html": "text/html; charset=utf-8",
}
EXPLAIN_MEDIA_TYPES = {
    "json": "application/json",
    "html": "text/html; charset=utf-8",
    "markdown": "text/markdown; charset=utf-8",
    "text": "text/plain; charset=utf-8",
}

_SelectionKey = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]


def split_selectors(values: Sequence[str] | None) -> list[str]:
    """Selectors from repeated and comma-separated parameters (``select=UNT,COD&select=MOD``)."""
    return [part.strip() for value in values or () for part in value.split(",") if part.strip()]


@dataclass(frozen=True)
class CheckRequest:
    """One check: the body and the options a client chose."""

    body: bytes
    source: str
    input_format: str = "auto"
    select: tuple[str, ...] = ("ALL",)
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    payer: str | None = None
    as_of: dt.date | None = None
    min_confidence: str = "low"
    report_format: str = "json"


@dataclass
class CheckOutcome:
    """A rendered report and how long each step took (for the Server-Timing header)."""

    content: str
    media_type: str
    timings: dict[str, float]


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


class CheckService:
    """The long-lived state of one app: reference data, plans and the worker pool."""

    def __init__(self, settings: ApiSettings, refdata: RefData | None = None) -> None:
        """Load the rules, packs (built-in, then ``settings.packs``) and reference data now.

        Raises:
            RefDataError, PackError: the installed reference data or packs are unusable
                (the server should not start).
        """
        self.settings = settings
        self.default_plan = make_plan(
            ScrubOptions(select=("ALL",), extra_packs=settings.packs), refdata
        )
        self.refdata = self.default_plan.refdata
        self.rules = dict(sorted(load_builtin_rules().items()))
        self._plans: OrderedDict[_SelectionKey, Plan] = OrderedDict()
        self._plans_lock = threading.Lock()
        # Checks and code explanations run in pools of their own: a biller's lookup does
        # not queue behind a batch check (measured: 7.6 s behind three 25,000-claim checks).
        self._pools: dict[str, ThreadPoolExecutor] = {}
        self._pool_lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(settings.max_pending)

    def _executor(self, lane: str) -> ThreadPoolExecutor:
        # Made on first use, and again after close(): an ASGI server may run the app's
        # lifespan more than once (test clients do, per session).
        with self._pool_lock:
            if lane not in self._pools:
                threads = self.settings.scrub_threads if lane == "check" else 1
                self._pools[lane] = ThreadPoolExecutor(
                    threads, thread_name_prefix=f"claimscrub-{lane}"
                )
            return self._pools[lane]

    def close(self) -> None:
        """Stop the worker pools (running work finishes; queued work is dropped)."""
        with self._pool_lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.shutdown(wait=False, cancel_futures=True)

    # --- plans -------------------------------------------------------------------------
    def _base_plan(self, key: _SelectionKey) -> Plan:
        if key == (("ALL",), (), ()):
            return self.default_plan
        with self._plans_lock:
            if key in self._plans:
                self._plans.move_to_end(key)
                return self._plans[key]
        select, ignore, extend = key
        try:
            plan = make_plan(
                ScrubOptions(
                    select=select,
                    ignore=ignore,
                    extend_select=extend,
                    extra_packs=self.settings.packs,
                ),
                self.refdata,
            )
        except SelectionError:
            # The selector is not repeated: request values can carry claim content.
            message = "a rule selector matches no rule code, code prefix or rule name"
            raise ApiError(
                422,
                f"invalid rule selection in select, ignore or extend_select: {message}",
                [{"loc": "query.select", "message": message}],
            ) from None
        except PackError as exc:  # a user pack file changed or went away after start-up
            raise ApiError(500, f"payer pack problem: {exc}") from None
        # The packs loaded at start-up, so that every request sees the same ones.
        plan = replace(plan, packs=self.default_plan.packs)
        with self._plans_lock:
            self._plans[key] = plan
            while len(self._plans) > self.settings.plan_cache_size:
                self._plans.popitem(last=False)
        return plan

    def plan_for(self, request: CheckRequest) -> Plan:
        """The plan for a request's options (cached by rule selection)."""
        if request.payer is not None and request.payer not in self.default_plan.packs:
            known = ", ".join(sorted(self.default_plan.packs))
            raise ApiError(
                422,
                f"unknown payer pack in payer; known: {known}",
                [{"loc": "query.payer", "message": f"one of {known}"}],
            )
        key = (
            tuple(sorted(request.select)) or ("ALL",),
            tuple(sorted(request.ignore)),
            tuple(sorted(request.extend_select)),
        )
        base = self._base_plan(key)
        if request.payer is None and request.as_of is None and request.min_confidence == "low":
            return base
        options = replace(
            base.options,
            pack=request.payer,
            as_of=request.as_of,
            min_confidence=request.min_confidence,
        )
        return replace(base, options=options)

    # --- running work ------------------------------------------------------------------
    async def run(self, func: Callable[..., T], *args: Any, lane: str = "check") -> T:
        """Run ``func`` in the ``lane``'s pool (``check`` or ``explain``), within the time
        limit and the bound on pending work."""
        if not self._slots.acquire(blocking=False):
            raise ApiError(
                503,
                "the server is busy with other checks; retry shortly",
                headers={"Retry-After": "1"},
            )
        loop = asyncio.get_running_loop()
        started: asyncio.Future[None] = loop.create_future()

        def task() -> T:
            loop.call_soon_threadsafe(lambda: started.done() or started.set_result(None))
            return func(*args)

        try:
            future = self._executor(lane).submit(task)
        except RuntimeError:  # the pool was closed between the two calls
            self._slots.release()
            raise ApiError(503, "the server is shutting down") from None
        future.add_done_callback(lambda _: self._slots.release())
        limit = self.settings.request_timeout
        # The time limit is the work's own: time queued behind other checks (a timed-out
        # check keeps its thread until it ends) is not held against this request. Queued
        # for as long again, it gives up as "busy", not as too big.
        try:
            await asyncio.wait_for(asyncio.shield(started), timeout=limit)
        except TimeoutError:
            if future.cancel():
                raise ApiError(
                    503,
                    "the server is busy with other checks; retry shortly",
                    headers={"Retry-After": "5"},
                ) from None
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), timeout=limit)
        except TimeoutError:
            raise ApiError(
                504,
                f"the request took longer than {limit:g} s; send fewer claims per request",
            ) from None

    # --- checks --------------------------------------------------------------------------
    def check(self, request: CheckRequest, plan: Plan) -> CheckOutcome:
        """Read the body, scrub it and render the report (runs in a worker thread)."""
        timings: dict[str, float] = {}
        start = time.perf_counter()
        claims = read_bytes(request.body, request.source, input_format=request.input_format)
        timings["read"] = time.perf_counter() - start
        mark = time.perf_counter()
        try:
            report = scrub(claims, plan, history=claims.history)
        except RefDataError as exc:
            raise ApiError(500, f"reference data problem: {exc}") from None
        except PackError as exc:  # the request forces a pack this server does not have
            raise ApiError(422, str(exc), [{"loc": "body", "message": str(exc)}]) from None
        timings["scrub"] = time.perf_counter() - mark
        mark = time.perf_counter()
        result = report.to_dict()
        timings["result"] = time.perf_counter() - mark
        mark = time.perf_counter()
        content = render_report(result, request.report_format)
        timings["render"] = time.perf_counter() - mark
        return CheckOutcome(content, REPORT_MEDIA_TYPES[request.report_format], timings)

    # --- catalogues ----------------------------------------------------------------------
    def find_rule(self, code_or_name: str) -> Rule | None:
        """A rule by code (``UNT001``) or name (``billed-units-...``)."""
        wanted = code_or_name.strip()
        return self.rules.get(wanted.upper()) or next(
            (r for r in self.rules.values() if r.name == wanted.lower()), None
        )

    def payers(self) -> list[dict[str, Any]]:
        """The payer policy packs a request may name."""
        return [
            {"name": name, "title": pack.title, "sources": list(pack.sources)}
            for name, pack in sorted(self.default_plan.packs.items())
        ]

    def refdata_list(self) -> dict[str, Any]:
        """Installed datasets and releases, with windows and provenance (no server paths)."""
        manifest = load_manifest()
        names = list(manifest.datasets) + [
            n for n in self.refdata.datasets() if n not in manifest.datasets
        ]
        datasets = []
        for name in names:
            info = manifest.datasets.get(name)
            releases = []
            for item in self.refdata.releases(name):
                prov = item.provenance
                releases.append(
                    {
                        "release": item.release,
                        "effective_from": _iso(item.effective_from),
                        "effective_to": _iso(item.effective_to),
                        "in_force_until": _iso(item.implied_to),
                        "rows": prov.get("rows"),
                        "origin": "bundled" if item.bundled else "user",
                        "publisher": prov.get("publisher"),
                        "title": prov.get("title"),
                        "source_file": prov.get("source_file"),
                        "source_sha256": prov.get("source_sha256"),
                        "licence": prov.get("licence"),
                    }
                )
            datasets.append(
                {
                    "name": name,
                    "title": info.title if info else None,
                    "publisher": info.publisher if info else None,
                    "cadence": info.cadence if info else None,
                    "releases": releases,
                }
            )
        return {"datasets": datasets}


def render_report(result: dict[str, Any], fmt: str) -> str:
    """The result document in one of :data:`REPORT_MEDIA_TYPES`' formats."""
    if fmt == "json":
        return json.dumps(result, ensure_ascii=False)
    if fmt == "html":
        try:
            from claimscrub.reporters.html import render_html
        except ImportError:
            raise ApiError(501, "the HTML report is not available in this installation") from None
        return render_html(result)
    from claimscrub.reporters import renderer

    stream = io.StringIO()
    renderer(fmt)(result, stream, fmt)
    return stream.getvalue()
