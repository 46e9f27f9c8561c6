"""ISA/GS/ST…SE/GE/IEA pairing, control numbers and counts.

The tracker sees only envelope segments, in file order, and decides for every
transaction set (keyed by the ordinal of its ST segment):

* which implementation guide reads it (ST03, else GS08), or that it is not a
  claim transaction (835, 999 ...) or not a supported guide;
* whether it was closed by its SE (a transaction set without SE cannot be trusted:
  its claims are rejected) and whether it sits in a sound ISA/GS envelope;
* warnings for envelope counts and control numbers that disagree (SE01, SE02,
  GE01, GE02, IEA01, IEA02): the claims stay readable.

Problems that concern no claim are reported as rows of their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from claimscrub.readers.x12.guides import GUIDES, Guide, guide_for

# The versions the reader knows, for messages.
_SUPPORTED = ", ".join(f"{g.name} {', '.join(g.versions)}" for g in GUIDES)


@dataclass
class Transaction:
    """One ST…SE transaction set as far as the envelope is concerned."""

    st_ordinal: int
    control: str
    set_id: str
    version: str
    guide: Guide | None
    # Reason every claim of this transaction is rejected (envelope or guide), if any.
    reject: str | None = None
    reject_ordinal: int | None = None
    closed: bool = False
    closed_at: int | None = None  # ordinal of its SE, or of the segment that broke it off


@dataclass
class EnvelopeIssue:
    """A problem of the envelope itself: ``severity`` is ``warning`` or ``rejected``."""

    ordinal: int
    reason: str
    severity: str = "warning"


@dataclass
class _Group:
    ordinal: int
    control: str
    version: str
    bad: str | None = None
    st_count: int = 0


@dataclass
class _Interchange:
    ordinal: int
    control: str
    gs_count: int = 0


def _el(elements: list[str], i: int) -> str:
    return elements[i].strip() if i < len(elements) and elements[i] is not None else ""


@dataclass
class EnvelopeTracker:
    """Consume envelope segments in order; expose transactions and issues."""

    transactions: dict[int, Transaction] = field(default_factory=dict)
    issues: list[EnvelopeIssue] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)  # ST ordinals closed since last drain
    _isa: _Interchange | None = None
    _gs: _Group | None = None
    _st: Transaction | None = None
    # (sender, receiver, ISA13) -> the first ISA ordinal: how a receiver spots a duplicate
    _isa_seen: dict[tuple[str, str, str], int] = field(default_factory=dict)

    # --- events ------------------------------------------------------------------
    def start_interchange(
        self, ordinal: int, elements: list[str], problems: tuple[str, ...]
    ) -> None:
        """An ISA segment (with what the tokenizer found wrong in its layout).

        The tokenizer has read the delimiters whatever the layout (an ISA it cannot read
        at all never gets here), so a header of the wrong width, common in hand-made
        files, is a warning: the claims are read and checked, and the user learns that
        a receiver holding to the fixed layout may refuse the interchange.
        """
        self.end_interchange(ordinal)
        if problems:
            self.issues.append(
                EnvelopeIssue(
                    ordinal,
                    f"interchange header ISA (segment {ordinal}): {'; '.join(problems)}; "
                    "read by its delimiters, but a receiver may reject the interchange (TA1)",
                )
            )
        control = _el(elements, 13)
        key = (_el(elements, 6).strip(), _el(elements, 8).strip(), control)
        if key in self._isa_seen:
            # The same interchange sent twice (files joined with `cat`, a resubmission):
            # the claims are read, DUP rules compare them, and a receiver refuses the copy.
            self.issues.append(
                EnvelopeIssue(
                    ordinal,
                    f"interchange control number ISA13 {control!r} from the same sender to "
                    f"the same receiver repeats the interchange at segment {self._isa_seen[key]}; "
                    "a receiver rejects a duplicate interchange (TA1)",
                )
            )
        self._isa_seen.setdefault(key, ordinal)
        self._isa = _Interchange(ordinal, control)

    def segment(self, ordinal: int, seg_id: str, elements: list[str]) -> None:
        """Feed one envelope segment (ISA is fed through :meth:`start_interchange`)."""
        if seg_id == "GS":
            self._on_gs(ordinal, elements)
        elif seg_id == "ST":
            self._on_st(ordinal, elements)
        elif seg_id == "SE":
            self._on_se(ordinal, elements)
        elif seg_id == "GE":
            self._on_ge(ordinal, elements)
        elif seg_id == "IEA":
            self._on_iea(ordinal, elements)

    def end_interchange(self, ordinal: int) -> None:
        """The input of the current interchange ended (new ISA, unreadable text or EOF)."""
        if self._st is not None:
            self._break_st(ordinal, "the file or interchange ended")
        if self._gs is not None:
            self.issues.append(
                EnvelopeIssue(
                    self._gs.ordinal, f"functional group GS {self._gs.control!r} has no GE trailer"
                )
            )
            self._gs = None
        if self._isa is not None:
            self.issues.append(
                EnvelopeIssue(
                    self._isa.ordinal, f"interchange ISA {self._isa.control!r} has no IEA trailer"
                )
            )
            self._isa = None

    def drain_closed(self) -> list[int]:
        """ST ordinals of transactions closed since the last call."""
        out, self.closed = self.closed, []
        return out

    def open_transaction(self) -> Transaction | None:
        """The transaction set still open, if any."""
        return self._st

    # --- handlers ----------------------------------------------------------------
    def _on_gs(self, ordinal: int, elements: list[str]) -> None:
        if self._st is not None:
            self._break_st(ordinal, f"a GS (segment {ordinal}) began")
        if self._gs is not None:
            self.issues.append(
                EnvelopeIssue(
                    self._gs.ordinal, f"functional group GS {self._gs.control!r} has no GE trailer"
                )
            )
        bad = None
        if self._isa is None:
            bad = f"functional group GS (segment {ordinal}) is outside an ISA interchange"
            self.issues.append(EnvelopeIssue(ordinal, bad, "rejected"))
        if self._isa is not None:
            self._isa.gs_count += 1
        self._gs = _Group(ordinal, _el(elements, 6), _el(elements, 8), bad)

    def _on_st(self, ordinal: int, elements: list[str]) -> None:
        if self._st is not None:
            self._break_st(ordinal, f"the next ST (segment {ordinal}) began")
        set_id, control, st03 = _el(elements, 1), _el(elements, 2), _el(elements, 3)
        gs = self._gs
        gs08 = gs.version if gs else ""
        version = st03 or gs08
        guide = guide_for(st03) if st03 else None
        reject = None
        if set_id == "837":
            if guide is None and gs08 and guide_for(gs08) is not None:
                if st03:
                    self.issues.append(
                        EnvelopeIssue(
                            ordinal,
                            f"ST03 {st03!r} is not a known implementation guide; read as GS08 {gs08!r}",
                        )
                    )
                guide, version = guide_for(gs08), gs08
            if guide is None:
                reject = (
                    f"transaction set ST {control!r} (segment {ordinal}) uses implementation guide "
                    f"{version or '(none)'!r}, which this reader does not support "
                    f"({_SUPPORTED})"
                )
                self.issues.append(EnvelopeIssue(ordinal, reject, "rejected"))
        if gs is None:
            reject = f"transaction set ST (segment {ordinal}) is outside a GS functional group"
            self.issues.append(EnvelopeIssue(ordinal, reject, "rejected"))
        elif gs.bad:
            reject = gs.bad
        txn = Transaction(
            ordinal, control, set_id, version, guide, reject, ordinal if reject else None
        )
        if set_id != "837":
            self.issues.append(
                EnvelopeIssue(
                    ordinal,
                    f"transaction set {set_id or '?'} (ST at segment {ordinal}) is not an 837 claim; skipped",
                )
            )
        self.transactions[ordinal] = txn
        self._st = txn
        if gs is not None:
            gs.st_count += 1

    def _on_se(self, ordinal: int, elements: list[str]) -> None:
        st = self._st
        if st is None:
            self.issues.append(
                EnvelopeIssue(ordinal, f"SE (segment {ordinal}) without a matching ST")
            )
            return
        count, control = _el(elements, 1), _el(elements, 2)
        actual = ordinal - st.st_ordinal + 1
        if count != str(actual):
            self.issues.append(
                EnvelopeIssue(
                    ordinal,
                    f"SE01 says {count or '(empty)'} segments but transaction set ST {st.control!r} "
                    f"has {actual} (segments {st.st_ordinal}-{ordinal})",
                )
            )
        if control != st.control:
            self.issues.append(
                EnvelopeIssue(ordinal, f"SE02 {control!r} does not match ST02 {st.control!r}")
            )
        st.closed, st.closed_at = True, ordinal
        self.closed.append(st.st_ordinal)
        self._st = None

    def _on_ge(self, ordinal: int, elements: list[str]) -> None:
        if self._st is not None:
            self._break_st(ordinal, f"GE (segment {ordinal}) came first")
        gs = self._gs
        if gs is None:
            self.issues.append(
                EnvelopeIssue(ordinal, f"GE (segment {ordinal}) without a matching GS")
            )
            return
        count, control = _el(elements, 1), _el(elements, 2)
        if count != str(gs.st_count):
            self.issues.append(
                EnvelopeIssue(
                    ordinal,
                    f"GE01 says {count or '(empty)'} transaction sets but group GS {gs.control!r} has {gs.st_count}",
                )
            )
        if control != gs.control:
            self.issues.append(
                EnvelopeIssue(ordinal, f"GE02 {control!r} does not match GS06 {gs.control!r}")
            )
        self._gs = None

    def _on_iea(self, ordinal: int, elements: list[str]) -> None:
        if self._st is not None:
            self._break_st(ordinal, f"IEA (segment {ordinal}) came first")
        if self._gs is not None:
            self.issues.append(
                EnvelopeIssue(
                    self._gs.ordinal, f"functional group GS {self._gs.control!r} has no GE trailer"
                )
            )
            self._gs = None
        isa = self._isa
        if isa is None:
            self.issues.append(
                EnvelopeIssue(ordinal, f"IEA (segment {ordinal}) without a matching ISA")
            )
            return
        count, control = _el(elements, 1), _el(elements, 2)
        if count != str(isa.gs_count):
            self.issues.append(
                EnvelopeIssue(
                    ordinal,
                    f"IEA01 says {count or '(empty)'} functional groups but interchange ISA "
                    f"{isa.control!r} has {isa.gs_count}",
                )
            )
        if control != isa.control:
            self.issues.append(
                EnvelopeIssue(ordinal, f"IEA02 {control!r} does not match ISA13 {isa.control!r}")
            )
        self._isa = None

    def _break_st(self, ordinal: int, why: str) -> None:
        st = self._st
        assert st is not None
        reason = (
            f"transaction set ST {st.control!r} (segment {st.st_ordinal}) has no SE trailer: {why}"
        )
        if st.reject is None:
            st.reject, st.reject_ordinal = reason, ordinal
        self.issues.append(EnvelopeIssue(ordinal, reason, "rejected"))
        st.closed, st.closed_at = True, ordinal
        self.closed.append(st.st_ordinal)
        self._st = None
