"""837I Health Care Claim: Institutional, ASC X12 005010X223 (A2 and A3 errata).

Loop structure and segment positions follow the TR3 (cross-checked against the
independent pyx12 map ``837Q3.I.5010.X223.A1.xml``, which pyx12 uses for
005010X223A2, in tests/readers/x12).
"""

from __future__ import annotations

from claimscrub.model import columns as c
from claimscrub.readers.x12.guides.spec import ROOT, DatePick, Diagnoses, Guide, Loop, Pick
from claimscrub.readers.x12.guides.x222 import HL_PARENTS, PARTY_PICKS, SCOPES

_REF2710 = (("REF", 2710),)
_REF3550 = (("REF", 3550),)
_REF5250 = (("REF", 5250),)

LOOPS: tuple[Loop, ...] = (
    Loop(ROOT, "Transaction set", (), "ST", 50, segments=(("SE", 5550),), kind="hard"),
    Loop("HEADER", "Beginning of hierarchical transaction", (ROOT,), "BHT", 100, kind="hard", repeatable=False),
    Loop("1000A", "Submitter name", ("HEADER",), "NM1", 200, ("41",), segments=(("PER", 450),), repeatable=False),
    Loop("1000B", "Receiver name", ("HEADER",), "NM1", 200, ("40",), repeatable=False),
    Loop("2000A", "Billing provider level", (ROOT,), "HL", 200, ("20",), 3,
         segments=(("PRV", 30), ("CUR", 100)), kind="hard", opener_position=10),
    Loop("2010AA", "Billing provider name", ("2000A",), "NM1", 150, ("85",),
         segments=(("N3", 250), ("N4", 300), ("REF", 350), ("PER", 400)), repeatable=False),
    Loop("2010AB", "Pay-to address", ("2000A",), "NM1", 150, ("87",),
         segments=(("N3", 250), ("N4", 300)), repeatable=False),
    Loop("2010AC", "Pay-to plan", ("2000A",), "NM1", 150, ("PE",),
         segments=(("N3", 250), ("N4", 300), ("REF", 350)), repeatable=False),
    Loop("2000B", "Subscriber level", (ROOT,), "HL", 200, ("22",), 3,
         segments=(("SBR", 50),), kind="hard", opener_position=10),
    Loop("2010BA", "Subscriber name", ("2000B",), "NM1", 150, ("IL",),
         segments=(("N3", 250), ("N4", 300), ("DMG", 320), ("REF", 350)), repeatable=False),
    Loop("2010BB", "Payer name", ("2000B",), "NM1", 150, ("PR",),
         segments=(("N3", 250), ("N4", 300), ("REF", 350)), repeatable=False),
    Loop("2000C", "Patient level", (ROOT,), "HL", 200, ("23",), 3,
         segments=(("PAT", 70),), kind="hard", opener_position=10),
    Loop("2010CA", "Patient name", ("2000C",), "NM1", 150, ("QC",),
         segments=(("N3", 250), ("N4", 300), ("DMG", 320), ("REF", 350)), repeatable=False),
    Loop("2300", "Claim information", ("2000B", "2000C"), "CLM", 1300, kind="hard",
         segments=(("DTP", 1350), ("CL1", 1400), ("PWK", 1550), ("CN1", 1600), ("AMT", 1750),
                   ("REF", 1800), ("K3", 1850), ("NTE", 1900), ("CRC", 2200), ("HI", 2310),
                   ("HCP", 2410))),
    Loop("2310A", "Attending provider", ("2300",), "NM1", 2500, ("71",),
         segments=(("PRV", 2550), *_REF2710), repeatable=False),
    Loop("2310B", "Operating physician", ("2300",), "NM1", 2500, ("72",), segments=_REF2710, repeatable=False),
    Loop("2310C", "Other operating physician", ("2300",), "NM1", 2500, ("ZZ",), segments=_REF2710,
         repeatable=False),
    Loop("2310D", "Rendering provider", ("2300",), "NM1", 2500, ("82",), segments=_REF2710, repeatable=False),
    Loop("2310E", "Service facility location", ("2300",), "NM1", 2500, ("77",),
         segments=(("N3", 2650), ("N4", 2700), *_REF2710), repeatable=False),
    Loop("2310F", "Referring provider", ("2300",), "NM1", 2500, ("DN",), segments=_REF2710, repeatable=False),
    # COB: read for structure only (contents are not extracted).
    Loop("2320", "Other subscriber information", ("2300",), "SBR", 2900, kind="soft",
         segments=(("CAS", 2950), ("AMT", 3000), ("OI", 3100), ("MIA", 3150), ("MOA", 3200))),
    Loop("2330A", "Other subscriber name", ("2320",), "NM1", 3250, ("IL",),
         segments=(("N3", 3320), ("N4", 3400), *_REF3550), repeatable=False),
    Loop("2330B", "Other payer name", ("2320",), "NM1", 3250, ("PR",),
         segments=(("N3", 3320), ("N4", 3400), ("DTP", 3500), *_REF3550), repeatable=False),
    Loop("2330C", "Other payer attending provider", ("2320",), "NM1", 3250, ("71",), segments=_REF3550,
         repeatable=False),
    Loop("2330D", "Other payer operating physician", ("2320",), "NM1", 3250, ("72",), segments=_REF3550,
         repeatable=False),
    Loop("2330E", "Other payer other operating physician", ("2320",), "NM1", 3250, ("ZZ",),
         segments=_REF3550, repeatable=False),
    Loop("2330F", "Other payer service facility", ("2320",), "NM1", 3250, ("77",), segments=_REF3550,
         repeatable=False),
    Loop("2330G", "Other payer rendering provider", ("2320",), "NM1", 3250, ("82",), segments=_REF3550,
         repeatable=False),
    Loop("2330H", "Other payer referring provider", ("2320",), "NM1", 3250, ("DN",), segments=_REF3550,
         repeatable=False),
    Loop("2330I", "Other payer billing provider", ("2320",), "NM1", 3250, ("85",), segments=_REF3550,
         repeatable=False),
    Loop("2400", "Service line", ("2300",), "LX", 3650, kind="hard",
         segments=(("SV2", 3750), ("PWK", 4200), ("DTP", 4550), ("REF", 4700), ("AMT", 4750),
                   ("NTE", 4850), ("HCP", 4920))),
    Loop("2410", "Drug identification", ("2400",), "LIN", 4930,
         segments=(("CTP", 4940), ("REF", 4950)), repeatable=False),
    Loop("2420A", "Operating physician (line)", ("2400",), "NM1", 5000, ("72",), segments=_REF5250,
         repeatable=False),
    Loop("2420B", "Other operating physician (line)", ("2400",), "NM1", 5000, ("ZZ",), segments=_REF5250,
         repeatable=False),
    Loop("2420C", "Rendering provider (line)", ("2400",), "NM1", 5000, ("82",), segments=_REF5250,
         repeatable=False),
    Loop("2420D", "Referring provider (line)", ("2400",), "NM1", 5000, ("DN",), segments=_REF5250,
         repeatable=False),
    Loop("2430", "Line adjudication", ("2400",), "SVD", 5400,
         segments=(("CAS", 5450), ("DTP", 5500), ("AMT", 5505))),
)  # fmt: skip

PICKS: tuple[Pick, ...] = (
    *PARTY_PICKS,
    Pick(c.CLAIM_ID, "2300", "CLM", 1, required=True, label="CLM01 (claim id)"),
    Pick(c.TOTAL_CHARGE, "2300", "CLM", 2, kind="R", required=True, label="CLM02 (total charge)"),
    Pick("_clm05_1", "2300", "CLM", 5, 1, required=True, label="CLM05-1 (facility type code)", max_length=2),
    Pick(c.FACILITY_CODE_QUALIFIER, "2300", "CLM", 5, 2),
    Pick(c.FREQUENCY_CODE, "2300", "CLM", 5, 3, required=True, label="CLM05-3 (frequency code)", max_length=1),
    Pick(c.PRIOR_AUTHORIZATION, "2300", "REF", 2, qualifier=("G1",)),
    Pick(c.LINE_NO, "2400", "LX", 1, kind="N0", required=True, label="LX01 (line number)", max_length=6),
    Pick(c.REVENUE_CODE, "2400", "SV2", 1, required=True, label="SV201 (revenue code)"),
    Pick(c.PROCEDURE_QUALIFIER, "2400", "SV2", 2, 1),
    Pick(c.HCPCS, "2400", "SV2", 2, 2),
    Pick(c.MODIFIERS, "2400", "SV2", 2, components=(3, 4, 5, 6)),
    Pick(c.DRUG_DESCRIPTION, "2400", "SV2", 2, 7),
    Pick(c.CHARGE, "2400", "SV2", 3, kind="R", required=True, label="SV203 (line charge)"),
    Pick(c.UNIT_BASIS, "2400", "SV2", 4, required=True, label="SV204 (unit basis)"),
    Pick(c.UNITS, "2400", "SV2", 5, kind="R", required=True, label="SV205 (units)", max_length=15),
    Pick(c.NARRATIVE, "2400", "NTE", 2, join=" | "),
    Pick(c.NDC_QUALIFIER, "2410", "LIN", 2, required=True, label="LIN02 (product id qualifier)"),
    Pick(c.NDC, "2410", "LIN", 3, required=True, label="LIN03 (NDC)"),
    Pick(c.NDC_PRICE, "2410", "CTP", 3, kind="R", label="CTP03 (unit price)"),
    Pick(c.NDC_QTY, "2410", "CTP", 4, kind="R", required=True, label="CTP04 (NDC quantity)", max_length=15),
    Pick(c.NDC_UNIT, "2410", "CTP", 5, 1, required=True, label="CTP05-1 (NDC unit)"),
    Pick(c.PRESCRIPTION_NUMBER, "2410", "REF", 2, qualifier=("XZ",)),
    Pick(c.LINK_SEQUENCE, "2410", "REF", 2, qualifier=("VY",)),
)  # fmt: skip

DATES: tuple[DatePick, ...] = (
    DatePick("_statement_from", "_statement_to", "2300", "434"),
    DatePick(c.ADMISSION_DATE, "_admission_to", "2300", "435"),
    # DTP*096 in 837I is the discharge hour (TM); only a date format yields a date.
    DatePick(c.DISCHARGE_DATE, "_discharge_to", "2300", "096"),
    DatePick(c.DOS_FROM, c.DOS_TO, "2400", "472"),
)

DIAGNOSES = Diagnoses(
    principal=("ABK", "BK"),
    other=("ABJ", "BJ", "APR", "PR", "ABN", "BN", "ABF", "BF"),
    icd9=("BK", "BJ", "PR", "BN", "BF", "BR", "BQ"),
    known=(
        "ABK", "BK", "ABJ", "BJ", "APR", "PR", "ABN", "BN", "DR", "ABF", "BF", "BBR", "BR",
        "CAH", "BBQ", "BQ", "BI", "BH", "BE", "BG", "TC",
    ),
)  # fmt: skip

ONCE = frozenset(
    {
        "BHT",
        "HL",
        "SBR",
        "PAT",
        "DMG",
        "N3",
        "N4",
        "CLM",
        "CL1",
        "LX",
        "SV2",
        "LIN",
        "CTP",
        "SVD",
        "OI",
    }
)

GUIDE = Guide(
    name="837I",
    claim_type="institutional",
    # The base 5010 guide and its addenda and errata: the same loops and segments for what
    # is read here.
    versions=("005010X223", "005010X223A1", "005010X223A2", "005010X223A3"),
    loops=LOOPS,
    service_segment="SV2",
    clm05_1="facility_type",
    picks=PICKS,
    dates=DATES,
    diagnoses=DIAGNOSES,
    once=ONCE,
    scopes=SCOPES,
    hl_parents=HL_PARENTS,
)
