"""One error envelope for every failure the API reports.

``{"ok": false, "error": "<one sentence>", "errors": [{"loc": ..., "message": ...}],
"status": <HTTP status>}``. Successful answers are the documents themselves (the same
JSON the CLI prints), so a client tells them apart by the status code or by ``ok``.

Nothing a client sent is echoed back in an error beyond the parameter's name: a request
body may hold claim content, and error bodies end up in proxies' and clients' logs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

_REASONS = {
    400: "the request cannot be understood",
    401: "an API key is required",
    403: "forbidden",
    404: "not found",
    405: "method not allowed",
    413: "the request body is too large",
    415: "unsupported content type",
    422: "invalid parameters",
    500: "internal error",
    503: "the server is busy; retry shortly",
    504: "the request took too long",
}


class ApiError(Exception):
    """A failure to report to the client in the envelope, with its HTTP status."""

    def __init__(
        self,
        status: int,
        error: str,
        errors: Sequence[dict[str, Any]] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        """Keep the status, the sentence for people and the itemised problems."""
        super().__init__(error)
        self.status = status
        self.error = error
        self.errors = list(errors)
        self.headers = headers or {}


def envelope(status: int, error: str, errors: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    """The error document."""
    return {"ok": False, "error": error, "errors": list(errors), "status": status}


def error_response(
    status: int,
    error: str,
    errors: Sequence[dict[str, Any]] = (),
    headers: dict[str, str] | None = None,
) -> Response:
    """The envelope as a JSON response."""
    body = json.dumps(envelope(status, error, errors), ensure_ascii=False)
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def _loc(parts: Sequence[Any]) -> str:
    return ".".join(str(p) for p in parts)


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.error, exc.errors, exc.headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    reason = exc.detail if isinstance(exc.detail, str) else _REASONS.get(exc.status_code, "error")
    if exc.status_code == 404 and reason == "Not Found":
        reason = "no such page or endpoint; GET /openapi.json lists the endpoints"
    return error_response(exc.status_code, reason, headers=dict(exc.headers or {}))


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    # Pydantic's items carry the offending input; keep only where and what.
    items = [{"loc": _loc(e.get("loc", ())), "message": e.get("msg", "")} for e in exc.errors()]
    names = ", ".join(sorted({i["loc"] for i in items})) or "request"
    return error_response(422, f"invalid parameters: {names}", items)


def install(app: FastAPI) -> None:
    """Answer every error of ``app`` in the envelope."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    # Anything else is caught by middleware.CatchAll, which logs the type only: Starlette's
    # own 500 handler would re-raise, and the server would log a traceback with the text.


def reason(status: int) -> str:
    """The default sentence for a status."""
    return _REASONS.get(status, "error")
