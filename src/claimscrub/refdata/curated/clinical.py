"""The curated clinical and coding context of ``claimscrub explain`` (``clinical.yaml``).

What no CMS table says about a drug code — its class, labelled uses, usual monitoring,
products, the not-otherwise-classified alternatives, replacements of terminated codes,
the records a supplier keeps, payer notes and the known misconceptions — each fact with
the URL of its source (all taken from the domain spec, ``shared/domain/rules.md``).

Descriptors, units, routes and dates never come from here: texts name codes through
placeholders (``{J7504}``, ``{J7504.unit}``...) that the explanation builder fills from
the HCPCS release in force on the date asked about. :func:`clinical` validates the file
once (unknown source keys, sources without a URL, facts without a source, malformed
placeholders all raise :class:`ClinicalDataError` naming the entry).
"""

from __future__ import annotations

import copy
import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml

CLINICAL = Path(__file__).parent / "clinical.yaml"
# {J7504} or {J7504.unit}: a HCPCS Level II code, optionally one of these attributes.
PLACEHOLDER = re.compile(r"\{([A-Z][0-9]{4})(?:\.([a-z_]+))?\}")
PLACEHOLDER_ATTRIBUTES = ("descriptor", "unit", "route", "added", "terminated")
_ANY_BRACE = re.compile(r"\{[^}]*\}")
_LISTS = (
    "drugs",
    "alternatives",
    "replacements",
    "supplier_records",
    "payer_notes",
    "misconceptions",
)


class ClinicalDataError(ValueError):
    """``clinical.yaml`` is inconsistent; the message names the entry."""


def _load_yaml(text: str) -> Any:
    # libyaml's loader is ten times faster; the pure-Python one gives the same result.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader


def _check_text(text: Any, where: str) -> None:
    if not isinstance(text, str) or not text.strip():
        raise ClinicalDataError(f"{CLINICAL.name}: {where}: text is missing")
    for brace in _ANY_BRACE.findall(text):
        match = PLACEHOLDER.fullmatch(brace)
        if match is None or (match.group(2) and match.group(2) not in PLACEHOLDER_ATTRIBUTES):
            raise ClinicalDataError(
                f"{CLINICAL.name}: {where}: bad placeholder {brace} (use {{J7504}} or "
                f"{{J7504.<{'|'.join(PLACEHOLDER_ATTRIBUTES)}>}})"
            )


@cache
def clinical() -> dict[str, Any]:
    """The validated file; every ``source`` list resolved to ``[{key, title, url}]``."""
    doc: dict[str, Any] = _load_yaml(CLINICAL.read_text(encoding="utf-8"))
    sources: dict[str, dict[str, str]] = {}
    for key, entry in (doc.get("sources") or {}).items():
        url = str((entry or {}).get("url") or "")
        if not url.startswith(("http://", "https://")) or not entry.get("title"):
            raise ClinicalDataError(f"{CLINICAL.name}: sources.{key}: needs a title and a URL")
        sources[key] = {"key": key, "title": str(entry["title"]), "url": url}
        if entry.get("instead_of"):  # the domain spec's link this source stands in for
            sources[key]["instead_of"] = str(entry["instead_of"])

    def cite(keys: Any, where: str) -> list[dict[str, str]]:
        keys = [keys] if isinstance(keys, str) else list(keys or [])
        if not keys:
            raise ClinicalDataError(f"{CLINICAL.name}: {where}: a fact needs a source")
        unknown = [k for k in keys if k not in sources]
        if unknown:
            raise ClinicalDataError(f"{CLINICAL.name}: {where}: unknown source {unknown[0]!r}")
        return [dict(sources[k]) for k in keys]

    out = copy.deepcopy(doc)
    out["sources"] = sources
    for name in _LISTS:
        for i, entry in enumerate(out.get(name) or []):
            where = f"{name}[{i}]"
            if name == "drugs":
                if "class" in entry:
                    entry["class"]["source"] = cite(entry["class"].get("source"), where + ".class")
                for j, fact in enumerate(entry.get("facts") or []):
                    _check_text(fact.get("text"), f"{where}.facts[{j}]")
                    fact["source"] = cite(fact.get("source"), f"{where}.facts[{j}]")
                continue
            entry["source"] = cite(entry.get("source"), where)
            if name == "misconceptions":
                for field in ("id", "not", "correct"):
                    if not entry.get(field):
                        raise ClinicalDataError(f"{CLINICAL.name}: {where}: {field} is missing")
                if _ANY_BRACE.search(entry["not"]):
                    raise ClinicalDataError(f"{CLINICAL.name}: {where}: `not` takes no placeholder")
                _check_text(entry["correct"], where)
                entry["seen_at"] = cite(entry["seen_at"], where) if entry.get("seen_at") else []
            elif "text" in entry:
                _check_text(entry["text"], where)
            elif "note" in entry:
                _check_text(entry["note"], where)
    for role, entry in (out.get("supply_fee_roles") or {}).items():
        entry["source"] = cite(entry.get("source"), f"supply_fee_roles.{role}")
    if out.get("supply_fee_common"):
        out["supply_fee_common"]["source"] = cite(
            out["supply_fee_common"].get("source"), "supply_fee_common"
        )
    return out


def drug_entries(code: str, ingredient: str | None) -> list[dict[str, Any]]:
    """The ``drugs`` entries for ``code``: matched by its code or its descriptor's ingredient."""
    found = []
    for entry in clinical()["drugs"]:
        match = entry["match"]
        names = match.get("ingredient") or []
        names = [names] if isinstance(names, str) else list(names)
        if code in (match.get("hcpcs") or ()) or (ingredient is not None and ingredient in names):
            found.append(entry)
    return found


def code_in(entry: dict[str, Any], code: str) -> bool:
    """True when an entry with ``hcpcs`` / ``hcpcs_range`` names ``code`` (no list: every code)."""
    listed = entry.get("hcpcs")
    span = entry.get("hcpcs_range")
    if listed is None and span is None:
        return True
    if listed is not None and code in listed:
        return True
    if span is not None:
        low, high = span
        return len(code) == len(low) and code[0] == low[0] and low <= code <= high
    return False
