"""Value helpers for code shapes: NDC normalisation and HCPCS / ICD-10-CM shape checks.

NDC layouts (FDA): a 10-digit NDC is printed hyphenated as 4-4-2, 5-3-2 or 5-4-1;
claims carry the 11-digit 5-4-2 form without hyphens, made by padding the short
segment with a leading zero. An *unhyphenated* 10-digit string cannot be padded
safely (the short segment is unknown), so it is reported as ambiguous with every
candidate, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_HCPCS_RE = re.compile(r"^[A-Z][0-9]{4}$|^[0-9]{4}[A-Z0-9]$")
_ICD10_RE = re.compile(r"^[A-Z][0-9A-Z]{2}(\.?[0-9A-Z]{1,4})?$")

# layout name -> segment lengths of the 10-digit hyphenated form
_ASCII_DIGITS = re.compile(r"^[0-9]+$")  # str.isdigit() would accept other scripts' digits
_TEN_DIGIT_LAYOUTS = {"4-4-2": (4, 4, 2), "5-3-2": (5, 3, 2), "5-4-1": (5, 4, 1)}


@dataclass(frozen=True)
class NdcParse:
    """The result of reading an NDC as submitted.

    ``status`` is ``ok`` (``ndc11`` holds the 11-digit form), ``ambiguous`` (an
    unhyphenated 10-digit string: ``candidates`` maps each layout to its 11-digit
    form) or ``invalid`` (``reason`` says why).
    """

    submitted: str
    status: str
    ndc11: str | None = None
    layout: str | None = None
    candidates: dict[str, str] = field(default_factory=dict)
    reason: str | None = None

    @property
    def hyphenated(self) -> str | None:
        """The 11-digit NDC printed 5-4-2 with hyphens."""
        if self.ndc11 is None:
            return None
        return f"{self.ndc11[:5]}-{self.ndc11[5:9]}-{self.ndc11[9:]}"


def _pad(segments: tuple[str, str, str]) -> str:
    a, b, c = segments
    return a.zfill(5) + b.zfill(4) + c.zfill(2)


def parse_ndc(value: str) -> NdcParse:
    """Normalise a submitted NDC to the 11-digit 5-4-2 form, or say why not.

    >>> parse_ndc("0781-2104-01").ndc11
    '00781210401'
    >>> parse_ndc("6899230753").status
    'ambiguous'
    """
    raw = value.strip()
    text = raw.replace(" ", "")
    if not text:
        return NdcParse(raw, "invalid", reason="empty NDC")
    if "-" in text:
        parts = text.split("-")
        if len(parts) != 3 or not all(_ASCII_DIGITS.match(p) for p in parts):
            return NdcParse(raw, "invalid", reason="hyphenated NDC must be three groups of digits")
        lengths = tuple(len(p) for p in parts)
        if lengths == (5, 4, 2):
            return NdcParse(raw, "ok", ndc11="".join(parts), layout="5-4-2")
        for name, shape in _TEN_DIGIT_LAYOUTS.items():
            if lengths == shape:
                return NdcParse(raw, "ok", ndc11=_pad((parts[0], parts[1], parts[2])), layout=name)
        return NdcParse(
            raw,
            "invalid",
            reason=f"segment lengths {'-'.join(map(str, lengths))} are not 4-4-2, 5-3-2, 5-4-1 or 5-4-2",
        )
    if not _ASCII_DIGITS.match(text):
        return NdcParse(raw, "invalid", reason="NDC must contain only digits and hyphens")
    if len(text) == 11:
        return NdcParse(raw, "ok", ndc11=text, layout="11-digit")
    if len(text) == 10:
        candidates = {}
        for name, (a, b, _c) in _TEN_DIGIT_LAYOUTS.items():
            candidates[name] = _pad((text[:a], text[a : a + b], text[a + b :]))
        return NdcParse(
            raw,
            "ambiguous",
            candidates=candidates,
            reason="an unhyphenated 10-digit NDC can be 4-4-2, 5-3-2 or 5-4-1; the padding cannot be known",
        )
    reason = f"{len(text)} digits; an NDC has 10 or 11"
    if len(text) == 9 and "-" not in raw and not text.startswith("0"):
        # An 11-digit NDC kept as a number by a spreadsheet loses its leading zeros.
        reason += f" (a spreadsheet may have dropped two leading zeros: 00{text}?)"
    return NdcParse(raw, "invalid", reason=reason)


def is_hcpcs_shape(code: str) -> bool:
    """True when ``code`` looks like a HCPCS Level II (A0000) or Level I (00000) code."""
    return bool(_HCPCS_RE.match(code))


def is_icd10_shape(code: str) -> bool:
    """True when ``code`` looks like an ICD-10-CM code, with or without its dot."""
    return bool(_ICD10_RE.match(code.upper()))
