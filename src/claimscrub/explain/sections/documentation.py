"""Section 4, *Documentation requirements*: the checklist assembled from the rules.

For every field that a rule able to fire on the code needs (``requires`` in
``rule_scope.yaml``) or checks when given (``checks``), one item: what it is, where it goes
in each claim format (``model/schema.py``) and which rules read it under which packs. The
payer packs add their figures (days' supply limit, prior authorisation criteria), the curated
benefit facts add the accepted places of service, and, under a pack with the Medicare
immunosuppressive drug benefit, the records the supplier keeps (rules.md section 9).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from claimscrub.explain.scope import field_labels, in_pack_list
from claimscrub.explain.sections.common import join_words, under
from claimscrub.explain.statements import (
    curated_source,
    curated_text_source,
    pack_source,
    release_source,
    rule_source,
)
from claimscrub.model.schema import CLAIM_FIELDS, LINE_FIELDS
from claimscrub.refdata import curated
from claimscrub.refdata.curated.clinical import clinical as clinical_file

if TYPE_CHECKING:
    from claimscrub.explain.builder import Context
    from claimscrub.explain.scope import Applicable

_GROUP_REQUIRED = "On the claim"
_GROUP_CHECKED = "Checked when reported"


def _first_upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def where_it_goes(name: str) -> str:
    """'837P 2410 LIN03; JSON lines[].ndc; CSV ndc' for a canonical column."""
    spec = next((f for f in (*LINE_FIELDS, *CLAIM_FIELDS) if f.name == name), None)
    if spec is None:
        return ""
    parts = []
    if spec.x12_837p:
        parts.append(f"837P {spec.x12_837p}")
    if spec.x12_837i and spec.x12_837i != spec.x12_837p:
        parts.append(f"837I {spec.x12_837i}")
    if spec.json:
        parts.append(f"JSON {spec.json}")
    if spec.csv:
        parts.append(f"CSV {spec.csv}")
    return "; ".join(parts)


def _rules_text(ctx: Context, items: list[Applicable]) -> str:
    """'NDC001 (medicaid, commercial), COD003 and UNT001': each rule with its packs when not all."""

    def one(item: Applicable) -> str:
        where = under(ctx, item.packs).replace(" under ", "", 1)
        return f"{item.rule.code} ({where})" if where else item.rule.code

    return join_words([one(a) for a in items])


def _packs_of(items: list[Applicable]) -> list[str]:
    return list(dict.fromkeys(p for a in items for p in a.packs))


def _extras(ctx: Context, name: str, packs: list[str]) -> tuple[str, list[dict[str, Any]]]:
    """A sentence of figures for the field, and its sources."""
    if name == "days_supply":
        limits = []
        for pack_name in packs:
            pack = ctx.pack(pack_name)
            days = pack.settings_on(ctx.on).get("max_days_supply")
            if days is not None:
                limits.append((pack, days))
        if limits:
            text = " Limit on {}: {}.".format(
                ctx.on.isoformat(),
                join_words([f"{days} days ({pack.name})" for pack, days in limits]),
            )
            return text, [pack_source(pack) for pack, _ in limits]
    if name == "place_of_service" and ctx.applicable_rule("MCR009"):
        facts = curated.medicare_benefit()["dme_places_of_service"]
        accepted, snf = list(facts["accepted"]), list(facts["accepted_unless_part_a_snf_stay"])
        pos = ctx.refdata.table("pos", ctx.refdata.select_release("pos", ctx.on)[0].release)
        names = {row["pos_code"]: row["pos_name"] for row in pos.to_dicts()}

        def named(codes: list[str]) -> str:
            return ", ".join(f"{c} {names[c]}" if c in names else c for c in codes)

        rule = ctx.applicable_rule("MCR009")
        assert rule is not None
        text = (
            f" The DME MAC accepts{under(ctx, rule.packs)}: {named(accepted)}; "
            f"{named(snf)} only outside a Part A-covered SNF stay."
        )
        return text, [
            curated_text_source(facts["source"]),
            release_source(ctx.refdata, "pos", ctx.on),
        ]
    if name == "prior_authorization":
        found = []
        for pack_name in packs:
            pack = ctx.pack(pack_name)
            for entry in in_pack_list(pack, "prior_authorization", ctx.code):
                found.append((pack, entry))
        if found:
            text = " " + " ".join(
                f"{pack.name}: {entry.get('reason') or 'prior authorisation required'}."
                for pack, entry in found
            )
            return text, [pack_source(pack) for pack, _ in found]
    return "", []


def documentation(ctx: Context) -> list[dict[str, Any]]:
    """The documentation checklist of the code on the date, per pack."""
    out: list[dict[str, Any]] = []
    cod001 = ctx.rules.get("COD001")
    if ctx.traits.status != "valid" and cod001 is not None:
        out.append(
            ctx.say(
                f"On {ctx.on.isoformat()} the code is {str(ctx.traits.status).replace('_', ' ')}: "
                "a line dated then is refused whatever it carries; bill the code that describes "
                "the product on that date (see Similar codes).",
                rule_source(cod001),
                group=_GROUP_REQUIRED,
                kind="not_billable",
            )
        )
    labels = field_labels()
    for name, label in labels.items():
        requiring = [a for a in ctx.applicable if name in a.entry.requires]
        checking = [
            a for a in ctx.applicable if name in a.entry.checks and name not in a.entry.requires
        ]
        if not requiring and not checking:
            continue
        where = where_it_goes(name)
        where_text = f" [{where}]" if where else ""
        items = requiring or checking
        packs = _packs_of(items)
        extra, extra_sources = _extras(ctx, name, packs)
        if requiring:
            text = f"{_first_upper(label)}{where_text}: needed by {_rules_text(ctx, requiring)}."
            if checking:
                text += f" Also checked by {_rules_text(ctx, checking)}."
        else:
            text = f"{_first_upper(label)}{where_text}: checked by {_rules_text(ctx, checking)}."
        all_items = requiring + checking
        out.append(
            ctx.say(
                text + extra,
                rule_source(items[0].rule),
                also=[*(rule_source(a.rule) for a in all_items[1:]), *extra_sources],
                group=_GROUP_REQUIRED if requiring else _GROUP_CHECKED,
                kind="field",
                field=name,
                packs=packs,
                rules=[a.rule.code for a in all_items],
            )
        )
    for item in ctx.applicable:
        for spec in item.entry.modifiers:
            if spec["role"] not in ("required", "one_of_required"):
                continue
            mods = join_words(list(spec.get("modifiers", ())), "or")
            out.append(
                ctx.say(
                    f"Modifier {mods} on the line{under(ctx, item.packs)} ({item.rule.code}; see "
                    "Common modifiers).",
                    rule_source(item.rule),
                    group=_GROUP_REQUIRED,
                    kind="modifier",
                    packs=list(item.packs),
                )
            )
    benefit_packs = [
        p.name for p in ctx.packs if p.settings_on(ctx.on).get("medicare_immunosuppressive_benefit")
    ]
    if benefit_packs and "benefit_line" in ctx.traits.flags:
        where = under(ctx, benefit_packs)
        for record in clinical_file()["supplier_records"]:
            out.append(
                ctx.say(
                    record["text"],
                    curated_source(record["source"]),
                    also=[pack_source(ctx.pack(name)) for name in benefit_packs],
                    group=f"Records the supplier keeps{where}",
                    kind="record",
                    packs=benefit_packs,
                )
            )
    return out
