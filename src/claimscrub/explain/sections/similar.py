"""Section 7, *Similar codes*: related codes, replacements, NOC alternatives and the NDCs.

Related codes are :meth:`RefData.related_codes` (same ingredient, same first four
characters, XREF links), each described as of the date. Replacements of terminated codes and
the not-otherwise-classified / compounded alternatives are curated (with sources), their
descriptors and validity read from the HCPCS data. The NDCs are the CMS NDC–HCPCS crosswalk
release used for the date: labeler, the name the product is listed under, package and the
strength per item derived from the billing units per item.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from claimscrub.explain.facts import jsonable
from claimscrub.explain.statements import curated_source, refdata_source
from claimscrub.refdata.curated.clinical import clinical as clinical_file

if TYPE_CHECKING:
    from claimscrub.explain.builder import Context

_RELATION = {
    "same_ingredient": "Same ingredient, other route, form or unit",
    "xref_successor": "Successor (CMS cross-reference)",
    "xref_predecessor": "Predecessor (CMS cross-reference)",
    "xref": "CMS cross-reference",
    "same_family": "Same code family",
}
_CHECK_NOTE = {
    "agree_rounded": "CMS rounded the per-NDC units up",
    "conflict": "the two CMS billing-unit figures disagree; per-item units from the package figure",
    "not_determinable": "a package figure is missing or zero",
    "ambiguous": "PKG SIZE and PKG QTY are both above one for an oral package, so the units "
    "per tablet or capsule follow from its strength, not from these figures",
}


def _decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _related(ctx: Context) -> list[dict[str, Any]]:
    out = []
    order = list(_RELATION)
    for rel in sorted(ctx.doc["related"], key=lambda r: (order.index(r["relation"]), r["code"])):
        status = (rel["status"] or "unknown").replace("_", " ")
        described = rel["long_description"] or "not in the installed HCPCS releases"
        # "per 5 mg" / "up to 125 mg" as HCPCS words them: "1 unit = 5 mg", "1 unit = up to 125 mg"
        unit = (rel["unit_text"] or "").removeprefix("per ")
        facts = [f"1 unit = {unit}"] if unit else []
        if rel["route"]:
            facts.append(f"route {rel['route']}")
        tail = f" ({'; '.join(facts)})" if facts else ""
        src = (
            refdata_source(rel["source"])
            if rel["source"]
            else refdata_source(ctx.doc["descriptor"]["source"])
        )
        out.append(
            ctx.say(
                f"{rel['code']}: {described}{tail} — status on {ctx.on.isoformat()}: {status}.",
                src,
                group=_RELATION[rel["relation"]],
                kind="related",
                codes=[rel["code"]],
                relation=rel["relation"],
            )
        )
    return out


def _ratio(ctx: Context, old: str, new: str) -> str:
    """'One J7506 unit (per 5 mg) is 5 J7512 units (1 mg).' when both units are of one kind."""
    x, y = ctx.book.get(old), ctx.book.get(new)
    if not x or not y:
        return ""
    amount_x, amount_y = _decimal(x.get("unit_amount")), _decimal(y.get("unit_amount"))
    if x.get("unit_uom") and x.get("unit_uom") == y.get("unit_uom") and amount_x and amount_y:
        ratio = (amount_x / amount_y).normalize()
        return (
            f" One {old} unit ({x['unit_text']}) is {format(ratio, 'f')} {new} units "
            f"({y['unit_text']})."
        )
    return ""


def _replacements(ctx: Context) -> list[dict[str, Any]]:
    out = []
    for entry in clinical_file()["replacements"]:
        old, new = entry["old"], entry.get("new")
        if ctx.code not in (old, new):
            continue
        ctx.book.prefetch([c for c in (old, new) if c])
        note = f" {entry['note']}" if entry.get("note") else ""
        if ctx.code == old and new:
            text = f"Replaced by {ctx.book.label(new)}.{_ratio(ctx, old, new)}{note}"
        elif ctx.code == old:
            text = f"{old} has no successor code.{note}"
        else:
            text = f"Replaces {ctx.book.label(old)}.{_ratio(ctx, old, new)}{note}"
        codes = [c for c in (old, new) if c]
        out.append(
            ctx.say(
                text,
                curated_source(entry["source"]),
                also=ctx.book.sources_for(codes),
                group="Replacements",
                kind="replacement",
                codes=codes,
            )
        )
    return out


def _alternatives(ctx: Context) -> list[dict[str, Any]]:
    out = []
    entries = [
        e
        for e in clinical_file()["alternatives"]
        if e["hcpcs"] != ctx.code and e["when"] in ctx.traits.flags
    ]
    ctx.book.prefetch(e["hcpcs"] for e in entries)
    for entry in entries:
        out.append(
            ctx.say(
                f"{ctx.book.label(entry['hcpcs'])}: {entry['text']}",
                curated_source(entry["source"]),
                also=ctx.book.sources_for([entry["hcpcs"]]),
                group="Not otherwise classified and compounded",
                kind="alternative",
                codes=[entry["hcpcs"]],
            )
        )
    return out


def _ndcs(ctx: Context) -> list[dict[str, Any]]:
    block = ctx.doc["ndcs"]
    src = refdata_source(block["source"])
    items = block["items"]
    group = "NDCs on the CMS NDC-HCPCS crosswalk"
    if not items:
        return [
            ctx.say(
                f"No NDC is listed under {ctx.code} on the crosswalk release {src['release']}.",
                src,
                group=group,
                kind="ndc",
            )
        ]
    unit = ctx.doc["unit"]
    amount = _decimal(unit["amount"])
    ingredient = (unit["ingredient"] or "").lower()
    out = []
    for item in items:
        name = item["drug_name"] or "unnamed"
        lowered = name.lower()
        kind = (
            "listed under the ingredient name"
            if ingredient and (ingredient in lowered or lowered in ingredient)
            else "listed under a brand name"
        )
        per_item = _decimal(item["units_per_item"])
        strength = ""
        if per_item is not None and amount is not None and unit["uom"]:
            # CMS's PKG SIZE counts tablets, capsules, mL or vials: "per item" alone reads
            # as per vial, which for a 4 mL vial would be a quarter of it.
            value = (per_item * amount).normalize()
            strength = (
                f"; {format(value, 'f')} {unit['uom']} ({jsonable(item['units_per_item'])} "
                "units) per tablet, capsule, mL or vial counted in the package size"
            )
        package = (
            f"package {jsonable(item['pkg_size'])} x {jsonable(item['pkg_qty'])} "
            "(PKG SIZE x PKG QTY)"
        )
        units = f"{jsonable(item['bill_units_per_ndc'])} units per NDC"
        if item.get("bill_units_per_pkg_item") is not None:
            units += f", {jsonable(item['bill_units_per_pkg_item'])} per package"
        note = _CHECK_NOTE.get(item["units_check"] or "")
        note_text = f"; note: {note}" if note else ""
        out.append(
            ctx.say(
                f"{item['ndc']} ({item['ndc11']}): {name}, {item['labeler']} ({kind}); "
                f"{package}, {units}{strength}{note_text}.",
                src,
                group=group,
                kind="ndc",
                data=item,
            )
        )
    return out


def similar(ctx: Context) -> list[dict[str, Any]]:
    """Related codes, replacements, alternatives and crosswalked NDCs."""
    return _related(ctx) + _replacements(ctx) + _alternatives(ctx) + _ndcs(ctx)
