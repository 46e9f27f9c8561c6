"""Property-based tests of the API against its own OpenAPI document (schemathesis).

Schemathesis generates requests from ``/openapi.json`` (valid and invalid ones) and checks
every answer: no 5xx, a status code and content type the document declares, and a body
that matches the declared schema (the result JSON, the rule records, the error envelope).

The number of requests is bounded so the run stays well under a minute: every check
request runs the engine (today about a second even for an unreadable body), so
``POST /v1/check`` gets a few fuzzed examples and no exhaustive boundary ("coverage")
phase; the cheap read-only endpoints get both.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import negative_data_rejection
from schemathesis.config import SchemathesisConfig

from claimscrub.api import ApiSettings, create_app

# X12 is text on the wire: send generated X12 bodies the way text/plain ones are sent.
schemathesis.serializer.alias("application/edi-x12", "text/plain")

app = create_app(ApiSettings())


def _config(*, coverage: bool, examples: int) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "phases": {"coverage": {"enabled": coverage}, "stateful": {"enabled": False}},
            # deterministic: the same requests on every run, so a failure reproduces
            "generation": {"max-examples": examples, "deterministic": True, "mode": "all"},
        }
    )


read_only = schemathesis.openapi.from_asgi(
    "/openapi.json", app, config=_config(coverage=True, examples=15)
).exclude(path="/v1/check")
check = schemathesis.openapi.from_asgi(
    "/openapi.json", app, config=_config(coverage=False, examples=6)
).include(path="/v1/check")

_SETTINGS = settings(deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module", autouse=True)
def _stop_pool():
    yield
    app.state.service.close()


@read_only.parametrize()
@_SETTINGS
def test_read_endpoints_conform_to_the_document(case) -> None:
    case.call_and_validate()


@check.parametrize()
@_SETTINGS
def test_check_conforms_to_the_document(case) -> None:
    # A body that is text but not readable claims (the generator's "wrong type" bodies
    # reach the server as text) is answered like the CLI answers it: 200, with the input
    # under "rejected" and the reason. No body schema can say "readable claims".
    case.call_and_validate(excluded_checks=[negative_data_rejection])
