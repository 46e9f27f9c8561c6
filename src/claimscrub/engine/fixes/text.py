"""The fix run for people: the field-level diff, a summary line, what was written."""

from __future__ import annotations

from collections.abc import Sequence

from claimscrub.diagnostics import Applicability
from claimscrub.engine.fixes.output import FixedOutput
from claimscrub.engine.fixes.records import edit_order, show_value
from claimscrub.engine.fixes.run import FixRun
from claimscrub.wording import counted


def diff_lines(run: FixRun, outputs: Sequence[FixedOutput] = ()) -> list[str]:
    """The field-level diff for people: per input, ``claim  line  field  old → new  rule``."""
    targets = {o.input: o for o in outputs}
    sources = list(dict.fromkeys([*(e.source for e in run.edits), *(h.source for h in run.held)]))
    text: list[str] = []
    for src in sources:
        edits = sorted((e for e in run.edits if e.source == src), key=edit_order)
        held = [h for h in run.held if h.source == src]
        out = targets.get(src)
        text.append(f"{src} → {out.path}" if out and out.written else src)
        rows = [
            (
                e.claim_id,
                f"line {e.line}" if e.line is not None else "claim",
                e.field,
                f"{show_value(e.old)} → {show_value(e.new)}",
                f"{', '.join(e.rules)} ({e.applicability})",
            )
            for e in edits
        ]
        widths = [max((len(r[i]) for r in rows), default=0) for i in range(4)]
        for row in rows:
            cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:4])]
            text.append("  " + "  ".join([*cells, row[4]]))
        for h in held:
            where = f"line {h.line}" if h.line is not None else "claim"
            text.append(f"  {h.claim_id}  {where}  {h.field}: {h.describe()}")
    return text


def summary_line(run: FixRun, outputs: Sequence[FixedOutput] = (), *, dry_run: bool = False) -> str:
    """One line: what was (or would be) fixed, what remains, what was written."""
    # Nothing written (every corrected file was held back): nothing was fixed on disk.
    unwritten = bool(outputs) and not any(out.written for out in outputs)
    verb = "Would fix" if dry_run or unwritten else "Fixed"
    remain = run.report.findings.height
    text = (
        f"{verb} {run.fixed_findings} of {counted(run.original_findings, 'finding')} "
        f"({counted(len(run.edits), 'field edit')}, {counted(run.passes, 'pass', 'passes')}); "
        f"{counted(remain, 'finding')} {'remains' if remain == 1 else 'remain'}"
    )
    if run.held:
        text += f"; {counted(len(run.held), 'fix', 'fixes')} held back"
    if not run.converged:
        text += (
            f"; stopped after {counted(run.passes, 'pass', 'passes')} with "
            f"{counted(run.pending, 'edit')} still to apply"
        )
    remaining = run.remaining_fixable()
    hints = []
    if not run.unsafe and remaining.get(Applicability.UNSAFE.value):
        n = remaining["unsafe"]
        verb_needs = "needs" if n == 1 else "need"
        hints.append(f"{counted(n, 'unsafe fix', 'unsafe fixes')} {verb_needs} --unsafe-fixes")
    if remaining.get(Applicability.DISPLAY_ONLY.value):
        n = remaining["display-only"]
        hints.append(
            f"{counted(n, 'display-only fix', 'display-only fixes')} "
            f"{'is' if n == 1 else 'are'} for a person to make"
        )
    if hints:
        text += " (" + "; ".join(hints) + ")"
    return text + "."


def output_lines(outputs: Sequence[FixedOutput]) -> list[str]:
    """What was written where, and what was not (and why)."""
    text = []
    for out in outputs:
        if out.written:
            text.append(
                f"Wrote {out.path} ({counted(out.claims, 'claim')}, "
                f"{counted(out.lines, 'line')}, {out.format})."
            )
        else:
            text.append(f"Not written: {out.path}: {out.reason}")
        text += [f"note: {note}" for note in out.notes]
    return text
