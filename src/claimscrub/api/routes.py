"""The endpoints: check claims, explain a code, the rule catalogue, reference data, health.

Every JSON answer is the document the library builds (the CLI prints the same one);
errors are the envelope of :mod:`claimscrub.api.errors`. The web page (``GET /``) is a
static file whose script calls these endpoints and nothing else.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path as FilePath
from pathlib import PurePosixPath, PureWindowsPath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import FileResponse, JSONResponse
from starlette.datastructures import UploadFile
from starlette.responses import Response

from claimscrub import __version__
from claimscrub.api import schemas
from claimscrub.api.errors import ApiError, reason
from claimscrub.api.service import (
    EXPLAIN_MEDIA_TYPES,
    REPORT_MEDIA_TYPES,
    CheckRequest,
    CheckService,
    split_selectors,
)
from claimscrub.rules.registry import rule_record

STATIC_DIR = FilePath(__file__).parent / "static"

# Content type of the body -> input format ("auto" sniffs the first bytes, like the CLI).
_CONTENT_FORMATS = {
    "application/json": "json",
    "text/csv": "csv",
    "application/csv": "csv",
    "application/edi-x12": "x12",
    "application/x12": "x12",
    "text/x12": "x12",
    "text/plain": "auto",
    "application/octet-stream": "auto",
}
_MULTIPART = "multipart/form-data"
_SOURCE_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")

InputFormat = Literal["auto", "x12", "json", "csv"]
ReportFormat = Literal["json", "jsonl", "csv", "sarif", "html"]
ExplainFormat = Literal["json", "html", "markdown", "text"]
ConfidenceLevel = Literal["low", "medium", "high"]


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {s: {"model": schemas.ErrorEnvelope, "description": reason(s)} for s in statuses}


_TEXT = {"schema": {"type": "string"}}
_CLAIMS_TEXT = {"schema": {"type": "string", "minLength": 1, "pattern": "\\S"}}  # not blank
_CHECK_BODY = {
    "requestBody": {
        "required": True,
        "description": (
            "The claims: X12 837P/837I, Claims JSON or Claims CSV (shared/spec/claim-formats.md)."
            " The content type picks the reader; text/plain and application/octet-stream sniff "
            "the first bytes. multipart/form-data takes the file from the `file` field."
        ),
        "content": {
            "application/edi-x12": _CLAIMS_TEXT,
            "application/json": {"schema": {"type": "object"}},
            "text/csv": _CLAIMS_TEXT,
            "text/plain": _CLAIMS_TEXT,
            _MULTIPART: {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary", "minLength": 1}},
                    "required": ["file"],
                }
            },
        },
    }
}
_CHECK_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "model": schemas.CheckResult,
        "description": "The result JSON (or the report in the format asked for).",
        "content": {
            m: {"schema": {"type": "object"}} if f == "sarif" else _TEXT
            for f, m in REPORT_MEDIA_TYPES.items()
            if f != "json"
        },
    },
    **_errors(400, 401, 413, 415, 422, 503, 504),
}


def _service(request: Request) -> CheckService:
    return request.app.state.service  # type: ignore[no-any-return]


def _json(document: Any, status: int = 200) -> Response:
    return Response(
        json.dumps(document, ensure_ascii=False), status_code=status, media_type="application/json"
    )


def _clean_source(name: str) -> str:
    """A file name for the report's ``source``: no directories, no control characters."""
    base = PureWindowsPath(PurePosixPath(name).name).name
    return _SOURCE_UNSAFE.sub("", base)[:255] or "upload"


async def _read_body(request: Request, source: str | None) -> tuple[bytes, str, str]:
    """The claims bytes, their name and the format implied by the content type."""
    header = request.headers.get("content-type", "application/octet-stream")
    media = header.split(";", 1)[0].strip().lower()
    if media == _MULTIPART:
        try:
            form = await request.form()
        except Exception:  # noqa: BLE001 - the parser's text may quote the body
            raise ApiError(400, "the multipart body cannot be parsed") from None
        try:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise ApiError(
                    400,
                    "the multipart body has no file field named 'file'",
                    [{"loc": "body.file", "message": "required"}],
                )
            data = await upload.read()
            return data, source or _clean_source(upload.filename or ""), "auto"
        finally:
            await form.close()  # removes the spooled temporary files
    if media not in _CONTENT_FORMATS:
        known = ", ".join([*_CONTENT_FORMATS, _MULTIPART])
        raise ApiError(
            415,
            f"unsupported content type; send one of {known}",
            [{"loc": "header.content-type", "message": f"one of {known}"}],
        )
    return await request.body(), source or "upload", _CONTENT_FORMATS[media]


async def _known_query_parameters(request: Request) -> None:
    """Refuse a query parameter the route does not take (``as-of`` for ``as_of``): ignored,
    it would check with defaults the client did not ask for. Names, not values, are said."""
    # Only the API's own endpoints: the page and the health check take any query string
    # (a link's tracking parameters, a monitor's cache-buster).
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None or not request.url.path.startswith("/v1/"):
        return
    allowed = {param.alias for param in dependant.query_params}
    unknown = sorted(set(request.query_params) - allowed)
    if not unknown:
        return
    hints = [
        f"{name} (did you mean {name.replace('-', '_')}?)"
        if name.replace("-", "_") in allowed
        else name
        for name in unknown
    ]
    takes = ", ".join(sorted(allowed)) or "none"
    message = f"unknown query parameter {', '.join(hints)}; this endpoint takes: {takes}"
    raise ApiError(422, message, [{"loc": f"query.{name}", "message": message} for name in unknown])


def build_router() -> APIRouter:
    """All routes of the app."""
    router = APIRouter(dependencies=[Depends(_known_query_parameters)])

    @router.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(str(STATIC_DIR / "index.html"), media_type="text/html")

    @router.get("/healthz", tags=["service"], response_model=schemas.Health)
    async def healthz(request: Request) -> Response:
        """Liveness, the tool version and whether calls need an API key."""
        service = _service(request)
        return _json(
            {
                "ok": True,
                "version": __version__,
                "rules": len(service.rules),
                "payers": len(service.default_plan.packs),
                "auth_required": service.settings.api_key is not None,
                "max_body_bytes": service.settings.max_body_bytes,
            }
        )

    # HEAD too, after GET (a 405's Allow names the first route of the path) (out of the API document): uptime monitors and load balancers use it.
    @router.head("/", include_in_schema=False)
    @router.head("/healthz", include_in_schema=False)
    async def head() -> Response:
        return Response(status_code=200)

    @router.post(
        "/v1/check",
        tags=["check"],
        openapi_extra=_CHECK_BODY,
        responses=_CHECK_RESPONSES,
        response_class=JSONResponse,
    )
    async def check(
        request: Request,
        input_format: Annotated[
            InputFormat, Query(description="Override the content type's reader.")
        ] = "auto",
        payer: Annotated[
            str | None,
            Query(max_length=64, description="Apply this payer policy pack to every claim."),
        ] = None,
        select: Annotated[
            list[str] | None,
            Query(
                description=(
                    "Rules to run: ALL, a category, a code (or code prefix) or a rule name; "
                    "repeat the parameter or separate selectors with commas."
                ),
            ),
        ] = None,
        ignore: Annotated[
            list[str] | None, Query(description="Rules to skip (like select).")
        ] = None,
        extend_select: Annotated[
            list[str] | None, Query(description="Rules to add to the selection (like select).")
        ] = None,
        as_of: Annotated[
            dt.date | None, Query(description="Check every line as if dated this day.")
        ] = None,
        min_confidence: Annotated[
            ConfidenceLevel,
            Query(
                description=(
                    "Report only findings of this confidence or higher; the others are "
                    "counted in summary.hidden_findings, not reported."
                )
            ),
        ] = "low",
        format: Annotated[ReportFormat, Query(description="Report format.")] = "json",  # noqa: A002
        source: Annotated[
            str | None,
            Query(max_length=255, description="Name recorded as the claims' source."),
        ] = None,
    ) -> Response:
        """Check every drug line of the claims in the body; the answer is the CLI's result JSON.

        Query options mirror `claimscrub check`. Inputs that cannot be read as claims are
        listed under `rejected` (200), as the CLI does; an empty body is a 400.
        """
        service = _service(request)
        body, name, implied = await _read_body(request, source)
        if not body.strip():
            raise ApiError(400, "the request body is empty; send the claims file as the body")
        job = CheckRequest(
            body=body,
            source=_clean_source(name),
            input_format=input_format if input_format != "auto" else implied,
            select=tuple(split_selectors(select)) or ("ALL",),
            ignore=tuple(split_selectors(ignore)),
            extend_select=tuple(split_selectors(extend_select)),
            payer=payer,
            as_of=as_of,
            min_confidence=min_confidence,
            report_format=format,
        )
        plan = service.plan_for(job)
        outcome = await service.run(service.check, job, plan)
        timing = ", ".join(f"{k};dur={v * 1000:.1f}" for k, v in outcome.timings.items())
        return Response(
            outcome.content, media_type=outcome.media_type, headers={"Server-Timing": timing}
        )

    async def _explain(request: Request, code: str, on: Any, payer: Any, fmt: str) -> Response:
        service = _service(request)
        from claimscrub.explain import ExplainError, build_explanation, render

        def work() -> str:
            try:
                explanation = build_explanation(
                    code,
                    on=on,
                    payer=payer,
                    refdata=service.refdata,
                    packs=service.default_plan.packs,
                )
            except ExplainError as exc:
                # unknown: a well-formed code no release lists; malformed: bad code or payer
                status = 404 if exc.kind == "unknown" else 422
                where = "path.code" if exc.param == "code" else f"query.{exc.param}"
                # The code looked up is named (it is the resource); a query value is not.
                message = str(exc) if exc.param == "code" else _query_problem(exc.param, service)
                raise ApiError(status, message, [{"loc": where, "message": message}]) from None
            return render(explanation, fmt)  # type: ignore[no-any-return]

        content = await service.run(work, lane="explain")
        return Response(content, media_type=EXPLAIN_MEDIA_TYPES[fmt])

    @router.get(
        "/v1/codes/{code}",
        tags=["codes"],
        response_class=Response,
        responses={
            200: {
                "description": "The explanation of the code (JSON, or the format asked for).",
                "content": {m: {"schema": {}} for m in EXPLAIN_MEDIA_TYPES.values()},
            },
            **_errors(401, 404, 422, 503, 504),
        },
    )
    async def explain_code(
        request: Request,
        code: Annotated[str, Path(min_length=1, max_length=32, description="A HCPCS code.")],
        on: Annotated[dt.date | None, Query(description="Date of service (default today).")] = None,
        payer: Annotated[
            str | None,
            Query(max_length=64, description="Payer policy pack."),
        ] = None,
        format: Annotated[ExplainFormat, Query(description="Answer format.")] = "json",  # noqa: A002
    ) -> Response:
        """Everything the reference data says about a HCPCS code as of a date: `claimscrub explain`."""
        return await _explain(request, code, on, payer, format)

    @router.get("/codes/{code}", include_in_schema=False)
    async def code_page(
        request: Request,
        code: Annotated[str, Path(min_length=1, max_length=32)],
        on: dt.date | None = None,
        payer: Annotated[str | None, Query(max_length=64)] = None,
    ) -> Response:
        return await _explain(request, code, on, payer, "html")

    @router.get(
        "/v1/rules",
        tags=["rules"],
        response_model=schemas.RuleList,
        responses=_errors(401),
    )
    async def list_rules(request: Request) -> Response:
        """Every rule: code, name, severity, the payer's likely answer, fix applicability."""
        return _json({"rules": [rule_record(r) for r in _service(request).rules.values()]})

    @router.get(
        "/v1/rules/{code}",
        tags=["rules"],
        response_model=schemas.RulePage,
        responses=_errors(401, 404),
    )
    async def get_rule(
        request: Request,
        code: Annotated[str, Path(min_length=1, max_length=80, description="Rule code or name.")],
    ) -> Response:
        """One rule's metadata and documentation page."""
        rule = _service(request).find_rule(code)
        if rule is None:
            raise ApiError(404, "no such rule; GET /v1/rules lists them")
        return _json({**rule_record(rule), "doc": rule.doc})

    @router.get(
        "/v1/refdata",
        tags=["refdata"],
        response_model=schemas.RefdataList,
        responses=_errors(401),
    )
    async def refdata(request: Request) -> Response:
        """The installed reference datasets and releases, with windows and sources."""
        return _json(_service(request).refdata_list())

    @router.get(
        "/v1/payers",
        tags=["check"],
        response_model=schemas.PayerList,
        responses=_errors(401),
    )
    async def payers(request: Request) -> Response:
        """The payer policy packs that `payer=` may name."""
        return _json({"payers": _service(request).payers()})

    return router


def _query_problem(param: str, service: Any) -> str:
    """An explanation's bad query parameter, in words that do not repeat its value."""
    if param == "payer":
        known = ", ".join(sorted(service.default_plan.packs))
        return f"unknown payer pack in payer; known: {known}"
    return f"invalid value in {param}"
