"""What a fix run reports: the field edits it made and the fixes it held back.

Fix fields are named as in the Claims JSON format (``units``, ``hcpcs``, ``modifiers``,
``payer.policy`` ...); ``LINE_TARGETS`` and ``CLAIM_TARGETS`` map them to canonical
columns, read from the schema table (``model/schema.py``), never typed twice.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from claimscrub.model import columns as c
from claimscrub.model.schema import CLAIM_FIELDS, LINE_FIELDS, Field

# Fields that identify a claim or a line: a fix never rewrites them.
_IDENTITY = {c.CLAIM_KEY, c.CLAIM_ID, c.LINE_NO, c.EXTENSIONS}


def _public_fields(fields: Sequence[Field], prefix: str) -> dict[str, Field]:
    """Public field name (as a fix names it) -> canonical column, from the schema table.

    ``lines[].service_date (default claims[].service_date)`` gives ``service_date``;
    ``claims[].payer.policy`` gives ``payer.policy``.
    """
    out: dict[str, Field] = {}
    for f in fields:
        if f.name in _IDENTITY or not f.json.startswith(prefix):
            continue
        out[f.json[len(prefix) :].split(" ", 1)[0]] = f
    return out


LINE_TARGETS = _public_fields(LINE_FIELDS, "lines[].")
CLAIM_TARGETS = _public_fields(CLAIM_FIELDS, "claims[].")

# --- records -----------------------------------------------------------------------------------


def _json_value(value: Any) -> Any:
    """A frame value as JSON: ISO dates, whole floats as integers, lists inside."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_value(v) for k, v in value.items()}
    return value


def show_value(value: Any) -> str:
    """A value as a biller reads it: ``30``, ``J7503``, ``[KX, JW]``, ``(none)``."""
    value = _json_value(value)
    if value is None:
        return "(none)"
    if isinstance(value, list):
        return "[" + ", ".join(show_value(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass(frozen=True)
class FieldEdit:
    """One field changed by the fixes: where, from what, to what, and which rule(s) said so."""

    claim_key: int  # the claim's place in the batch (for ordering; not in the result JSON)
    claim_id: str
    source: str
    line: int | None  # None for a claim-level field
    field: str  # public field name (Claims JSON)
    old: Any
    new: Any
    rules: tuple[str, ...]
    applicability: str
    pass_no: int

    def to_dict(self) -> dict[str, Any]:
        """The edit in the result JSON."""
        return {
            "claim_id": self.claim_id,
            "source": self.source,
            "line": self.line,
            "field": self.field,
            "old": _json_value(self.old),
            "new": _json_value(self.new),
            "rules": list(self.rules),
            "applicability": self.applicability,
            "pass": self.pass_no,
        }


@dataclass(frozen=True)
class HeldFix:
    """Fixes that were not applied and why (a conflict, no such field, an ambiguous line)."""

    claim_id: str
    source: str
    line: int | None
    field: str
    proposals: tuple[tuple[str, Any], ...]  # (rule, proposed value)
    reason: str  # conflict | unknown-field | ambiguous-line

    def to_dict(self) -> dict[str, Any]:
        """The held-back fix in the result JSON."""
        return {
            "claim_id": self.claim_id,
            "source": self.source,
            "line": self.line,
            "field": self.field,
            "reason": self.reason,
            "proposals": [{"rule": r, "value": _json_value(v)} for r, v in self.proposals],
        }

    def describe(self) -> str:
        """One sentence saying what was held back."""
        wants = ", ".join(f"{rule} sets {show_value(value)}" for rule, value in self.proposals)
        if self.reason == "conflict":
            return f"{wants}: conflicting fixes, none applied"
        if self.reason == "ambiguous-line":
            return f"{wants}: the line number is used more than once in the claim, not applied"
        return f"{wants}: no claim field of that name, not applied"


def edit_order(edit: FieldEdit) -> tuple[int, int, int, str]:
    """Sort key of edits: claim (as read), line (claim-level first), pass, field."""
    return (edit.claim_key, -1 if edit.line is None else edit.line, edit.pass_no, edit.field)
