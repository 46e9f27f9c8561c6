"""Section 3, *Common modifiers*: what the rules that can fire on the code say about modifiers.

Each rule's modifier roles are in ``rule_scope.yaml``; the lists of contradicting pairs and
of modifiers that never apply to drug lines are the curated ones the MOD rules read; the
meaning of every modifier is the CMS HCPCS modifier record valid on the date.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from claimscrub.explain.sections.common import answer_codes, join_words, under
from claimscrub.explain.statements import curated_text_source, rule_source
from claimscrub.refdata import curated

if TYPE_CHECKING:
    from claimscrub.explain.builder import Context


def _meaning(ctx: Context, modifier: str) -> str:
    row = ctx.book.get(modifier)
    if row is None:
        return modifier
    return f"{modifier} ({row['long_description']}{ctx.book.validity_note(modifier)})"


def _expected_denials(ctx: Context, pairs: list[tuple[Any, Any]]) -> list[dict[str, Any]]:
    """One statement per modifier that asks for a denial, naming each rule's treatment."""
    out = []
    mods = list(dict.fromkeys(m for _, spec in pairs for m in spec.get("modifiers", ())))
    for mod in mods:
        mine = [(a, s) for a, s in pairs if mod in s.get("modifiers", ())]
        parts = [f"{a.rule.code}{under(ctx, a.packs)}: {s.get('note', '')}" for a, s in mine]
        packs = list(dict.fromkeys(p for a, _ in mine for p in a.packs))
        out.append(
            ctx.say(
                f"{_meaning(ctx, mod)} tells the payer a denial is expected. "
                + "; ".join(parts)
                + ".",
                rule_source(mine[0][0].rule),
                also=[*(rule_source(a.rule) for a, _ in mine[1:]), ctx.book.source(mod)],
                group="Expected denials",
                rule=mine[0][0].rule.code,
                rules=[a.rule.code for a, _ in mine],
                packs=packs,
                modifiers=[mod],
                role="expects_denial",
            )
        )
    return out


def modifiers(ctx: Context) -> list[dict[str, Any]]:
    """Required, conflicting and inapplicable modifiers for the code, per pack."""
    roles = [(a, m) for a in ctx.applicable for m in a.entry.modifiers]
    named = {mod for _, m in roles for mod in m.get("modifiers", ())}
    conflicts = curated.modifier_conflicts().to_dicts()
    groups = curated.drug_line_modifiers_not_applicable().to_dicts()
    named |= {row["first"] for row in conflicts} | {row["second"] for row in conflicts}
    ctx.book.prefetch(named | {row["modifier"] for row in groups})

    out: list[dict[str, Any]] = []
    order = (
        "required",
        "one_of_required",
        "forbidden_when_criteria_fail",
        "liability",
        "expects_denial",
        "not_applicable",
        "conflicts",
        "not_on_drug_lines",
        "valid_on_date",
    )
    for role in order:
        if role == "expects_denial":
            out += _expected_denials(ctx, [(a, m) for a, m in roles if m["role"] == role])
            continue
        for item, spec in ((a, m) for a, m in roles if m["role"] == role):
            rule = item.rule
            mods = list(spec.get("modifiers", ()))
            where = under(ctx, item.packs)
            note = f", {spec['note']}" if spec.get("note") else ""
            answer = answer_codes(rule)
            src = rule_source(rule)
            also = [ctx.book.source(m) for m in mods]
            extra = {"rule": rule.code, "packs": list(item.packs), "modifiers": mods, "role": role}
            if role == "required":
                text = (
                    f"{join_words([_meaning(ctx, m) for m in mods])} is required{where}{note}. "
                    f"Without it: {answer} ({rule.code})."
                )
                out.append(ctx.say(text, src, also=also, group="Required", **extra))
            elif role == "one_of_required":
                verified = (ctx.traits.single_dose or {}).get("verified", True)
                caveat = (
                    " The code's single-dose packaging is taken from its label and is not yet "
                    "confirmed against a CMS list."
                    if not verified
                    else ""
                )
                text = (
                    f"{join_words([_meaning(ctx, m) for m in mods], 'or')} is required{where}"
                    f"{note}. Without it: {answer} ({rule.code}).{caveat}"
                )
                out.append(ctx.say(text, src, also=also, group="Required", **extra))
            elif role == "forbidden_when_criteria_fail":
                text = (
                    f"{join_words([_meaning(ctx, m) for m in mods])} must not be used{where}"
                    f"{note}: {answer} ({rule.code})."
                )
                out.append(ctx.say(text, src, also=also, group="Attestation", **extra))
            elif role == "liability":
                text = f"{join_words([_meaning(ctx, m) for m in mods])}{where}{note} ({rule.code})."
                out.append(ctx.say(text, src, also=also, group="Liability", **extra))
            elif role == "expects_denial":
                continue  # merged per modifier below
            elif role == "not_applicable":
                text = (
                    f"{join_words([_meaning(ctx, m) for m in mods], 'or')} does not belong on this "
                    f"line{where}{note}: {answer} ({rule.code})."
                )
                out.append(ctx.say(text, src, also=also, group="Not on this line", **extra))
            elif role == "conflicts":
                for row in conflicts:
                    text = (
                        f"Never together on one line: {_meaning(ctx, row['first'])} and "
                        f"{_meaning(ctx, row['second'])} — {row['reason']}: {answer} "
                        f"({rule.code})."
                    )
                    out.append(
                        ctx.say(
                            text,
                            src,
                            also=[
                                curated_text_source(row["source"]),
                                ctx.book.source(row["first"]),
                            ],
                            group="Conflicting pairs",
                            **{**extra, "modifiers": [row["first"], row["second"]]},
                        )
                    )
            elif role == "not_on_drug_lines":
                for name in dict.fromkeys(row["group"] for row in groups):
                    members = [row for row in groups if row["group"] == name]
                    mods_here = [row["modifier"] for row in members]
                    text = (
                        f"Never on a drug line ({name.replace('_', ' ')}): "
                        f"{', '.join(mods_here)} — {members[0]['reason']}: {answer} ({rule.code})."
                    )
                    out.append(
                        ctx.say(
                            text,
                            src,
                            also=[
                                curated_text_source(members[0]["source"]),
                                ctx.book.source(mods_here[0]),
                            ],
                            group="Not on this line",
                            **{**extra, "modifiers": mods_here},
                        )
                    )
            elif role == "valid_on_date":
                invalid = sorted(m for m in named if ctx.book.validity_note(m))
                state = (
                    f"Not valid on {ctx.on.isoformat()}: {', '.join(invalid)}."
                    if invalid
                    else f"Every modifier named here is valid on {ctx.on.isoformat()}."
                )
                text = (
                    "Every modifier must be valid on the date of service in the CMS HCPCS file "
                    f"(CPT modifiers such as 59 are not checked): {answer} ({rule.code}). {state}"
                )
                out.append(
                    ctx.say(
                        text,
                        src,
                        also=ctx.book.sources_for(sorted(named)),
                        group="Validity",
                        **extra,
                    )
                )
    if not out and ctx.rules:
        gate = ctx.applicable_rule("COD001")
        if gate is not None and "valid" not in ctx.traits.flags:
            text = (
                f"On {ctx.on.isoformat()} the code is "
                f"{str(ctx.traits.status).replace('_', ' ')}: the line is refused "
                f"({answer_codes(gate.rule)}, COD001) whatever its modifiers, and the modifier "
                "rules are not applied to it."
            )
            out.append(ctx.say(text, rule_source(gate.rule), group="Validity"))
        else:
            anchor = ctx.rules.get("MOD001") or next(iter(ctx.rules.values()))
            out.append(
                ctx.say(
                    "No rule of the catalogue requires or forbids a modifier on this code.",
                    rule_source(anchor),
                    group="Required",
                )
            )
    return out
