"""Every failure is the one envelope: ok false, a sentence, the items, the status."""

from __future__ import annotations

import httpx
import pytest
from conftest import EXAMPLES

ENVELOPE_KEYS = {"ok", "error", "errors", "status"}


def assert_envelope(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == ENVELOPE_KEYS
    assert body["ok"] is False
    assert body["status"] == status
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["errors"], list)
    return body


def test_unknown_endpoint(api) -> None:
    body = assert_envelope(api.get("/v1/nothing-here"), 404)
    assert "openapi.json" in body["error"]


def test_wrong_method(api) -> None:
    assert_envelope(api.get("/v1/check"), 405)


def test_unknown_rule(api) -> None:
    body = assert_envelope(api.get("/v1/rules/XYZ999"), 404)
    assert "/v1/rules" in body["error"]


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"as_of": "2025-13-40"}, "query.as_of"),
        ({"format": "pdf"}, "query.format"),
        ({"input_format": "hl7"}, "query.input_format"),
    ],
)
def test_invalid_query_parameters_are_422_naming_them(api, example_837, params, loc) -> None:
    body = assert_envelope(api.post("/v1/check", params=params, content=example_837), 422)
    assert [item["loc"] for item in body["errors"]] == [loc]
    assert loc in body["error"]
    # The offending value is not echoed back.
    assert str(next(iter(params.values()))) not in response_text(body)


def response_text(body: dict) -> str:
    return " ".join([body["error"], *(str(item) for item in body["errors"])])


def test_unknown_selector_is_422(api, example_837) -> None:
    body = assert_envelope(
        api.post("/v1/check", params={"select": "NOPE"}, content=example_837), 422
    )
    assert body["errors"][0]["loc"] == "query.select"
    assert "NOPE" not in body["error"] and "matches no rule" in body["error"]


def test_unknown_payer_is_422_listing_the_packs(api, example_837) -> None:
    body = assert_envelope(
        api.post("/v1/check", params={"payer": "acme"}, content=example_837), 422
    )
    assert "medicare-dme" in body["error"]


def test_empty_body_is_400(api) -> None:
    assert_envelope(api.post("/v1/check", content=b"  \n"), 400)


def test_multipart_without_the_file_field_is_400(api) -> None:
    body = assert_envelope(api.post("/v1/check", files={"claims": ("a.837", b"ISA*")}), 400)
    assert body["errors"] == [{"loc": "body.file", "message": "required"}]


def test_unsupported_content_type_is_415(api) -> None:
    body = assert_envelope(
        api.post("/v1/check", content=b"\x89PNG", headers={"content-type": "image/png"}), 415
    )
    assert "application/edi-x12" in body["error"]


def test_bad_content_length_is_400(api, example_837) -> None:
    request = api._client.build_request("POST", "/v1/check", content=example_837)
    request.headers["content-length"] = "lots"
    response = api._runner.run(api._client.send(request))
    assert_envelope(response, 400)


@pytest.mark.parametrize(
    ("method", "url", "headers"),
    [
        ("POST", "/v1/check?payer=PATIENT-JANE-DOE", {"Content-Type": "application/json"}),
        ("POST", "/v1/check?select=MEMBER-JANE-DOE", {"Content-Type": "application/json"}),
        ("POST", "/v1/check", {"Content-Type": "text/claim-of-JANE-DOE"}),
        ("GET", "/v1/codes/J7507?payer=PATIENT-JANE-DOE", {}),
    ],
)
def test_error_texts_do_not_repeat_what_the_client_sent(api, method, url, headers) -> None:
    body = b'{"claims": []}' if method == "POST" else None
    response = api.request(method, url, content=body, headers=headers)
    assert response.status_code in (415, 422)
    assert "JANE-DOE" not in response.text


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("/v1/check?as-of=2026-03-01", "as-of (did you mean as_of?)"),
        ("/v1/check?min-confidence=high", "min-confidence (did you mean min_confidence?)"),
        ("/v1/check?Payer=commercial", "Payer"),
    ],
)
def test_an_unknown_query_parameter_is_422_not_ignored(api, example_837, url, said) -> None:
    body = assert_envelope(api.post(url, content=example_837), 422)
    assert f"unknown query parameter {said}" in body["error"]
    assert "as_of" in body["error"]  # the parameters the endpoint takes are listed


def test_known_query_parameters_still_pass(api, example_837) -> None:
    assert (
        api.post("/v1/check?as_of=2026-03-01&payer=commercial", content=example_837).status_code
        == 200
    )
    assert api.get("/v1/codes/J7507?on=2026-03-01").status_code == 200
    assert api.get("/healthz").status_code == 200
    # the page and the health check take any query string (tracking links, cache-busters)
    assert api.get("/healthz?_=1700000000").status_code == 200
    assert api.get("/?utm_source=mail").status_code == 200


def test_head_answers_the_page_and_the_health_check(api) -> None:
    for url in ("/", "/healthz"):
        response = api.request("HEAD", url)
        assert response.status_code == 200 and response.content == b""


def test_json_sent_as_csv_is_rejected_in_plain_words(api, example_837) -> None:
    body = (EXAMPLES / "immunosuppressants.json").read_bytes()
    result = api.post("/v1/check", content=body, headers={"Content-Type": "text/csv"}).json()
    (reason,) = [r["reason"] for r in result["rejected"]]
    assert reason == "not readable as CSV: it looks like JSON; send it as Claims JSON"
