"""837P Health Care Claim: Professional, ASC X12 005010X222 (A1 and A2 errata).

Loop structure and segment positions follow the TR3 (cross-checked against the
independent pyx12 map ``837.5010.X222.A1.xml`` in tests/readers/x12). Only the
segments a loop may hold are listed; their element content is not validated here
except for the elements the picks below extract.
"""

from __future__ import annotations

from claimscrub.model import columns as c
from claimscrub.readers.x12.guides.spec import ROOT, DatePick, Diagnoses, Guide, Loop, Pick

_NM1_ADDRESS = (("N3", 2650), ("N4", 2700))

LOOPS: tuple[Loop, ...] = (
    Loop(ROOT, "Transaction set", (), "ST", 50, segments=(("SE", 5550),), kind="hard"),
    Loop("HEADER", "Beginning of hierarchical transaction", (ROOT,), "BHT", 100, kind="hard", repeatable=False),
    Loop("1000A", "Submitter name", ("HEADER",), "NM1", 200, ("41",), segments=(("PER", 450),), repeatable=False),
    Loop("1000B", "Receiver name", ("HEADER",), "NM1", 200, ("40",), repeatable=False),
    # HL levels: siblings under the transaction; their nesting is checked through HL02.
    Loop("2000A", "Billing provider level", (ROOT,), "HL", 200, ("20",), 3,
         segments=(("PRV", 30), ("CUR", 100)), kind="hard", opener_position=10),
    Loop("2010AA", "Billing provider name", ("2000A",), "NM1", 150, ("85",),
         segments=(("N3", 250), ("N4", 300), ("REF", 350), ("PER", 400)), repeatable=False),
    Loop("2010AB", "Pay-to address", ("2000A",), "NM1", 150, ("87",),
         segments=(("N3", 250), ("N4", 300)), repeatable=False),
    Loop("2010AC", "Pay-to plan", ("2000A",), "NM1", 150, ("PE",),
         segments=(("N3", 250), ("N4", 300), ("REF", 350)), repeatable=False),
    Loop("2000B", "Subscriber level", (ROOT,), "HL", 200, ("22",), 3,
         segments=(("SBR", 50), ("PAT", 70)), kind="hard", opener_position=10),
    Loop("2010BA", "Subscriber name", ("2000B",), "NM1", 150, ("IL",),
         segments=(("N3", 250), ("N4", 300), ("DMG", 320), ("REF", 350), ("PER", 400)),
         repeatable=False),
    Loop("2010BB", "Payer name", ("2000B",), "NM1", 150, ("PR",),
         segments=(("N3", 250), ("N4", 300), ("REF", 350)), repeatable=False),
    Loop("2000C", "Patient level", (ROOT,), "HL", 200, ("23",), 3,
         segments=(("PAT", 70),), kind="hard", opener_position=10),
    Loop("2010CA", "Patient name", ("2000C",), "NM1", 150, ("QC",),
         segments=(("N3", 250), ("N4", 300), ("DMG", 320), ("REF", 350), ("PER", 400)),
         repeatable=False),
    Loop("2300", "Claim information", ("2000B", "2000C"), "CLM", 1300, kind="hard",
         segments=(("DTP", 1350), ("PWK", 1550), ("CN1", 1600), ("AMT", 1750), ("REF", 1800),
                   ("K3", 1850), ("NTE", 1900), ("CR1", 1950), ("CR2", 2000), ("CRC", 2200),
                   ("HI", 2310), ("HCP", 2410))),
    Loop("2310A", "Referring provider", ("2300",), "NM1", 2500, ("DN", "P3"), segments=(("REF", 2710),)),
    Loop("2310B", "Rendering provider", ("2300",), "NM1", 2500, ("82",),
         segments=(("PRV", 2550), ("REF", 2710)), repeatable=False),
    Loop("2310C", "Service facility location", ("2300",), "NM1", 2500, ("77",),
         segments=(*_NM1_ADDRESS, ("REF", 2710), ("PER", 2750)), repeatable=False),
    Loop("2310D", "Supervising provider", ("2300",), "NM1", 2500, ("DQ",),
         segments=(("REF", 2710),), repeatable=False),
    Loop("2310E", "Ambulance pick-up location", ("2300",), "NM1", 2500, ("PW",),
         segments=_NM1_ADDRESS, repeatable=False),
    Loop("2310F", "Ambulance drop-off location", ("2300",), "NM1", 2500, ("45",),
         segments=_NM1_ADDRESS, repeatable=False),
    # COB: read for structure only (contents are not extracted).
    Loop("2320", "Other subscriber information", ("2300",), "SBR", 2900, kind="soft",
         segments=(("CAS", 2950), ("AMT", 3000), ("OI", 3100), ("MOA", 3200))),
    Loop("2330A", "Other subscriber name", ("2320",), "NM1", 3250, ("IL",),
         segments=(("N3", 3320), ("N4", 3400), ("REF", 3550)), repeatable=False),
    Loop("2330B", "Other payer name", ("2320",), "NM1", 3250, ("PR",),
         segments=(("N3", 3320), ("N4", 3400), ("DTP", 3450), ("REF", 3550)), repeatable=False),
    Loop("2330C", "Other payer referring provider", ("2320",), "NM1", 3250, ("DN", "P3"),
         segments=(("REF", 3550),)),
    Loop("2330D", "Other payer rendering provider", ("2320",), "NM1", 3250, ("82",),
         segments=(("REF", 3550),), repeatable=False),
    Loop("2330E", "Other payer service facility", ("2320",), "NM1", 3250, ("77",),
         segments=(("REF", 3550),), repeatable=False),
    Loop("2330F", "Other payer supervising provider", ("2320",), "NM1", 3250, ("DQ",),
         segments=(("REF", 3550),), repeatable=False),
    Loop("2330G", "Other payer billing provider", ("2320",), "NM1", 3250, ("85",),
         segments=(("REF", 3550),), repeatable=False),
    Loop("2400", "Service line", ("2300",), "LX", 3650, kind="hard",
         segments=(("SV1", 3700), ("SV5", 4000), ("PWK", 4200), ("CR1", 4250), ("CR3", 4350),
                   ("CRC", 4500), ("DTP", 4550), ("QTY", 4600), ("MEA", 4620), ("CN1", 4650),
                   ("REF", 4700), ("AMT", 4750), ("K3", 4800), ("NTE", 4850), ("PS1", 4880),
                   ("HCP", 4920))),
    Loop("2410", "Drug identification", ("2400",), "LIN", 4930,
         segments=(("CTP", 4940), ("REF", 4950)), repeatable=False),
    Loop("2420A", "Rendering provider (line)", ("2400",), "NM1", 5000, ("82",),
         segments=(("PRV", 5050), ("REF", 5250)), repeatable=False),
    Loop("2420B", "Purchased service provider", ("2400",), "NM1", 5000, ("QB",),
         segments=(("REF", 5250),), repeatable=False),
    Loop("2420C", "Service facility location (line)", ("2400",), "NM1", 5000, ("77",),
         segments=(("N3", 5140), ("N4", 5200), ("REF", 5250)), repeatable=False),
    Loop("2420D", "Supervising provider (line)", ("2400",), "NM1", 5000, ("DQ",),
         segments=(("REF", 5250),), repeatable=False),
    Loop("2420E", "Ordering provider", ("2400",), "NM1", 5000, ("DK",),
         segments=(("N3", 5140), ("N4", 5200), ("REF", 5250), ("PER", 5300)), repeatable=False),
    Loop("2420F", "Referring provider (line)", ("2400",), "NM1", 5000, ("DN", "P3"),
         segments=(("REF", 5250),)),
    Loop("2420G", "Ambulance pick-up location (line)", ("2400",), "NM1", 5000, ("PW",),
         segments=(("N3", 5140), ("N4", 5200)), repeatable=False),
    Loop("2420H", "Ambulance drop-off location (line)", ("2400",), "NM1", 5000, ("45",),
         segments=(("N3", 5140), ("N4", 5200)), repeatable=False),
    Loop("2430", "Line adjudication", ("2400",), "SVD", 5400,
         segments=(("CAS", 5450), ("DTP", 5500), ("AMT", 5505))),
    Loop("2440", "Form identification", ("2400",), "LQ", 5510, segments=(("FRM", 5520),)),
)  # fmt: skip

# The parties of the claim (submitter, receiver, billing provider, subscriber, payer, patient)
# sit in the same loops and elements in 837P and 837I.
PARTY_PICKS: tuple[Pick, ...] = (
    # 1000A / 1000B: submitter and receiver
    Pick(c.SUBMITTER_NAME, "1000A", "NM1", 3),
    Pick(c.SUBMITTER_ID, "1000A", "NM1", 9),
    Pick(c.RECEIVER_NAME, "1000B", "NM1", 3),
    Pick(c.RECEIVER_ID, "1000B", "NM1", 9),
    # 2000A / 2010AA: billing provider
    Pick(c.BILLING_NAME, "2010AA", "NM1", 3),
    Pick(c.BILLING_NPI, "2010AA", "NM1", 9),
    # 2000B / 2010BA / 2010BB: subscriber and payer
    Pick(c.CLAIM_FILING_INDICATOR, "2000B", "SBR", 9),
    Pick(c.SUBSCRIBER_ID, "2010BA", "NM1", 9),
    Pick("_sub_last", "2010BA", "NM1", 3),
    Pick("_sub_first", "2010BA", "NM1", 4),
    Pick("_sub_birth", "2010BA", "DMG", 2, kind="D8", label="DMG02 (subscriber birth date)"),
    Pick("_sub_sex", "2010BA", "DMG", 3),
    Pick(c.PAYER_NAME, "2010BB", "NM1", 3),
    Pick(c.PAYER_ID, "2010BB", "NM1", 9),
    # 2000C / 2010CA: patient (when not the subscriber)
    Pick("_pat_id", "2010CA", "NM1", 9),
    Pick("_pat_last", "2010CA", "NM1", 3),
    Pick("_pat_first", "2010CA", "NM1", 4),
    Pick("_pat_birth", "2010CA", "DMG", 2, kind="D8", label="DMG02 (patient birth date)"),
    Pick("_pat_sex", "2010CA", "DMG", 3),
)

PICKS: tuple[Pick, ...] = (
    *PARTY_PICKS,
    # 2300: claim
    Pick(c.CLAIM_ID, "2300", "CLM", 1, required=True, label="CLM01 (claim id)"),
    Pick(c.TOTAL_CHARGE, "2300", "CLM", 2, kind="R", required=True, label="CLM02 (total charge)"),
    Pick("_clm05_1", "2300", "CLM", 5, 1, required=True, label="CLM05-1 (place of service)", max_length=2),
    Pick(c.FACILITY_CODE_QUALIFIER, "2300", "CLM", 5, 2),
    Pick(c.FREQUENCY_CODE, "2300", "CLM", 5, 3, required=True, label="CLM05-3 (frequency code)", max_length=1),
    Pick(c.PRIOR_AUTHORIZATION, "2300", "REF", 2, qualifier=("G1",)),
    # 2400: service line
    Pick(c.LINE_NO, "2400", "LX", 1, kind="N0", required=True, label="LX01 (line number)", max_length=6),
    Pick(c.PROCEDURE_QUALIFIER, "2400", "SV1", 1, 1, required=True, label="SV101-1 (procedure qualifier)"),
    Pick(c.HCPCS, "2400", "SV1", 1, 2, required=True, label="SV101-2 (procedure code)"),
    Pick(c.MODIFIERS, "2400", "SV1", 1, components=(3, 4, 5, 6)),
    Pick(c.DRUG_DESCRIPTION, "2400", "SV1", 1, 7),
    Pick(c.CHARGE, "2400", "SV1", 2, kind="R", required=True, label="SV102 (line charge)"),
    Pick(c.UNIT_BASIS, "2400", "SV1", 3, required=True, label="SV103 (unit basis)"),
    Pick(c.UNITS, "2400", "SV1", 4, kind="R", required=True, label="SV104 (units)", max_length=15),
    Pick(c.LINE_PLACE_OF_SERVICE, "2400", "SV1", 5),
    Pick(c.DIAGNOSIS_POINTERS, "2400", "SV1", 7, kind="N0", components=(1, 2, 3, 4),
         label="SV107 (diagnosis pointers)"),
    Pick(c.NARRATIVE, "2400", "NTE", 2, join=" | "),
    # 2410: drug identification
    Pick(c.NDC_QUALIFIER, "2410", "LIN", 2, required=True, label="LIN02 (product id qualifier)"),
    Pick(c.NDC, "2410", "LIN", 3, required=True, label="LIN03 (NDC)"),
    Pick(c.NDC_PRICE, "2410", "CTP", 3, kind="R", label="CTP03 (unit price)"),
    Pick(c.NDC_QTY, "2410", "CTP", 4, kind="R", required=True, label="CTP04 (NDC quantity)", max_length=15),
    Pick(c.NDC_UNIT, "2410", "CTP", 5, 1, required=True, label="CTP05-1 (NDC unit)"),
    Pick(c.PRESCRIPTION_NUMBER, "2410", "REF", 2, qualifier=("XZ",)),
    Pick(c.LINK_SEQUENCE, "2410", "REF", 2, qualifier=("VY",)),
)  # fmt: skip

DATES: tuple[DatePick, ...] = (
    DatePick(c.ADMISSION_DATE, "_admission_to", "2300", "435"),
    DatePick(c.DISCHARGE_DATE, "_discharge_to", "2300", "096"),
    DatePick(c.DOS_FROM, c.DOS_TO, "2400", "472"),
)

DIAGNOSES = Diagnoses(
    principal=("ABK", "BK"),
    other=("ABF", "BF"),
    icd9=("BK", "BF"),
    known=("ABK", "ABF", "BK", "BF", "BP", "BO", "BG"),
)

SCOPES = (
    (ROOT, "txn"),
    ("HEADER", "txn"),
    ("2000A", "billing"),
    ("2000B", "subscriber"),
    ("2000C", "patient"),
    ("2300", "claim"),
    ("2320", "claim"),
    ("2400", "line"),
)

HL_PARENTS = (("20", ""), ("22", "20"), ("23", "22"))

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
        "LX",
        "SV1",
        "SV5",
        "LIN",
        "CTP",
        "SVD",
        "LQ",
        "OI",
    }
)

GUIDE = Guide(
    name="837P",
    claim_type="professional",
    # The base 5010 guide and its errata: the same loops and segments for what is read here.
    versions=("005010X222", "005010X222A1", "005010X222A2"),
    loops=LOOPS,
    service_segment="SV1",
    clm05_1="place_of_service",
    picks=PICKS,
    dates=DATES,
    diagnoses=DIAGNOSES,
    once=ONCE,
    scopes=SCOPES,
    hl_parents=HL_PARENTS,
)
