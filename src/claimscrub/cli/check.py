"""``claimscrub check PATH… | -``: check claim lines before submission.

Exit codes (like ruff): 0 when nothing at or above ``--fail-on`` was found (or with
``--exit-zero``), 1 when findings (or rejected inputs) were found, 2 for usage,
configuration, data or internal errors. Findings go to stdout (or ``-o FILE``);
messages to stderr. Nothing about claim content is logged.

Settings come from the built-in defaults, the payer policy pack of each claim, the
configuration file (``claimscrub.toml`` or ``[tool.claimscrub]`` in ``pyproject.toml``,
found from the inputs' folder upward, or ``--config``) and the flags, in that order.
Inputs of ``streaming.min-size-mb`` or more are checked in chunks in bounded memory
(``engine/stream.py``), with a progress bar when stderr is a terminal.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from claimscrub.cli import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, UserError
from claimscrub.readers import FORMATS as INPUT_FORMATS
from claimscrub.reporters import FORMATS

if TYPE_CHECKING:
    from claimscrub.config import Settings
    from claimscrub.engine.scrub import Plan

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


def _settings(
    paths: tuple[str, ...],
    config: Path | None,
    isolated: bool,
    flags: dict[str, Any],
) -> Settings:
    """Defaults → configuration file → flags, checked against the rules and formats."""
    from claimscrub.cli.config import check_settings
    from claimscrub.config import ConfigError
    from claimscrub.config.discovery import apply_flags, load

    try:
        from_file = load(paths, config=config, isolated=isolated)
    except ConfigError as exc:
        raise UserError(str(exc)) from None
    check_settings(from_file)  # problems of the file name the file and key
    settings = apply_flags(from_file, flags)
    check_settings(settings)  # then those of the flags name the flag
    return settings


def _chunked(paths: tuple[str, ...], settings: Settings) -> bool:
    """Whether the inputs are big enough to be checked in chunks (never stdin)."""
    if "-" in paths or not all(Path(p).is_file() for p in paths):
        return False
    size = sum(Path(p).stat().st_size for p in paths)
    return size >= settings.stream_min_size_mb * 1_000_000


def _check_chunked(
    paths: tuple[str, ...],
    history: tuple[Path, ...],
    plan: Plan,
    settings: Settings,
    output: Path | None,
    statistics: bool,
) -> tuple[Any, Any]:
    """Check in chunks and write the report as it comes; return (outcome, header)."""
    from contextlib import nullcontext

    from claimscrub.cli._check_output import RichProgress, write_streamed
    from claimscrub.engine.stream import ChunkedCheck, StreamLimits

    progress = RichProgress() if settings.show_progress and sys.stderr.isatty() else None
    limits = StreamLimits(
        chunk_claims=settings.stream_chunk_claims, bucket_lines=settings.stream_bucket_lines
    )
    try:
        with ChunkedCheck(plan, limits, progress) as run:
            if progress is not None:
                progress.begin()
            run.run(
                list(paths), input_format=settings.input_format, history=[str(h) for h in history]
            )
            header = run.header()
            if progress is not None and output is None and sys.stdout.isatty():
                progress.stop()  # the report goes to this terminal: no bar drawn over it
            target = output.open("w", encoding="utf-8") if output else nullcontext(sys.stdout)
            with target as stream:
                outcome = write_streamed(
                    header, run.parts(), settings.output_format, stream, statistics=statistics
                )
    finally:
        if progress is not None:
            progress.stop()
    return outcome, header


def _run_fixes(
    claims: Any,
    plan: Any,
    report: Any,
    paths: tuple[str, ...],
    fixed_output: Path | None,
    *,
    unsafe: bool,
    dry_run: bool,
) -> tuple[Any, list[Any]]:
    """``--fix`` / ``--unsafe-fixes`` / ``--diff``: fix, re-check, write (unless a dry run)."""
    from claimscrub.engine.fixes import apply_fixes, plan_outputs, write_fixed

    run = apply_fixes(claims, plan, unsafe=unsafe, report=report)
    outputs = plan_outputs(run, list(paths), fixed_output)
    if not dry_run:
        write_fixed(run, outputs)
    return run, outputs


def _tell_fixes(run: Any, outputs: list[Any], *, dry_run: bool) -> None:
    """After the report, on stderr (like ruff's closing line): the field-level diff of a
    real run (a dry run's is the report itself), what was written, and a summary."""
    from claimscrub.engine.fixes import diff_lines, output_lines, summary_line

    for text in [] if dry_run else [*diff_lines(run, outputs), *output_lines(outputs)]:
        click.echo(text, err=True)
    click.echo(summary_line(run, outputs, dry_run=dry_run), err=True)


def _check_on_spark(
    paths: tuple[str, ...],
    history: tuple[Path, ...],
    plan: Any,
    output: Path | None,
    master: str | None,
    fmt: str,
    fail_on: str,
    exit_zero: bool,
    *,
    fixing: bool,
    statistics: bool,
) -> None:
    """``--engine spark``: the same engine on Spark; the findings table goes to ``-o``."""
    if fixing or statistics:
        raise UserError("--engine spark reports findings only: drop --fix, --diff and --statistics")
    if plan.options.min_confidence != "low":
        # The Spark summary has no count of hidden findings, and none may vanish silently;
        # the Parquet table has a confidence column to filter on instead.
        raise UserError(
            "--engine spark writes findings of every confidence (filter the table's "
            "confidence column): use --min-confidence low"
        )
    if output is None or fmt != "parquet":
        raise UserError("--engine spark writes the findings as Parquet: give -o OUT.parquet")
    try:
        from claimscrub.spark.command import run_check, should_fail, summary_text
        from claimscrub.spark.runner import SparkInputError
    except ImportError:
        raise UserError("--engine spark needs PySpark: pip install 'claimscrub[spark]'") from None
    from claimscrub.refdata.catalog import RefDataError

    try:
        summary = run_check(
            list(paths), [str(h) for h in history], plan, output=str(output), master=master
        )
    except (SparkInputError, RefDataError) as exc:
        raise UserError(str(exc)) from None
    click.echo(summary_text(summary, str(output)), err=True)
    if summary.engine_errors:
        sys.exit(EXIT_ERROR)
    sys.exit(EXIT_OK if exit_zero or not should_fail(summary, fail_on) else EXIT_FINDINGS)


@click.command("check")
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--input-format",
    type=click.Choice(["auto", *INPUT_FORMATS]),
    help="Input format; auto sniffs each input's first bytes.  [default: auto]",
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
    type=click.Choice(list(FORMATS)),
    help="Report format.  [default: full]",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="Write the report here (.parquet: the findings table as Parquet).",
)
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning", "info"]),
    help="Lowest severity that makes the exit code 1.  [default: error]",
)
@click.option(
    "--min-confidence",
    type=click.Choice(["low", "medium", "high"]),
    help="Report only findings of this confidence or higher; the others are counted, not "
    "shown, fixed or failed on.  [default: low]",
)
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when findings are reported.")
@click.option("--statistics", is_flag=True, help="Print counts per rule instead of the findings.")
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Check every line as if dated this day (what-if).",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Use this configuration file (claimscrub.toml or pyproject.toml) instead of "
    "finding one from the inputs' folder upward.",
)
@click.option("--isolated", is_flag=True, help="Ignore every configuration file.")
@click.option(
    "--no-progress", is_flag=True, help="No progress bar on stderr, even for a large input."
)
@click.option(
    "--fix",
    is_flag=True,
    help="Apply safe fixes, write the corrected claims (see --fixed-output) and report "
    "what remains; the field-level diff goes to stderr.",
)
@click.option(
    "--unsafe-fixes",
    is_flag=True,
    help="Also apply unsafe fixes (units, codes, modifiers, dates); implies --fix unless --diff.",
)
@click.option(
    "--diff",
    is_flag=True,
    help="Print the field-level changes the fixes would make and write nothing "
    "(exit 1 when something would change).",
)
@click.option(
    "--fixed-output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the corrected claims here (.json or .csv). Default: <input>.fixed.json or "
    ".fixed.csv beside each input (X12 input is written as Claims JSON).",
)
@click.option(
    "--engine",
    type=click.Choice(["local", "spark"]),
    default="local",
    show_default=True,
    help="Where to run: in this process, or on Spark (needs the spark extra; writes the "
    "findings as a Parquet dataset at -o OUT.parquet).",
)
@click.option(
    "--master",
    metavar="URL",
    help="Spark master with --engine spark (local[4], spark://host:7077, yarn ...). "
    "Default: what spark-submit set, else local[*].",
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
    min_confidence: str | None,
    exit_zero: bool,
    statistics: bool,
    as_of: dt.datetime | None,
    config_file: Path | None,
    isolated: bool,
    no_progress: bool,
    fix: bool,
    unsafe_fixes: bool,
    diff: bool,
    fixed_output: Path | None,
    engine: str,
    master: str | None,
) -> None:
    """Check every drug line of the claims in PATHS (X12 837, Claims JSON or CSV; - for stdin)."""
    from claimscrub.cli.config import apply_pack_settings, scrub_options
    from claimscrub.engine.scrub import make_plan, scrub
    from claimscrub.payers.packs import PackError
    from claimscrub.readers import InputError, read_claims
    from claimscrub.refdata.catalog import RefDataError
    from claimscrub.reporters import renderer
    from claimscrub.reporters.terminal import statistics as print_statistics
    from claimscrub.rules.registry import SelectionError

    parquet_name = output is not None and output.suffix.lower() in (".parquet", ".pq")
    if fmt is None and output is not None and (parquet_name or engine == "spark"):
        fmt = "parquet"  # -o OUT.parquet says the format; Spark writes nothing else
    settings = _settings(
        paths,
        config_file,
        isolated,
        {
            "payer": payer,
            "policy": tuple(policy),
            "input-format": input_format,
            "output-format": fmt,
            "show-progress": False if no_progress else None,
            "rules.select": tuple(_split(select)),
            "rules.ignore": tuple(_split(ignore)),
            "rules.extend-select": tuple(_split(extend_select)),
            "rules.fail-on": fail_on,
            "rules.min-confidence": min_confidence,
        },
    )
    fmt, fail_on = settings.output_format, settings.fail_on
    options = scrub_options(settings, as_of.date() if as_of else None)
    if engine == "local" and output is not None and output.is_dir():
        raise UserError(f"{output}: is a folder; -o needs a file name")
    if fmt == "parquet" and output is None and sys.stdout.isatty():
        raise UserError("Parquet is binary: write it to a file with -o OUT.parquet")
    from claimscrub.engine.fixes import FixOutputError, check_fixed_output

    fixing, fix_run = fix or unsafe_fixes or diff, None
    try:
        if fixing:
            check_fixed_output(list(paths), fixed_output)
        plan = make_plan(options)
        apply_pack_settings(plan, settings)
        if engine == "spark":
            _check_on_spark(
                paths,
                history,
                plan,
                output,
                master,
                fmt,
                fail_on,
                exit_zero,
                fixing=fixing,
                statistics=statistics,
            )
        if not fixing and _chunked(paths, settings):
            outcome, header = _check_chunked(paths, history, plan, settings, output, statistics)
            if outcome.engine_errors:
                sys.exit(EXIT_ERROR)
            sys.exit(EXIT_OK if exit_zero or not outcome.should_fail(fail_on) else EXIT_FINDINGS)
        claims = read_claims(list(paths), input_format=settings.input_format, history=list(history))
        report = scrub(claims, plan, history=claims.history)
        if fixing:
            fix_run, fix_outputs = _run_fixes(
                claims, plan, report, paths, fixed_output, unsafe=unsafe_fixes, dry_run=diff
            )
            report = fix_run.report
        result = report.to_dict()
        if fix_run is not None:
            result["fixes"] = fix_run.to_dict(fix_outputs, dry_run=diff)
    except (SelectionError, PackError, InputError, RefDataError, FixOutputError) as exc:
        raise UserError(str(exc)) from None
    stream = output.open("w", encoding="utf-8") if output else sys.stdout
    try:
        if diff and fmt != "json" and fix_run is not None:
            from claimscrub.engine.fixes import diff_lines

            stream.writelines(text + "\n" for text in diff_lines(fix_run, fix_outputs))
        elif statistics:
            print_statistics(result, stream)
        else:
            renderer(fmt)(result, stream, fmt)
    finally:
        if output:
            stream.close()
    if fix_run is not None:
        _tell_fixes(fix_run, fix_outputs, dry_run=diff)
    if result["engine_errors"]:
        sys.exit(EXIT_ERROR)
    if diff and fix_run is not None:  # like ruff --diff: 1 when something would change
        sys.exit(EXIT_FINDINGS if fix_run.edits and not exit_zero else EXIT_OK)
    if exit_zero or not _should_fail(result, fail_on):
        sys.exit(EXIT_OK)
    sys.exit(EXIT_FINDINGS)
