"""The rule registry: one record per rule, registered by one decorator, selected by code,
prefix, name or ``ALL``.

A rule's docstring is its documentation page; its headings are fixed (see
``DOC_HEADINGS``) and a test enforces them.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from claimscrub.diagnostics import Applicability, Confidence, Severity

if TYPE_CHECKING:
    import polars as pl

    from claimscrub.rules.context import RuleContext
    from claimscrub.rules.finding import Finding

# Category prefix -> what the category covers. Codes are never reused.
CATEGORIES: Mapping[str, str] = MappingProxyType(
    {
        "COD": "HCPCS code validity and code-to-product match",
        "NOC": "not-otherwise-classified codes",
        "UNT": "billing units",
        "NDC": "NDC reporting",
        "MCR": "Medicare immunosuppressive drug benefit",
        "RTE": "contractor routing",
        "DGN": "diagnoses",
        "MOD": "modifiers",
        "MUE": "medically unlikely edits and quantity limits",
        "PAU": "prior authorisation and payer policy",
        "DUP": "duplicates",
    }
)
DOC_HEADINGS = (
    "What it checks",
    "Why it matters",
    "Example",
    "Fix",
    "Options",
    "Related",
    "References",
)
SCOPES = ("line", "claim", "patient")
_CODE_RE = re.compile(r"^[A-Z]{3}[0-9]{3}$")
_NAME_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Rule:
    """A rule record: metadata next to the function that evaluates it."""

    code: str
    name: str
    severity: Severity
    func: Callable[[RuleContext], Finding]
    carc: str | None = None
    rarc: tuple[str, ...] = ()
    fix: Applicability = Applicability.NONE
    requires: tuple[str, ...] = ()  # reference datasets
    inputs: tuple[str, ...] = ()  # canonical columns that must hold data
    scope: str = "line"
    since: str = "0.1.0"
    preview: bool = False
    options: Mapping[str, Any] = field(default_factory=dict)
    source: str = ""  # short citation carried by every finding
    # How sure a finding of this rule is by default (overridable per config and payer pack):
    # lower where the judgement rests on a payer's pattern, incomplete history, timing or a
    # heuristic; each rule below high says why next to its decorator.
    confidence: Confidence = Confidence.HIGH
    # A gate rule says the line's code itself is wrong (invalid, unknown, or not the product's
    # code): its finding replaces the other rules' findings on that line, whose checks all
    # assume the billed code is right (rules.md section 11: stop on code failure).
    gates_line: bool = False
    # False for checks that hold whatever the code is (an NDC's format, its unit code): a
    # gate finding on the line does not replace them.
    depends_on_code: bool = True
    # For a rule that judges each line alone: every line column its rows, verdict,
    # message and fix read (claim-level and pack columns included). The engine then runs
    # it once per distinct combination of these values and gives each line the findings
    # of its combination; a column left out is missing there and breaks the rule, it is
    # never guessed. Empty: the rule runs on the lines as they are.
    distinct_on: tuple[str, ...] = ()
    # Which lines the rule can report on at all, as a boolean per line (a pack setting
    # such as the Medicare benefit, the contractor). The rule's findings all come from
    # lines where it is true, so on a batch where it is true for no line the engine does
    # not run the rule: it could find nothing there (a claim for a commercial plan has no
    # Medicare benefit line). The rule filters its lines by the same expression.
    applies_when: Callable[[RuleContext], pl.Expr] | None = None

    @property
    def category(self) -> str:
        """The three-letter prefix of the code."""
        return self.code[:3]

    @property
    def doc(self) -> str:
        """The rule's documentation page (its docstring)."""
        return inspect.cleandoc(self.func.__doc__ or "")

    @property
    def summary(self) -> str:
        """The first line of the docstring."""
        return self.doc.splitlines()[0] if self.doc else ""


REGISTRY: dict[str, Rule] = {}


RuleFunc = Callable[["RuleContext"], "Finding"]


def rule(**meta: Any) -> Callable[[RuleFunc], RuleFunc]:
    """Register the decorated function as a rule with the given metadata."""

    def register(func: RuleFunc) -> RuleFunc:
        record = Rule(func=func, **meta)
        _validate(record)
        REGISTRY[record.code] = record
        return func

    return register


def _validate(record: Rule) -> None:
    if not _CODE_RE.match(record.code) or record.category not in CATEGORIES:
        raise ValueError(f"rule code {record.code!r} must be a known prefix + 3 digits")
    if not _NAME_RE.match(record.name):
        raise ValueError(f"rule name {record.name!r} must be kebab-case")
    if record.scope not in SCOPES:
        raise ValueError(f"rule {record.code}: scope must be one of {SCOPES}")
    if record.distinct_on and (
        record.scope != "line" or {"claim_key", "line_no"} & set(record.distinct_on)
    ):
        raise ValueError(
            f"rule {record.code}: distinct_on is for line rules and never names claim_key "
            "or line_no"
        )
    if record.code in REGISTRY and REGISTRY[record.code].func is not record.func:
        raise ValueError(f"rule code {record.code} registered twice")


def load_builtin_rules() -> Mapping[str, Rule]:
    """Import every built-in rule module (each registers itself) and return the registry."""
    import importlib
    import pkgutil

    import claimscrub.rules as package

    for info in pkgutil.walk_packages(package.__path__, prefix="claimscrub.rules."):
        importlib.import_module(info.name)
    return REGISTRY


class SelectionError(ValueError):
    """A selector that names no rule."""


def _matches(selector: str, r: Rule) -> bool:
    s = selector.strip()
    return s.upper() == "ALL" or r.code.startswith(s.upper()) or r.name == s.lower()


def select(
    rules: Iterable[Rule],
    select: Iterable[str] = ("ALL",),
    ignore: Iterable[str] = (),
    extend_select: Iterable[str] = (),
) -> list[Rule]:
    """The rules chosen by ``select`` + ``extend_select`` minus ``ignore``, sorted by code.

    A selector is ``ALL``, a code prefix (``UNT``, ``UNT00``, ``UNT001``) or a rule
    name. A selector that matches nothing raises :class:`SelectionError`.
    """
    pool = list(rules)
    chosen: dict[str, Rule] = {}
    for selector in [*select, *extend_select]:
        hits = [r for r in pool if _matches(selector, r)]
        if not hits:
            raise SelectionError(f"selector {selector!r} matches no rule")
        chosen.update((r.code, r) for r in hits)
    for selector in ignore:
        hits = [r for r in pool if _matches(selector, r)]
        if not hits:
            raise SelectionError(f"ignore selector {selector!r} matches no rule")
        for r in hits:
            chosen.pop(r.code, None)
    return [chosen[k] for k in sorted(chosen)]


def rule_record(rule: Rule) -> dict[str, object]:
    """A rule's metadata as JSON-ready data (``claimscrub rules``, ``rule`` and the HTTP API)."""
    return {
        "code": rule.code,
        "name": rule.name,
        "category": rule.category,
        "category_title": CATEGORIES[rule.category],
        "summary": rule.summary,
        "severity": rule.severity.value,
        "confidence": rule.confidence.value,
        "carc": rule.carc,
        "rarc": list(rule.rarc),
        "fix": rule.fix.value,
        "scope": rule.scope,
        "requires": list(rule.requires),
        "inputs": list(rule.inputs),
        "options": dict(rule.options),
        "since": rule.since,
        "preview": rule.preview,
        "source": rule.source,
    }
