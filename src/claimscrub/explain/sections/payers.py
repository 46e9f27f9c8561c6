"""Section 6, *Payer considerations*: for each payer policy pack, what changes for the code.

Contractor and the claims the pack is the default for; routing (the RTE rules that refuse
the code at this contractor); the MUE table the pack uses and the code's value there; the
Medicare immunosuppressive drug benefit (covered organs, ESRD 36-month limit, Part B-ID,
days' supply, KX policy, supply fees) from the curated benefit facts; NDC and JW/JZ
requirements; the pack's prior authorisation, step therapy, quantity limits and preferred
products for the code; and the curated payer notes that fit the code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from claimscrub.explain.scope import in_pack_list, pack_claim_types
from claimscrub.explain.sections.common import answer_codes, join_words
from claimscrub.explain.statements import (
    curated_source,
    curated_text_source,
    pack_source,
    refdata_source,
    rule_source,
)
from claimscrub.refdata import curated
from claimscrub.refdata.curated.clinical import clinical as clinical_file

if TYPE_CHECKING:
    from claimscrub.explain.builder import Context
    from claimscrub.payers.packs import Pack

_CONTRACTOR = {
    "dme_mac": "Original Medicare, DME MAC",
    "ab_mac": "Original Medicare, A/B MAC",
    "medicare_advantage": "Medicare Advantage plan",
    "medicaid": "Medicaid",
    "commercial": "commercial plan",
}
_NDC_REQUIRED = {
    "all_drug_lines": "on every drug line",
    "noc_only": "only on not-otherwise-classified drug lines",
    "none": "on no line",
}


def _default_for(pack: Pack) -> str:
    parts = []
    for match in pack.default_for:
        bits = [
            f"{k.replace('_', ' ')} {v if not isinstance(v, list) else ', '.join(v)}"
            for k, v in match.items()
        ]
        parts.append("; ".join(bits))
    return " or ".join(parts)


def _benefit(ctx: Context, pack: Pack, group: str) -> list[dict[str, Any]]:
    """The Medicare immunosuppressive drug benefit facts (curated), for a benefit line."""
    out: list[dict[str, Any]] = []
    src = pack_source(pack)
    facts = curated.facts()
    organs = []
    for entry in facts["covered_organs"]:
        name = entry["organ"].replace("_", " ")
        details = []
        if entry.get("transplanted_from"):
            details.append(f"transplanted from {entry['transplanted_from']}")
        if entry.get("condition"):
            details.append(str(entry["condition"]))
        if details:
            name += f" ({': '.join(details)})"
        organs.append(name)
    not_covered = [e["organ"].replace("_", " ") for e in facts["not_covered_organs"]]
    out.append(
        ctx.say(
            "The Medicare immunosuppressive drug benefit applies: the drug is paid after a covered "
            f"transplant of {join_words(organs)}, done while the patient had Part A; not after "
            f"{join_words(not_covered, 'or')} grafts.",
            curated_text_source(facts["covered_organs"][0]["source"]),
            also=[src],
            group=group,
            pack=pack.name,
        )
    )
    benefit = curated.medicare_benefit()
    esrd, part_b_id = benefit["esrd_only_coverage"], benefit["part_b_id"]
    out.append(
        ctx.say(
            f"When Medicare is due to ESRD only, coverage ends {esrd['months_after_transplant_month']} "
            f"months after the month of the {esrd['organ']} transplant; Part B-ID covers "
            f"immunosuppressive drugs only, from {part_b_id['coverage_from']}.",
            curated_text_source(esrd["source"]),
            also=[src],
            group=group,
            pack=pack.name,
        )
    )
    return out


def _settings(ctx: Context, pack: Pack, group: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    src = pack_source(pack)
    settings = pack.settings_on(ctx.on)
    flags = ctx.traits.flags
    days = settings.get("max_days_supply")
    if days is not None and "benefit_line" in flags:
        out.append(
            ctx.say(
                f"At most a {days}-day supply per dispense on {ctx.on.isoformat()}.",
                src,
                group=group,
                pack=pack.name,
            )
        )
    kx = settings.get("kx_policy")
    if kx and kx != "never" and "benefit_line" in flags:
        out.append(
            ctx.say(
                f"KX policy: {kx.replace('_', ' ')} (see Common modifiers).",
                src,
                group=group,
                pack=pack.name,
            )
        )
    if settings.get("supply_fees") and ("benefit_line" in flags or "supply_fee" in flags):
        fees = curated.supply_fees().to_dicts()
        ctx.book.prefetch(f["hcpcs"] for f in fees)
        out.append(
            ctx.say(
                "Pharmacy supply fees are payable with the drug: "
                + join_words([ctx.book.label(f["hcpcs"]) for f in fees])
                + ".",
                src,
                also=[
                    curated_text_source(fees[0]["source"]),
                    *ctx.book.sources_for([f["hcpcs"] for f in fees]),
                ],
                group=group,
                pack=pack.name,
            )
        )
    if "drug" in flags:
        required = settings.get("ndc_required")
        text = f"NDC with quantity and unit required {_NDC_REQUIRED.get(required, required)}"
        if required == "noc_only" and "noc" not in flags:
            text += ", so not on this code"
        if settings.get("ndc_unit_me_accepted") is False:
            text += "; ME (milligram) is refused as the NDC unit"
        out.append(ctx.say(text + ".", src, group=group, pack=pack.name))
    jw_jz = _jw_jz_text(ctx, pack, flags) if settings.get("jw_jz_required") else None
    if jw_jz:
        out.append(ctx.say(jw_jz, src, group=group, pack=pack.name))
    return out


def _jw_jz_text(ctx: Context, pack: Pack, flags: Any) -> str | None:
    """What a pack that requires JW/JZ means for this code, or None when nothing."""
    on = ctx.on.isoformat()
    single_dose, injected = "single_dose_container" in flags, "injected" in flags
    si = ctx.traits.opps_status_indicator
    # MOD004's option names the status indicators OPPS pays separately (K, G by default).
    paid = ctx.rules["MOD004"].options.get("separately_payable_status_indicators", [])
    if (single_dose or injected) and pack_claim_types(pack) == {"institutional"} and si not in paid:
        return (
            f"JW or JZ not needed on {on}: OPPS does not pay the code separately (status "
            f"indicator {si or 'none'}), so no discarded amount is paid."
        )
    if single_dose:
        return f"JW or JZ required on single-dose-container drug lines on {on}."
    if injected:
        return (
            f"JW or JZ required on {on} if the product comes in single-dose containers (the "
            "bundled CMS files do not say whether it does)."
        )
    return None


def _lists(ctx: Context, pack: Pack, group: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    src = pack_source(pack)
    for entry in in_pack_list(pack, "prior_authorization", ctx.code):
        organs = f" (criteria cover: {', '.join(entry['organs'])})" if entry.get("organs") else ""
        out.append(
            ctx.say(
                f"Prior authorisation required: {entry.get('reason', '')}{organs}.",
                src,
                group=group,
                pack=pack.name,
                kind="prior_authorization",
            )
        )
    for entry in in_pack_list(pack, "step_therapy", ctx.code):
        first = list(entry.get("after") or [])
        ctx.book.prefetch(first)
        out.append(
            ctx.say(
                f"Step therapy: after {join_words([ctx.book.label(c) for c in first], 'or')}"
                f" — {entry.get('reason', '')}.",
                src,
                also=ctx.book.sources_for(first),
                group=group,
                pack=pack.name,
                kind="step_therapy",
            )
        )
    for entry in in_pack_list(pack, "quantity_limits", ctx.code):
        ndc = f" for NDC {entry['ndc']}" if entry.get("ndc") else ""
        out.append(
            ctx.say(
                f"Quantity limit{ndc}: {entry.get('max_units')} units per {entry.get('per_days')} days.",
                src,
                group=group,
                pack=pack.name,
                kind="quantity_limit",
            )
        )
    for entry in pack.settings.get("preferred_products") or []:
        if entry.get("hcpcs") != ctx.code:
            continue
        word = "Preferred product" if entry.get("preferred") else "Non-preferred product"
        ndc = f" (NDC {entry['ndc']})" if entry.get("ndc") else ""
        out.append(
            ctx.say(
                f"{word}{ndc}: {entry.get('note', '')}.",
                src,
                group=group,
                pack=pack.name,
                kind="preferred_products",
            )
        )
    # An NDC-only exclusion is shown for the code the crosswalk lists the NDC under.
    crosswalked = {i.get("ndc11") for i in (ctx.doc.get("ndcs") or {}).get("items") or []}
    for entry in in_pack_list(pack, "excluded_products", ctx.code):
        if entry.get("hcpcs") is None and entry.get("ndc") not in crosswalked:
            continue
        ndc = f" (NDC {entry['ndc']})" if entry.get("ndc") else ""
        dates = "".join(
            f" {word} {entry[key]}"
            for key, word in (("from", "from"), ("to", "to"))
            if entry.get(key)
        )
        out.append(
            ctx.say(
                f"Excluded from the plan's benefit{ndc}{dates}: {entry.get('reason', '')}"
                f" ({entry.get('source', '')}).",
                src,
                group=group,
                pack=pack.name,
                kind="excluded_products",
            )
        )
    return out


def _notes(ctx: Context, pack: Pack, group: str) -> list[dict[str, Any]]:
    out = []
    contractor = pack.settings.get("contractor")
    for note in clinical_file()["payer_notes"]:
        if note["contractor"] != contractor:
            continue
        if note.get("when") and note["when"] not in ctx.traits.flags:
            continue
        text, codes = ctx.book.fill(note["text"])
        out.append(
            ctx.say(
                text,
                curated_source(note["source"]),
                also=[pack_source(pack), *ctx.book.sources_for(codes)],
                group=group,
                pack=pack.name,
            )
        )
    return out


def payers(ctx: Context) -> list[dict[str, Any]]:
    """Per pack: contractor, routing, MUE, benefit, requirements and the pack's lists."""
    out: list[dict[str, Any]] = []
    for pack in ctx.packs:
        group = f"{pack.title} (pack {pack.name})"
        src = pack_source(pack)
        settings = pack.settings_on(ctx.on)
        contractor = settings.get("contractor")
        default = _default_for(pack)
        text = f"Adjudicated by: {_CONTRACTOR.get(contractor, contractor or 'an unnamed payer')}"
        text += f"; the default pack for claims with {default}." if default else "."
        out.append(ctx.say(text, src, group=group, pack=pack.name, kind="contractor"))

        for code in ("RTE001", "RTE002"):
            item = ctx.applicable_rule(code)
            if item is not None and pack.name in item.packs:
                out.append(
                    ctx.say(
                        f"Refused here ({answer_codes(item.rule)}, {item.rule.code}): "
                        f"{item.rule.summary} {item.entry.avoid}",
                        rule_source(item.rule),
                        also=[src],
                        group=group,
                        pack=pack.name,
                        kind="routing",
                    )
                )
        service = settings.get("mue_service_type")
        if service:
            row = ctx.traits.mue.get(service)
            mue_src = refdata_source(ctx.doc["mue"]["source"])
            if row is None:
                mue_text = f"MUE table {service.replace('_', ' ')}: no value for the code."
            else:
                mue_text = (
                    f"MUE table {service.replace('_', ' ')}: {row['mue_value']} units "
                    f"(MAI {row['mai']}; {row['mue_rationale']})."
                )
                if row["mue_value"] == 0:
                    mue_text += " A value of 0 means the code is not payable in this setting."
            out.append(ctx.say(mue_text, src, also=[mue_src], group=group, pack=pack.name))
        if (
            settings.get("medicare_immunosuppressive_benefit")
            and "benefit_line" in ctx.traits.flags
        ):
            out += _benefit(ctx, pack, group)
        out += _settings(ctx, pack, group)
        out += _lists(ctx, pack, group)
        out += _notes(ctx, pack, group)
    return out
