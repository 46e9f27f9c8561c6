"""The J7504 and J7507 pages say what the data and the cited sources say, section by section."""

from __future__ import annotations

import datetime as dt

from explain_helpers import explained, section, texts

from claimscrub.explain import render

ON = dt.date(2026, 3, 1)


def _by_kind(explanation: dict, section_id: str, kind: str) -> list[dict]:
    return [item for item in section(explanation, section_id) if item.get("kind") == kind]


# --- J7504: equine antithymocyte globulin --------------------------------------------------
def test_j7504_definition_is_equine_atg_parenteral_250_mg() -> None:
    page = explained("J7504", ON)
    descriptor = _by_kind(page, "definition", "descriptor")[0]
    assert "antithymocyte globulin, equine, parenteral, 250 mg" in descriptor["text"]
    assert descriptor["source"]["label"] == "hcpcs 2026-01"
    unit = _by_kind(page, "definition", "unit")[0]
    assert unit["data"]["text"] == "250 mg"
    assert unit["data"]["route"] == "parenteral"
    assert "1 unit = 250 mg" in unit["text"]
    assert "tacrolimus" not in texts(page, "definition").lower()
    # MUEs: infused in the office or hospital (15), not a DME item (0).
    mue = {
        i["data"]["service_type"]: i["data"]["mue_value"]
        for i in _by_kind(page, "definition", "mue")
    }
    assert mue == {"dme_supplier": 0, "outpatient_hospital": 15, "practitioner": 15}


def test_j7504_clinical_context_is_sourced_to_the_ncd_and_label() -> None:
    page = explained("J7504", ON)
    clinical = texts(page, "clinical")
    assert "NCD 260.7" in clinical and "renal allograft rejection" in clinical
    assert "aplastic anemia" in clinical
    assert "T86.11 (Kidney transplant rejection)" in clinical
    assert "D61.9 (Aplastic anemia, unspecified)" in clinical
    uses = [i for i in section(page, "clinical") if i.get("group") == "Labelled uses"]
    assert uses and all(u["source"]["kind"] == "curated" and u["source"]["url"] for u in uses)


def test_j7504_routing_jw_jz_and_prior_authorisation() -> None:
    page = explained("J7504", ON)
    payers = section(page, "payers")
    routing = [i for i in payers if i.get("kind") == "routing"]
    assert [(i["pack"], i["source"]["label"]) for i in routing] == [("medicare-dme", "rule RTE002")]
    modifiers = section(page, "modifiers")
    jw_jz = [i for i in modifiers if i.get("rule") == "MOD004"]
    assert jw_jz and set(jw_jz[0]["packs"]) == {"medicare-ab", "medicare-outpatient"}
    assert "not yet confirmed against a CMS list" in jw_jz[0]["text"]  # curated: unverified
    assert not [i for i in modifiers if i.get("rule") == "MCR003"]  # no KX: not a DME item
    pa = [i for i in payers if i.get("kind") == "prior_authorization"]
    assert [i["pack"] for i in pa] == ["commercial"]
    assert "PAU001" in page["rules"] and "RTE002" in page["rules"]
    assert "RTE001" not in page["rules"]


def test_j7504_similar_codes_and_ndc() -> None:
    page = explained("J7504", ON)
    related = {i["codes"][0]: i["relation"] for i in _by_kind(page, "similar", "related")}
    assert related["J7511"] == "same_ingredient"
    ndcs = _by_kind(page, "similar", "ndc")
    assert [i["data"]["ndc11"] for i in ndcs] == ["00009722402"]
    # 0.2 units per mL of 50 mg/mL: 50 mg per mL; listed under the brand name Atgam.
    assert "50 mg (0.2 units) per tablet, capsule, mL or vial" in ndcs[0]["text"]
    assert "Atgam" in ndcs[0]["text"]


def test_j7504_misconceptions_correct_the_seed_article() -> None:
    page = explained("J7504", ON)
    ids = [m["id"] for m in page["misconceptions"]]
    assert {"j7504-oral-tacrolimus", "j7504-1-mg-increments", "j7504-excludes-injectables"} <= set(
        ids
    )
    oral = next(m for m in page["misconceptions"] if m["id"] == "j7504-oral-tacrolimus")
    assert oral["text"].startswith("Not: J7504 is oral tacrolimus")
    for code in ("J7507", "J7503", "J7508", "J7521"):
        assert code in oral["codes"]
    assert (
        "Lymphocyte immune globulin, antithymocyte globulin, equine, parenteral, 250 mg"
        in oral["correct"]
    )
    assert oral["seen_at"][0]["url"].startswith("https://coding.health/")
    units = next(m for m in page["misconceptions"] if m["id"] == "j7504-1-mg-increments")
    assert "J7504 is billed per 250 mg" in units["correct"]


# --- J7507: immediate-release oral tacrolimus ------------------------------------------------
def test_j7507_definition_is_oral_immediate_release_1_mg() -> None:
    page = explained("J7507", ON)
    unit = _by_kind(page, "definition", "unit")[0]["data"]
    assert (unit["text"], unit["route"], unit["form"], unit["ingredient"]) == (
        "1 mg",
        "oral",
        "immediate release",
        "tacrolimus",
    )
    mue = {
        i["data"]["service_type"]: i["data"]["mue_value"]
        for i in _by_kind(page, "definition", "mue")
    }
    assert mue["practitioner"] == 0 and mue["dme_supplier"] == 1200


def test_j7507_clinical_context() -> None:
    page = explained("J7507", ON)
    clinical = texts(page, "clinical")
    assert "Class: calcineurin inhibitor" in clinical
    assert "Z79.621 (Long term (current) use of calcineurin inhibitor)" in clinical
    assert "not interchangeable" in clinical
    assert "Z94.0 (Kidney transplant status)" in clinical
    assert "Z94.7 (Corneal transplant status)" in clinical  # listed as not supporting


def test_j7507_modifiers_documentation_and_payers_follow_the_packs() -> None:
    page = explained("J7507", ON)
    kx = [i for i in section(page, "modifiers") if i.get("rule") == "MCR003"]
    assert kx and kx[0]["packs"] == ["medicare-dme"] and kx[0]["text"].startswith("KX (")
    jw_jz = [i for i in section(page, "modifiers") if i.get("rule") == "MOD005"]
    assert jw_jz and "does not belong on this line" in jw_jz[0]["text"]
    documentation = section(page, "documentation")
    days = next(i for i in documentation if i.get("field") == "days_supply")
    assert "Limit on 2026-03-01: 90 days (medicare-dme)" in days["text"]
    ndc = next(i for i in documentation if i.get("field") == "ndc")
    assert "NDC001" in ndc["rules"] and "medicare-ab" not in ndc["packs"]
    records = [i for i in documentation if i.get("kind") == "record"]
    assert records and all(r["source"]["kind"] == "curated" for r in records)
    routing = [i for i in section(page, "payers") if i.get("kind") == "routing"]
    assert [(i["pack"], i["source"]["label"]) for i in routing] == [("medicare-ab", "rule RTE001")]
    denials = {i["rule"]: i for i in section(page, "denials")}
    assert denials["MCR003"]["carc"] == "CO-50"
    assert denials["RTE001"]["packs"] == ["medicare-ab"]
    # 2024: the 30-day supply limit.
    older = explained("J7507", dt.date(2024, 11, 15))
    days = next(i for i in section(older, "documentation") if i.get("field") == "days_supply")
    assert "30 days (medicare-dme)" in days["text"]


def test_j7507_similar_codes_and_ndcs() -> None:
    page = explained("J7507", ON)
    related = {i["codes"][0]: i["relation"] for i in _by_kind(page, "similar", "related")}
    for code in ("J7503", "J7508", "J7521", "J7525"):
        assert related[code] == "same_ingredient"
    ndcs = {i["data"]["ndc11"]: i["text"] for i in _by_kind(page, "similar", "ndc")}
    # Sandoz tacrolimus 5 mg: 5 units per capsule
    assert "5 mg (5 units) per tablet, capsule, mL or vial" in ndcs["00781210401"]
    assert "Prograf" in ndcs["00469061773"] and "brand name" in ndcs["00469061773"]
    assert "J7599" in texts(page, "similar")  # the immunosuppressive NOC alternative


def test_j7507_misconceptions() -> None:
    page = explained("J7507", ON)
    ids = {m["id"] for m in page["misconceptions"]}
    assert "j7504-oral-tacrolimus" in ids
    assert "location-and-quantity-modifiers" in ids


def test_payer_option_narrows_the_payer_sections() -> None:
    page = explained("J7507", ON, "medicare-dme")
    assert page["packs"] == ["medicare-dme"]
    assert "RTE001" not in page["rules"]
    groups = {i["group"] for i in section(page, "payers")}
    assert len(groups) == 1 and "medicare-dme" in next(iter(groups))


def test_html_page_links_codes_and_lists_sources() -> None:
    page = explained("J7504", ON)
    html = render(page, "html")
    assert 'href="/codes/J7507?on=2026-03-01"' in html
    assert 'id="s1"' in html and "https://genhealth.ai/policy/cms/" in html
    plain = render(page, "html", code_url=None)
    assert "/codes/J7507" not in plain
