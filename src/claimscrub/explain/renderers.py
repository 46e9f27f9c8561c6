"""Render an explanation (the dict of :func:`build_explanation`) as text, Markdown, JSON or HTML.

Renderers only lay out what the builder wrote: every statement keeps its source tag, and the
sources are listed at the end with their release windows, rule citations, pack policies and
URLs. The HTML page is self-contained (inline CSS, no scripts, no external assets): it is the
page the web app serves at ``GET /codes/{code}``. Codes in the text link to their own page
(``code_url``; ``None`` for no links).
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Iterator
from functools import cache
from typing import Any
from urllib.parse import quote, urlencode

FORMATS = ("text", "markdown", "json", "html")
DEFAULT_CODE_URL = "/codes/{code}"
_WIDTH = 100
_CODE = re.compile(r"\b([A-Z][0-9]{4})\b")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


def render(
    explanation: dict[str, Any], fmt: str, *, code_url: str | None = DEFAULT_CODE_URL
) -> str:
    """``explanation`` as ``fmt`` (text | markdown | json | html)."""
    if fmt == "json":
        return json.dumps(explanation, indent=2, ensure_ascii=False) + "\n"
    if fmt == "text":
        return render_text(explanation)
    if fmt == "markdown":
        return render_markdown(explanation, code_url)
    if fmt == "html":
        return render_html(explanation, code_url)
    raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


# --- shared layout --------------------------------------------------------------------------
def grouped(statements: list[dict[str, Any]]) -> Iterator[tuple[str | None, list[dict[str, Any]]]]:
    """Statements by ``group``, groups in order of first appearance."""
    order: dict[str | None, list[dict[str, Any]]] = {}
    for item in statements:
        order.setdefault(item.get("group"), []).append(item)
    yield from order.items()


def tag(source: dict[str, Any]) -> str:
    """A short source tag: the label for data, rules and packs; the id for curated pages."""
    return source["id"] if source["kind"] == "curated" else source["label"]


def _subtitle(explanation: dict[str, Any]) -> str:
    packs = explanation["packs"]
    scope = (
        f"payer pack {explanation['payer']}"
        if explanation.get("payer")
        else f"all payer packs ({', '.join(packs)})"
    )
    return f"As of {explanation['on']} · {scope} · status on that date: {explanation['status'].replace('_', ' ')}"


def _source_detail(source: dict[str, Any]) -> str:
    kind = source["kind"]
    if kind == "refdata":
        start = source.get("effective_from") or "the start"
        end = source.get("effective_to")
        window = f"effective {start} to {end}" if end else f"effective from {start}"
        caveat = f"; {source['caveat']}" if source.get("caveat") else ""
        return f"reference data {source['label']} ({window}){caveat}"
    if kind == "rule":
        return f"claimscrub rule {source['rule']} {source['name']} — {source['citation']}"
    if kind == "pack":
        cites = "; ".join(c["title"] for c in source.get("citations") or [])
        return f"payer policy pack {source['pack']} ({source['title']})" + (
            f" — {cites}" if cites else ""
        )
    cites = "; ".join(
        f"{c['title']} <{c['url']}>" if c.get("url") else c["title"]
        for c in source.get("citations") or []
    )
    return f"curated ({source['file']}): {cites}"


# --- text -----------------------------------------------------------------------------------
def _wrap(text: str, first: str, rest: str) -> str:
    return textwrap.fill(
        text,
        width=_WIDTH,
        initial_indent=first,
        subsequent_indent=rest,
        break_on_hyphens=False,
        break_long_words=False,  # never split a URL
    )


def _statement_text(item: dict[str, Any]) -> str:
    extra = f" +{len(item['also'])}" if item.get("also") else ""
    return f"{item['text']} [{tag(item['source'])}{extra}]"


def render_text(explanation: dict[str, Any]) -> str:
    """Plain text for a terminal or a file, wrapped at 100 columns."""
    lines = [explanation["title"], _subtitle(explanation)]
    lines.append(
        "Every statement ends with its source [tag +n more]; sources are listed at the end."
    )
    for section in explanation["sections"]:
        lines += ["", f"{section['number']}. {section['title']}"]
        for group, items in grouped(section["statements"]):
            if group:
                lines.append(f"  {group}")
            for item in items:
                lines.append(_wrap(_statement_text(item), "    - ", "      "))
                if item["source"].get("caveat"):
                    lines.append(_wrap(f"({item['source']['caveat']})", "      ", "      "))
    lines += ["", "Common misconceptions"]
    if explanation["misconceptions"]:
        for item in explanation["misconceptions"]:
            lines.append(_wrap(_statement_text(item), "    - ", "      "))
    else:
        lines.append("    - none recorded for this code")
    lines += ["", "Sources"]
    for source in explanation["sources"]:
        lines.append(_wrap(f"{source['id']} {_source_detail(source)}", "    ", "        "))
    return "\n".join(lines) + "\n"


# --- Markdown -------------------------------------------------------------------------------
def _md(text: str) -> str:
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _href(code: str, explanation: dict[str, Any], code_url: str) -> str:
    query = {"on": explanation["on"]}
    if explanation.get("payer"):
        query["payer"] = explanation["payer"]
    base = code_url.format(code=quote(code))
    return f"{base}{'&' if '?' in base else '?'}{urlencode(query)}"


def _md_statement(item: dict[str, Any], explanation: dict[str, Any], code_url: str | None) -> str:
    text = _md(item["text"])
    if code_url is not None:
        own = explanation["code"]
        text = _CODE.sub(
            lambda m: (
                m.group(1)
                if m.group(1) == own
                else f"[{m.group(1)}]({_href(m.group(1), explanation, code_url)})"
            ),
            text,
        )
    refs = [item["source"], *item.get("also", [])]
    tags = ", ".join(f"[{_md(tag(s))}](#{s['id'].lower()})" for s in refs)
    caveat = f" *({_md(item['source']['caveat'])})*" if item["source"].get("caveat") else ""
    return f"{text} <sub>{tags}</sub>{caveat}"


def render_markdown(explanation: dict[str, Any], code_url: str | None = DEFAULT_CODE_URL) -> str:
    """GitHub-flavoured Markdown: headings per section and group, sources with anchors."""
    out = [f"# {_md(explanation['title'])}", "", f"*{_md(_subtitle(explanation))}*", ""]
    for section in explanation["sections"]:
        out += [f"## {section['number']}. {section['title']}", ""]
        for group, items in grouped(section["statements"]):
            if group:
                out += [f"### {_md(group)}", ""]
            out += [f"- {_md_statement(item, explanation, code_url)}" for item in items]
            out.append("")
    out += ["## Common misconceptions", ""]
    if explanation["misconceptions"]:
        out += [
            f"- {_md_statement(item, explanation, code_url)}"
            for item in explanation["misconceptions"]
        ]
    else:
        out.append("- none recorded for this code")
    out += ["", "## Sources", ""]
    for source in explanation["sources"]:
        out.append(
            f'- <a id="{source["id"].lower()}"></a>**{source["id"]}** {_md(_source_detail(source))}'
        )
    return "\n".join(out) + "\n"


# --- HTML -------------------------------------------------------------------------------------
@cache
def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("claimscrub.explain", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["grouped"] = lambda statements: list(grouped(statements))
    env.globals["tag"] = tag
    env.globals["source_detail"] = _source_detail
    return env


def render_html(explanation: dict[str, Any], code_url: str | None = DEFAULT_CODE_URL) -> str:
    """One self-contained HTML page (inline CSS, no scripts, no external assets)."""
    from markupsafe import Markup, escape

    def linked(text: str) -> Markup:
        escaped = str(escape(text))
        if code_url is None:
            return Markup(escaped)
        own = explanation["code"]
        return Markup(
            _CODE.sub(
                lambda m: (
                    m.group(1)
                    if m.group(1) == own
                    else f'<a href="{escape(_href(m.group(1), explanation, code_url))}">{m.group(1)}</a>'
                ),
                escaped,
            )
        )

    template = _environment().get_template("explain.html")
    return template.render(e=explanation, linked=linked, subtitle=_subtitle(explanation))
