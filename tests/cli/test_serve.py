"""``claimscrub serve`` start-up errors: exit 2 with a clear message, before any data loads."""

from __future__ import annotations

import socket

from click.testing import CliRunner

from claimscrub.cli import cli


def test_a_port_in_use_is_a_usage_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli, ["serve", "--port", str(port)])
    assert result.exit_code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.output


def test_a_host_that_does_not_resolve_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["serve", "--host", "no-such-host.invalid", "--port", "8000"])
    assert result.exit_code == 2
    assert "cannot listen on no-such-host.invalid:8000" in result.output
