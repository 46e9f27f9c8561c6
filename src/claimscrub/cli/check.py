"""``claimscrub check PATH… | -``: check claim lines before submission.

Exit codes (like ruff): 0 when nothing at or above ``--fail-on`` was found (or with
``--exit-zero``), 1 when findings (or rejected inputs) were found, 2 for usage,
configuration, data or internal errors. Findings go to stdout (or ``-o FILE``);
messages to stderr. Nothing about claim content is logged.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import click

from claimscrub.cli import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, UserError

_RANK = {"info": 0, "warning": 1, "error": 2}


def _split(values: tuple[str, ...]) -> list[str]:
    """Selectors from repeated and comma-separated options: ``--select UNT,COD --select MOD``."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _should_fail(result: dict[str, Any], fail_on: str) -> bool:
    threshold = _RANK[fail_on]
    if result["rejected"]:
        return True
    return any(
        _RANK[f["severity"]] >= threshold for claim in result["claims"] for f in claim["findings"]
    )


@click.command("check")
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--input-format",
    type=click.Choice(["auto", "x12", "json", "csv"]),
    default="auto",
    show_default=True,
    help="Input format; auto sniffs each input's first bytes.",
)
@click.option("--payer", help="Apply this payer policy pack to every claim (e.g. medicare-dme).")
@click.option(
    "--policy",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="Extra payer policy pack file or folder (repeatable).",
)
@click.option(
    "--history",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="Claims already billed, for look-back rules (repeatable).",
)
@click.option(
    "--select", multiple=True, help="Rules to run: codes, prefixes, names or ALL (comma-separated)."
)
@click.option("--ignore", multiple=True, help="Rules to skip (comma-separated).")
@click.option(
    "--extend-select", multiple=True, help="Rules to add to the selection (comma-separated)."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["full", "concise", "json", "jsonl", "csv", "sarif"]),
    default="full",
    show_default=True,
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the report here."
)
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning", "info"]),
    default="error",
    show_default=True,
    help="Lowest severity that makes the exit code 1.",
)
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when findings are reported.")
@click.option("--statistics", is_flag=True, help="Print counts per rule instead of the findings.")
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Check every line as if dated this day (what-if).",
)
def command(
    paths: tuple[str, ...],
    input_format: str,
    payer: str | None,
    policy: tuple[Path, ...],
    history: tuple[Path, ...],
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    extend_select: tuple[str, ...],
    fmt: str,
    output: Path | None,
    fail_on: str,
    exit_zero: bool,
    statistics: bool,
    as_of: dt.datetime | None,
) -> None:
    """Check every drug line of the claims in PATHS (X12 837, Claims JSON or CSV; - for stdin)."""
    from claimscrub.engine.scrub import ScrubOptions, make_plan, scrub
    from claimscrub.payers.packs import PackError
    from claimscrub.readers import InputError, read_claims
    from claimscrub.refdata.catalog import RefDataError
    from claimscrub.reporters import renderer
    from claimscrub.reporters.terminal import statistics as print_statistics
    from claimscrub.rules.registry import SelectionError

    options = ScrubOptions(
        select=_split(select) or ["ALL"],
        ignore=_split(ignore),
        extend_select=_split(extend_select),
        pack=payer,
        extra_packs=list(policy),
        as_of=as_of.date() if as_of else None,
    )
    try:
        plan = make_plan(options)
        if payer is not None and payer not in plan.packs:
            raise UserError(f"unknown payer pack {payer!r}; known: {', '.join(sorted(plan.packs))}")
        claims = read_claims(list(paths), input_format=input_format, history=list(history))
        report = scrub(claims, plan, history=claims.history)
        result = report.to_dict()
    except (SelectionError, PackError, InputError, RefDataError) as exc:
        raise UserError(str(exc)) from None
    stream = output.open("w", encoding="utf-8") if output else sys.stdout
    try:
        if statistics:
            print_statistics(result, stream)
        else:
            renderer(fmt)(result, stream, fmt)
    finally:
        if output:
            stream.close()
    if result["engine_errors"]:
        sys.exit(EXIT_ERROR)
    if exit_zero or not _should_fail(result, fail_on):
        sys.exit(EXIT_OK)
    sys.exit(EXIT_FINDINGS)
