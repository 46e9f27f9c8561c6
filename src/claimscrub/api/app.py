"""The ASGI app factory: ``create_app(settings, refdata)``.

Reference data, rules and payer packs are loaded once, here; requests share them.
``app_from_env()`` is the factory ``claimscrub serve`` hands to uvicorn, so every worker
process builds its own app from the same ``CLAIMSCRUB_API_*`` environment.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from claimscrub import __version__
from claimscrub.api import errors
from claimscrub.api.middleware import AccessLog, ApiKey, BodyLimit, CatchAll
from claimscrub.api.routes import STATIC_DIR, build_router
from claimscrub.api.service import CheckService
from claimscrub.api.settings import ApiSettings
from claimscrub.refdata.catalog import RefData

HCPCS_LEVEL_TWO = r"^\s*[A-Za-z][0-9]{4}\s*$"  # a letter and four digits, any case
_DESCRIPTION = """\
Check drug claim lines before submission and explain HCPCS drug codes from dated CMS data.

`POST /v1/check` answers with the same result JSON as `claimscrub check --format json`.
Errors are one envelope: `{"ok": false, "error": "...", "errors": [...], "status": 4xx}`.
"""


def create_app(settings: ApiSettings | None = None, refdata: RefData | None = None) -> FastAPI:
    """Build the app: load reference data and the default plan, wire routes and safety.

    Args:
        settings: limits, API key and bind address (defaults: loopback, no key).
        refdata: reference data to use (default: the bundled snapshot plus the user store).

    Raises:
        RefDataError, PackError: reference data or payer packs cannot be loaded.
    """
    settings = settings or ApiSettings()
    service = CheckService(settings, refdata)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        service.close()

    app = FastAPI(
        title="claimscrub",
        version=__version__,
        description=_DESCRIPTION,
        docs_url=None,  # Swagger UI loads from a CDN; the OpenAPI document is enough
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.service = service
    app.state.settings = settings
    app.include_router(build_router())
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    errors.install(app)
    # add_middleware wraps: the last added is the outermost.
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(ApiKey, key=settings.api_key)
    app.add_middleware(CatchAll)
    app.add_middleware(AccessLog)
    _complete_openapi(app, service)
    return app


def _complete_openapi(app: FastAPI, service: CheckService) -> None:
    """Add what only the running app knows to the OpenAPI document.

    The payer packs and rule selectors this server accepts (users may add packs, so they
    are listed when the app is built), the shape of a HCPCS code, and, with an API key,
    that ``/v1`` calls need it.
    """
    build = app.openapi
    rules = service.rules.values()
    enums: dict[str, list[str]] = {
        "payer": sorted(service.default_plan.packs),
        "selector": ["ALL", *sorted({r.category for r in rules}), *[r.code for r in rules]]
        + sorted(r.name for r in rules),
    }

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        for path, operations in schema.get("paths", {}).items():
            for operation in operations.values():
                for parameter in operation.get("parameters", []):
                    _add_enum(parameter, enums)
                    if path == "/v1/codes/{code}" and parameter.get("name") == "code":
                        # What explain accepts (it answers 422 with its own reason otherwise).
                        parameter["schema"]["pattern"] = HCPCS_LEVEL_TWO
                if settings_key and path.startswith("/v1/"):
                    operation["security"] = [{"apiKey": []}, {"bearer": []}]
        if settings_key:
            schema.setdefault("components", {})["securitySchemes"] = {
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                "bearer": {"type": "http", "scheme": "bearer"},
            }
        app.openapi_schema = schema
        return schema

    settings_key = service.settings.api_key is not None
    app.openapi = openapi  # type: ignore[method-assign]


def _add_enum(parameter: dict[str, Any], enums: dict[str, list[str]]) -> None:
    """List the accepted values of ``payer`` and of the selector parameters."""
    name = parameter.get("name")
    options = parameter.get("schema", {}).get("anyOf", [])
    if name == "payer":
        for option in options:
            if option.get("type") == "string":
                option["enum"] = enums["payer"]
    elif name in ("select", "ignore", "extend_select"):
        for option in options:
            if option.get("type") == "array":
                option["items"] = {"type": "string", "enum": enums["selector"]}


def app_from_env() -> FastAPI:
    """The factory for uvicorn workers: settings from ``CLAIMSCRUB_API_*`` variables."""
    return create_app(ApiSettings.from_env())
