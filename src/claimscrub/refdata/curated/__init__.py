"""Curated domain facts that no CMS table holds, each with its source (see the YAML files).

Rules read these as small frames: which diagnoses support which HCPCS code, which
transplanted organs the Medicare benefit covers, which Part B drugs come in single-dose
containers. HCPCS descriptors, units and dates never come from here. Each frame is built
once per process (the files do not change while it runs; a claim checked through the API
would otherwise rebuild a dozen of them); callers must not modify them in place.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl
import yaml

IMMUNOSUPPRESSANTS = Path(__file__).parent / "immunosuppressants.yaml"
DENIAL_CODES = Path(__file__).parent / "denial_codes.yaml"


class CuratedDataError(ValueError):
    """A curated file that is inconsistent (unknown set or source)."""


@cache
def facts() -> dict[str, Any]:
    """The immunosuppressant facts file, with source keys resolved to their citations."""
    doc: dict[str, Any] = yaml.safe_load(IMMUNOSUPPRESSANTS.read_text())
    sources = doc["sources"]

    def cite(key: str, where: str) -> str:
        if key not in sources:
            raise CuratedDataError(f"{IMMUNOSUPPRESSANTS.name}: {where}: unknown source {key!r}")
        return str(sources[key])

    for section in (
        "covered_organs",
        "not_covered_organs",
        "code_diagnoses",
        "single_dose_containers",
        "oral_solid_codes",
        "strength_code_groups",
        "liquid_form_codes",
    ):
        for i, entry in enumerate(doc[section]):
            entry["source"] = cite(entry["source"], f"{section}[{i}]")
    for name, dx_set in doc["diagnosis_sets"].items():
        dx_set["source"] = cite(dx_set["source"], f"diagnosis_sets.{name}")
    for i, entry in enumerate(doc["code_diagnoses"]):
        for set_name in [*entry["sets"], *entry.get("off_label_sets", [])]:
            if set_name not in doc["diagnosis_sets"]:
                raise CuratedDataError(f"code_diagnoses[{i}]: unknown diagnosis set {set_name!r}")
    return doc


def _undot(code: str) -> str:
    return code.replace(".", "").upper()


@cache
def diagnosis_sets() -> pl.DataFrame:
    """One row per diagnosis-set entry: ``set``, ``dx`` (no dot), ``is_prefix``, ``organ``, ``kind``."""
    rows = [
        {
            "set": name,
            "dx": _undot(entry.get("code") or entry["prefix"]),
            "is_prefix": "prefix" in entry,
            "organ": entry["organ"],
            "kind": entry["kind"],
            "source": dx_set["source"],
        }
        for name, dx_set in facts()["diagnosis_sets"].items()
        for entry in dx_set["entries"]
    ]
    return pl.DataFrame(rows)


@cache
def code_diagnosis_sets() -> pl.DataFrame:
    """One row per (HCPCS code, supporting diagnosis set)."""
    rows = [
        {"hcpcs": code, "set": set_name, "use": entry["use"], "source": entry["source"]}
        for entry in facts()["code_diagnoses"]
        for code in entry["hcpcs"]
        for set_name in entry["sets"]
    ]
    return pl.DataFrame(rows)


@cache
def code_off_label_sets() -> pl.DataFrame:
    """One row per (HCPCS code, diagnosis set it is used for off its label): ``hcpcs``,
    ``set``, ``source``. Payers cover such use by their own policy."""
    rows = [
        {"hcpcs": code, "set": set_name, "source": entry["source"]}
        for entry in facts()["code_diagnoses"]
        for code in entry["hcpcs"]
        for set_name in entry.get("off_label_sets", [])
    ]
    return pl.DataFrame(rows, schema={"hcpcs": pl.String, "set": pl.String, "source": pl.String})


@cache
def medicare_coverage_documents() -> pl.DataFrame:
    """``hcpcs`` and ``coverage`` (lcd / ncd): the kind of Medicare coverage document that
    governs the code's diagnoses, for the codes whose curated entry names one."""
    rows = [
        {"hcpcs": code, "coverage": entry["medicare_coverage"]}
        for entry in facts()["code_diagnoses"]
        if entry.get("medicare_coverage")
        for code in entry["hcpcs"]
    ]
    return pl.DataFrame(rows, schema={"hcpcs": pl.String, "coverage": pl.String})


@cache
def covered_organs() -> pl.DataFrame:
    """Organs the Medicare immunosuppressive benefit covers, with the first covered transplant date."""
    rows = [
        {
            "organ": e["organ"],
            "covered": True,
            "transplanted_from": e.get("transplanted_from"),
            "condition": e.get("condition"),
            "source": e["source"],
        }
        for e in facts()["covered_organs"]
    ] + [
        {
            "organ": e["organ"],
            "covered": False,
            "transplanted_from": None,
            "condition": None,
            "source": e["source"],
        }
        for e in facts()["not_covered_organs"]
    ]
    return pl.DataFrame(rows, schema_overrides={"transplanted_from": pl.Date}).with_columns(
        pl.col("transplanted_from").fill_null(dt.date.min)
    )


@cache
def single_dose_containers() -> pl.DataFrame:
    """Part B drug codes supplied in single-dose containers (JW/JZ), with ``verified`` flags."""
    return pl.DataFrame(facts()["single_dose_containers"])


@cache
def oral_solid_codes() -> pl.DataFrame:
    """Oral drug codes whose products are all tablets or capsules (``hcpcs``, ``form``)."""
    return pl.DataFrame(facts()["oral_solid_codes"])


@cache
def strength_code_groups() -> pl.DataFrame:
    """One row per code of a group of codes that differ only in strength: ``hcpcs``,
    ``group`` (the drug), ``source``."""
    rows = [
        {"hcpcs": code, "group": entry["drug"], "source": entry["source"]}
        for entry in facts()["strength_code_groups"]
        for code in entry["hcpcs"]
    ]
    return pl.DataFrame(rows, schema={"hcpcs": pl.String, "group": pl.String, "source": pl.String})


@cache
def liquid_form_codes() -> pl.DataFrame:
    """Codes for a drug's oral liquid form (``hcpcs``) and the older code that took every
    form before them (``instead_of``), with ``source``."""
    return pl.DataFrame(
        facts()["liquid_form_codes"],
        schema={"hcpcs": pl.String, "instead_of": pl.String, "source": pl.String},
    )


@cache
def denial_code_meanings() -> dict[str, dict[str, str]]:
    """Our own wording of the group, CARC and RARC codes claimscrub predicts (no X12 text)."""
    doc = yaml.safe_load(DENIAL_CODES.read_text())
    return {
        section: {str(k): str(v) for k, v in doc[section].items()}
        for section in ("groups", "carc", "rarc")
    }


def describe_carc(carc: str) -> str:
    """'CO-16' -> 'contractual obligation ...: the claim or line lacks information ...'."""
    meanings = denial_code_meanings()
    group, _, reason = carc.partition("-")
    group_text = meanings["groups"].get(group, group)
    return f"{group_text}; {meanings['carc'].get(reason, 'reason ' + reason)}"


def describe_answer(carc: str | None, rarcs: list[str] | tuple[str, ...] = ()) -> str:
    """'CO-16: contractual obligation ...; something ... M53: the number of units ...': a
    predicted payer answer spelled out in our words, for tooltips and reports."""
    meanings = denial_code_meanings()
    parts = [f"{carc}: {describe_carc(carc)}"] if carc else []
    parts += [f"{rarc}: {meanings['rarc'].get(rarc, 'remark ' + rarc)}" for rarc in rarcs]
    return ". ".join(parts)


# --- Modifier facts (rules.md section 5), read by the MOD rules. ------------------------------


def _modifier_source(key: str, where: str) -> str:
    sources = {**facts()["sources"], **facts().get("modifier_sources", {})}
    if key not in sources:
        raise CuratedDataError(f"{IMMUNOSUPPRESSANTS.name}: {where}: unknown source {key!r}")
    return str(sources[key])


@cache
def modifier_conflicts() -> pl.DataFrame:
    """Pairs of modifiers that contradict each other on one line: ``first``, ``second``, ``reason``."""
    rows = [
        {
            "first": str(e["first"]).upper(),
            "second": str(e["second"]).upper(),
            "reason": e["reason"],
            "source": _modifier_source(e["source"], f"modifier_conflicts[{i}]"),
        }
        for i, e in enumerate(facts()["modifier_conflicts"])
    ]
    return pl.DataFrame(
        rows, schema=dict.fromkeys(("first", "second", "reason", "source"), pl.String)
    )


@cache
def drug_line_modifiers_not_applicable() -> pl.DataFrame:
    """Modifiers that never apply to a drug line: ``modifier``, ``group``, ``reason``."""
    rows = [
        {
            "modifier": str(modifier).upper(),
            "group": e["group"],
            "reason": e["reason"],
            "source": _modifier_source(e["source"], f"drug_line_modifiers_not_applicable[{i}]"),
        }
        for i, e in enumerate(facts()["drug_line_modifiers_not_applicable"])
        for modifier in e["modifiers"]
    ]
    return pl.DataFrame(
        rows, schema=dict.fromkeys(("modifier", "group", "reason", "source"), pl.String)
    )


# --- Medicare immunosuppressive drug benefit facts (rules.md section 3), read by the MCR and
# RTE rules. They live under the YAML key `medicare_benefit`, with their own sources.


@cache
def medicare_benefit() -> dict[str, Any]:
    """The ``medicare_benefit`` block, every ``source`` key replaced by its citation.

    Source keys resolve in the block's own ``sources`` first, then in the file's.
    """
    import copy

    block: dict[str, Any] = copy.deepcopy(facts()["medicare_benefit"])
    sources = {**facts()["sources"], **block.pop("sources")}

    def resolve(node: Any, where: str) -> Any:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "source":
                    if value not in sources:
                        raise CuratedDataError(
                            f"{IMMUNOSUPPRESSANTS.name}: {where}: unknown source {value!r}"
                        )
                    node[key] = str(sources[value])
                else:
                    resolve(value, f"{where}.{key}")
        elif isinstance(node, list):
            for i, item in enumerate(node):
                resolve(item, f"{where}[{i}]")
        return node

    return resolve(block, "medicare_benefit")  # type: ignore[no-any-return]


def type_of_service_code(meaning: str) -> str:
    """The CMS HCPCS type-of-service code with ``meaning`` (e.g. ``immunosuppressive_drug``)."""
    for entry in medicare_benefit()["type_of_service"]:
        if entry["meaning"] == meaning:
            return str(entry["code"])
    raise CuratedDataError(f"{IMMUNOSUPPRESSANTS.name}: no type-of-service code for {meaning!r}")


@cache
def organ_requirements() -> pl.DataFrame:
    """Organs covered only with an earlier (or same-day) transplant of another organ.

    Columns ``organ``, ``requires_transplant_of``, ``alone_from`` (Date: from then the organ
    qualifies alone), ``source``.
    """
    return pl.DataFrame(
        medicare_benefit()["organ_requirements"],
        schema={
            "organ": pl.String,
            "requires_transplant_of": pl.String,
            "alone_from": pl.Date,
            "source": pl.String,
        },
    )


@cache
def supply_fees() -> pl.DataFrame:
    """Pharmacy supply fee codes and their pairing facts (R-MCR-7).

    Columns ``hcpcs``, ``role`` (initial / first_in_period / additional_in_period),
    ``qualifying`` (immunosuppressive / oral_or_immunosuppressive), ``max_units``,
    ``months_after_transplant``, ``period_days``, ``source``.
    """
    return pl.DataFrame(
        medicare_benefit()["supply_fees"],
        schema={
            "hcpcs": pl.String,
            "role": pl.String,
            "qualifying": pl.String,
            "max_units": pl.Int64,
            "months_after_transplant": pl.Int64,
            "period_days": pl.Int64,
            "source": pl.String,
        },
    )


def supply_fee_code(role: str) -> str:
    """The supply fee HCPCS code with ``role`` (initial, first_in_period, additional_in_period)."""
    for entry in medicare_benefit()["supply_fees"]:
        if entry["role"] == role:
            return str(entry["hcpcs"])
    raise CuratedDataError(f"{IMMUNOSUPPRESSANTS.name}: no supply fee with role {role!r}")
