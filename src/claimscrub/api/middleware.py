"""ASGI middleware: access log without claim content, API key, body limit, last-resort 500.

Plain ASGI callables rather than Starlette's ``BaseHTTPMiddleware``: they add no task
per request, which matters when a check of one claim should cost milliseconds.
Order, outermost first: :class:`AccessLog` → :class:`CatchAll` → :class:`ApiKey` →
:class:`BodyLimit` → the app.
"""

from __future__ import annotations

import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from claimscrub.api.errors import envelope, reason

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger("claimscrub.api")
access_log = logging.getLogger("claimscrub.api.access")

_BODY_METHODS = {"POST", "PUT", "PATCH"}


async def send_error(
    send: Send, status: int, error: str, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    """Send the error envelope as a complete response."""
    body = json.dumps(envelope(status, error)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value)
    return None


def route_template(scope: Scope) -> str:
    """The matched route's path template (``/v1/codes/{code}``), never the raw URL."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if path is None:
        return "<unmatched>"
    return str(path) + ("/…" if getattr(route, "name", None) == "static" else "")


class AccessLog:
    """One line per request: method, route template, status, milliseconds, body size.

    The query string, the raw path and the body are never logged: they may hold claim
    content (a file name, a claim id, a member id).
    """

    def __init__(self, app: ASGIApp) -> None:
        """Wrap ``app``."""
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Time the request and log its outcome."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 0

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    "%s %s %d %.1fms",
                    scope.get("method", "?"),
                    route_template(scope),
                    status,
                    (time.perf_counter() - start) * 1000,
                )


class CatchAll:
    """Answer an unexpected exception with a 500 envelope and log only its type.

    The text of an exception may quote the input (a reader's message, a value), so it is
    neither logged nor sent; the route and the exception class are enough to find it.
    """

    def __init__(self, app: ASGIApp) -> None:
        """Wrap ``app``."""
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app; turn an escaped exception into a 500 envelope."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception as exc:  # noqa: BLE001 - the last line of defence, by design
            log.error("internal error in %s: %s", route_template(scope), type(exc).__name__)
            if not started:
                await send_error(send, 500, "internal error; the server log names the failure")


class ApiKey:
    """Require the API key on protected paths (when one is configured).

    Accepted as ``X-API-Key: KEY`` or ``Authorization: Bearer KEY``; compared with
    :func:`hmac.compare_digest` so timing does not reveal how much of a guess was right.
    The page, its assets, ``/healthz`` and the OpenAPI document stay open: they hold no
    claim data and the page needs them to ask for the key.
    """

    OPEN_PREFIXES = ("/static/",)
    OPEN_PATHS = frozenset({"/", "/healthz", "/openapi.json", "/favicon.ico"})

    def __init__(self, app: ASGIApp, key: str | None) -> None:
        """Wrap ``app``; ``key`` None disables the check."""
        self.app = app
        self.key = key.encode() if key else None

    def _allowed(self, scope: Scope) -> bool:
        offered = _header(scope, b"x-api-key")
        if offered is None:
            auth = _header(scope, b"authorization") or b""
            scheme, _, token = auth.partition(b" ")
            offered = token.strip() if scheme.lower() == b"bearer" else b""
        assert self.key is not None
        return hmac.compare_digest(offered, self.key)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse a protected request without the right key (401)."""
        if (
            self.key is None
            or scope["type"] != "http"
            or scope["path"] in self.OPEN_PATHS
            or scope["path"].startswith(self.OPEN_PREFIXES)
            or self._allowed(scope)
        ):
            await self.app(scope, receive, send)
            return
        await send_error(
            send,
            401,
            "a valid API key is required: send it as X-API-Key or Authorization: Bearer",
            [(b"www-authenticate", b'Bearer realm="claimscrub"')],
        )


class BodyLimit:
    """Refuse bodies over ``limit`` bytes with 413, before the app reads any of them.

    A declared ``Content-Length`` over the limit is refused at once. A chunked body is
    read up to the limit and refused as soon as it passes it; otherwise the buffered
    body is handed to the app (which would read all of it anyway).
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        """Wrap ``app`` with a limit in bytes."""
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the size, buffer the body, and replay it to the app."""
        if scope["type"] != "http" or scope.get("method") not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        too_large = f"{reason(413)}: the limit is {self.limit:,} bytes"
        declared = _header(scope, b"content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                await send_error(send, 400, "the Content-Length header is not a number")
                return
            if size > self.limit:
                await send_error(send, 413, too_large, [(b"connection", b"close")])
                return
        chunks: list[bytes] = []
        total = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            total += len(chunk)
            if total > self.limit:
                await send_error(send, 413, too_large, [(b"connection", b"close")])
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: wait for the disconnect

        await self.app(scope, replay, send)
