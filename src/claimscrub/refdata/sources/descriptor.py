"""Read the billing unit, route, form and ingredient out of a HCPCS long descriptor.

A HCPCS drug code's billing unit is written in its long descriptor ("Tacrolimus,
immediate release, oral, 1 mg"; "Injection, ceftriaxone sodium, per 250 mg";
"Infusion, normal saline solution, sterile (500 ml = 1 unit)"). These functions turn
that text into data, once, when a release is built; nothing here is called per claim
line. They read **only** the descriptor text: no code, table or drug name is known to
them, so they cannot drift from the CMS file they are given.

Unit grammar (the first rule that matches wins):

1. An explicit equation ``<amount> <uom> = 1 unit`` ("500 ml = 1 unit").
2. A ``per`` phrase: ``per [<amount>] <uom>`` ("per 5 mg", "per ml", "per i.u.") or
   ``per <count noun>`` ("per vial", "per therapeutic dose"); with no amount the
   amount is 1.
3. Otherwise the last amount-with-unit in the text ("..., 0.25 mg"), optionally
   qualified by "up to" / "less than or equal to" (the amount is the cap) or by
   "greater than" / "over" (a threshold, not a unit: the amount is left empty).
   Amounts that state a container ("provided in 1.1 mg vial"), a concentration or
   rate ("149 mg/ml", "per 24 hours"), an equivalent in parentheses ("50 micrograms
   (250 i.u.)") or a unit definition ("= 1 unit") are skipped. Consecutive amounts
   in the same unit joined by "and", "/" or "," are one *combination* unit
   ("ceftolozane 50 mg and tazobactam 25 mg"): its text is kept, its amount is left
   empty (a combination has no single amount), its unit of measure is the shared one.

Anything else (devices, services, "not otherwise classified" codes) has no unit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

# --- units of measure -------------------------------------------------------------
# (regex, canonical unit) — longer spellings first so "usp units" wins over "units".
_UOM_SPELLINGS: tuple[tuple[str, str], ...] = (
    (r"international units?", "iu"),
    (r"kiu", "kiu"),  # kallikrein inhibitor units (aprotinin)
    (r"usp units?", "units"),
    (r"i\.\s?u\.?", "iu"),
    (r"iu", "iu"),
    (r"plaque forming units?|pfu", "pfu"),
    (r"vector genomes?", "vector genomes"),
    (r"units?", "units"),
    (r"micrograms?|mcg|µg", "mcg"),
    (r"milligrams?|mg", "mg"),
    (r"grams?|gm|g", "g"),
    (r"milliliters?|millilitres?|ml", "ml"),
    (r"cubic centimeters?", "cm3"),
    (r"cc", "ml"),
    (r"square cen[a-z]*meters?|sq\.?\s?cm|cm2", "sq cm"),
    (r"milliequivalents?|meq", "meq"),
    (r"millimoles?|mmol", "mmol"),
    (r"millicuries?|mci", "mci"),
    (r"microcuries?|uci|µci", "uci"),
    (r"calories", "calories"),
)
_UOM_RE = "|".join(f"(?:{pattern})" for pattern, _ in _UOM_SPELLINGS)
_UOM_COMPILED = tuple((re.compile(rf"^(?:{p})$"), canon) for p, canon in _UOM_SPELLINGS)

_NUMBER = r"(?:\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?|\.\d+)"
_MULTIPLIER = r"(?:\s(?:million|billion))?"
_AMOUNT_UOM = re.compile(
    rf"(?P<num>{_NUMBER}{_MULTIPLIER})\s?(?P<uom>{_UOM_RE})(?![a-z0-9])",
)
# "per" + optional amount + unit, optionally "per factor viii i.u."
_PER_UOM = re.compile(
    rf"\bper\s+(?:factor\s+[ivx]+\s+)?(?:(?P<num>{_NUMBER}{_MULTIPLIER})\s?)?"
    rf"(?P<uom>{_UOM_RE})(?![a-z0-9])",
)
# "per" + a countable thing that is itself the billing unit
_PER_COUNT = re.compile(
    r"\bper\s+(?P<noun>(?:single[- ](?:use|dose)\s+)?vial|(?:study|therapeutic|treatment)\s+dose"
    r"|dose|infusion|instillation|implant|patch|treatment(?!\s+(?:session|area)))\b",
)
_COUNT_UOM = {
    "vial": "vial",
    "dose": "dose",
    "infusion": "infusion",
    "instillation": "instillation",
    "implant": "implant",
    "patch": "patch",
    "treatment": "treatment",
}
_EQUALS_ONE_UNIT = re.compile(
    rf"(?P<num>{_NUMBER}{_MULTIPLIER})\s?(?P<uom>{_UOM_RE})\s*=\s*1\s*unit\b",
)
_CAP_BEFORE = re.compile(r"(?:up to|less than or equal to)\s+$")
_THRESHOLD_BEFORE = re.compile(r"(?:greater than|more than|over)\s+$")
_CONTAINER_BEFORE = re.compile(r"provided in\s+$")
_RATE_OR_CONCENTRATION_AFTER = re.compile(
    r"^\s*(?:/|per)\s*(?:\d[\d.]*\s*)?(?:ml|cc|kg|l|m2|hours?|hr|days?|minutes?|min|actuation)\b",
)
# "25 mg per cc": a "per" right after an amount states a concentration, not the unit
_AFTER_AMOUNT = re.compile(rf"{_NUMBER}\s?(?:{_UOM_RE})\s*$")
_MAX_COMBINATION_GAP_WORDS = 5


@dataclass(frozen=True)
class UnitParse:
    """The billing unit stated in a descriptor.

    ``amount`` is a decimal string ("0.25", "1000000") or None for a combination or a
    threshold; ``uom`` a canonical unit (mg, mcg, g, ml, units, iu, kiu, meq, mmol, mci,
    uci, sq cm, cm3, pfu, vector genomes, calories, vial, dose, infusion,
    instillation, implant, patch); ``text`` the descriptor's own words ("per 5 mg").
    """

    amount: str | None
    uom: str
    text: str


def collapse_whitespace(text: str | None) -> str | None:
    """Runs of whitespace become one space; leading and trailing space is removed.

    CMS's .xlsx keeps double spaces its fixed-width .txt does not; this is the one
    canonical form every descriptor is stored in, whichever file it came from.
    """
    if text is None:
        return None
    collapsed = " ".join(text.split())
    return collapsed or None


def _canonical_uom(spelling: str) -> str:
    spelling = " ".join(spelling.split())
    for pattern, canon in _UOM_COMPILED:
        if pattern.match(spelling):
            return canon
    raise ValueError(f"unknown unit spelling {spelling!r}")  # regexes are built from the same table


def _decimal_text(number: str) -> str:
    """'1,000' -> '1000'; '.625' -> '0.625'; '1 million' -> '1000000'."""
    multiplier = 1
    if number.endswith("million"):
        multiplier, number = 10**6, number[: -len("million")]
    elif number.endswith("billion"):
        multiplier, number = 10**9, number[: -len("billion")]
    value = Decimal(number.strip().replace(",", "")) * multiplier
    text = format(value.normalize(), "f")
    return text


@dataclass(frozen=True)
class _Candidate:
    start: int
    end: int
    amount: str | None
    uom: str
    text: str


def amounts(text: str | None) -> list[tuple[str, str]]:
    """Every (amount, unit) pair written in ``text``, in order, amounts as decimal strings.

    >>> amounts("75mg (50mg cft/25mg taz)")
    [('75', 'mg'), ('50', 'mg'), ('25', 'mg')]
    """
    if not text:
        return []
    return [
        (_decimal_text(m.group("num")), _canonical_uom(m.group("uom")))
        for m in _AMOUNT_UOM.finditer(" ".join(text.split()).lower())
    ]


def _plain_candidates(text: str) -> list[_Candidate]:
    found: list[_Candidate] = []
    for match in _AMOUNT_UOM.finditer(text):
        before, after = text[: match.start()], text[match.end() :]
        if re.search(r"=\s*$", before) or re.match(r"^\s*=", after):
            continue  # "500 ml = 1 unit" is handled by the equation rule; "= 1 unit" is no amount
        if _CONTAINER_BEFORE.search(before):
            continue  # "0.9 mg, provided in 1.1 mg vial": the vial size is not the unit
        if _RATE_OR_CONCENTRATION_AFTER.match(after):
            # "149 mg/ml", "0.013 mg per 24 hours"; in "0.15mg, 0.013mg per 24 hours" the
            # amount before belongs to the same rate expression and goes too
            if found and _is_combination_gap(text[found[-1].end : match.start()]):
                found.pop()
            continue
        if (
            before.endswith("(")
            and found
            and re.fullmatch(r"\s*\(", text[found[-1].end : match.start()])
        ):
            continue  # "50 micrograms (250 i.u.)": an equivalent, not a second amount
        start, amount = match.start(), _decimal_text(match.group("num"))
        cap = _CAP_BEFORE.search(before)
        threshold = _THRESHOLD_BEFORE.search(before)
        if cap:
            start = cap.start()
        elif threshold:
            start, amount = threshold.start(), None
        found.append(
            _Candidate(
                start,
                match.end(),
                amount,
                _canonical_uom(match.group("uom")),
                text[start : match.end()],
            )
        )
    return found


def _is_combination_gap(gap: str) -> bool:
    if re.search(r"\d|\(|\bper\b|provided|\bor\b", gap):
        return False
    if len(gap.split()) > _MAX_COMBINATION_GAP_WORDS:
        return False
    return bool(re.search(r"\band\b|/|,|&", gap))


def _group(candidates: list[_Candidate], text: str) -> list[list[_Candidate]]:
    groups: list[list[_Candidate]] = []
    for cand in candidates:
        if groups:
            last = groups[-1][-1]
            if cand.uom == last.uom and _is_combination_gap(text[last.end : cand.start]):
                groups[-1].append(cand)
                continue
        groups.append([cand])
    return groups


def parse_unit(descriptor: str | None) -> UnitParse | None:
    """The billing unit a descriptor states, or None when it states none.

    >>> parse_unit("Tacrolimus, extended release, (envarsus xr), oral, 0.25 mg")
    UnitParse(amount='0.25', uom='mg', text='0.25 mg')
    >>> parse_unit("Injection, ceftriaxone sodium, per 250 mg")
    UnitParse(amount='250', uom='mg', text='per 250 mg')
    >>> parse_unit("Infusion, normal saline solution, sterile (500 ml = 1 unit)")
    UnitParse(amount='500', uom='ml', text='500 ml = 1 unit')
    """
    text = collapse_whitespace(descriptor)
    if text is None:
        return None
    text = text.lower()

    equation = _EQUALS_ONE_UNIT.search(text)
    if equation:
        return UnitParse(
            _decimal_text(equation.group("num")),
            _canonical_uom(equation.group("uom")),
            equation.group(0),
        )

    per = next(
        (m for m in _PER_UOM.finditer(text) if not _AFTER_AMOUNT.search(text[: m.start()])), None
    )
    per_count = _PER_COUNT.search(text)
    if per and (per_count is None or per.start() <= per_count.start()):
        number = per.group("num")
        return UnitParse(
            _decimal_text(number) if number else "1", _canonical_uom(per.group("uom")), per.group(0)
        )
    if per_count:
        noun = per_count.group("noun")
        return UnitParse("1", _COUNT_UOM[noun.split()[-1]], per_count.group(0))

    candidates = _plain_candidates(text)
    if not candidates:
        return None
    chosen = _group(candidates, text)[-1]
    if len(chosen) == 1:
        only = chosen[0]
        return UnitParse(only.amount, only.uom, only.text)
    return UnitParse(None, chosen[0].uom, text[chosen[0].start : chosen[-1].end])


# --- route ----------------------------------------------------------------------------
# Specific routes, as the descriptor words them (canonical name, regex).
_SPECIFIC_ROUTES: tuple[tuple[str, str], ...] = (
    ("oral", r"\boral(?:ly)?\b"),
    ("sublingual", r"\bsublingual\b"),
    ("buccal", r"\bbuccal\b"),
    ("enteral", r"\benteral\b"),
    ("inhalation", r"\binhal(?:ation|ed)\b"),
    ("nasal", r"\b(?:intra)?nasal\b"),
    ("ophthalmic", r"\bophthalmic\b"),
    ("intravitreal", r"\bintravitreal\b"),
    ("intraocular", r"\bintraocular\b"),
    ("intracameral", r"\bintracameral\b"),
    ("otic", r"\botic\b"),
    ("topical", r"\btopical(?:ly)?\b"),
    ("transdermal", r"\btransdermal\b"),
    ("vaginal", r"\b(?:intra)?vaginal\b"),
    ("rectal", r"\brectal\b"),
    ("intravesical", r"\bintravesical\b"),
    ("intrathecal", r"\bintrathecal\b"),
    ("intra-articular", r"\bintra-?articular\b"),
    ("intradermal", r"\bintradermal\b"),
    ("intralesional", r"\bintralesional\b"),
    ("intravenous", r"\bintravenous(?:ly)?\b"),
    ("intramuscular", r"\bintramuscular(?:ly)?\b"),
    ("subcutaneous", r"\bsubcutaneous(?:ly)?\b"),
)
_INJECTED = {"intravenous", "intramuscular", "subcutaneous", "intradermal"}
_GENERIC_ROUTES: tuple[tuple[str, str], ...] = (
    ("parenteral", r"\bparenteral\b"),
    ("injection", r"\binject(?:ion|able)\b|^inj\b"),
    ("infusion", r"\binfusion\b"),
)


def parse_route(descriptor: str | None) -> str | None:
    """The route of administration the descriptor names, or None.

    A specific route wins over a generic one ("Injection, gamma globulin,
    intramuscular" -> intramuscular). Several injected routes ("for subcutaneous or
    intravenous injection") give "injection". "parenteral" is kept as CMS wrote it.

    >>> parse_route("Lymphocyte immune globulin, antithymocyte globulin, equine, parenteral")
    'parenteral'
    >>> parse_route("Tacrolimus, immediate release, oral, 1 mg")
    'oral'
    """
    text = collapse_whitespace(descriptor)
    if text is None:
        return None
    text = text.lower()
    specific = sorted(
        (match.start(), name)
        for name, pattern in _SPECIFIC_ROUTES
        for match in [re.search(pattern, text)]
        if match
    )
    names = list(dict.fromkeys(name for _, name in specific))
    if len(names) == 1:
        return names[0]
    if names:
        if set(names) <= _INJECTED:
            return "injection"
        return names[0]
    for name, pattern in _GENERIC_ROUTES:
        if re.search(pattern, text):
            return name
    return None


# --- form -----------------------------------------------------------------------------
_FORMS: tuple[tuple[str, str], ...] = (
    ("extended release", r"\bextended[- ]release\b"),
    ("immediate release", r"\bimmediate[- ]release\b"),
    ("delayed release", r"\bdelayed[- ]release\b"),
    ("sustained release", r"\bsustained[- ]release\b"),
    ("for suspension", r"\bfor (?:depot |oral )?suspension\b"),
    ("suspension", r"(?<!for )(?<!for depot )(?<!for oral )\bsuspension\b"),
    ("granules", r"\bgranules\b"),
    ("solution", r"\bsolution\b"),
    ("emulsion", r"\bemulsion\b"),
    ("tablet", r"\btablets?\b"),
    ("capsule", r"\bcapsules?\b"),
    ("powder", r"\bpowder\b"),
    ("non-lyophilized", r"\bnon-?lyophilized\b"),
    ("lyophilized", r"(?<!non-)(?<!non)\blyophilized\b"),
    ("liposomal", r"\bliposom(?:al|e)\b"),
    ("implant", r"\bimplant\b"),
    ("insert", r"\binsert\b"),
    ("patch", r"\bpatch\b"),
    ("film", r"\bfilm\b"),
    ("gel", r"\bgel\b"),
    ("ointment", r"\bointment\b"),
    ("cream", r"\bcream\b"),
    ("spray", r"\bspray\b"),
)


def parse_form(descriptor: str | None) -> str | None:
    """Dosage-form words of the descriptor, in the order written, joined by ", ".

    >>> parse_form("Tacrolimus, granules, oral suspension, 0.1 mg")
    'granules, suspension'
    >>> parse_form("Mycophenolate mofetil, for suspension, oral, 100 mg")
    'for suspension'
    """
    text = collapse_whitespace(descriptor)
    if text is None:
        return None
    text = text.lower()
    found = sorted(
        (match.start(), name)
        for name, pattern in _FORMS
        for match in [re.search(pattern, text)]
        if match
    )
    if not found:
        return None
    return ", ".join(dict.fromkeys(name for _, name in found))


# --- ingredient -------------------------------------------------------------------------
_LEADING_WORDS = re.compile(
    r"^(?:(?:injection|inj|infusion|injectable|intravesical instillation|instillation|oral"
    r"|inhalation solution)\s*,?\s+)+"
)
_TRAILING_WORDS = re.compile(
    r"(?:\s+(?:oral|parenteral|injection|injectable|infusion|inhalation|for|solution|suspension))+$"
)


def parse_ingredient(descriptor: str | None) -> str | None:
    """The ingredient words a drug descriptor starts with, lower case.

    The first comma-separated part after a leading "Injection," / "Infusion," /
    "Oral,", without parenthesised brand names and trailing route words:
    "Injection, cyclosporine, 250 mg" -> "cyclosporine";
    "Mycophenolate mofetil (myhibbin), oral suspension, 100 mg" -> "mycophenolate mofetil";
    "Methylprednisolone oral, per 4 mg" -> "methylprednisolone".

    >>> parse_ingredient("Injection, mycophenolate mofetil, 10 mg")
    'mycophenolate mofetil'
    """
    text = collapse_whitespace(descriptor)
    if text is None:
        return None
    text = _LEADING_WORDS.sub("", text.lower())
    while re.search(r"\([^()]*\)", text):  # innermost first: "(antihemophilic factor (porcine))"
        text = re.sub(r"\([^()]*\)", " ", text)
    first = re.split(r"[,;(]", text, maxsplit=1)[0]
    first = _AMOUNT_UOM.sub(" ", first)  # "fosnetupitant 235 mg and palonosetron 0.25 mg"
    first = re.sub(rf"\b{_NUMBER}\s?(?:%|percent\b)", " ", first)  # "dexamethasone 9 percent"
    first = " ".join(first.replace(")", " ").split())
    first = _TRAILING_WORDS.sub("", first).strip(" .")
    return first or None
