"""Statements and their sources, and the code book that fills code placeholders.

A *statement* is one sentence of an explanation with the source it rests on::

    {"text": "...", "source": {...}, "also": [{...}], "group": "...", "packs": [...], ...}

A *source* is one of four kinds, each with a short ``label`` and an ``id`` given by
:class:`Sources` (the explanation lists every source once, in order of first use):

- ``refdata``: a dated release of a bundled or imported dataset ("hcpcs 2026-01"), with
  its window and, when the date asked about is outside it, a caveat;
- ``rule``: a rule of the catalogue ("rule MCR003"), with the rule's own citation;
- ``pack``: a payer policy pack ("pack medicare-dme"), with the pack's cited policies;
- ``curated``: a curated fact (``clinical.yaml`` / ``immunosuppressants.yaml``), with the
  title and URL of each cited page.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import polars as pl

from claimscrub.explain.facts import jsonable, source_block
from claimscrub.refdata.catalog import RefData, Source
from claimscrub.refdata.curated.clinical import PLACEHOLDER

if TYPE_CHECKING:
    from claimscrub.payers.packs import Pack
    from claimscrub.rules.registry import Rule

_URL = re.compile(r"https?://[^\s;,)]+")


# --- sources ---------------------------------------------------------------------------
def refdata_source(block: dict[str, Any]) -> dict[str, Any]:
    """A ``source_block`` (dataset release) as a statement source."""
    return {
        "kind": "refdata",
        # One entry per release, or two when the release was also used outside its window.
        "key": f"refdata:{block['label']}" + (":outside-window" if block.get("caveat") else ""),
        "label": block["label"],
        "dataset": block["dataset"],
        "release": block["release"],
        "effective_from": block.get("effective_from"),
        "effective_to": block.get("effective_to"),
        "in_force": block.get("in_force"),
        "caveat": block.get("caveat"),
    }


def release_source(refdata: RefData, dataset: str, on: dt.date) -> dict[str, Any]:
    """The release of ``dataset`` a lookup on ``on`` uses, as a source (with its caveat)."""
    release, in_force = refdata.select_release(dataset, on)
    return refdata_source(source_block(Source.of(release, in_force), on))


def rule_source(rule: Rule) -> dict[str, Any]:
    """A rule of the catalogue as a source."""
    return {
        "kind": "rule",
        "key": f"rule:{rule.code}",
        "label": f"rule {rule.code}",
        "rule": rule.code,
        "name": rule.name,
        "citation": rule.source,
        "docs": f"docs/rules/{rule.code}.md",
    }


def pack_source(pack: Pack) -> dict[str, Any]:
    """A payer policy pack as a source."""
    return {
        "kind": "pack",
        "key": f"pack:{pack.name}",
        "label": f"pack {pack.name}",
        "pack": pack.name,
        "title": pack.title,
        "citations": [
            {"title": text, "url": (_URL.findall(text) or [None])[0]} for text in pack.sources
        ],
    }


def curated_source(cited: Sequence[dict[str, str]], file: str = "clinical.yaml") -> dict[str, Any]:
    """Entries of ``clinical.yaml`` (``{key, title, url}``) as one curated source."""
    keys = [item["key"] for item in cited]
    first = cited[0]
    more = f" (+{len(cited) - 1})" if len(cited) > 1 else ""
    return {
        "kind": "curated",
        "key": f"curated:{file}:{'+'.join(keys)}",
        "label": f"{first['title']}{more}",
        "file": file,
        "citations": [{"title": item["title"], "url": item["url"]} for item in cited],
        "url": first["url"],
    }


def curated_text_source(text: str, file: str = "immunosuppressants.yaml") -> dict[str, Any]:
    """A citation text of ``immunosuppressants.yaml`` ("rules.md R-DX-1; Noridian ...: URL")."""
    urls = _URL.findall(text)
    parts = [p.strip() for p in text.split(";")]
    citations = []
    for part in parts:
        found = _URL.findall(part)
        title = _URL.sub("", part).strip(" :")
        citations.append({"title": title or part, "url": found[0] if found else None})
    return {
        "kind": "curated",
        "key": f"curated:{file}:{text}",
        "label": citations[0]["title"],
        "file": file,
        "citations": citations,
        "url": urls[0] if urls else None,
    }


def compact(source: dict[str, Any]) -> dict[str, Any]:
    """The reference a statement carries: ``id``, ``kind``, ``label`` (+ ``url``, ``caveat``).

    The full source (release window, rule citation, pack policies, every cited page) is
    listed once in the explanation's ``sources``, under the same ``id``.
    """
    out = {"id": source["id"], "kind": source["kind"], "label": source["label"]}
    if source.get("url"):
        out["url"] = source["url"]
    if source.get("caveat"):
        out["caveat"] = source["caveat"]
    return out


class Sources:
    """Every source an explanation cites, once, numbered in order of first use."""

    def __init__(self) -> None:
        self._by_key: dict[str, dict[str, Any]] = {}

    def cite(self, source: dict[str, Any]) -> dict[str, Any]:
        """Register ``source`` and return it with its ``id`` (S1, S2 ...)."""
        known = self._by_key.get(source["key"])
        if known is None:
            known = {**source, "id": f"S{len(self._by_key) + 1}"}
            self._by_key[source["key"]] = known
        return known

    def listing(self) -> list[dict[str, Any]]:
        """The cited sources in order of first use."""
        return list(self._by_key.values())


def statement(
    text: str,
    source: dict[str, Any],
    *,
    also: Iterable[dict[str, Any]] = (),
    **extra: Any,
) -> dict[str, Any]:
    """One statement: its text, its source and any further sources and fields."""
    out: dict[str, Any] = {"text": text, "source": source}

    def ident(item: dict[str, Any]) -> str:
        return str(item.get("id") or item["key"])

    more: dict[str, dict[str, Any]] = {}
    for item in also:
        if ident(item) != ident(source):
            more.setdefault(ident(item), item)
    if more:
        out["also"] = list(more.values())
    out.update({k: v for k, v in extra.items() if v is not None})
    return out


# --- code book ------------------------------------------------------------------------------
class CodeBook:
    """HCPCS codes and modifiers as of one date, read in one lookup, for texts and links."""

    _COLUMNS = (
        "long_description",
        "unit_text",
        "unit_amount",
        "unit_uom",
        "route",
        "add_date",
        "termination_date",
    )

    def __init__(self, refdata: RefData, on: dt.date) -> None:
        self.refdata = refdata
        self.on = on
        self._rows: dict[str, dict[str, Any] | None] = {}

    def prefetch(self, codes: Iterable[str]) -> None:
        """Read every code of ``codes`` not read yet (one vectorised lookup)."""
        wanted = sorted({c for c in codes if c not in self._rows})
        if not wanted:
            return
        frame = pl.DataFrame(
            {"_q": wanted, "_on": [self.on] * len(wanted)},
            schema={"_q": pl.String, "_on": pl.Date},
        )
        found = self.refdata.lookup(
            frame, "hcpcs", on={"_q": "hcpcs_code"}, as_of="_on", columns=list(self._COLUMNS)
        )
        for row in found.iter_rows(named=True):
            self._rows[row["_q"]] = row if row["hcpcs_release"] is not None else None

    def get(self, code: str) -> dict[str, Any] | None:
        """The code's record in force (None when no release lists it)."""
        if code not in self._rows:
            self.prefetch([code])
        return self._rows.get(code)

    def source(self, code: str) -> dict[str, Any] | None:
        """The HCPCS release the code's record comes from, as a source."""
        row = self.get(code)
        if row is None:
            return None
        release = self.refdata.release("hcpcs", row["hcpcs_release"])
        return refdata_source(source_block(Source.of(release, row["hcpcs_in_force"]), self.on))

    def validity_note(self, code: str) -> str:
        """'' when valid on the date, else "; valid from ..." / "; terminated ..."."""
        row = self.get(code)
        if row is None:
            return "; not in the installed HCPCS releases"
        status = row["hcpcs_status"]
        if status == "not_yet_valid":
            return f"; valid from {jsonable(row['add_date'])}"
        if status == "terminated":
            return f"; terminated {jsonable(row['termination_date'])}"
        return ""

    def label(self, code: str) -> str:
        """'J7507 (Tacrolimus, immediate release, oral, 1 mg)', with its validity when not valid."""
        row = self.get(code)
        if row is None:
            return f"{code} (not in the installed HCPCS releases)"
        return f"{code} ({row['long_description']}{self.validity_note(code)})"

    def attribute(self, code: str, name: str) -> str:
        """A placeholder attribute of ``code`` as text."""
        row = self.get(code)
        if row is None:
            return f"{code}.{name} (not in the installed HCPCS releases)"
        value = {
            "descriptor": row["long_description"],
            "unit": row["unit_text"],
            "route": row["route"],
            "added": row["add_date"],
            "terminated": row["termination_date"],
        }[name]
        if value is None:
            return "none" if name == "terminated" else "not stated"
        return str(jsonable(value))

    def fill(self, text: str) -> tuple[str, list[str]]:
        """``text`` with its placeholders filled; the codes it names."""
        codes = [m.group(1) for m in PLACEHOLDER.finditer(text)]
        self.prefetch(codes)

        def one(match: re.Match[str]) -> str:
            code, name = match.group(1), match.group(2)
            return self.label(code) if name is None else self.attribute(code, name)

        return PLACEHOLDER.sub(one, text), list(dict.fromkeys(codes))

    def sources_for(self, codes: Iterable[str]) -> list[dict[str, Any]]:
        """The HCPCS release sources of ``codes`` (one per release)."""
        out: dict[str, dict[str, Any]] = {}
        for code in codes:
            src = self.source(code)
            if src is not None:
                out.setdefault(src["key"], src)
        return list(out.values())
