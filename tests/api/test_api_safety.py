"""Body limit, API key, time limit, bounded work, and no claim content in the logs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from test_api_errors import assert_envelope

from claimscrub.api.settings import ApiSettings

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


# --- body limit ---------------------------------------------------------------------------
def test_declared_body_over_the_limit_is_413(make_api, example_837) -> None:
    api = make_api(max_body_bytes=1000)
    assert len(example_837) > 1000
    body = assert_envelope(api.post("/v1/check", content=example_837), 413)
    assert "1,000 bytes" in body["error"]


def test_streamed_body_over_the_limit_is_413(make_api, example_837) -> None:
    api = make_api(max_body_bytes=1000)

    async def chunks():
        for start in range(0, len(example_837), 256):
            yield example_837[start : start + 256]

    assert_envelope(api.post("/v1/check", content=chunks()), 413)


def test_streamed_body_under_the_limit_is_checked(make_api, example_837) -> None:
    api = make_api(max_body_bytes=len(example_837))

    async def chunks():
        for start in range(0, len(example_837), 256):
            yield example_837[start : start + 256]

    response = api.post("/v1/check", content=chunks())
    assert response.status_code == 200
    assert response.json()["summary"]["claims"] == 14


# --- API key ------------------------------------------------------------------------------
@pytest.fixture
def keyed(make_api):
    return make_api(api_key="correct horse battery staple")


def test_api_key_is_required_on_the_api(keyed) -> None:
    for path in ("/v1/rules", "/v1/refdata", "/v1/payers", "/v1/rules/UNT001"):
        body = assert_envelope(keyed.get(path), 401)
        assert "X-API-Key" in body["error"]
    response = keyed.get("/v1/rules")
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_wrong_key_is_refused(keyed, example_837) -> None:
    for headers in (
        {"x-api-key": "correct horse battery"},
        {"authorization": "Bearer wrong"},
        {"authorization": "Basic correct horse battery staple"},
    ):
        assert_envelope(keyed.get("/v1/rules", headers=headers), 401)
    assert_envelope(keyed.post("/v1/check", content=example_837), 401)


def test_right_key_in_either_header_is_accepted(keyed, example_837) -> None:
    key = "correct horse battery staple"
    assert keyed.get("/v1/rules", headers={"x-api-key": key}).status_code == 200
    assert keyed.get("/v1/rules", headers={"authorization": f"Bearer {key}"}).status_code == 200
    checked = keyed.post("/v1/check", content=example_837, headers={"x-api-key": key})
    assert checked.status_code == 200


def test_page_health_and_openapi_stay_open(keyed) -> None:
    assert keyed.get("/").status_code == 200
    assert keyed.get("/static/app.js").status_code == 200
    health = keyed.get("/healthz")
    assert health.status_code == 200 and health.json()["auth_required"] is True
    schema = keyed.get("/openapi.json").json()
    assert schema["paths"]["/v1/check"]["post"]["security"] == [{"apiKey": []}, {"bearer": []}]


# --- time limit and bounded work --------------------------------------------------------------
def test_a_check_over_the_time_limit_is_504(make_api, example_837) -> None:
    api = make_api(request_timeout=0.001)
    body = assert_envelope(api.post("/v1/check", content=example_837), 504)
    assert "0.001 s" in body["error"]


def test_the_time_limit_counts_from_when_the_work_starts(make_api) -> None:
    # One thread: the second piece of work waits for the first. Each runs 0.6 s within
    # a 1 s limit, so both answer, although the second finishes 1.2 s after it was sent.
    import asyncio
    import time

    api = make_api(request_timeout=1.0, scrub_threads=1)
    service = api.app.state.service

    async def both() -> list[str]:
        def work(name: str) -> str:
            time.sleep(0.6)
            return name

        return list(await asyncio.gather(service.run(work, "a"), service.run(work, "b")))

    assert api._runner.run(both()) == ["a", "b"]


def test_work_that_cannot_start_within_the_limit_is_503_busy(make_api) -> None:
    import asyncio
    import time

    from claimscrub.api.errors import ApiError

    api = make_api(request_timeout=0.3, scrub_threads=1)
    service = api.app.state.service

    async def both() -> list[object]:
        return list(
            await asyncio.gather(
                service.run(time.sleep, 0.9), service.run(time.sleep, 0), return_exceptions=True
            )
        )

    long, queued = api._runner.run(both())
    assert isinstance(long, ApiError) and long.status == 504
    assert isinstance(queued, ApiError) and queued.status == 503
    assert queued.headers == {"Retry-After": "5"}


def test_a_code_lookup_does_not_wait_behind_a_check(make_api) -> None:
    import asyncio
    import time

    api = make_api(scrub_threads=1)
    service = api.app.state.service

    async def both() -> float:
        started = time.perf_counter()
        check = asyncio.ensure_future(service.run(time.sleep, 1.0))
        await asyncio.sleep(0.05)
        await service.run(lambda: None, lane="explain")
        answered = time.perf_counter() - started
        await check
        return answered

    assert api._runner.run(both()) < 0.5


def test_checks_beyond_the_pending_bound_are_503(make_api, example_837) -> None:
    api = make_api(max_pending=1)
    responses = api.gather(
        ("POST", "/v1/check", {"content": example_837}),
        ("POST", "/v1/check", {"content": example_837}),
    )
    assert sorted(r.status_code for r in responses) == [200, 503]
    busy = next(r for r in responses if r.status_code == 503)
    assert_envelope(busy, 503)
    assert busy.headers["retry-after"] == "1"
    # The slot is free again once the first check is done.
    assert api.post("/v1/check", content=example_837).status_code == 200


def _server_log(caplog: pytest.LogCaptureFixture) -> str:
    """Every captured message except the test client's own (httpx logs the URLs it calls)."""
    return "\n".join(
        record.getMessage()
        for record in caplog.records
        if not record.name.startswith(("httpx", "httpcore"))
    )


# --- logs ------------------------------------------------------------------------------------
def test_no_claim_content_in_the_logs(make_api, caplog) -> None:
    api = make_api()
    x12 = (EXAMPLES / "immunosuppressants.837").read_bytes()
    as_json = (EXAMPLES / "immunosuppressants.json").read_bytes()
    secret_source = "PATIENT-SMITH-JOHN.837"
    with caplog.at_level(logging.DEBUG):
        api.post("/v1/check", params={"source": secret_source}, content=x12)
        api.post("/v1/check", params={"source": secret_source}, content=as_json)
        api.post("/v1/check", params={"select": "EX-1001"}, content=x12)  # 422 naming it
        api.post("/v1/check", params={"as_of": "P0001"}, content=x12)  # 422
        api.post("/v1/check", files={"file": (secret_source, x12)})
    logged = _server_log(caplog)
    # The access log did run (so the assertions below are about real log lines).
    assert "POST /v1/check 200" in logged
    assert "POST /v1/check 422" in logged
    forbidden = [secret_source, "EX-1001", "EX-1002", "P0001", "P-0001", "00781210301", "Z94.0"]
    forbidden += ["SMITH", "19580402", "1958-04-02", "PORTLAND"]
    for needle in forbidden:
        assert needle not in logged, needle


def test_internal_errors_log_only_the_type(make_api, example_837, caplog, monkeypatch) -> None:
    api = make_api()
    service = api.app.state.service

    def broken(request, plan):
        raise RuntimeError(f"cannot digest {request.body[:40]!r}")  # quotes claim content

    monkeypatch.setattr(service, "check", broken)
    with caplog.at_level(logging.DEBUG):
        response = api.post("/v1/check", content=example_837)
    body = assert_envelope(response, 500)
    assert "ISA" not in body["error"]
    logged = _server_log(caplog)
    assert "RuntimeError" in logged
    assert "ISA" not in logged and "digest" not in logged


# --- settings ---------------------------------------------------------------------------------
def test_settings_round_trip_through_the_environment() -> None:
    settings = ApiSettings(host="0.0.0.0", port=9000, api_key="k", request_timeout=2.5)
    assert ApiSettings.from_env(settings.to_env()) == settings
    assert not settings.is_loopback
    assert ApiSettings().is_loopback and ApiSettings(host="::1").is_loopback


def test_bad_settings_name_the_variable() -> None:
    with pytest.raises(ValueError, match="CLAIMSCRUB_API_PORT"):
        ApiSettings.from_env({"CLAIMSCRUB_API_PORT": "eighty"})
    with pytest.raises(ValueError, match="max_body_bytes"):
        ApiSettings(max_body_bytes=0)
