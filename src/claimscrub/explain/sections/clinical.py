"""Section 2, *Clinical context*: drug, class, uses, monitoring and supporting diagnoses.

Facts come from ``refdata/curated/clinical.yaml`` (each with its URL), the diagnosis sets
and supply-fee roles from ``refdata/curated/immunosuppressants.yaml`` (shared with the
rules), and every ICD-10-CM title from the bundled tabular release used for the date.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import polars as pl

from claimscrub.explain.sections.common import join_words
from claimscrub.explain.statements import (
    curated_source,
    curated_text_source,
    refdata_source,
    release_source,
    rule_source,
)
from claimscrub.refdata import curated
from claimscrub.refdata.curated.clinical import clinical as clinical_file
from claimscrub.refdata.curated.clinical import drug_entries

if TYPE_CHECKING:
    from claimscrub.explain.builder import Context

_KIND_GROUP = {
    "use": "Labelled uses",
    "dosing": "Dosing",
    "product": "Products",
    "monitoring": "Monitoring",
}
_DX_KIND = {"status": "status", "complication": "complications", "aftercare": "aftercare"}


def _undot(code: str) -> str:
    return code.replace(".", "").upper()


def icd10_titles(
    ctx: Context, codes: Iterable[str], prefixes: Iterable[str]
) -> tuple[dict[str, dict[str, Any]], dict[str, list[dict[str, Any]]], dict[str, Any]]:
    """ICD-10-CM rows for exact ``codes`` and the billable codes under ``prefixes`` (undotted).

    Returns ({code: row}, {prefix: [rows]}, the icd10cm release as a source).
    """
    release, _ = ctx.refdata.select_release("icd10cm", ctx.on)
    exact, starts = sorted(set(codes)), sorted(set(prefixes))
    wanted = pl.col("code").is_in(exact)
    for prefix in starts:
        wanted = wanted | (pl.col("code").str.starts_with(prefix) & pl.col("billable"))
    rows = (
        ctx.refdata.scan("icd10cm", release.release)
        .filter(wanted)
        .select("code", "code_dotted", "description", "billable")
        .sort("code")
        .collect()
        .to_dicts()
    )
    by_code = {row["code"]: row for row in rows}
    under = {p: [r for r in rows if r["code"].startswith(p) and r["billable"]] for p in starts}
    return by_code, under, release_source(ctx.refdata, "icd10cm", ctx.on)


def _needed_diagnoses(ctx: Context) -> tuple[list[str], list[str], list[dict[str, Any]]]:
    """Exact codes and prefixes of every ICD-10-CM title the section shows, and the set entries."""
    entries = drug_entries(ctx.code, ctx.doc["unit"]["ingredient"])
    exact = [_undot(e["class"]["long_term_use_dx"]) for e in entries if e.get("class")]
    sets = {row["set"] for row in ctx.traits.diagnosis_sets}
    if "transplant_covered_organ" in sets:
        sets.add("not_supporting_immunosuppressive_benefit")
    members = (
        curated.diagnosis_sets().filter(pl.col("set").is_in(sorted(sets))).to_dicts()
        if sets
        else []
    )
    exact += [e["dx"] for e in members]
    prefixes = [e["dx"] for e in members if e["is_prefix"]]
    return exact, prefixes, members


def _supply_fee(ctx: Context) -> list[dict[str, Any]]:
    fee = ctx.traits.fee or {}
    doc = clinical_file()
    role = doc["supply_fee_roles"].get(fee.get("role"))
    out = []
    fee_src = curated_text_source(str(fee.get("source") or ""))
    if role is not None:
        values = {k: v for k, v in fee.items() if v is not None}
        text = role["text"].format_map(_Missing(values))
        out.append(
            ctx.say(
                text,
                curated_source(role["source"]),
                also=[fee_src],
                group="Pharmacy supply fee",
                kind="supply_fee",
            )
        )
    common = doc.get("supply_fee_common")
    if common:
        out.append(
            ctx.say(common["text"], curated_source(common["source"]), group="Pharmacy supply fee")
        )
    return out


class _Missing(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "no stated number of"


def _drug(ctx: Context) -> list[dict[str, Any]]:
    unit = ctx.doc["unit"]
    desc_src = refdata_source(unit["source"])
    out: list[dict[str, Any]] = []
    if "noc" in ctx.traits.flags:
        noc = ctx.rules.get("NOC002")
        out.append(
            ctx.say(
                "The descriptor names no specific drug: a not-otherwise-classified code, for a product no "
                "specific code describes on the date of service. The drug must be named in the "
                "line's narrative.",
                desc_src,
                also=[rule_source(noc)] if noc else [],
                group="Drug",
            )
        )
    elif unit["ingredient"]:
        form = f", {unit['form']}" if unit["form"] else ""
        route = f", route {unit['route']}" if unit["route"] else ""
        out.append(
            ctx.say(
                f"Drug named by the descriptor: {unit['ingredient']}{form}{route}.",
                desc_src,
                group="Drug",
                data={
                    "ingredient": unit["ingredient"],
                    "form": unit["form"],
                    "route": unit["route"],
                },
            )
        )
    tos = {t["code"] for t in ctx.doc["indicators"]["type_of_service"]}
    if "immunosuppressive" in ctx.traits.flags:
        g = curated.type_of_service_code("immunosuppressive_drug")
        needs = (
            " (also typed P, so only for a patient with a transplant diagnosis)"
            if "immunosuppressive_needs_transplant_dx" in ctx.traits.flags
            else ""
        )
        out.append(
            ctx.say(
                f"CMS types the code an immunosuppressive drug (type of service {g}){needs}: "
                "when a DME MAC is billed, the Medicare immunosuppressive drug benefit governs "
                "it.",
                refdata_source(ctx.doc["indicators"]["source"]),
                group="Drug",
                data={"type_of_service": sorted(tos)},
            )
        )
    return out


def _curated_facts(
    ctx: Context, titles: dict[str, Any], icd_src: dict[str, Any]
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    entries = drug_entries(ctx.code, ctx.doc["unit"]["ingredient"])
    for entry in entries:
        klass = entry.get("class")
        if klass:
            dx = klass["long_term_use_dx"]
            row = titles.get(_undot(dx))
            title = f" ({row['description']})" if row and row["description"] else ""
            out.append(
                ctx.say(
                    f"Class: {klass['name']}. Long-term use is reported with {dx}{title} as a "
                    "secondary diagnosis.",
                    curated_source(klass["source"]),
                    also=[icd_src] if row else [],
                    group="Class",
                    data={"class": klass["name"], "long_term_use_dx": dx},
                )
            )
    for entry in entries:
        for fact in entry.get("facts") or []:
            if fact.get("hcpcs") and ctx.code not in fact["hcpcs"]:
                continue
            text, codes = ctx.book.fill(fact["text"])
            out.append(
                ctx.say(
                    text,
                    curated_source(fact["source"]),
                    also=ctx.book.sources_for(codes),
                    group=_KIND_GROUP.get(fact.get("kind", ""), "Notes"),
                    kind=fact.get("kind"),
                )
            )
    return out


def _entry_text(entry: dict[str, Any], titles: dict[str, Any], under: dict[str, Any]) -> str:
    """'Z94.0 (Kidney transplant status)' or 'T86.1- (T86.10 Unspecified ..., ...)'."""
    key = entry["dx"]
    if entry["is_prefix"]:
        rows = under.get(key) or []
        label = titles.get(key, {}).get("code_dotted") or key
        inner = "; ".join(f"{r['code_dotted']} {r['description']}" for r in rows)
        return f"{label}- ({inner})" if inner else f"{label}-"
    row = titles.get(key)
    if not row:
        return key
    # Headings of a release read from CDC's list of billable codes (FY2024-10) have no title.
    return (
        f"{row['code_dotted']} ({row['description']})" if row["description"] else row["code_dotted"]
    )


def _diagnoses(
    ctx: Context,
    entries: list[dict[str, Any]],
    titles: dict[str, Any],
    under: dict[str, Any],
    icd_src: dict[str, Any],
) -> list[dict[str, Any]]:
    rows = list(ctx.traits.diagnosis_sets)
    if not rows:
        return []
    facts = curated.facts()
    dgn001 = ctx.rules.get("DGN001")
    out: list[dict[str, Any]] = []
    for row in rows:
        dx_set = facts["diagnosis_sets"][row["set"]]
        src = curated_text_source(row["source"])
        intro = f"Supporting diagnoses ({row['use']}): {dx_set['title']}."
        out.append(
            ctx.say(
                intro,
                src,
                also=[rule_source(dgn001)] if dgn001 else [],
                group="Diagnoses that support the code",
            )
        )
        members = [e for e in entries if e["set"] == row["set"]]
        for organ in dict.fromkeys(e["organ"] for e in members):
            of_organ = [e for e in members if e["organ"] == organ]
            parts = []
            for kind in dict.fromkeys(e["kind"] for e in of_organ):
                texts = [_entry_text(e, titles, under) for e in of_organ if e["kind"] == kind]
                parts.append(f"{_DX_KIND.get(kind, kind.replace('_', ' '))}: {'; '.join(texts)}")
            name = organ.replace("_", " ") if organ != "none" else "other"
            out.append(
                ctx.say(
                    f"{name[:1].upper()}{name[1:]} — {' | '.join(parts)}.",
                    curated_text_source(dx_set["source"]),
                    also=[icd_src],
                    group="Diagnoses that support the code",
                    kind="diagnoses",
                    data={
                        "set": row["set"],
                        "organ": organ,
                        "codes": [e["dx"] + ("-" if e["is_prefix"] else "") for e in of_organ],
                    },
                )
            )
    out += _off_label(ctx)
    if "transplant_covered_organ" in {row["set"] for row in rows}:
        name = "not_supporting_immunosuppressive_benefit"
        dx_set = facts["diagnosis_sets"][name]
        members = [e for e in entries if e["set"] == name]
        texts = [_entry_text(e, titles, under) for e in members]
        dgn005 = ctx.rules.get("DGN005")
        out.append(
            ctx.say(
                f"{dx_set['title']}: {join_words(texts)}. Such a claim belongs to Part D or the "
                "pharmacy benefit.",
                curated_text_source(dx_set["source"]),
                also=[icd_src, *([rule_source(dgn005)] if dgn005 else [])],
                group="Diagnoses that do not support the benefit",
                kind="diagnoses",
            )
        )
    return out


def _off_label(ctx: Context) -> list[dict[str, Any]]:
    """The code's curated off-label uses: one statement naming the sets and their codes."""
    rows = curated.code_off_label_sets().filter(pl.col("hcpcs") == ctx.code).to_dicts()
    if not rows:
        return []
    facts = curated.facts()
    parts = []
    for row in rows:
        dx_set = facts["diagnosis_sets"][row["set"]]
        codes = [e.get("code") or f"{e['prefix']}-" for e in dx_set["entries"]]
        parts.append(f"{dx_set['title'].lower()} ({', '.join(codes)})")
    dgn006 = ctx.rules.get("DGN006")
    return [
        ctx.say(
            f"Beyond the codes above, it is used off its label for {join_words(parts)}: each "
            "payer decides by its own policy whether that use is covered.",
            curated_text_source(rows[0]["source"]),
            also=[rule_source(dgn006)] if dgn006 else [],
            group="Diagnoses that support the code",
            kind="diagnoses",
            data={"off_label_sets": [row["set"] for row in rows]},
        )
    ]


def clinical(ctx: Context) -> list[dict[str, Any]]:
    """The clinical context statements of the code."""
    out: list[dict[str, Any]] = []
    if "supply_fee" in ctx.traits.flags:
        out += _supply_fee(ctx)
    else:
        out += _drug(ctx)
    exact, prefixes, entries = _needed_diagnoses(ctx)
    titles, under, icd_src = icd10_titles(ctx, exact, prefixes)
    out += _curated_facts(ctx, titles, icd_src)
    out += _diagnoses(ctx, entries, titles, under, icd_src)
    if not out:
        out.append(
            ctx.say(
                f"{ctx.doc['descriptor']['long']}: the curated knowledge file has no clinical "
                "facts for this code.",
                refdata_source(ctx.doc["descriptor"]["source"]),
                group="Drug",
            )
        )
    return out
