"""``claimscrub explain CODE``: a sourced reference page for a HCPCS drug code.

Public interface (the CLI and the web app call these)::

    from claimscrub.explain import build_explanation, render
    explanation = build_explanation("J7507", on=datetime.date(2026, 3, 1), payer=None)
    render(explanation, "html")   # text | markdown | json | html

``build_explanation`` returns a JSON-ready dict: ``code``, ``on``, ``descriptor``,
``sections`` (definition, clinical context, modifiers, documentation, denial reasons,
payer considerations, similar codes; each a list of statements with their source) and
``misconceptions``. Every statement names where it comes from: a dated CMS release, a
rule of the catalogue, a payer policy pack, or a curated fact with its URL. Unknown or
malformed codes raise :class:`ExplainError`.

The names are imported lazily: ``claimscrub code`` imports :mod:`claimscrub.explain.facts`
and must not pay for the rule catalogue.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["SCHEMA", "ExplainError", "build_explanation", "render"]

_LAZY = {
    "SCHEMA": "claimscrub.explain.builder",
    "build_explanation": "claimscrub.explain.builder",
    "ExplainError": "claimscrub.explain.errors",
    "render": "claimscrub.explain.renderers",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'claimscrub.explain' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
