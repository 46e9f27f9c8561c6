"""``claimscrub rules``: the rule catalogue, grouped by category."""

from __future__ import annotations

import click

from claimscrub.cli.code import dump_json
from claimscrub.rules.registry import CATEGORIES, load_builtin_rules, rule_record


@click.command("rules")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
def command(fmt: str) -> None:
    """List every rule: code, name, severity, confidence, the payer's likely answer."""
    rules = sorted(load_builtin_rules().values(), key=lambda r: r.code)
    if fmt == "json":
        dump_json({"rules": [rule_record(r) for r in rules]})
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for category, title in CATEGORIES.items():
        members = [r for r in rules if r.category == category]
        if not members:
            continue
        table = Table(title=f"{category}: {title}", title_justify="left", show_edge=False)
        for column in ("code", "name", "severity", "confidence", "payer answer", "fix"):
            table.add_column(column)
        for r in members:
            answer = " + ".join([r.carc or "", *r.rarc]).strip(" +")
            table.add_row(r.code, r.name, r.severity.value, r.confidence.value, answer, r.fix.value)
        console.print(table)
        console.print()
