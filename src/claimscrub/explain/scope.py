"""Which rules of the catalogue can fire on a code, under which payer packs, on a date.

The registry gives each rule's code, name, severity, CARC/RARC, options, docstring and
inputs; what it does not give is *which codes* a rule looks at, because every rule decides
that from data at run time. ``rule_scope.yaml`` states it declaratively in the vocabulary
of :mod:`claimscrub.explain.traits` (code traits) and of the payer packs (settings in
force on the date, list settings), and this module evaluates it for one code.

The statement is "can fire": a rule whose scope holds reports the line when the line's
other facts are wrong (a missing NDC, an uncovered organ...). A test runs every failing
case of the rule case files and checks that its rule is in scope for the case's code and
pack, so the file cannot be narrower than the rules.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from claimscrub.explain.traits import CodeTraits
    from claimscrub.payers.packs import Pack
    from claimscrub.rules.registry import Rule

SCOPE_FILE = Path(__file__).parent / "rule_scope.yaml"
WHEN_KEYS = (
    "code",
    "code_not",
    "code_not_when_option",
    "pack",
    "pack_list",
    "mue_mai",
    "claim_types_option",
    "institutional_si_option",
)
PACK_LISTS = (
    "prior_authorization",
    "step_therapy",
    "quantity_limits",
    "non_preferred",
    "excluded_products",
)
MODIFIER_ROLES = (
    "required",
    "one_of_required",
    "forbidden_when_criteria_fail",
    "expects_denial",
    "liability",
    "not_applicable",
    "conflicts",
    "not_on_drug_lines",
    "valid_on_date",
)
CLAIM_TYPES = ("professional", "institutional")


class ScopeError(ValueError):
    """``rule_scope.yaml`` is inconsistent; the message names the entry."""


@dataclass(frozen=True)
class ScopeEntry:
    """What ``rule_scope.yaml`` says about one rule."""

    code: str
    when: tuple[Mapping[str, Any], ...] | None  # None: never fires on a listed code
    never: str | None
    general: bool
    requires: tuple[str, ...]
    checks: tuple[str, ...]
    modifiers: tuple[Mapping[str, Any], ...]
    avoid: str
    answer_note: str | None = None  # when the payer's answer depends on the payer
    # Original Medicare's answer when it differs from the rule's: {carc, rarc?}; rarc maps
    # the code's curated Medicare coverage document (lcd / ncd) to a remark code.
    medicare_answer: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Applicable:
    """A rule that can fire on the code: under which packs, with which severity there."""

    rule: Rule
    entry: ScopeEntry
    packs: tuple[str, ...]
    severity: Mapping[str, str]  # pack -> severity (the pack's override or the rule's)

    @property
    def code(self) -> str:
        """The rule code."""
        return self.rule.code


@cache
def scope_file() -> dict[str, Any]:
    """The raw ``rule_scope.yaml`` (``fields`` and ``rules``)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(SCOPE_FILE.read_text(encoding="utf-8"), Loader=loader)  # type: ignore[no-any-return]  # noqa: S506


@cache
def scope_entries() -> dict[str, ScopeEntry]:
    """Every entry of ``rule_scope.yaml`` by rule code (shape-checked)."""
    out: dict[str, ScopeEntry] = {}
    for code, raw in scope_file()["rules"].items():
        where = f"{SCOPE_FILE.name}: rules.{code}"
        if "never" in raw:
            when = None
        else:
            spec = raw.get("when")
            if spec is None:
                raise ScopeError(f"{where}: needs `when` or `never`")
            when = tuple(spec) if isinstance(spec, list) else (spec,)
            for alt in when:
                unknown = sorted(set(alt) - set(WHEN_KEYS))
                if unknown:
                    raise ScopeError(f"{where}: unknown condition {unknown[0]!r}")
                if alt.get("pack_list") not in (None, *PACK_LISTS):
                    raise ScopeError(f"{where}: unknown pack list {alt['pack_list']!r}")
        modifiers = tuple(raw.get("modifiers") or ())
        for item in modifiers:
            if item.get("role") not in MODIFIER_ROLES:
                raise ScopeError(f"{where}: unknown modifier role {item.get('role')!r}")
        if not raw.get("avoid"):
            raise ScopeError(f"{where}: needs `avoid`")
        out[code] = ScopeEntry(
            code=code,
            when=when,
            never=raw.get("never"),
            general=bool(raw.get("general", False)),
            requires=tuple(raw.get("requires") or ()),
            checks=tuple(raw.get("checks") or ()),
            modifiers=modifiers,
            avoid=str(raw["avoid"]),
            answer_note=raw.get("answer_note"),
            medicare_answer=raw.get("medicare_answer"),
        )
    return out


def field_labels() -> dict[str, str]:
    """Canonical column -> the label the documentation checklist uses."""
    return {name: str(spec["label"]) for name, spec in scope_file()["fields"].items()}


def pack_claim_types(pack: Pack) -> frozenset[str]:
    """The claim types a pack is the default for (every type when it names none)."""
    types: set[str] = set()
    for match in pack.default_for:
        if "claim_type" not in match:
            return frozenset(CLAIM_TYPES)
        types.add(str(match["claim_type"]))
    return frozenset(types) if types else frozenset(CLAIM_TYPES)


def _setting_holds(value: Any, wanted: Any) -> bool:
    if wanted == "set":
        return value is not None
    if isinstance(wanted, list):
        return value in wanted
    return bool(value == wanted)


def in_pack_list(pack: Pack, name: str, code: str) -> list[Mapping[str, Any]]:
    """The entries of a pack's list setting that name ``code`` (``non_preferred``: false ones)."""
    if name == "non_preferred":
        return [
            e
            for e in pack.settings.get("preferred_products") or []
            if e.get("hcpcs") == code and e.get("preferred") is False
        ]
    if name == "excluded_products":
        # An entry naming only an NDC can match a line of any code (whatever code the
        # NDC is billed under), so it is listed for every code.
        return [e for e in pack.settings.get(name) or [] if e.get("hcpcs") in (None, code)]
    return [e for e in pack.settings.get(name) or [] if e.get("hcpcs") == code]


def _alternative_holds(
    alt: Mapping[str, Any], rule: Rule, traits: CodeTraits, pack: Pack, on: dt.date
) -> bool:
    if not traits.has(*alt.get("code", ())):
        return False
    if any(name in traits.flags for name in alt.get("code_not", ())):
        return False
    for name, option in (alt.get("code_not_when_option") or {}).items():
        if rule.options.get(option) and name in traits.flags:
            return False
    settings = pack.settings_on(on)
    for name, wanted in (alt.get("pack") or {}).items():
        if not _setting_holds(settings.get(name), wanted):
            return False
    listed = alt.get("pack_list")
    if listed is not None and not in_pack_list(pack, listed, traits.code):
        option_entries = rule.options.get(listed) or [] if listed == "quantity_limits" else []
        if not any(
            e.get("hcpcs") == traits.code and e.get("pack") in (None, pack.name)
            for e in option_entries
        ):
            return False
    mai = alt.get("mue_mai")
    if mai is not None:
        row = traits.mue.get(settings.get("mue_service_type") or "")
        if row is None or not (row["mue_value"] or 0) > 0 or row["mai"] not in mai:
            return False
        if not rule.options.get("apply_outside_release_window", True) and not traits.mue_in_force:
            return False
    option = alt.get("claim_types_option")
    if option is not None and not pack_claim_types(pack) & set(rule.options[option]):
        return False
    option = alt.get("institutional_si_option")
    if option is not None and pack_claim_types(pack) == {"institutional"}:
        return traits.opps_status_indicator in set(rule.options[option])
    return True


def _ignored(pack: Pack, rule: Rule) -> bool:
    for selector in pack.rules.get("ignore") or []:
        s = str(selector).strip()
        if s.upper() == "ALL" or rule.code.startswith(s.upper()) or rule.name == s.lower():
            return True
    return False


def applies_under(
    entry: ScopeEntry, rule: Rule, traits: CodeTraits, pack: Pack, on: dt.date
) -> bool:
    """True when ``rule`` can fire on the code of ``traits`` under ``pack`` on ``on``."""
    if entry.when is None or _ignored(pack, rule):
        return False
    return any(_alternative_holds(alt, rule, traits, pack, on) for alt in entry.when)


def _survives_gate(rule: Rule, traits: CodeTraits) -> bool:
    """False for a line finding that the engine drops when the code is invalid on the date.

    A gate rule (COD001) that finds the code itself wrong replaces the findings of the
    rules that assume the code is right; checks independent of the code (NDC format) and
    claim-level findings stay (``engine/evaluate.py``, ``_apply_gates``).
    """
    if "valid" in traits.flags:
        return True
    return rule.gates_line or not rule.depends_on_code or rule.scope == "claim"


def applicable_rules(
    rules: Mapping[str, Rule], traits: CodeTraits, packs: Sequence[Pack], on: dt.date
) -> list[Applicable]:
    """The rules that can fire on the code under at least one of ``packs``, by rule code.

    On a date the code is not valid, only what survives the code gate is kept.

    Raises :class:`ScopeError` when a registered rule has no entry in ``rule_scope.yaml``
    (a new rule must say which codes it looks at).
    """
    entries = scope_entries()
    missing = sorted(set(rules) - set(entries))
    if missing:
        raise ScopeError(f"{SCOPE_FILE.name}: no entry for rule(s) {', '.join(missing)}")
    out = []
    for code in sorted(rules):
        rule, entry = rules[code], entries[code]
        if not _survives_gate(rule, traits):
            continue
        under = tuple(p.name for p in packs if applies_under(entry, rule, traits, p, on))
        if under:
            severity = {
                name: str(
                    next(p for p in packs if p.name == name).rules.get("severity", {}).get(code)
                    or rule.severity.value
                )
                for name in under
            }
            out.append(Applicable(rule, entry, under, severity))
    return out
