"""The descriptor readers: unit, route, form, ingredient (pure functions, real CMS wording)."""

from __future__ import annotations

import pytest

from claimscrub.refdata.sources.descriptor import (
    collapse_whitespace,
    parse_form,
    parse_ingredient,
    parse_route,
    parse_unit,
)


@pytest.mark.parametrize(
    ("descriptor", "amount", "uom", "text"),
    [
        ("Tacrolimus, immediate release, oral, 1 mg", "1", "mg", "1 mg"),
        ("Tacrolimus, extended release, (envarsus xr), oral, 0.25 mg", "0.25", "mg", "0.25 mg"),
        ("Prednisone, oral, per 5 mg", "5", "mg", "per 5 mg"),
        ("Injection, insulin, per 5 units", "5", "units", "per 5 units"),
        (
            "Injection, chorionic gonadotropin, per 1,000 usp units",
            "1000",
            "units",
            "per 1,000 usp units",
        ),
        (
            "Injection, penicillin g potassium, up to 600,000 units",
            "600000",
            "units",
            "up to 600,000 units",
        ),
        ("Injection, epoetin beta, 1 microgram, (for esrd on dialysis)", "1", "mcg", "1 microgram"),
        (
            "Injection, factor viii (antihemophilic factor, recombinant) (xyntha), per i.u.",
            "1",
            "iu",
            "per i.u.",
        ),
        ("Injection, gadoteridol, (prohance multipack), per ml", "1", "ml", "per ml"),
        (
            "Infusion, normal saline solution, sterile (500 ml = 1 unit)",
            "500",
            "ml",
            "500 ml = 1 unit",
        ),
        ("Infusion, normal saline solution , 1000 cc", "1000", "ml", "1000 cc"),
        ("Injection, ceftazidime and avibactam, 0.5 g/0.125 g", None, "g", "0.5 g/0.125 g"),
        ("Injection, thyrotropin alpha, 0.9 mg, provided in 1.1 mg vial", "0.9", "mg", "0.9 mg"),
        (
            "High osmolar contrast material, up to 149 mg/ml iodine concentration, per ml",
            "1",
            "ml",
            "per ml",
        ),
        (
            "Injection, rho d immune globulin, human, minidose, 50 micrograms (250 i.u.)",
            "50",
            "mcg",
            "50 micrograms",
        ),
        ("Injection, pegaspargase, per single dose vial", "1", "vial", "per single dose vial"),
        (
            "Injection, talimogene laherparepvec, per 1 million plaque forming units",
            "1000000",
            "pfu",
            "per 1 million plaque forming units",
        ),
        (
            "Iodine i-123 sodium iodide, diagnostic, per 100 microcuries, up to 999 microcuries",
            "100",
            "uci",
            "per 100 microcuries",
        ),
        ("Cellesta flowable amnion (25 mg per cc); per 0.5 cc", "0.5", "ml", "per 0.5 cc"),
        ("Injection, gamma globulin, intramuscular, over 10 cc", None, "ml", "over 10 cc"),
        ("Carbidopa 5 mg/levodopa 20 mg enteral suspension, 100 ml", "100", "ml", "100 ml"),
        (
            "Amnio quad-core, per square centimeter (add-on, list separately)",
            "1",
            "sq cm",
            "per square centimeter",
        ),
    ],
)
def test_parse_unit(descriptor: str, amount: str | None, uom: str, text: str) -> None:
    unit = parse_unit(descriptor)
    assert unit is not None
    assert (unit.amount, unit.uom, unit.text) == (amount, uom, text)


@pytest.mark.parametrize(
    "descriptor",
    [
        "Immunosuppressive drug, not otherwise classified",
        "Wig, any type, each",
        "Ambulance service, outside state per mile, transport (medicaid only)",
        "Segesterone acetate and ethinyl estradiol 0.15mg, 0.013mg per 24 hours; vaginal system",
        None,
    ],
)
def test_no_unit(descriptor: str | None) -> None:
    assert parse_unit(descriptor) is None


@pytest.mark.parametrize(
    ("descriptor", "route"),
    [
        (
            "Lymphocyte immune globulin, antithymocyte globulin, equine, parenteral, 250 mg",
            "parenteral",
        ),
        ("Tacrolimus, granules, oral suspension, 0.1 mg", "oral"),
        ("Injection, cyclosporine, 250 mg", "injection"),
        ("Injection, gamma globulin, intramuscular, 1 cc", "intramuscular"),
        (
            "Injection, octreotide, non-depot form for subcutaneous or intravenous injection",
            "injection",
        ),
        (
            "Hyaluronan or derivative, gel-one, for intra-articular injection, per dose",
            "intra-articular",
        ),
        (
            "Budesonide, inhalation solution, fda-approved final product, non-compounded, 0.5 mg",
            "inhalation",
        ),
        (
            "Aminolevulinic acid hcl for topical administration, 20%, single unit dosage form",
            "topical",
        ),
        ("Immunosuppressive drug, not otherwise classified", None),
    ],
)
def test_parse_route(descriptor: str, route: str | None) -> None:
    assert parse_route(descriptor) == route


@pytest.mark.parametrize(
    ("descriptor", "form"),
    [
        ("Tacrolimus, extended release, (astagraf xl), oral, 0.1 mg", "extended release"),
        (
            "Prednisone, immediate release or delayed release, oral, 1 mg",
            "immediate release, delayed release",
        ),
        ("Mycophenolate mofetil (myhibbin), oral suspension, 100 mg", "suspension"),
        ("Mycophenolate mofetil, for suspension, oral, 100 mg", "for suspension"),
        (
            "Injection, immune globulin, intravenous, non-lyophilized (e.g., liquid), 500 mg",
            "non-lyophilized",
        ),
        ("Azathioprine, oral, 50 mg", None),
    ],
)
def test_parse_form(descriptor: str, form: str | None) -> None:
    assert parse_form(descriptor) == form


@pytest.mark.parametrize(
    ("descriptor", "ingredient"),
    [
        ("Injection, cyclosporine, 250 mg", "cyclosporine"),
        ("Methylprednisolone oral, per 4 mg", "methylprednisolone"),
        ("Mycophenolate mofetil (myhibbin), oral suspension, 100 mg", "mycophenolate mofetil"),
        (
            "Injection factor ix, (antihemophilic factor, recombinant), glycopegylated, 1 iu",
            "factor ix",
        ),
        ("Factor viii (antihemophilic factor (porcine)), per i.u.", "factor viii"),
        (
            "Injection, fosnetupitant 235 mg and palonosetron 0.25 mg",
            "fosnetupitant and palonosetron",
        ),
        ("Inj, faricimab-svoa, 0.1 mg", "faricimab-svoa"),
    ],
)
def test_parse_ingredient(descriptor: str, ingredient: str) -> None:
    assert parse_ingredient(descriptor) == ingredient


def test_collapse_whitespace() -> None:
    assert (
        collapse_whitespace("  Xwrap plus, per square  centimeter ")
        == "Xwrap plus, per square centimeter"
    )
    assert collapse_whitespace("   ") is None
