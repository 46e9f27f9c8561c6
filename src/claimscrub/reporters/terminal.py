"""Terminal output a biller reads at a glance: findings grouped by claim, fix lines, a footer.

``full`` prints every finding with the payer's likely answer and the fix; ``concise``
prints one line per finding (``file:claim:line: CODE message``), like ruff's.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, TextIO

from rich.console import Console
from rich.text import Text

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def _answer(finding: dict[str, Any]) -> str:
    return " + ".join([finding.get("carc") or "", *finding.get("rarc", [])]).strip(" +")


def _fix_text(fix: dict[str, Any]) -> str:
    return ", ".join(f"{k} = {v}" for k, v in fix.items())


def render(result: dict[str, Any], stream: TextIO, fmt: str) -> None:
    """Write the report for people (colours only when ``stream`` is a terminal)."""
    console = Console(file=stream, highlight=False, soft_wrap=True)
    for claim in result["claims"]:
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
    for rejected in result["rejected"]:
        where = (
            rejected.get("seg_ordinal") or rejected.get("row") or rejected.get("json_path") or "-"
        )
        console.print(
            Text(
                f"{rejected.get('src', '?')}:{where}: rejected input: {rejected['reason']}",
                style="red",
            )
        )
    _footer(result, console)


def _footer(result: dict[str, Any], console: Console) -> None:
    s = result["summary"]
    counts = Counter(f["rule"] for claim in result["claims"] for f in claim["findings"])
    total = sum(counts.values())
    console.print(
        Text(
            f"Checked {s['claims']} claims ({s['lines']} lines): {s['error']} with errors, "
            f"{s['warning']} with warnings, {s['clean']} clean; {total} findings; "
            f"{s['rejected_input']} inputs rejected.",
            style="bold",
        )
    )
    fixable = sum(1 for claim in result["claims"] for f in claim["findings"] if "fix" in f)
    if fixable:
        console.print(
            Text(f"{fixable} findings carry a fix (see --fix / --unsafe-fixes).", style="dim")
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
