"""``claimscrub ndc NDC``: normalise an NDC and show what the ASP crosswalk says about it.

The NDC is read with :func:`claimscrub.model.codes.parse_ndc`: a hyphenated 4-4-2,
5-3-2 or 5-4-1 NDC is padded to the 11-digit 5-4-2 form; 11 digits are taken as they
are. An **unhyphenated 10-digit** NDC is ambiguous (the padding position is unknown)
and is reported with each candidate layout. It is resolved only when exactly one
candidate is listed on the crosswalk release in use, and the output says so; it is
never guessed otherwise.

Exit codes: 0 the NDC (or exactly one candidate) is on the crosswalk; 1 it is not, or
an ambiguous NDC stays ambiguous; 2 a malformed NDC, date or option.
"""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

import click
import polars as pl

from claimscrub.cli import EXIT_FINDINGS, UserError
from claimscrub.cli.code import (
    CHECK_LEGEND,
    CHECK_TEXT,
    DATE,
    FORMAT,
    NDC_COLUMNS_NOTE,
    dump_json,
    ndc_item,
    ndc_table,
    on_date,
    source_block,
)
from claimscrub.model.codes import NdcParse, parse_ndc
from claimscrub.refdata.catalog import Facts, RefData, RefDataError, Source, default_refdata

SCHEMA = "claimscrub-ndc/1"


def _hyphenated(ndc11: str) -> str:
    return f"{ndc11[:5]}-{ndc11[5:9]}-{ndc11[9:]}"


def _describe_codes(refdata: RefData, codes: list[str], on: dt.date) -> dict[str, dict[str, Any]]:
    """Descriptor and validity on ``on`` of each crosswalked HCPCS code (one lookup)."""
    if not codes:
        return {}
    frame = pl.DataFrame(
        {"code": codes, "on": [on] * len(codes)}, schema={"code": pl.String, "on": pl.Date}
    )
    found = refdata.lookup(
        frame,
        "hcpcs",
        on={"code": "hcpcs_code"},
        as_of="on",
        columns=["long_description", "unit_text", "route"],
    )
    out = {}
    for row in found.iter_rows(named=True):
        release = row["hcpcs_release"]
        out[row["code"]] = {
            "long_description": row["long_description"],
            "unit_text": row["unit_text"],
            "route": row["route"],
            "status": row["hcpcs_status"],
            "source": source_block(
                Source.of(refdata.release("hcpcs", release), row["hcpcs_in_force"]), on
            )
            if release
            else None,
        }
    return out


def gather(refdata: RefData, parsed: NdcParse, on: dt.date) -> dict[str, Any]:
    """The JSON document of ``claimscrub ndc`` for a parsed (ok or ambiguous) NDC."""
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "query": {"ndc": parsed.submitted, "on": on},
        "status": parsed.status,
        "ndc11": parsed.ndc11,
        "ndc": parsed.hyphenated,
        "layout": parsed.layout,
        "reason": parsed.reason,
        "candidates": [],
        "resolved": None,
        "resolution": None,
        "listed": False,
        "crosswalk": None,
    }
    facts: Facts | None = None
    if parsed.status == "ok":
        assert parsed.ndc11 is not None
        facts = refdata.ndc(parsed.ndc11, on)
    else:
        listed: list[tuple[str, str]] = []
        for layout, ndc11 in parsed.candidates.items():
            candidate_facts = refdata.ndc(ndc11, on)
            doc["candidates"].append(
                {
                    "layout": layout,
                    "ndc11": ndc11,
                    "ndc": _hyphenated(ndc11),
                    "listed": bool(candidate_facts.rows),
                    "hcpcs_codes": sorted({row["hcpcs_code"] for row in candidate_facts.rows}),
                }
            )
            if candidate_facts.rows:
                listed.append((layout, ndc11))
                facts = candidate_facts
        release = refdata.select_release("ndc_hcpcs", on)[0].label
        if len(listed) == 1:
            layout, target = listed[0]
            doc["resolved"] = {
                "by": "crosswalk",
                "layout": layout,
                "ndc11": target,
                "ndc": _hyphenated(target),
            }
            # The crosswalk lists Part B-priced NDCs only, not every product: it narrows
            # the reading, an NDC directory would settle it (rules.md R-NDC-2).
            doc["resolution"] = (
                f"resolved by the crosswalk: only {layout} candidate {target} "
                f"is listed on {release}; the crosswalk is not an NDC directory, so confirm "
                "the 11 digits against the package"
            )
        elif listed:
            doc["resolution"] = (
                f"still ambiguous: {len(listed)} candidates are listed on {release} "
                f"({', '.join(n for _, n in listed)}); submit the NDC hyphenated or as 11 digits"
            )
            facts = None
        else:
            doc["resolution"] = f"not resolved: no candidate is listed on {release}"
    if facts is None:
        return doc
    codes = sorted({row["hcpcs_code"] for row in facts.rows})
    described = _describe_codes(refdata, codes, on)
    items = []
    for row in facts.rows:
        code = described.get(row["hcpcs_code"])
        item = ndc_item(row, code["route"] if code else None)
        item["hcpcs"] = code
        items.append(item)
    doc["listed"] = bool(items)
    doc["crosswalk"] = {"source": source_block(facts.source, on), "items": items}
    if len(codes) > 1:
        # CMS lists some NDCs under several codes (a 25 mg cyclosporine capsule under
        # J7502 and J7515): which one describes the product is the biller's choice, except
        # among codes that differ only in strength, where it is the one of 1 unit per item.
        doc["crosswalk"]["note"] = (
            f"listed under {len(codes)} codes ({', '.join(codes)}): bill the one whose "
            "descriptor matches the product's strength, form and route (rules.md R-CODE-2)"
            + _strength_code_note(facts.rows)
        )
    return doc


def _strength_code_note(rows: list[dict[str, Any]]) -> str:
    """Which of the NDC's codes is the product's strength, when they differ only in it
    (curated ``strength_code_groups``; COD009 reports the others)."""
    from claimscrub.refdata import curated

    groups = dict(curated.strength_code_groups().select("hcpcs", "group").iter_rows())
    per_item = {row["hcpcs_code"]: row["units_per_item"] for row in rows}
    exact = [code for code, units in per_item.items() if code in groups and units == 1]
    if len(exact) != 1 or not any(
        groups.get(code) == groups[exact[0]] and code != exact[0] for code in per_item
    ):
        return ""
    return f"; its strength is {exact[0]}'s unit (1 per item), so bill {exact[0]} (COD009)"


def render_text(doc: dict[str, Any]) -> None:
    """Print the document for a human."""
    from rich.console import Console
    from rich.markup import escape

    console = Console(highlight=False)
    query = doc["query"]
    if doc["status"] == "ok":
        console.print(
            f"[bold]NDC {escape(query['ndc'])}[/bold] -> 11-digit [bold]{doc['ndc11']}[/bold] "
            f"({doc['ndc']}, layout {doc['layout']})"
        )
    else:
        console.print(
            f"[bold]NDC {escape(query['ndc'])}[/bold]: [bold yellow]AMBIGUOUS[/bold yellow]"
        )
        console.print(f"  {escape(doc['reason'] or '')}")
        for cand in doc["candidates"]:
            codes = ", ".join(cand["hcpcs_codes"])
            mark = f"listed on the crosswalk ({codes})" if cand["listed"] else "not listed"
            console.print(f"  {cand['layout']:<6} -> {cand['ndc11']} ({cand['ndc']})  {mark}")
        console.print(f"  [bold]{escape(doc['resolution'] or '')}[/bold]")
    console.print(f"[dim]as of {query['on']}[/dim]")
    crosswalk = doc["crosswalk"]
    if crosswalk is None:
        return
    src = crosswalk["source"]
    caveat = f"\n  [yellow]{src['caveat']}[/yellow]" if src.get("caveat") else ""
    if not crosswalk["items"]:
        console.print(f"not on the ASP NDC-HCPCS crosswalk [dim]\\[{src['label']}][/dim]{caveat}")
        return
    console.print(f"\n[bold]ASP NDC-HCPCS crosswalk[/bold] [dim]\\[{src['label']}][/dim]{caveat}")
    for item in crosswalk["items"]:
        hcpcs = item["hcpcs"] or {}
        status = (hcpcs.get("status") or "unknown").replace("_", " ")
        tag = f" [dim]\\[{hcpcs['source']['label']}][/dim]" if hcpcs.get("source") else ""
        console.print(
            f"  [bold]{item['hcpcs_code']}[/bold] {escape(hcpcs.get('long_description') or '')} "
            f"({status} on {query['on']}){tag}"
        )
        console.print(
            f"    labeler {escape(item['labeler'] or '-')}; "
            f"drug {escape(item['drug_name'] or '-')}; "
            f"billing unit {escape(item['hcpcs_dosage'] or '-')}"
        )
    console.print(ndc_table(crosswalk["items"], console.width, with_code=True, with_labeler=False))
    legend = sorted({item["units_check"] for item in crosswalk["items"]} - {"agree", None})
    if legend:
        console.print(
            "  [dim]check: "
            + "; ".join(f"{CHECK_TEXT[c]} = {CHECK_LEGEND[c]}" for c in legend)
            + "[/dim]"
        )
    console.print(f"  [dim]{NDC_COLUMNS_NOTE}[/dim]")
    if crosswalk.get("note"):
        console.print(f"  [yellow]{escape(crosswalk['note'])}[/yellow]")


@click.command("ndc")
@click.argument("ndc_arg", metavar="NDC")
@click.option(
    "--on", "on", type=DATE, default=None, help="Date of service (YYYY-MM-DD); default today."
)
@click.option(
    "--format", "fmt", type=FORMAT, default="text", show_default=True, help="Output format."
)
def command(ndc_arg: str, on: dt.datetime | None, fmt: str) -> None:
    """Normalise an NDC to 11 digits and show its HCPCS crosswalk entries."""
    parsed = parse_ndc(ndc_arg)
    if parsed.status == "invalid":
        raise click.BadParameter(f"{ndc_arg!r}: {parsed.reason}", param_hint="NDC")
    day = on_date(on)
    try:
        doc = gather(default_refdata(), parsed, day)
    except RefDataError as exc:
        raise UserError(str(exc)) from exc
    if fmt == "json":
        dump_json(doc)
    else:
        render_text(doc)
    if not doc["listed"]:
        if fmt != "json" and doc["status"] == "ok":
            click.echo(
                f"claimscrub: NDC {doc['ndc11']} is not on the ASP NDC-HCPCS crosswalk "
                "(it lists Part B drug NDCs only)",
                err=True,
            )
        sys.exit(EXIT_FINDINGS)
