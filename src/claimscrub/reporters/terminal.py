"""Terminal output a biller reads at a glance: findings grouped by claim, fix lines, a footer.

``full`` prints every finding with the payer's likely answer and the fix (and its
confidence when that is not high); ``concise``
prints one line per finding (``file:claim:line: CODE message``), like ruff's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TextIO

from rich.console import Console
from rich.text import Text

from claimscrub.wording import counted

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
_SEVERITY_WORDS = {
    "error": ("error", "errors"),
    "warning": ("warning", "warnings"),
    "info": ("info", "info"),
}


def _answer(finding: dict[str, Any]) -> str:
    return " + ".join([finding.get("carc") or "", *finding.get("rarc", [])]).strip(" +")


def _fix_text(fix: dict[str, Any]) -> str:
    return ", ".join(f"{k} = {v}" for k, v in fix.items())


@dataclass
class Tally:
    """Findings counted while claims are written, for the footer."""

    findings: int = 0
    fixable: int = 0
    by_severity: Counter[str] = field(default_factory=Counter)

    def add(self, claims: Iterable[dict[str, Any]]) -> None:
        """Count the findings of ``claims``."""
        for claim in claims:
            for f in claim["findings"]:
                self.findings += 1
                self.fixable += "fix" in f
                self.by_severity[f["severity"]] += 1


def console_for(stream: TextIO) -> Console:
    """The console the terminal formats write with (colours only on a terminal)."""
    return Console(file=stream, highlight=False, soft_wrap=True)


def render(result: dict[str, Any], stream: TextIO, fmt: str) -> None:
    """Write the report for people (colours only when ``stream`` is a terminal)."""
    console = console_for(stream)
    tally = Tally()
    render_claims(result["claims"], console, fmt, tally)
    render_rejected(result["rejected"], console)
    render_input_warnings(result.get("input_warnings", ()), console)
    footer(result, tally, console)


def render_claims(
    claims: Iterable[dict[str, Any]], console: Console, fmt: str, tally: Tally
) -> None:
    """Write the findings of ``claims`` (``full``: grouped by claim; ``concise``: a line each)."""
    for claim in claims:
        tally.add([claim])
        if not claim["findings"]:
            continue
        if fmt == "full":
            header = Text(f"Claim {claim['id']}", style="bold")
            header.append(f"  ({claim['source']})  ", style="dim")
            header.append(claim["status"].upper(), style=_STYLE.get(claim["status"], ""))
            console.print(header)
        for f in claim["findings"]:
            line = f"line {f['line']}" if f.get("line") is not None else "claim"
            if fmt == "concise":
                text = Text(f"{claim['source']}:{claim['id']}:{f.get('line') or '-'}: ")
                text.append(f["rule"], style=_STYLE.get(f["severity"], ""))
                text.append(f" {f['message']}")
                console.print(text)
                continue
            text = Text("  ")
            text.append(f"{f['rule']} {f['severity']:<7}", style=_STYLE.get(f["severity"], ""))
            text.append(f" {line}: {f['message']}")
            if f.get("confidence", "high") != "high":
                text.append(f"  ({f['confidence']} confidence)", style="dim")
            console.print(text)
            if _answer(f):
                console.print(Text(f"      payer answer: {_answer(f)}", style="dim"))
            if "fix" in f:
                title = f.get("fix_title") or "Fix"
                console.print(
                    Text(
                        f"      fix ({f.get('applicability')}): {title} [{_fix_text(f['fix'])}]",
                        style="green",
                    )
                )
        if fmt == "full":
            console.print()


def render_rejected(rejected: Iterable[dict[str, Any]], console: Console) -> None:
    """One line per input that could not be read as claims."""
    for item in rejected:
        console.print(Text(_input_line(item, "rejected input"), style="red"))


def render_input_warnings(warnings: Iterable[dict[str, Any]], console: Console) -> None:
    """One line per thing a reader noticed in an input but read anyway."""
    for item in warnings:
        console.print(Text(_input_line(item, "input warning"), style="yellow"))


def _input_line(item: dict[str, Any], kind: str) -> str:
    """``file:where: kind [claim ID]: reason`` for a rejected input or an input warning.

    ``where`` is the X12 segment ordinal, the CSV file line (the data row + 1: the
    header is line 1, as in SARIF, so an editor opens the row) or the JSON path; an
    input with no position (a whole file) has none.
    """
    row = item.get("row")
    where = item.get("seg_ordinal") or (row + 1 if row is not None else item.get("json_path"))
    located = f"{item.get('src', '?')}:{where}" if where is not None else item.get("src", "?")
    claim = f" claim {item['claim_id']}" if item.get("claim_id") else ""
    return f"{located}: {kind}{claim}: {item['reason']}"


def hidden_line(result: dict[str, Any]) -> str | None:
    """``3 findings below medium confidence not shown (--min-confidence).``, or None.

    Findings under ``--min-confidence`` are left out of the report, never silently.
    """
    hidden = result["summary"].get("hidden_findings") or 0
    if not hidden:
        return None
    level = result.get("claimscrub", {}).get("min_confidence", "the minimum")
    return f"{counted(hidden, 'finding')} below {level} confidence not shown (--min-confidence)."


def footer(result: dict[str, Any], tally: Tally, console: Console) -> None:
    """The summary under the findings: claims by status, findings by severity, what next.

    ``result`` needs ``summary``, ``skipped_rules`` and ``engine_errors`` (its claims
    were counted into ``tally`` as they were written).
    """
    s = result["summary"]
    severities = ", ".join(
        f"{n} {one if n == 1 else many}"
        for level, (one, many) in _SEVERITY_WORDS.items()
        if (n := tally.by_severity[level])
    )
    found = f"{counted(tally.findings, 'finding')}" + (f" ({severities})" if severities else "")
    console.print(
        Text(
            f"Checked {counted(s['claims'], 'claim')} ({counted(s['lines'], 'line')}): "
            f"{s['error']} with errors, "
            f"{s['warning']} with warnings, {s['clean']} clean; {found}; "
            f"{counted(s['rejected_input'], 'input')} rejected.",
            style="bold",
        )
    )
    if tally.fixable:
        console.print(
            Text(
                f"{counted(tally.fixable, 'finding')} {'carries' if tally.fixable == 1 else 'carry'}"
                " a fix (see --fix / --unsafe-fixes).",
                style="dim",
            )
        )
    hidden = hidden_line(result)
    if hidden:
        console.print(Text(hidden, style="dim"))
    skipped = result.get("skipped_rules") or []
    if skipped:
        console.print(
            Text(
                f"{counted(len(skipped), 'rule')} skipped for lack of input data "
                f"({', '.join(item['rule'] for item in skipped)}).",
                style="dim",
            )
        )
    for item in result.get("engine_errors", []):
        console.print(Text(f"internal: rule {item['rule']} failed: {item['error']}", style="red"))


def statistics(result: dict[str, Any], stream: TextIO) -> None:
    """Counts per rule, most frequent first (``--statistics``)."""
    counts: Counter[tuple[str, str, str]] = Counter()
    for claim in result["claims"]:
        for f in claim["findings"]:
            counts[(f["rule"], f["name"], f["severity"])] += 1
    for (code, name, severity), n in counts.most_common():
        stream.write(f"{n:>7}  {code:<7} {severity:<8} {name}\n")
    hidden = hidden_line(result)
    if hidden:
        stream.write(hidden + "\n")
