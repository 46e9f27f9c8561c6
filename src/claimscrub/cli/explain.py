"""``claimscrub explain CODE``: a sourced reference page for a HCPCS drug code.

Sections: definition, clinical context, common modifiers, documentation requirements,
common denial reasons, payer considerations, similar codes, and the common misconceptions,
every statement with its source (a dated CMS release, a rule, a payer pack or a cited URL).
``--payer`` narrows the payer-dependent sections to one pack (a user pack too, with
``--policy FILE|FOLDER`` or the configuration's ``policy``); ``--format html`` writes the
self-contained page the web app serves at ``/codes/CODE``.

Exit codes: 0 explained, 1 the code is in no installed release, 2 a malformed code, date,
pack or option, or missing reference data.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from claimscrub.cli import EXIT_FINDINGS, UserError
from claimscrub.cli.code import DATE, on_date
from claimscrub.cli.config import user_pack_options

FORMATS = ("text", "markdown", "json", "html")


@click.command("explain")
@click.argument("code_arg", metavar="CODE")
@click.option(
    "--on", "on", type=DATE, default=None, help="Date of service (YYYY-MM-DD); default today."
)
@click.option(
    "--payer",
    default=None,
    metavar="PACK",
    help="Payer policy pack to explain for (e.g. medicare-dme); default every pack.",
)
@user_pack_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="Output format.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Write to this file instead of standard output.",
)
def command(
    code_arg: str,
    on: dt.datetime | None,
    payer: str | None,
    policy: tuple[Path, ...],
    config_file: Path | None,
    isolated: bool,
    fmt: str,
    output: Path | None,
) -> None:
    """Explain a HCPCS drug code as of a date: a sourced reference page."""
    from claimscrub.cli.config import user_pack_paths
    from claimscrub.explain import ExplainError, build_explanation, render
    from claimscrub.explain.errors import UNKNOWN
    from claimscrub.payers.packs import PackError, load_packs
    from claimscrub.refdata.catalog import RefDataError

    extra = user_pack_paths(policy, config_file, isolated)
    try:
        packs = load_packs(extra) if extra else None
        explanation = build_explanation(code_arg, on=on_date(on), payer=payer, packs=packs)
    except ExplainError as exc:
        if exc.kind == UNKNOWN:
            click.echo(f"claimscrub: {exc}", err=True)
            sys.exit(EXIT_FINDINGS)
        hint = "'--payer'" if exc.param == "payer" else "CODE"
        raise click.BadParameter(str(exc), param_hint=hint) from None
    except (RefDataError, PackError) as exc:
        raise UserError(str(exc)) from exc
    # Links between pages only make sense where the web app serves them.
    text = (
        render(explanation, fmt, code_url=None)
        if fmt in ("html", "markdown")
        else render(explanation, fmt)
    )
    if output is not None:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UserError(f"{output}: cannot write: {exc.strerror or exc}") from exc
        return
    click.echo(text, nl=False)
