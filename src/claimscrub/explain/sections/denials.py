"""Section 5, *Common denial reasons*: every rule that can fire on the code.

Rules whose scope depends on the code come first, one statement each: what the rule finds
(its docstring's first line), the payer's most likely answer (CARC / RARC, in our words),
under which packs, its severity there, and how to avoid it. Checks that hold for any line
(NDC format, duplicates, diagnosis format ...) follow in a compact group.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from claimscrub.explain.sections.common import option_text, payer_answer, under
from claimscrub.explain.statements import rule_source
from claimscrub.refdata import curated

if TYPE_CHECKING:
    from claimscrub.explain.builder import Context
    from claimscrub.explain.scope import Applicable


_ORIGINAL_MEDICARE = ("dme_mac", "ab_mac")


def _medicare_answer(ctx: Context, item: Applicable) -> tuple[str, list[str]] | None:
    """Original Medicare's (CARC, RARCs) (``medicare_answer`` of the rule's scope entry)
    when every pack the rule fires under here is Original Medicare; else None."""
    spec = item.entry.medicare_answer
    if not spec or not item.packs:
        return None
    contractors = {ctx.pack(name).settings_on(ctx.on).get("contractor") for name in item.packs}
    if not contractors <= set(_ORIGINAL_MEDICARE):
        return None
    documents = curated.medicare_coverage_documents()
    kinds = documents.filter(documents["hcpcs"] == ctx.code)["coverage"].to_list()
    by_kind = spec.get("rarc") or {}
    return str(spec["carc"]), [by_kind[kind] for kind in kinds[:1] if kind in by_kind]


def denials(ctx: Context) -> list[dict[str, Any]]:
    """One statement per rule that can fire on the code."""
    out: list[dict[str, Any]] = []
    specific = [a for a in ctx.applicable if not a.entry.general]
    general = [a for a in ctx.applicable if a.entry.general]
    for item in [*specific, *general]:
        rule = item.rule
        severities = sorted(set(item.severity.values()))
        severity = "/".join(severities)
        avoid = option_text(item.entry.avoid, rule)
        where = under(ctx, item.packs)
        medicare = _medicare_answer(ctx, item)
        carc, rarcs = medicare if medicare else (rule.carc, list(rule.rarc))
        if item.entry.general:
            text = f"{rule.code} {rule.name} ({severity}{where}): {rule.summary} Avoid: {avoid}"
        else:
            note = f" ({item.entry.answer_note})" if item.entry.answer_note and not medicare else ""
            text = (
                f"{rule.code} {rule.name} ({severity}{where}): {rule.summary} "
                f"Payer answer: {payer_answer(rule, carc, rarcs)}{note}. Avoid: {avoid}"
            )
        out.append(
            ctx.say(
                text,
                rule_source(rule),
                group="Checks on every line" if item.entry.general else "Specific to this code",
                kind="rule",
                rule=rule.code,
                name=rule.name,
                severity=severity,
                carc=carc,
                rarc=rarcs,
                packs=list(item.packs),
                avoid=avoid,
            )
        )
    return out
