"""Build the explanation of one HCPCS code as of a date: the sections and their sources.

The sections, in order (each a list of statements, every statement with its source):

1. ``definition`` — descriptor, billing unit, route and form, status and dates, coverage and
   pricing indicators, BETOS and type of service, ASP limit, OPPS status, MUEs (CMS data);
2. ``clinical`` — drug, class, labelled uses, monitoring, supporting diagnoses (curated
   facts with their URLs, ICD-10-CM titles from the bundled tabular);
3. ``modifiers`` — the modifiers the rules require, allow or forbid on the code, per pack;
4. ``documentation`` — what the line and claim must carry, from the rules that can fire
   on the code and the packs that apply, plus the records a DME supplier keeps;
5. ``denials`` — each rule that can fire on the code, with its CARC/RARC and how to avoid
   it;
6. ``payers`` — per payer policy pack: contractor, routing, limits, prior authorisation,
   step therapy, quantity limits, preferred products;
7. ``similar`` — same ingredient and family, replacements of terminated codes, NOC and
   compounded alternatives, the crosswalked NDCs;

plus ``misconceptions``: known wrong statements about the code, with their correction.

Which rules "can fire" comes from :mod:`claimscrub.explain.scope` (``rule_scope.yaml``
evaluated on the code's traits); nothing about a code is typed into Python.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from claimscrub import __version__
from claimscrub.explain.errors import MALFORMED, UNKNOWN, ExplainError
from claimscrub.explain.facts import CODE_SHAPE, LEVEL_TWO, gather, jsonable, unknown_code_reason
from claimscrub.explain.statements import CodeBook, Sources, compact, statement

if TYPE_CHECKING:
    from claimscrub.explain.scope import Applicable
    from claimscrub.explain.traits import CodeTraits
    from claimscrub.payers.packs import Pack
    from claimscrub.refdata.catalog import RefData
    from claimscrub.rules.registry import Rule

SCHEMA = "claimscrub-explain/1"
SECTION_TITLES = {
    "definition": "Definition",
    "clinical": "Clinical context",
    "modifiers": "Common modifiers",
    "documentation": "Documentation requirements",
    "denials": "Common denial reasons",
    "payers": "Payer considerations",
    "similar": "Similar codes",
}
# Medicare first, then the other payer kinds; user packs of other kinds after them.
_CONTRACTOR_ORDER = ("dme_mac", "ab_mac", "medicare_advantage", "medicaid", "commercial")


@dataclass
class Context:
    """Everything the section builders read, and the sources they cite."""

    refdata: RefData
    code: str
    on: dt.date
    payer: str | None
    doc: dict[str, Any]
    traits: CodeTraits
    packs: list[Pack]
    rules: dict[str, Rule]
    applicable: list[Applicable]
    book: CodeBook
    sources: Sources = field(default_factory=Sources)

    def say(
        self,
        text: str,
        source: dict[str, Any],
        *,
        also: Any = (),
        **extra: Any,
    ) -> dict[str, Any]:
        """A statement whose sources are registered in this explanation."""
        cited = compact(self.sources.cite(source))
        more = [compact(self.sources.cite(s)) for s in also if s is not None]
        return statement(text, cited, also=more, **extra)

    def pack(self, name: str) -> Pack:
        """A selected pack by name."""
        return next(p for p in self.packs if p.name == name)

    def applicable_rule(self, code: str) -> Applicable | None:
        """The rule ``code`` when it can fire on the code, else None."""
        return next((a for a in self.applicable if a.rule.code == code), None)


def normalise(code: str) -> str:
    """Upper-case, trimmed code; :class:`ExplainError` when it is not a HCPCS Level II code."""
    value = str(code).strip().upper()
    if LEVEL_TWO.match(value):
        return value
    if CODE_SHAPE.match(value) and not value[:1].isdigit() and len(value) == 2:
        raise ExplainError(
            f"{code!r} is a modifier, not a HCPCS code: explain takes a HCPCS Level II code "
            "(a letter and four digits, e.g. J7507)",
            MALFORMED,
        )
    if CODE_SHAPE.match(value):
        raise ExplainError(f"unknown code {value}: {unknown_code_reason(value)}", UNKNOWN)
    raise ExplainError(
        f"{code!r} is not a HCPCS code: explain takes a HCPCS Level II code "
        "(a letter and four digits, e.g. J7507)",
        MALFORMED,
    )


def _ordered_packs(packs: dict[str, Pack], payer: str | None) -> list[Pack]:
    if payer is not None:
        if payer not in packs:
            raise ExplainError(
                f"unknown payer pack {payer!r} (known: {', '.join(sorted(packs))})",
                MALFORMED,
                param="payer",
            )
        return [packs[payer]]

    def rank(pack: Pack) -> tuple[int, int, str]:
        contractor = pack.settings.get("contractor")
        order = (
            _CONTRACTOR_ORDER.index(contractor)
            if contractor in _CONTRACTOR_ORDER
            else len(_CONTRACTOR_ORDER)
        )
        return (order, pack.priority, pack.name)

    # `base` holds the shared defaults; it is a payer only when asked for by name.
    return sorted((p for p in packs.values() if p.name != "base"), key=rank)


def _codes_named(packs: list[Pack]) -> set[str]:
    """Every code and modifier the curated texts, rule scopes and packs may name (one lookup)."""
    from claimscrub.explain.scope import scope_entries
    from claimscrub.refdata import curated
    from claimscrub.refdata.curated.clinical import PLACEHOLDER, clinical

    doc = clinical()
    texts = [m["correct"] for m in doc["misconceptions"]]
    texts += [n["text"] for n in doc["payer_notes"]]
    texts += [f["text"] for d in doc["drugs"] for f in d.get("facts") or []]
    codes = {m.group(1) for text in texts for m in PLACEHOLDER.finditer(text)}
    codes |= {a["hcpcs"] for a in doc["alternatives"]}
    codes |= {c for r in doc["replacements"] for c in (r["old"], r.get("new")) if c}
    codes |= set(curated.supply_fees()["hcpcs"].to_list())
    codes |= {
        m for e in scope_entries().values() for s in e.modifiers for m in s.get("modifiers", ())
    }
    conflicts = curated.modifier_conflicts()
    codes |= set(conflicts["first"].to_list()) | set(conflicts["second"].to_list())
    codes |= set(curated.drug_line_modifiers_not_applicable()["modifier"].to_list())
    for pack in packs:
        for entry in pack.settings.get("step_therapy") or []:
            codes |= set(entry.get("after") or [])
    return codes


def build_explanation(
    code: str,
    on: dt.date | None = None,
    payer: str | None = None,
    refdata: RefData | None = None,
    packs: Mapping[str, Pack] | None = None,
) -> dict[str, Any]:
    """The explanation of ``code`` as of ``on`` (default today), for every pack or ``payer``.

    ``packs`` are the payer policy packs to explain for, already loaded (``load_packs``
    with the user's ``--policy`` files); default: the built-in packs and those of
    ``$CLAIMSCRUB_PACKS_DIR``.

    Returns a JSON-ready dict (see the module doc). Raises :class:`ExplainError` for a
    malformed code, a code no installed release lists, or an unknown payer pack.
    """
    from claimscrub.explain import sections
    from claimscrub.explain.scope import applicable_rules
    from claimscrub.explain.traits import code_traits
    from claimscrub.payers.packs import load_packs
    from claimscrub.refdata.catalog import default_refdata
    from claimscrub.rules.registry import load_builtin_rules

    value = normalise(code)
    day = on if on is not None else dt.date.today()
    if isinstance(day, dt.datetime):
        day = day.date()
    data = refdata if refdata is not None else default_refdata()
    chosen = _ordered_packs(dict(packs) if packs is not None else load_packs(), payer)
    doc = gather(data, value, day)
    if doc is None:
        raise ExplainError(f"unknown code {value}: {unknown_code_reason(value)}", UNKNOWN)
    traits = code_traits(data, value, day, doc)
    rules = dict(load_builtin_rules())
    ctx = Context(
        refdata=data,
        code=value,
        on=day,
        payer=payer,
        doc=doc,
        traits=traits,
        packs=chosen,
        rules=rules,
        applicable=applicable_rules(rules, traits, chosen, day),
        book=CodeBook(data, day),
    )
    ctx.book.prefetch(_codes_named(chosen))
    built = [
        {
            "id": section_id,
            "number": number,
            "title": SECTION_TITLES[section_id],
            "statements": builder(ctx),
        }
        for number, (section_id, builder) in enumerate(sections.BUILDERS, start=1)
    ]
    misconceptions = sections.misconceptions(ctx)
    return jsonable(
        {
            "schema": SCHEMA,
            "code": value,
            "on": day,
            "payer": payer,
            "packs": [p.name for p in chosen],
            "title": f"{value} — {doc['descriptor']['long']}",
            "descriptor": doc["descriptor"]["long"],
            "status": doc["status"]["value"],
            "sections": built,
            "misconceptions": misconceptions,
            "rules": [a.rule.code for a in ctx.applicable],
            "sources": ctx.sources.listing(),
            "generated_by": {"tool": "claimscrub", "version": __version__},
        }
    )
