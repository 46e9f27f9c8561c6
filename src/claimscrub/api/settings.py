"""Settings of the HTTP API: where it listens, who may call it, and how much it accepts.

``claimscrub serve`` passes them to every worker process through environment variables
(``CLAIMSCRUB_API_*``), so that ``--workers 2`` needs no shared state; the API key is
only ever read from the environment, never from a command-line argument that ``ps``
would show.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

ENV_PREFIX = "CLAIMSCRUB_API_"
API_KEY_ENV = "CLAIMSCRUB_API_KEY"
PACKS_ENV = "CLAIMSCRUB_API_PACKS"  # user pack files or folders, joined with os.pathsep


@dataclass(frozen=True)
class ApiSettings:
    """Everything the app factory needs besides the reference data.

    Attributes:
        host: address to bind; loopback by default so nothing is exposed by accident.
        port: TCP port.
        api_key: when set, every ``/v1`` call must send it (``X-API-Key`` or
            ``Authorization: Bearer``); compared in constant time.
        max_body_bytes: larger request bodies are refused with 413 before they are read.
        request_timeout: seconds a check or code explanation may run before the answer
            is 504 (the work finishes in its thread; its result is dropped).
        scrub_threads: worker threads per process that run checks (the engine itself
            is multi-threaded Polars, so a few are enough).
        max_pending: checks running or waiting per process; beyond it the answer is 503.
        plan_cache_size: rule selections whose resolved plan is kept (least recently
            used first out); the default selection is always kept.
        packs: user payer policy pack files or folders (``--policy``), read after the
            built-in packs and ``$CLAIMSCRUB_PACKS_DIR``, for checks, ``/v1/payers`` and
            ``/v1/codes``.
    """

    host: str = "127.0.0.1"
    port: int = 8000
    api_key: str | None = None
    max_body_bytes: int = 20 * 1024 * 1024
    request_timeout: float = 60.0
    scrub_threads: int = 2
    max_pending: int = 16
    plan_cache_size: int = 8
    packs: tuple[Path, ...] = ()

    def __post_init__(self) -> None:
        """Refuse limits that would make the server useless or unbounded."""
        object.__setattr__(self, "packs", tuple(Path(p) for p in self.packs))
        for name in ("max_body_bytes", "scrub_threads", "max_pending", "plan_cache_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if not self.request_timeout > 0:
            raise ValueError("request_timeout must be a positive number of seconds")
        if not 0 <= self.port <= 65535:
            raise ValueError("port must be between 0 and 65535")

    @property
    def is_loopback(self) -> bool:
        """True when ``host`` only accepts connections from this machine."""
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    def to_env(self) -> dict[str, str]:
        """The settings as environment variables (what ``from_env`` reads back)."""
        out = {
            f"{ENV_PREFIX}{f.name.upper()}": str(getattr(self, f.name))
            for f in fields(self)
            if f.name not in ("api_key", "packs")
        }
        if self.packs:
            out[PACKS_ENV] = os.pathsep.join(str(p) for p in self.packs)
        if self.api_key:
            out[API_KEY_ENV] = self.api_key
        return out

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ApiSettings:
        """Settings from ``CLAIMSCRUB_API_*`` variables and ``CLAIMSCRUB_API_KEY``.

        ``CLAIMSCRUB_API_PACKS`` lists pack files or folders separated by ``os.pathsep``.

        Raises:
            ValueError: a variable holds a value of the wrong type (names the variable).
        """
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            if f.name in ("api_key", "packs"):
                continue
            name = f"{ENV_PREFIX}{f.name.upper()}"
            raw = env.get(name)
            if raw is None or raw == "":
                continue
            kind = type(f.default)
            try:
                values[f.name] = kind(raw)
            except ValueError:
                raise ValueError(f"{name}={raw!r} is not a valid {kind.__name__}") from None
        key = env.get(API_KEY_ENV) or None
        packs = tuple(Path(p) for p in env.get(PACKS_ENV, "").split(os.pathsep) if p)
        return cls(api_key=key, packs=packs, **values)  # type: ignore[arg-type]
