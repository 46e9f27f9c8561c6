"""Implementation-guide tables for the X12 837 reader, keyed by version id (ST03 / GS08)."""

from __future__ import annotations

from claimscrub.readers.x12.guides.spec import Guide
from claimscrub.readers.x12.guides.x222 import GUIDE as X222
from claimscrub.readers.x12.guides.x223 import GUIDE as X223

GUIDES: tuple[Guide, ...] = (X222, X223)
BY_VERSION: dict[str, Guide] = {v: g for g in GUIDES for v in g.versions}

__all__ = ["BY_VERSION", "GUIDES", "Guide", "X222", "X223", "guide_for"]


def guide_for(version: str) -> Guide | None:
    """The guide for an implementation-guide version id such as ``005010X222A1``."""
    return BY_VERSION.get(version.strip())
