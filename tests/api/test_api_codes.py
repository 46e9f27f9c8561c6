"""GET /v1/codes/{code}: the explanation of a code, as of a date, as the CLI builds it."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from test_api_errors import assert_envelope

from claimscrub.explain import build_explanation, render
from claimscrub.refdata.catalog import default_refdata


def test_explanation_is_the_library_explanation(api) -> None:
    on = dt.date(2026, 3, 1)
    response = api.get("/v1/codes/J7504", params={"on": on.isoformat()})
    assert response.status_code == 200, response.text
    expected = json.loads(render(build_explanation("J7504", on=on), "json"))
    assert response.json() == expected
    # The descriptor is the HCPCS release's, not something typed into the app.
    record = default_refdata().hcpcs("J7504", on)
    assert record is not None
    assert response.json()["descriptor"] == record.record["long_description"]


@pytest.mark.parametrize("on", ["2025-06-01", "2026-03-01"])
def test_status_follows_the_date_of_service(api, on) -> None:
    day = dt.date.fromisoformat(on)
    fact = default_refdata().hcpcs("J7505", day)
    assert fact is not None
    doc = api.get("/v1/codes/J7505", params={"on": on}).json()
    assert doc["on"] == on
    assert doc["status"] == fact.status


def test_payer_narrows_the_explanation(api) -> None:
    doc = api.get("/v1/codes/J7507", params={"payer": "medicare-dme", "on": "2026-03-01"}).json()
    assert doc["payer"] == "medicare-dme"
    assert doc == json.loads(
        render(build_explanation("J7507", on=dt.date(2026, 3, 1), payer="medicare-dme"), "json")
    )


@pytest.mark.parametrize(
    ("fmt", "media"),
    [("html", "text/html"), ("markdown", "text/markdown"), ("text", "text/plain")],
)
def test_other_formats(api, fmt, media) -> None:
    on = "2026-03-01"
    response = api.get("/v1/codes/J7504", params={"format": fmt, "on": on})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media)
    explanation = build_explanation("J7504", on=dt.date.fromisoformat(on))
    assert response.text == render(explanation, fmt)


def test_code_page_is_the_html_explanation(api) -> None:
    page = api.get("/codes/J7504", params={"on": "2026-03-01"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.text == api.get("/v1/codes/J7504?format=html&on=2026-03-01").text


def test_unknown_code_is_404(api) -> None:
    body = assert_envelope(api.get("/v1/codes/J0000"), 404)
    assert "J0000" in body["error"]
    assert body["errors"][0]["loc"] == "path.code"


def test_malformed_code_and_unknown_payer_are_422(api) -> None:
    body = assert_envelope(api.get("/v1/codes/KX"), 422)
    assert body["errors"][0]["loc"] == "path.code"
    body = assert_envelope(api.get("/v1/codes/J7504", params={"payer": "acme"}), 422)
    assert body["errors"][0]["loc"] == "query.payer"
    assert "medicare-dme" in body["error"]


def test_invalid_date_is_422(api) -> None:
    body = assert_envelope(api.get("/v1/codes/J7504", params={"on": "yesterday"}), 422)
    assert body["errors"][0]["loc"] == "query.on"
