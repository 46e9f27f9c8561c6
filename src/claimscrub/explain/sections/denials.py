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

if TYPE_CHECKING:
    from claimscrub.explain.builder import Context


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
        if item.entry.general:
            text = f"{rule.code} {rule.name} ({severity}{where}): {rule.summary} Avoid: {avoid}"
        else:
            note = f" ({item.entry.answer_note})" if item.entry.answer_note else ""
            text = (
                f"{rule.code} {rule.name} ({severity}{where}): {rule.summary} "
                f"Payer answer: {payer_answer(rule)}{note}. Avoid: {avoid}"
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
                carc=rule.carc,
                rarc=list(rule.rarc),
                packs=list(item.packs),
                avoid=avoid,
            )
        )
    return out
