"""What kind of code a HCPCS code is on a date, decided the way the rules decide it.

The rules never keep lists of codes: each decides from the CMS record in force (type of
service, route, BETOS, pricing indicator), the NDC–HCPCS crosswalk, the MUE tables and
the curated facts whether a line is a drug line, an immunosuppressive benefit line, a
supply fee, a single-dose-container drug and so on. To say which rules can fire on a
code, the explanation needs the same answers for one (code, date) pair. They are
computed here by running the rules' own helpers (:mod:`claimscrub.rules.coding.facts`,
:mod:`claimscrub.rules.medicare._benefit`, :mod:`claimscrub.rules.units.common`) on a
one-row frame, so a trait cannot drift from the rule that uses it.

Traits (:attr:`CodeTraits.flags`; the names are the vocabulary of ``rule_scope.yaml``):

``valid`` valid on the date; ``drug`` a drug-line code (COD/NOC/NDC rules); ``noc`` not
otherwise classified; ``crosswalk_ndcs`` NDCs listed under it on the crosswalk release
used; ``immunosuppressive`` CMS type of service G (for a code also typed P, only with a
transplant diagnosis: ``immunosuppressive_needs_transplant_dx``); ``benefit_line`` an
immunosuppressive line the DME MAC benefit governs; ``supply_fee`` with
``fee_initial`` / ``fee_first_in_period`` / ``fee_additional_in_period``; ``oral``,
``oral_solid`` (oral and no liquid form), ``oral_drug``; ``injected`` (an injected route
class), ``injected_dme_mue_zero`` (injected with a DME-supplier MUE of 0);
``single_dose_container``; ``diagnosis_sets`` / ``transplant_diagnosis_set`` (curated
supporting diagnoses); ``off_label_diagnosis_sets`` (curated off-label uses);
``strength_code_group`` (one of a drug's codes that differ only in strength);
``older_code_of_liquid_form`` (a newer code takes the drug's oral liquids, valid on the
date); ``liquid_form_code`` (that newer code); ``drug_betos``; ``has_unit`` / ``unit_mass``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from claimscrub.model import columns as c
from claimscrub.refdata import curated
from claimscrub.refdata.catalog import RefData

_CODE, _DATE = "_explain_code", "_explain_date"
# Every trait name code_traits can set (the vocabulary of rule_scope.yaml).
TRAITS = (
    "valid",
    "drug",
    "noc",
    "crosswalk_ndcs",
    "immunosuppressive",
    "immunosuppressive_needs_transplant_dx",
    "benefit_line",
    "supply_fee",
    "fee_initial",
    "fee_first_in_period",
    "fee_additional_in_period",
    "oral",
    "oral_solid",
    "oral_drug",
    "injected",
    "injected_dme_mue_zero",
    "single_dose_container",
    "oral_solid_products",
    "diagnosis_sets",
    "transplant_diagnosis_set",
    "off_label_diagnosis_sets",
    "strength_code_group",
    "older_code_of_liquid_form",
    "liquid_form_code",
    "drug_betos",
    "has_unit",
    "unit_mass",
)


@dataclass(frozen=True)
class CodeTraits:
    """A code's traits on a date, and the facts they were decided from."""

    code: str
    on: dt.date
    flags: frozenset[str]
    status: str | None
    route: str | None
    route_class: str | None
    form: str | None
    betos: str | None
    unit_uom: str | None
    xwalk_ndcs: int
    xwalk_release: str | None
    fee: dict[str, Any] | None  # the curated supply fee entry
    single_dose: dict[str, Any] | None  # the curated single-dose-container entry
    diagnosis_sets: tuple[dict[str, Any], ...]  # curated (hcpcs, set, use, source) rows
    mue: dict[str, dict[str, Any]] = field(default_factory=dict)  # service type -> row
    mue_in_force: bool = True  # False when no MUE release's window contains the date
    opps_status_indicator: str | None = None

    def has(self, *names: str) -> bool:
        """True when every trait in ``names`` holds."""
        return all(name in self.flags for name in names)


def _transplant_status_codes() -> list[str]:
    """Transplant status diagnoses of covered organs (curated), to stand for a transplant claim."""
    sets = curated.diagnosis_sets()
    return (
        sets.filter((pl.col("set") == "transplant_covered_organ") & (pl.col("kind") == "status"))
        .get_column("dx")
        .to_list()
    )


def code_traits(
    refdata: RefData, code: str, on: dt.date, doc: dict[str, Any] | None = None
) -> CodeTraits:
    """The traits of ``code`` on ``on`` (the code must be listed by some HCPCS release).

    ``doc`` is the code's :func:`claimscrub.explain.facts.gather` document when the caller
    has it (saves reading the HCPCS record twice).
    """
    from claimscrub.rules.coding.facts import code_facts
    from claimscrub.rules.context import RuleContext
    from claimscrub.rules.medicare import _benefit as benefit
    from claimscrub.rules.modifiers._common import DRUG_BETOS
    from claimscrub.rules.units.common import LIQUID_FORM_PATTERN, ORAL, amount_dimension

    # One probe line on a transplant claim: a code CMS types both G and P (the oral
    # anticancer drugs) is an immunosuppressive line only with a transplant diagnosis.
    probe = pl.LazyFrame(
        {c.HCPCS: [code], c.DOS_FROM: [on], c.DIAGNOSES: [_transplant_status_codes()]},
        schema={c.HCPCS: pl.String, c.DOS_FROM: pl.Date, c.DIAGNOSES: pl.List(pl.String)},
    )
    ctx = RuleContext(lines=probe, claims=pl.LazyFrame(), refdata=refdata)
    keys = probe.select(pl.col(c.HCPCS).alias(_CODE), pl.col(c.DOS_FROM).alias(_DATE)).unique()
    # The crosswalk half of the drug test is the code's NDC list, which the facts document
    # already holds (same release for the date): the rule helper runs without it.
    facts_frame = code_facts(ctx, keys, _CODE, _DATE, crosswalk=False)
    lines = benefit.with_code_facts(probe, refdata)
    lines = benefit.with_mue(lines, refdata, "dme_supplier", benefit.DME_MUE)
    lines = lines.with_columns(
        benefit.injected_not_paid_by_dme_mac().alias("_injected_dme_mue_zero"),
        pl.col("_route").eq(ORAL).fill_null(False).alias("_oral"),
    )
    facts_df, lines_df = pl.collect_all([facts_frame, lines])
    fact = facts_df.row(0, named=True)
    transplant = lines_df.row(0, named=True)

    if doc is None:
        from claimscrub.explain.facts import gather

        doc = gather(refdata, code, on) or {}
    unit = doc.get("unit") or {}
    unit_uom, form, unit_amount = unit.get("uom"), unit.get("form"), unit.get("amount")
    betos = (doc.get("indicators") or {}).get("betos")
    dimension = (
        pl.select(amount_dimension(pl.lit(unit_uom, pl.String))).item()
        if unit_uom is not None
        else None
    )

    flags: set[str] = set()
    ndcs = doc.get("ndcs") or {}
    xwalk_ndcs = len({i["ndc11"] for i in ndcs.get("items") or [] if i.get("ndc11")})
    xwalk_release = (ndcs.get("source") or {}).get("release")
    valid = bool(fact["valid"])
    immuno = bool(transplant[benefit.IMMUNO])
    add = flags.add
    if valid:
        add("valid")
    # coding/facts.py: a drug line code by its record, or with NDCs on the crosswalk.
    if fact["drug"] or (fact["valid"] is not None and xwalk_ndcs > 0):
        add("drug")
    if fact["noc"]:
        add("noc")
    if xwalk_ndcs > 0:
        add("crosswalk_ndcs")
    tos = {item["code"] for item in (doc.get("indicators") or {}).get("type_of_service") or []}
    if immuno:
        add("immunosuppressive")
        # NOTE: decided from the record, not from a probe without diagnoses: the rules'
        # type-of-service test is null (so False) for codes with empty TOS columns when the
        # claim has no transplant diagnosis (reported to the rules' owner).
        if curated.type_of_service_code("dme_purchase") in tos:
            add("immunosuppressive_needs_transplant_dx")
    if immuno and valid and not transplant["_injected_dme_mue_zero"]:
        add("benefit_line")
    fee_role = transplant[benefit.FEE_ROLE]
    fee = None
    if fee_role is not None:
        add("supply_fee")
        add(f"fee_{fee_role}")
        fee = next(row for row in curated.supply_fees().to_dicts() if row["hcpcs"] == code)
    if transplant["_oral"]:
        add("oral")
        if not (form and pl.select(pl.lit(form).str.contains(LIQUID_FORM_PATTERN)).item()):
            add("oral_solid")
    if transplant[benefit.ORAL_DRUG]:
        add("oral_drug")
    if fact["route_class"] == "parenteral":
        add("injected")
    if transplant["_injected_dme_mue_zero"]:
        add("injected_dme_mue_zero")
    single = [row for row in curated.single_dose_containers().to_dicts() if row["hcpcs"] == code]
    if single:
        add("single_dose_container")
    if code in curated.oral_solid_codes().get_column("hcpcs").to_list():
        add("oral_solid_products")
    dx_sets = tuple(row for row in curated.code_diagnosis_sets().to_dicts() if row["hcpcs"] == code)
    if dx_sets:
        add("diagnosis_sets")
    if any(row["set"] == "transplant_covered_organ" for row in dx_sets):
        add("transplant_diagnosis_set")
    off_label = curated.code_off_label_sets().filter(pl.col("hcpcs") == code)
    if off_label.height:
        add("off_label_diagnosis_sets")
    if code in curated.strength_code_groups().get_column("hcpcs").to_list():
        add("strength_code_group")
    if code in curated.liquid_form_codes().get_column("hcpcs").to_list():
        add("liquid_form_code")
    liquid = curated.liquid_form_codes().filter(pl.col("instead_of") == code)["hcpcs"]
    if liquid.len():
        probe_liquid = pl.LazyFrame(
            {_CODE: liquid, _DATE: [on] * liquid.len()},
            schema={_CODE: pl.String, _DATE: pl.Date},
        )
        if code_facts(ctx, probe_liquid, _CODE, _DATE, crosswalk=False).collect()["valid"].any():
            add("older_code_of_liquid_form")
    if betos in DRUG_BETOS:
        add("drug_betos")
    if unit_amount is not None:
        add("has_unit")
        if dimension == "mass":
            add("unit_mass")

    mue_block = doc.get("mue") or {}
    mue = {
        row["service_type"]: {
            "service_type": row["service_type"],
            "mue_value": row["mue_value"],
            "mai": row["mai"],
            "mue_rationale": row["rationale"],
        }
        for row in mue_block.get("limits") or []
    }
    mue_in_force = (mue_block.get("source") or {}).get("in_force") is not False
    selected = next((o for o in doc.get("opps") or [] if o["selected"] and o["listed"]), None)
    opps_si = selected["status_indicator"]["code"] if selected else None
    return CodeTraits(
        code=code,
        on=on,
        flags=frozenset(flags),
        status=fact["status"],
        route=fact["route"],
        route_class=fact["route_class"],
        form=form,
        betos=betos,
        unit_uom=unit_uom,
        xwalk_ndcs=xwalk_ndcs,
        xwalk_release=xwalk_release,
        fee=fee,
        single_dose=single[0] if single else None,
        diagnosis_sets=dx_sets,
        mue=mue,
        mue_in_force=mue_in_force,
        opps_status_indicator=opps_si,
    )
