"""The vocabulary of an implementation-guide table: loops, segment positions, picks.

A guide module (``x222.py``, ``x223.py``) is data only: which segment (and which
qualifier) opens which loop under which parent, the TR3 position of every segment
the loop may hold, and which element of which segment feeds which canonical column.
``loops.py`` and ``flatten.py`` interpret these tables; no guide-specific code path
exists elsewhere.

Loop kinds:

* ``hard`` anchor: its opener means the same wherever it appears (ST, BHT, HL by
  HL03, CLM, LX). Hard anchors may hold child loops.
* ``soft`` anchor: its opener opens the loop only while its hard parent is the
  innermost open anchor (SBR opens 2320 inside a claim; elsewhere SBR is the 2000B
  subscriber segment).
* ``leaf``: holds no child loops (2010AA, 2310B, 2410, 2420A ...).

Positions are the TR3 segment position numbers (e.g. CLM 1300, HI 2310, LX 3650):
within one loop instance positions may not decrease, and a child loop may open only
at or after the position of what came before it in the parent.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ROOT = "ST"  # the transaction set itself: parent of the header and the HL levels


@dataclass(frozen=True)
class Loop:
    """One loop of a guide."""

    id: str
    name: str
    parents: tuple[str, ...]
    opener: str
    position: int
    qualifiers: tuple[str, ...] = ()  # accepted values of the opener's qualifier element
    qualifier_element: int = 1
    segments: tuple[tuple[str, int], ...] = ()  # the loop's other segments and TR3 positions
    kind: str = "leaf"  # "hard" | "soft" | "leaf"
    repeatable: bool = True
    opener_position: int | None = None  # the opener's position inside the loop (HL: 10)

    @property
    def own_position(self) -> int:
        """TR3 position of the opener segment within its own loop."""
        return self.position if self.opener_position is None else self.opener_position


@dataclass(frozen=True)
class Pick:
    """Copy one element (or component) of a segment into a column.

    ``qualifier`` restricts the pick to segments whose first element has one of
    these values (``REF01 = G1``). ``components`` builds a list column from several
    components of one composite (modifiers, diagnosis pointers). ``kind`` is the
    X12 data type checked before the value is used: ``AN`` text, ``R`` decimal,
    ``N0`` integer, ``D8`` date CCYYMMDD. ``required``: when the segment is present
    the value must be too. ``max_length``: a longer value is an error of the claim. Otherwise the first segment of a scope wins, unless
    ``join`` says how to join the values of several (NTE notes).
    """

    column: str
    loop: str
    segment: str
    element: int
    component: int = 0
    qualifier: tuple[str, ...] = ()
    kind: str = "AN"
    required: bool = False
    components: tuple[int, ...] = ()
    label: str = ""  # how to name the element in messages, e.g. "SV104 (units)"
    join: str | None = None  # several segments in one scope: join their values with this
    # The element's maximum length in the TR3 (digits only for ``R`` and ``N0``, as X12
    # counts them); 0: not checked. A longer value fails a receiver's syntax check (999).
    max_length: int = 0


@dataclass(frozen=True)
class DatePick:
    """A DTP date (D8, RD8 or DT) of one qualifier into a from/to column pair."""

    from_column: str
    to_column: str
    loop: str
    qualifier: str


@dataclass(frozen=True)
class Diagnoses:
    """Which HI qualifiers carry diagnoses, which is principal, which are ICD-9."""

    principal: tuple[str, ...]
    other: tuple[str, ...]
    icd9: tuple[str, ...]
    known: tuple[str, ...]  # every HI qualifier the guide allows (others are errors)


@dataclass(frozen=True)
class Guide:
    """An implementation guide: loop table, scopes and extraction picks."""

    name: str
    claim_type: str
    versions: tuple[str, ...]
    loops: tuple[Loop, ...]
    service_segment: str  # SV1 (837P) or SV2 (837I)
    clm05_1: str  # what CLM05-1 holds: "place_of_service" (837P) or "facility_type" (837I)
    picks: tuple[Pick, ...]
    dates: tuple[DatePick, ...]
    diagnoses: Diagnoses
    # Segments that may occur only once in one loop instance.
    once: frozenset[str] = field(default_factory=frozenset)
    # Anchor loop -> the scope whose key identifies its data (see flatten.py).
    scopes: tuple[tuple[str, str], ...] = ()
    # HL03 level code -> HL03 of the level its HL02 must point to ("" = no parent).
    hl_parents: tuple[tuple[str, str], ...] = ()

    def loop(self, loop_id: str) -> Loop:
        """The loop with this id."""
        for lp in self.loops:
            if lp.id == loop_id:
                return lp
        raise KeyError(loop_id)
