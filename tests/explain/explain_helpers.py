"""Helpers of the explain tests."""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

from claimscrub.explain import build_explanation


@cache
def explained(code: str, on: dt.date, payer: str | None = None) -> dict[str, Any]:
    """The explanation of ``code`` on ``on`` (cached: an explanation is a pure function)."""
    return build_explanation(code, on=on, payer=payer)


def section(explanation: dict[str, Any], section_id: str) -> list[dict[str, Any]]:
    """The statements of one section."""
    return next(s for s in explanation["sections"] if s["id"] == section_id)["statements"]


def texts(explanation: dict[str, Any], section_id: str) -> str:
    """All statement texts of one section, one per line."""
    return "\n".join(item["text"] for item in section(explanation, section_id))


def all_statements(explanation: dict[str, Any]) -> list[dict[str, Any]]:
    """Every statement of every section, then the misconceptions."""
    out = [item for s in explanation["sections"] for item in s["statements"]]
    return out + list(explanation["misconceptions"])
