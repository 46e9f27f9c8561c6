"""The section builders of an explanation, in page order (see ``explain/builder.py``)."""

from __future__ import annotations

from claimscrub.explain.sections.clinical import clinical
from claimscrub.explain.sections.definition import definition
from claimscrub.explain.sections.denials import denials
from claimscrub.explain.sections.documentation import documentation
from claimscrub.explain.sections.misconceptions import misconceptions
from claimscrub.explain.sections.modifiers import modifiers
from claimscrub.explain.sections.payers import payers
from claimscrub.explain.sections.similar import similar

BUILDERS = (
    ("definition", definition),
    ("clinical", clinical),
    ("modifiers", modifiers),
    ("documentation", documentation),
    ("denials", denials),
    ("payers", payers),
    ("similar", similar),
)

__all__ = ["BUILDERS", "misconceptions"]
