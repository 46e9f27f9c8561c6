"""``claimscrub rule CODE|NAME``: one rule's documentation page."""

from __future__ import annotations

import click

from claimscrub.cli import EXIT_FINDINGS
from claimscrub.cli.code import dump_json
from claimscrub.rules.registry import load_builtin_rules, rule_record


@click.command("rule")
@click.argument("code_or_name")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def command(code_or_name: str, fmt: str) -> None:
    """Print the documentation page of a rule, by code (UNT001) or name."""
    rules = load_builtin_rules()
    wanted = code_or_name.strip()
    rule = rules.get(wanted.upper()) or next(
        (r for r in rules.values() if r.name == wanted.lower()), None
    )
    if rule is None:
        click.echo(f"claimscrub: no rule {wanted!r}; `claimscrub rules` lists them", err=True)
        raise SystemExit(EXIT_FINDINGS)
    if fmt == "json":
        dump_json({**rule_record(rule), "doc": rule.doc})
        return
    answer = " + ".join([rule.carc or "", *rule.rarc]).strip(" +") or "n/a"
    click.echo(f"# {rule.code} {rule.name}\n")
    click.echo(
        f"Severity: {rule.severity.value}   Confidence: {rule.confidence.value}   "
        f"Payer answer: {answer}   Fix: {rule.fix.value}"
    )
    click.echo(f"Scope: {rule.scope}   Since: {rule.since}   Source: {rule.source}\n")
    click.echo(rule.doc)
