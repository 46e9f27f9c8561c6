"""The HTTP API and web page of ``claimscrub serve``.

``create_app(settings, refdata)`` builds the ASGI app; see ``docs/api.md``. The API
stack (FastAPI, uvicorn) is the optional ``api`` extra, so nothing is imported here
until asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from claimscrub.api.app import create_app
    from claimscrub.api.settings import ApiSettings

__all__ = ["ApiSettings", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from claimscrub.api.app import create_app

        return create_app
    if name == "ApiSettings":
        from claimscrub.api.settings import ApiSettings

        return ApiSettings
    raise AttributeError(name)
