"""Severity, fix applicability and the other small vocabularies every layer shares."""

from __future__ import annotations

from enum import StrEnum


class Severity(StrEnum):
    """How bad a finding is: ``error`` will be rejected or denied, ``warning`` is a
    payment or denial risk, ``info`` asks for a fact or notes something."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Higher is worse; used for ``--fail-on`` thresholds and claim status."""
        return {"info": 0, "warning": 1, "error": 2}[self.value]


class Confidence(StrEnum):
    """How sure a finding is (bandit's confidence): ``high`` when the rule's fact comes from
    a dated CMS or standards file and the check is exact; ``medium`` or ``low`` when it rests
    on a payer's pattern, incomplete history, timing or a heuristic."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        """Higher is surer."""
        return {"low": 0, "medium": 1, "high": 2}[self.value]


class Applicability(StrEnum):
    """Whether a fix may be applied without asking (ruff's fix safety)."""

    SAFE = "safe"
    UNSAFE = "unsafe"  # changes units, money, codes or modifiers: needs --unsafe-fixes
    DISPLAY_ONLY = "display-only"  # shown to the biller, never applied
    NONE = "none"  # the rule proposes no fix
