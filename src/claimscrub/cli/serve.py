"""``claimscrub serve``: the HTTP API and the web page, on loopback unless told otherwise.

Settings reach each uvicorn worker through ``CLAIMSCRUB_API_*`` environment variables
(user payer packs, from ``--policy`` and the configuration's ``policy``, through
``CLAIMSCRUB_API_PACKS``);
the API key only through ``CLAIMSCRUB_API_KEY`` (an argument would show in ``ps``).
uvicorn's own access log is off: it prints query strings, which may carry claim
content. The app logs one line per request (method, route template, status, time).
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import click

from claimscrub.cli import UserError
from claimscrub.cli.config import user_pack_options


def _log_config(level: str, access_log: bool) -> dict[str, Any]:
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["claimscrub.api"] = {
        "handlers": ["default"],
        "level": level.upper(),
        "propagate": False,
    }
    config["loggers"]["claimscrub.api.access"] = {
        "level": "INFO" if access_log else "WARNING",
    }
    return config


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes (each loads its own copy of the reference data).",
)
@click.option(
    "--timeout",
    default=60.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Seconds a request may run before the answer is 504.",
)
@click.option(
    "--max-body-mb",
    default=20.0,
    show_default=True,
    type=click.FloatRange(min=0.001),
    help="Largest request body in MB; larger ones get 413.",
)
@click.option(
    "--threads",
    default=2,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Threads per worker that run checks.",
)
@user_pack_options
@click.option(
    "--access-log/--no-access-log",
    default=True,
    show_default=True,
    help="Log one line per request (never its query or body).",
)
@click.option(
    "--log-level",
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    default="info",
    show_default=True,
)
def command(
    host: str,
    port: int,
    workers: int,
    timeout: float,
    max_body_mb: float,
    threads: int,
    policy: tuple[Path, ...],
    config_file: Path | None,
    isolated: bool,
    access_log: bool,
    log_level: str,
) -> None:
    """Serve the HTTP API (POST /v1/check, GET /v1/codes/CODE, ...) and the web page at /.

    Binds to 127.0.0.1 by default. To expose it, pass --host and set an API key in the
    CLAIMSCRUB_API_KEY environment variable; clients send it as X-API-Key. User payer
    policy packs (--policy, or the configuration's policy key) serve every request.
    See docs/api.md.
    """
    try:
        import uvicorn

        from claimscrub.api.app import create_app
        from claimscrub.api.settings import ApiSettings
    except ImportError as exc:
        raise UserError(
            f"the HTTP API needs the 'api' extra (pip install 'claimscrub[api]'): {exc}"
        ) from None
    from claimscrub.cli.config import user_pack_paths
    from claimscrub.payers.packs import PackError
    from claimscrub.refdata.catalog import RefDataError

    packs = user_pack_paths(policy, config_file, isolated)
    try:
        settings = ApiSettings(
            host=host,
            port=port,
            api_key=os.environ.get("CLAIMSCRUB_API_KEY") or None,
            max_body_bytes=int(max_body_mb * 1024 * 1024),
            request_timeout=timeout,
            scrub_threads=threads,
            packs=packs,
        )
    except ValueError as exc:
        raise UserError(str(exc)) from None
    _check_can_listen(host, port)
    if not settings.is_loopback and not settings.api_key:
        click.echo(
            f"claimscrub: warning: serving on {host} without an API key; anyone who can "
            "reach this address can send claims. Set CLAIMSCRUB_API_KEY.",
            err=True,
        )
    try:
        # Built here first so bad reference data or a bad pack is a clear message (file and
        # key) at start-up, not a worker traceback or an error at the first request.
        app = create_app(settings)
    except (RefDataError, PackError) as exc:
        raise UserError(str(exc)) from None
    os.environ.update(settings.to_env())
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "access_log": False,
        "log_config": _log_config(log_level, access_log),
        "log_level": log_level,
        "server_header": False,
    }
    try:
        if workers == 1:
            uvicorn.run(app, **options)
        else:
            del app  # each worker builds its own from the environment
            uvicorn.run("claimscrub.api.app:app_from_env", factory=True, workers=workers, **options)
    except SystemExit as exc:
        # uvicorn exits 3 when the server cannot start; claimscrub's exit codes are 0/1/2.
        if exc.code not in (0, None):
            raise UserError("the server could not start (the log above says why)") from None
        raise


def _check_can_listen(host: str, port: int) -> None:
    """Fail at once, before the reference data loads, when ``host:port`` cannot be bound
    (the port is taken, the host is not this machine's or does not resolve)."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise UserError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise UserError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
