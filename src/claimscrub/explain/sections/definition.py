"""Section 1, *Definition*: what the CMS files say about the code on the date."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from claimscrub.explain.facts import jsonable
from claimscrub.explain.sections.common import coded, join_words
from claimscrub.explain.statements import refdata_source

if TYPE_CHECKING:
    from claimscrub.explain.builder import Context

_STATUS_WORDS = {
    "valid": "Valid",
    "not_yet_valid": "Not yet valid",
    "terminated": "Terminated",
}
_MUE_SCOPE = {1: "per line", 2: "per day (policy)", 3: "per day (clinical)"}


def _number(value: Any) -> str:
    return str(jsonable(value))


def definition(ctx: Context) -> list[dict[str, Any]]:
    """Descriptor, unit, status, indicators, ASP, OPPS and MUE statements."""
    doc, on, say = ctx.doc, ctx.on.isoformat(), ctx.say
    desc, unit, status, ind = doc["descriptor"], doc["unit"], doc["status"], doc["indicators"]
    desc_src = refdata_source(desc["source"])
    validity_src = refdata_source(status["source"])
    out = [
        say(
            f"Descriptor on {on}: {desc['long']}.",
            desc_src,
            kind="descriptor",
            group="Code",
            data={"long": desc["long"], "short": desc["short"]},
        ),
        say(f"Short descriptor: {desc['short']}.", desc_src, group="Code"),
    ]
    added = jsonable(status["added"])
    terminated = jsonable(status["terminated"])
    word = _STATUS_WORDS.get(status["value"], status["value"])
    if status["value"] == "valid":
        tail = f"valid through {terminated}" if terminated else "no termination date"
        text = f"{word} on {on}: added {added}, {tail}."
    elif status["value"] == "not_yet_valid":
        text = f"{word} on {on}: the code takes effect on {added}; earlier lines are refused."
    else:
        text = (
            f"{word}: valid from {added} to {terminated}; lines dated after {terminated} are "
            "refused."
        )
    out.append(
        say(
            text,
            validity_src,
            kind="status",
            group="Code",
            data={"status": status["value"], "added": added, "terminated": terminated},
        )
    )
    if desc["action"]:
        out.append(
            say(
                f"Last change in the CMS file: {jsonable(desc['action_eff_date'])}, action "
                f"{coded(desc['action'])}.",
                desc_src,
                group="Code",
            )
        )

    # --- billing unit, read from the long descriptor --------------------------------------
    fee = "supply_fee" in ctx.traits.flags
    if unit["text"]:
        parts = [f"Billing unit: 1 unit = {unit['text']}"]
        if not fee:
            if unit["route"]:
                parts.append(f"route {unit['route']}")
            if unit["form"]:
                parts.append(f"form {unit['form']}")
            if unit["ingredient"]:
                parts.append(f"ingredient {unit['ingredient']}")
        text = "; ".join(parts) + " (read from the long descriptor)."
    else:
        text = (
            "The descriptor states no billing unit: a not-otherwise-classified code bills the "
            "item described in the line narrative."
            if "noc" in ctx.traits.flags
            else "The descriptor states no billing unit."
        )
    out.append(
        say(
            text,
            refdata_source(unit["source"]),
            kind="unit",
            group="Billing unit",
            data={k: unit[k] for k in ("amount", "uom", "text", "route", "form", "ingredient")},
        )
    )

    # --- indicators ---------------------------------------------------------------------
    ind_src = refdata_source(ind["source"])
    out.append(
        say(f"Medicare coverage code {coded(ind['coverage'])}.", ind_src, group="Indicators")
    )
    pricing = join_words([coded(p) for p in ind["pricing"]]) or "none"
    out.append(
        say(
            f"Pricing indicator {pricing}; multiple pricing {coded(ind['multiple_pricing'])}.",
            ind_src,
            group="Indicators",
        )
    )
    tos = join_words([coded(t) for t in ind["type_of_service"]]) or "none"
    out.append(
        say(
            f"BETOS {ind['betos'] or 'none'}; type of service {tos}.",
            ind_src,
            group="Indicators",
            data={
                "betos": ind["betos"],
                "type_of_service": [t["code"] for t in ind["type_of_service"]],
            },
        )
    )

    # --- ASP ------------------------------------------------------------------------------
    asp = doc["asp"]
    asp_src = refdata_source(asp["source"])
    if asp["listed"]:
        limit = (
            f"${_number(asp['payment_limit'])}" if asp["payment_limit"] is not None else "no amount"
        )
        notes = f"; {asp['notes']}" if asp["notes"] else ""
        text = (
            f"ASP payment limit: {limit} per {asp['dosage'] or 'billing unit'}, coinsurance "
            f"{_number(asp['coinsurance_pct'])}%{notes}."
        )
    else:
        text = f"Not on the ASP payment-limit file ({asp_src['label']})."
    out.append(say(text, asp_src, kind="asp", group="Pricing"))

    # --- OPPS -----------------------------------------------------------------------------
    chosen = next((item for item in doc["opps"] if item["selected"]), None)
    for item in doc["opps"]:
        # The other releases are history, not a lookup for the date: no caveat for them.
        block = item["source"] if item["selected"] else {**item["source"], "caveat": None}
        src = refdata_source(block)
        if item["listed"]:
            si = coded(item["status_indicator"])
            rate = (
                f", payment rate ${_number(item['payment_rate'])}"
                if item["payment_rate"] is not None
                else ""
            )
            text = f"OPPS Addendum B {src['release']}: status indicator {si}{rate}."
        else:
            text = f"Not listed in OPPS Addendum B {src['release']}."
        if item is chosen:
            text = text.replace("OPPS Addendum B", "OPPS Addendum B used for this date,", 1)
        out.append(say(text, src, kind="opps", group="Pricing", selected=item is chosen))

    # --- MUE ------------------------------------------------------------------------------
    mue = doc["mue"]
    mue_src = refdata_source(mue["source"])
    if mue["limits"]:
        for row in mue["limits"]:
            scope = _MUE_SCOPE.get(row["mai"], "")
            out.append(
                say(
                    f"MUE, {row['service_type'].replace('_', ' ')} table: {row['mue_value']} "
                    f"{'unit' if row['mue_value'] == 1 else 'units'} {scope} (adjudication "
                    f"indicator {row['mai_description']}; "
                    f"rationale: {row['rationale']}).",
                    mue_src,
                    kind="mue",
                    group="Medically unlikely edits",
                    data={k: row[k] for k in ("service_type", "mue_value", "mai")},
                )
            )
        start = mue_src.get("effective_from")
        if start is not None and (ctx.on - dt.date.fromisoformat(str(start))).days > 365:
            # MUEs are revised quarterly; the bundled release may no longer be CMS's.
            out.append(
                say(
                    f"These MUEs are from release {mue_src['release']}, more than a year "
                    f"before {ctx.on.isoformat()}: CMS revises MUEs quarterly, so the values "
                    "in force may differ (for a 90-day supply above all); import a newer "
                    "release with `claimscrub refdata import`.",
                    mue_src,
                    kind="mue_age",
                    group="Medically unlikely edits",
                )
            )
    else:
        out.append(
            say(
                f"No MUE is listed for the code in the MUE release {mue_src['release']}.",
                mue_src,
                kind="mue",
                group="Medically unlikely edits",
            )
        )

    # --- descriptor history -------------------------------------------------------------------
    current = desc["long"]
    for rec in doc["releases"]:
        if rec["long_description"] != current:
            src = refdata_source(rec["source"])
            out.append(
                say(
                    f"In {src['label']} the descriptor read: {rec['long_description']} (last "
                    f"action {jsonable(rec['action_eff_date'])}).",
                    src,
                    kind="history",
                    group="History",
                )
            )
    return out
