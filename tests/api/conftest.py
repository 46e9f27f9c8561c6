"""Fixtures for the HTTP API: one app per settings, called in-process over ASGI.

Building an app loads the rules, payer packs and reference data (about a second), so the
default app is built once per test session. Requests go through httpx's ASGI transport;
a small synchronous wrapper keeps the tests plain functions.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from claimscrub.api import ApiSettings, create_app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


class ApiClient:
    """A synchronous face over ``httpx.AsyncClient`` on an in-process ASGI app."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self._runner = asyncio.Runner()
        self._client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        )

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self._runner.run(self._client.request(method, url, **kwargs))

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def gather(self, *requests: tuple[str, str, dict[str, Any]]) -> list[httpx.Response]:
        """Send several requests concurrently (same event loop, like a real server)."""

        async def all_of() -> list[httpx.Response]:
            return list(
                await asyncio.gather(*(self._client.request(m, u, **kw) for m, u, kw in requests))
            )

        return self._runner.run(all_of())

    def close(self) -> None:
        self._runner.run(self._client.aclose())
        self._runner.close()
        self.app.state.service.close()


def make_client(**settings: Any) -> ApiClient:
    """A client on a fresh app with these settings (the reference data is shared)."""
    return ApiClient(create_app(ApiSettings(**settings)))


@pytest.fixture(scope="session")
def api() -> Iterator[ApiClient]:
    """The default app: loopback settings, no API key."""
    client = make_client()
    yield client
    client.close()


@pytest.fixture(scope="session")
def example_837() -> bytes:
    return (EXAMPLES / "immunosuppressants.837").read_bytes()


@pytest.fixture
def make_api() -> Iterator[Any]:
    """Build apps with other settings (limits, API key); closed after the test."""
    made: list[ApiClient] = []

    def build(**settings: Any) -> ApiClient:
        client = make_client(**settings)
        made.append(client)
        return client

    yield build
    for client in made:
        client.close()
