"""claimscrub: a claim scrubber and drug-code reference for HCPCS drug lines.

Public API (imported lazily, so ``claimscrub code`` stays fast)::

    from claimscrub import read_claims, scrub, make_plan, ScrubOptions
    claims = read_claims(["batch.837"])
    report = scrub(claims, make_plan(ScrubOptions(select=["COD", "UNT"])), history=claims.history)
    report.to_dict()  # the result JSON of shared/spec/claim-formats.md
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "read_claims": "claimscrub.readers",
    "ClaimBatch": "claimscrub.readers.base",
    "scrub": "claimscrub.engine.scrub",
    "make_plan": "claimscrub.engine.scrub",
    "ScrubOptions": "claimscrub.engine.scrub",
    "Plan": "claimscrub.engine.scrub",
    "Report": "claimscrub.engine.report",
    "Severity": "claimscrub.diagnostics",
    "Applicability": "claimscrub.diagnostics",
    "default_refdata": "claimscrub.refdata.catalog",
}

__all__ = sorted([*_LAZY, "__version__"])


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'claimscrub' has no attribute {name!r}")
