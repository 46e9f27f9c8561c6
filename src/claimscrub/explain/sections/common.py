"""Small wording helpers shared by the section builders."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from claimscrub.refdata import curated

if TYPE_CHECKING:
    from claimscrub.explain.builder import Context
    from claimscrub.rules.registry import Rule


def payer_answer(rule: Rule, carc: str | None = None, rarcs: Sequence[str] | None = None) -> str:
    """'CO-50 (the payer ...: not covered because ...) + RARC M119 (...)' in our words;
    ``carc`` / ``rarcs`` replace the rule's own when given."""
    carc = carc or rule.carc
    if not carc:
        return "no payer answer (an information finding)"
    meanings = curated.denial_code_meanings()
    group, _, reason = carc.partition("-")
    group_text = meanings["groups"].get(group, group).split(" - ")[0]
    reason_text = meanings["carc"].get(reason, f"reason {reason}")
    parts = [f"{carc} ({group_text}: {reason_text})"]
    for rarc in rule.rarc if rarcs is None else rarcs:
        meaning = meanings["rarc"].get(rarc)
        parts.append(f"{rarc} ({meaning})" if meaning else rarc)
    return " + ".join(parts)


def answer_codes(rule: Rule) -> str:
    """'CO-16 + M119' (or '' for a rule without a payer answer)."""
    return " + ".join([rule.carc, *rule.rarc]) if rule.carc else ""


def under(ctx: Context, packs: Sequence[str]) -> str:
    """' under medicare-dme' when the statement holds for some selected packs only."""
    if not packs or len(packs) == len(ctx.packs):
        return ""
    return " under " + ", ".join(packs)


def join_words(items: Sequence[str], last: str = "and") -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


def option_text(text: str, rule: Rule) -> str:
    """``text`` with ``{option}`` names filled from the rule's options."""
    try:
        return text.format(
            **{k: v for k, v in rule.options.items() if not isinstance(v, list | dict)}
        )
    except (KeyError, IndexError, ValueError):
        return text


def coded(item: dict[str, Any] | None) -> str:
    """'D (special coverage instructions apply)' for a code with its manifest meaning."""
    if item is None:
        return "-"
    return f"{item['code']} ({item['meaning']})" if item.get("meaning") else str(item["code"])
