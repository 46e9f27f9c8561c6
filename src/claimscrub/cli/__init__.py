"""The ``claimscrub`` command line.

Exit codes follow ruff: 0 nothing to report, 1 findings (or an unknown code / NDC),
2 usage, configuration, data or internal error. Messages go to stderr; a user never
sees a traceback.

Sub-commands live in their own modules and are imported only when invoked, so that
``claimscrub code J7507`` does not pay for what ``check`` needs.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from claimscrub import __version__

# command name -> module under claimscrub.cli defining ``command``
_COMMANDS = {
    "check": "check",
    "code": "code",
    "explain": "explain",
    "ndc": "ndc",
    "refdata": "refdata",
    "convert": "convert",
    "rules": "rules",
    "rule": "rule",
    "config": "config",
    "serve": "serve",
}

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = _COMMANDS.get(cmd_name)
        if module is None:
            return None
        return importlib.import_module(f"claimscrub.cli.{module}").command  # type: ignore[no-any-return]


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="claimscrub")
def cli() -> None:
    """Check drug claim lines before submission, and explain HCPCS drug codes from CMS data."""


class UserError(click.ClickException):
    """A problem with the user's input or data: message to stderr, exit 2."""

    exit_code = EXIT_ERROR


def main(argv: list[str] | None = None) -> Any:
    """Console-script entry point: run the CLI and turn every failure into an exit code."""
    try:
        return cli.main(args=argv, prog_name="claimscrub", standalone_mode=True)
    except KeyboardInterrupt:
        click.echo("claimscrub: interrupted", err=True)
        sys.exit(EXIT_ERROR)
    except SystemExit:
        raise
    except Exception as exc:  # noqa: BLE001 - last line of defence: never a traceback
        click.echo(f"claimscrub: internal error: {type(exc).__name__}: {exc}", err=True)
        sys.exit(EXIT_ERROR)
