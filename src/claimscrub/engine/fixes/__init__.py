"""Apply the fixes findings carry, re-check, and write the corrected claims (``check --fix``).

A finding's ``fix`` holds corrected field values named as in the Claims JSON format
(``{"hcpcs": "J7503", "units": 90}``); its rule declares whether the fix is ``safe``,
``unsafe`` or ``display-only`` (``Rule.fix``). :func:`apply_fixes` works like ruff's fix
loop (``planner`` plans and applies one pass, ``run`` loops):

1. take the fixes whose applicability is allowed (safe; with ``unsafe=True`` also unsafe;
   display-only never);
2. a fix is applied whole or not at all, so a code change and the units computed for the
   new code stay together; on a line whose code a fix changes, the line's other fixes
   (computed for the old code) wait for the re-check of the new code;
3. hold back what cannot be applied cleanly: fixes setting one field of one line (or
   claim) to different values (a *conflict*: none of them is applied), a field the claim
   formats have no place for, a line number used twice in a claim;
4. apply the edits in columns, re-check the claims of the patients whose claims changed,
   and repeat until no fix is left to apply or ``max_passes`` passes were made.

Claims are never dropped: the corrected batch has every claim of the input, changed or
not, and history claims are carried unchanged. ``output`` writes it per input file as
Claims JSON or CSV (X12 input as JSON: there is no X12 writer yet); ``text`` renders the
field-level diff for people; ``FixRun.to_dict()`` is the ``fixes`` key of the result JSON.
"""

from __future__ import annotations

from claimscrub.engine.fixes.output import (
    FIXED_FORMATS,
    FixedOutput,
    FixOutputError,
    check_fixed_output,
    plan_outputs,
    write_fixed,
)
from claimscrub.engine.fixes.records import CLAIM_TARGETS, LINE_TARGETS, FieldEdit, HeldFix
from claimscrub.engine.fixes.run import MAX_PASSES, FixRun, apply_fixes
from claimscrub.engine.fixes.text import diff_lines, output_lines, summary_line

__all__ = [
    "CLAIM_TARGETS",
    "FIXED_FORMATS",
    "LINE_TARGETS",
    "MAX_PASSES",
    "FieldEdit",
    "FixOutputError",
    "FixRun",
    "FixedOutput",
    "HeldFix",
    "apply_fixes",
    "check_fixed_output",
    "diff_lines",
    "output_lines",
    "plan_outputs",
    "summary_line",
    "write_fixed",
]
