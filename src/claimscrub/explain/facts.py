"""Everything the dated reference data says about one HCPCS code, as one JSON-ready document.

This is the document of ``claimscrub code CODE --format json`` and the data behind the
*Definition* and *Similar codes* sections of ``claimscrub explain``. It lives here, below
the command line, so that the CLI, the explanation builder and the web app read the code
facts the same way. Every fact carries the dataset release it came from
(``source_block``: "hcpcs 2026-01" plus the release window and, when the date asked about
falls outside every window, a caveat sentence).

Only :mod:`claimscrub.refdata` is imported: ``claimscrub code`` must stay fast.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from claimscrub.refdata.catalog import Facts, RefData, Source
from claimscrub.refdata.manifest import load_manifest

SCHEMA = "claimscrub-code/1"
# A HCPCS Level II code (J7507), a CPT (Level I) code shape, or a 2-character modifier.
CODE_SHAPE = re.compile(r"^(?:[A-Z][0-9]{4}|[0-9]{4}[A-Z0-9]|[A-Z0-9]{2})$")
LEVEL_ONE = re.compile(r"^[0-9]{4}[A-Z0-9]$")
LEVEL_TWO = re.compile(r"^[A-Z][0-9]{4}$")


# --- JSON helpers ------------------------------------------------------------------------
def jsonable(value: Any) -> Any:
    """Dates as ISO text, decimals as exact text, integral floats as ints."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def source_block(source: Source, on: dt.date | None) -> dict[str, Any]:
    """A source with its caveat sentence when it was used outside its window."""
    block = source.to_dict()
    block["label"] = source.label
    block["caveat"] = source.caveat(on) if on is not None else None
    return block


def ndc_item(row: dict[str, Any], route: str | None = None) -> dict[str, Any]:
    """One crosswalk row as the JSON of `code` and `ndc` shows it.

    ``route`` is the route of the row's HCPCS code. An oral package whose PKG SIZE and
    PKG QTY are both above one is ``ambiguous``, with no per-item units: the figures
    cannot tell one bottle of 100 capsules of 5 mg (Prograf 00469-0657-73: PKG SIZE 100,
    PKG QTY 5, 500 units) from five bottles of 100 capsules of 1 mg, and the check rules
    do not convert such rows either (UNT001, COD003).
    """
    item = {
        "hcpcs_code": row["hcpcs_code"],
        "ndc": row["ndc_or_alternate_id"],
        "ndc11": row["ndc11"],
        "labeler": row["labeler_name"],
        "drug_name": row["drug_name"],
        "hcpcs_dosage": row["hcpcs_dosage"],
        "pkg_size": row["pkg_size"],
        "pkg_qty": row["pkg_qty"],
        "bill_units_per_pkg_item": row["bill_units_per_pkg_item"],
        "bill_units_per_ndc": row["bill_units_per_ndc"],
        "units_per_item": row["units_per_item"],
        "units_per_item_method": row["units_per_item_method"],
        "units_check": row["units_check"],
    }
    size, qty = row["pkg_size"], row["pkg_qty"]
    if route == "oral" and size is not None and qty is not None and size > 1 and qty > 1:
        item.update(units_per_item=None, units_per_item_method=None, units_check="ambiguous")
    return item


def unknown_code_reason(code: str) -> str:
    """Why no installed release lists ``code`` (CPT is not bundled)."""
    if LEVEL_ONE.match(code):
        return "CPT (Level I) codes are not included: they are AMA-copyrighted"
    return "it is in no installed HCPCS release"


# --- gathering ---------------------------------------------------------------------------
def _coded(code_list: str, value: str | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {"code": value, "meaning": load_manifest().meaning(code_list, value)}


def _facts_block(facts: Facts, on: dt.date) -> dict[str, Any]:
    return {"source": source_block(facts.source, on)}


def gather(refdata: RefData, code: str, on: dt.date) -> dict[str, Any] | None:
    """The JSON document of ``claimscrub code`` (None when no release lists the code)."""
    fact = refdata.hcpcs(code, on)
    if fact is None:
        return None
    record = fact.record
    hcpcs_source = source_block(fact.source, on)
    validity_source = source_block(fact.validity_source, on)

    mue = refdata.mue(code, on)
    asp = refdata.asp(code, on)
    crosswalk = refdata.crosswalk_for_code(code, on)
    asp_row = asp.rows[0] if asp.rows else None

    return {
        "schema": SCHEMA,
        "query": {"code": code, "on": on},
        "found": True,
        "code": fact.code,
        "record_type": record["record_type"],
        "status": {
            "value": fact.status,
            "on": on,
            "added": fact.add_date,
            "terminated": fact.termination_date,
            "source": validity_source,
        },
        "descriptor": {
            "long": record["long_description"],
            "short": record["short_description"],
            "action_eff_date": record["action_eff_date"],
            "action": _coded("action_code", record["action_code"]),
            "source": hcpcs_source,
        },
        "unit": {
            "amount": record["unit_amount"],
            "uom": record["unit_uom"],
            "text": record["unit_text"],
            "route": record["route"],
            "form": record["form"],
            "ingredient": record["ingredient"],
            "derived_from": "long descriptor",
            "source": hcpcs_source,
        },
        "indicators": {
            "coverage": _coded("coverage_code", record["coverage_code"]),
            "pricing": [
                _coded("pricing_indicator", record[f"price_ind_{i}"])
                for i in range(1, 5)
                if record[f"price_ind_{i}"]
            ],
            "multiple_pricing": _coded("multiple_price_ind", record["multiple_price_ind"]),
            "betos": record["betos"],
            "type_of_service": [
                _coded("type_of_service", record[f"tos_{i}"])
                for i in range(1, 6)
                if record[f"tos_{i}"]
            ],
            "processing_note": record["processing_note"],
            "statute": record["statute"],
            "source": hcpcs_source,
        },
        "mue": {
            **_facts_block(mue, on),
            "limits": [
                {
                    "service_type": row["service_type"],
                    "mue_value": row["mue_value"],
                    "mai": row["mai"],
                    "mai_description": row["mai_description"],
                    "rationale": row["mue_rationale"],
                }
                for row in mue.rows
            ],
        },
        "opps": [
            {
                "source": source_block(facts.source, on),
                "selected": facts.selected,
                "listed": bool(facts.rows),
                "status_indicator": _coded(
                    "opps_status_indicator", facts.rows[0]["status_indicator"]
                )
                if facts.rows
                else None,
                "payment_rate": facts.rows[0]["payment_rate"] if facts.rows else None,
            }
            for facts in refdata.opps_by_release(code, on)
        ],
        "asp": {
            **_facts_block(asp, on),
            "listed": asp_row is not None,
            "payment_limit": asp_row["payment_limit"] if asp_row else None,
            "dosage": asp_row["hcpcs_code_dosage"] if asp_row else None,
            "coinsurance_pct": asp_row["coinsurance_pct"] if asp_row else None,
            "notes": asp_row["notes"] if asp_row else None,
        },
        "ndcs": {
            **_facts_block(crosswalk, on),
            "items": [ndc_item(row, record["route"]) for row in crosswalk.rows],
        },
        "related": [
            {
                "code": rel.code,
                "relation": rel.relation,
                "long_description": rel.long_description,
                "unit_text": rel.unit_text,
                "route": rel.route,
                "form": rel.form,
                "status": rel.status,
                "source": source_block(rel.source, on) if rel.source else None,
            }
            for rel in refdata.related_codes(code, on)
        ],
        "releases": [
            {
                "source": source_block(Source.of(item, None), None),
                "long_description": rec["long_description"],
                "short_description": rec["short_description"],
                "unit_text": rec["unit_text"],
                "add_date": rec["add_date"],
                "action_eff_date": rec["action_eff_date"],
                "action_code": rec["action_code"],
                "termination_date": rec["termination_date"],
            }
            for item, rec in refdata.hcpcs_records(code)
        ],
    }
