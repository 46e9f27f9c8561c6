"""``claimscrub code CODE``: everything the reference data says about one HCPCS code.

As of a date (``--on``, default today): descriptor, billing unit, route and form,
validity and dates, coverage and pricing indicators, BETOS and type of service, MUEs,
OPPS status indicator per Addendum B release, ASP payment limit, the NDCs CMS
crosswalks to the code, related codes and the code's record in other releases. Every
fact is labelled with the dataset release it came from ("hcpcs 2026-01").

The JSON document (``--format json``) is the source of the text view; its shape is
documented in ``docs/refdata.md`` and versioned by its ``schema`` key.

Exit codes: 0 found, 1 the code is in no installed release, 2 bad arguments or
missing reference data.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Any

import click

from claimscrub.cli import EXIT_FINDINGS, UserError

# The gathering lives below the CLI (the explanation builder and the web app read the same
# facts); the names stay importable from here for the other commands.
from claimscrub.explain.facts import (
    CODE_SHAPE,
    SCHEMA,
    gather,
    jsonable,
    ndc_item,
    source_block,
    unknown_code_reason,
)
from claimscrub.refdata.catalog import RefDataError, default_refdata

__all__ = [
    "CHECK_LEGEND",
    "CHECK_TEXT",
    "DATE",
    "FORMAT",
    "NDC_COLUMNS_NOTE",
    "SCHEMA",
    "command",
    "dump_json",
    "fmt_number",
    "gather",
    "jsonable",
    "ndc_item",
    "ndc_table",
    "normalise_code",
    "on_date",
    "render_text",
    "source_block",
]

DATE = click.DateTime(formats=["%Y-%m-%d"])
FORMAT = click.Choice(["text", "json"])


def dump_json(document: dict[str, Any]) -> None:
    """Write a JSON document to stdout (stable key order as built, 2-space indent)."""
    click.echo(json.dumps(jsonable(document), indent=2, ensure_ascii=False))


def on_date(value: dt.datetime | None) -> dt.date:
    """The --on option as a date (today when absent)."""
    return value.date() if value is not None else dt.date.today()


def fmt_number(value: Any) -> str:
    """A number for the text view: no trailing '.0', exact decimals."""
    if value is None:
        return "-"
    return str(jsonable(value))


# --- text view -----------------------------------------------------------------------------
# Short forms of ndc_hcpcs.units_check for narrow tables, and what they mean.
CHECK_TEXT = {
    "agree": "ok",
    "agree_rounded": "rounded",
    "pkg_item_is_per_ndc": "item=NDC",
    "pkg_item_is_per_unit": "item=unit",
    "conflict": "CONFLICT",
    "not_determinable": "n/a",
    "ambiguous": "AMBIGUOUS",
}
NDC_COLUMNS_NOTE = (
    "pkg = PKG SIZE x PKG QTY; units = billing units per NDC; "
    "/item = per tablet, capsule, mL or vial"
)
CHECK_LEGEND = {
    "agree_rounded": "CMS rounded the per-NDC units up; per-item units from BILLUNITS",
    "pkg_item_is_per_ndc": "BILLUNITS repeats the whole-NDC figure",
    "pkg_item_is_per_unit": "BILLUNITS is already per tablet/packet",
    "conflict": "BILLUNITS contradicts BILLUNITSPKG; per-item units from BILLUNITSPKG",
    "not_determinable": "a package figure is missing or zero",
    "ambiguous": "oral package with PKG SIZE and PKG QTY both above one: the units per "
    "tablet or capsule follow from its strength, not from CMS's figures",
}


def ndc_table(
    items: list[dict[str, Any]], width: int, *, with_code: bool = False, with_labeler: bool = True
) -> Any:
    """A compact rich table of crosswalk rows for a console ``width`` wide (shared with ``ndc``)."""
    from rich.markup import escape
    from rich.table import Table

    fixed = [("NDC", 13, "left"), ("11-digit", 11, "left"), ("pkg", 9, "left")]
    fixed += [("units", 6, "right"), ("/item", 6, "right"), ("check", 9, "left")]
    if with_code:
        fixed.insert(0, ("HCPCS", 5, "left"))
    table = Table(box=None, padding=(0, 1), show_edge=False)
    for name, size, justify in fixed:
        table.add_column(name, min_width=size, no_wrap=True, justify=justify)  # type: ignore[arg-type]
    # The free-text column gets what is left, so the figures are never squeezed.
    rest = width - sum(size for _, size, _ in fixed) - 2 * len(fixed) - 1
    if with_labeler:
        table.add_column(
            "labeler / drug", overflow="ellipsis", no_wrap=True, max_width=max(rest, 10)
        )
    for item in items:
        cells = [item["hcpcs_code"]] if with_code else []
        cells += [
            item["ndc"],
            item["ndc11"] or "-",
            f"{fmt_number(item['pkg_size'])} x {fmt_number(item['pkg_qty'])}",
            fmt_number(item["bill_units_per_ndc"]),
            fmt_number(item["units_per_item"]),
            CHECK_TEXT.get(item["units_check"], item["units_check"] or "-"),
        ]
        if with_labeler:
            cells.append(escape(f"{item['labeler'] or ''} / {item['drug_name'] or ''}"))
        table.add_row(*cells)
    return table


_STATUS_STYLE = {"valid": "bold green", "not_yet_valid": "bold yellow", "terminated": "bold red"}
_RELATION_TEXT = {
    "same_ingredient": "same ingredient",
    "xref_successor": "successor (XREF)",
    "xref_predecessor": "predecessor (XREF)",
    "xref": "cross-reference",
    "same_family": "same family",
}


def _tag(source: dict[str, Any] | None) -> str:
    if source is None:
        return ""
    return f"[dim]\\[{source['label']}][/dim]"


def _caveat(source: dict[str, Any]) -> str:
    return f"\n  [yellow]{source['caveat']}[/yellow]" if source.get("caveat") else ""


def _coded_text(item: dict[str, Any] | None) -> str:
    if item is None:
        return "-"
    return f"{item['code']} ({item['meaning']})" if item.get("meaning") else item["code"]


def render_text(doc: dict[str, Any]) -> None:
    """Print the document for a human, each fact with its source."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(highlight=False, soft_wrap=False)
    on = doc["query"]["on"]
    status = doc["status"]
    desc = doc["descriptor"]
    unit = doc["unit"]
    ind = doc["indicators"]

    console.print(f"[bold]{doc['code']}[/bold]  {escape(desc['long'] or '')}")
    console.print(f"[dim]as of {on}[/dim]")

    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    style = _STATUS_STYLE.get(status["value"], "bold")
    terminated = (
        f"terminated {status['terminated']}" if status["terminated"] else "no termination date"
    )
    facts.add_row(
        "Status",
        f"[{style}]{status['value'].replace('_', ' ').upper()}[/{style}] on {on}: "
        f"added {status['added']}, {terminated} {_tag(status['source'])}",
    )
    facts.add_row(
        "Descriptor",
        f"{escape(desc['long'] or '-')} {_tag(desc['source'])}{_caveat(desc['source'])}",
    )
    facts.add_row("Short", escape(desc["short"] or "-"))
    facts.add_row("Last action", f"{desc['action_eff_date']} {_coded_text(desc['action'])}")
    if unit["text"] or unit["route"] or unit["form"]:
        parts = [escape(unit["text"] or "no unit stated")]
        if unit["amount"] and unit["text"] != f"{unit['amount']} {unit['uom']}":
            parts[0] += f" (= {unit['amount']} {unit['uom']})"
        parts += [f"route {unit['route']}"] if unit["route"] else []
        parts += [f"form {unit['form']}"] if unit["form"] else []
        parts += [f"ingredient {escape(unit['ingredient'])}"] if unit["ingredient"] else []
        facts.add_row(
            "Unit",
            "; ".join(parts) + f" {_tag(unit['source'])} [dim](read from the descriptor)[/dim]",
        )
    facts.add_row("Coverage", _coded_text(ind["coverage"]))
    pricing = ", ".join(_coded_text(p) for p in ind["pricing"]) or "-"
    facts.add_row("Pricing", f"{pricing}; multiple pricing {_coded_text(ind['multiple_pricing'])}")
    tos = ", ".join(_coded_text(t) for t in ind["type_of_service"]) or "-"
    facts.add_row("BETOS / TOS", f"{ind['betos'] or '-'} / {tos}")
    if ind["processing_note"] or ind["statute"]:
        facts.add_row(
            "Notes",
            f"processing note {ind['processing_note'] or '-'}, statute {ind['statute'] or '-'}",
        )
    console.print(facts)

    mue = doc["mue"]
    console.print(f"\n[bold]MUE[/bold] {_tag(mue['source'])}{_caveat(mue['source'])}")
    if mue["limits"]:
        table = Table(box=None, padding=(0, 2), show_edge=False)
        for name in ("service type", "MUE", "MAI", "rationale"):
            table.add_column(name, justify="right" if name in ("MUE", "MAI") else "left")
        for row in mue["limits"]:
            table.add_row(
                row["service_type"],
                str(row["mue_value"]),
                str(row["mai"]),
                escape(row["rationale"] or ""),
            )
        console.print(table)
    else:
        console.print("  no MUE listed for this code")

    console.print("\n[bold]OPPS Addendum B[/bold] [dim](status indicator per release)[/dim]")
    table = Table(box=None, padding=(0, 2), show_edge=False)
    for name in ("release", "SI", "rate (USD)", "in force"):
        table.add_column(name)
    for item in doc["opps"]:
        src = item["source"]
        in_force = {True: "yes", False: "no", None: "-"}[src["in_force"]]
        if item["selected"] and src["in_force"] is False:
            in_force = "no (nearest)"
        si = _coded_text(item["status_indicator"]) if item["listed"] else "not listed"
        table.add_row(src["label"], si, fmt_number(item["payment_rate"]), in_force)
    console.print(table)

    asp = doc["asp"]
    console.print(f"\n[bold]ASP payment limit[/bold] {_tag(asp['source'])}{_caveat(asp['source'])}")
    if asp["listed"]:
        limit = (
            f"${fmt_number(asp['payment_limit'])}" if asp["payment_limit"] is not None else "N/A"
        )
        notes = f"; {escape(asp['notes'])}" if asp["notes"] else ""
        console.print(
            f"  {limit} per {escape(asp['dosage'] or '-')}, "
            f"coinsurance {fmt_number(asp['coinsurance_pct'])}%{notes}"
        )
    else:
        console.print("  not listed")

    ndcs = doc["ndcs"]
    console.print(
        f"\n[bold]NDCs on the ASP crosswalk[/bold] ({len(ndcs['items'])}) {_tag(ndcs['source'])}"
        f"{_caveat(ndcs['source'])}\n  [dim]{NDC_COLUMNS_NOTE}[/dim]"
    )
    if ndcs["items"]:
        console.print(ndc_table(ndcs["items"], console.width))
        legend = sorted({item["units_check"] for item in ndcs["items"]} - {"agree", None})
        if legend:
            console.print(
                "  [dim]check: "
                + "; ".join(f"{CHECK_TEXT[c]} = {CHECK_LEGEND[c]}" for c in legend)
                + "[/dim]"
            )
    else:
        console.print("  none listed")

    console.print(f"\n[bold]Related codes[/bold] [dim](as of {on})[/dim]")
    if doc["related"]:
        table = Table(box=None, padding=(0, 1), show_edge=False, show_header=False)
        table.add_column(no_wrap=True)
        table.add_column(no_wrap=True)
        table.add_column(no_wrap=True)
        table.add_column()
        order = list(_RELATION_TEXT)
        for rel in sorted(doc["related"], key=lambda r: (order.index(r["relation"]), r["code"])):
            described = rel["long_description"] or "(not in the installed HCPCS releases)"
            table.add_row(
                _RELATION_TEXT[rel["relation"]],
                rel["code"],
                (rel["status"] or "-").replace("_", " "),
                f"{escape(described)} {_tag(rel['source'])}",
            )
        console.print(table)
    else:
        console.print("  none")

    console.print("\n[bold]Releases listing this code[/bold]")
    table = Table(box=None, padding=(0, 1), show_edge=False, show_header=False)
    table.add_column(no_wrap=True)
    table.add_column()
    for rec in doc["releases"]:
        term = f", terminated {rec['termination_date']}" if rec["termination_date"] else ""
        table.add_row(
            rec["source"]["label"],
            f"{escape(rec['long_description'] or '')} "
            f"[dim](action {rec['action_eff_date']} {rec['action_code']}{term})[/dim]",
        )
    console.print(table)


# --- command --------------------------------------------------------------------------------
def normalise_code(value: str) -> str:
    """Upper-case, trimmed HCPCS code or modifier; BadParameter (exit 2) when malformed."""
    code = value.strip().upper()
    if not CODE_SHAPE.match(code):
        raise click.BadParameter(
            f"{value!r} is not a HCPCS code (a letter and four digits, e.g. J7507) "
            "or a 2-character modifier",
            param_hint="CODE",
        )
    return code


@click.command("code")
@click.argument("code_arg", metavar="CODE")
@click.option(
    "--on", "on", type=DATE, default=None, help="Date of service (YYYY-MM-DD); default today."
)
@click.option(
    "--format", "fmt", type=FORMAT, default="text", show_default=True, help="Output format."
)
def command(code_arg: str, on: dt.datetime | None, fmt: str) -> None:
    """Explain a HCPCS code as of a date, from the dated CMS reference data."""
    code = normalise_code(code_arg)
    day = on_date(on)
    try:
        doc = gather(default_refdata(), code, day)
    except RefDataError as exc:
        raise UserError(str(exc)) from exc
    if doc is None:
        message = f"unknown code {code}: {unknown_code_reason(code)}"
        if fmt == "json":
            dump_json(
                {
                    "schema": SCHEMA,
                    "query": {"code": code, "on": day},
                    "found": False,
                    "error": message,
                }
            )
        click.echo(f"claimscrub: {message}", err=True)
        sys.exit(EXIT_FINDINGS)
    if fmt == "json":
        dump_json(doc)
    else:
        render_text(doc)
