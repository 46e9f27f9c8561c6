"""Generate docs/rules/<CODE>.md and docs/rules/index.md from the rule registry.

Each page is the rule's docstring (its documentation) under a header with its metadata.
Run after adding or changing a rule; ``tests/test_docs.py`` fails when the pages are stale.

    python scripts/generate_docs.py
"""

from __future__ import annotations

from pathlib import Path

from claimscrub.rules.registry import CATEGORIES, Rule, load_builtin_rules

ROOT = Path(__file__).resolve().parent.parent
RULES_DIR = ROOT / "docs" / "rules"


def _answer(rule: Rule) -> str:
    return " + ".join([rule.carc or "", *rule.rarc]).strip(" +") or "—"


def rule_page(rule: Rule) -> str:
    """The Markdown page of one rule."""
    lines = [
        f"# {rule.code} `{rule.name}`",
        "",
        f"{rule.summary}",
        "",
        "| | |",
        "|---|---|",
        f"| Category | {rule.category} — {CATEGORIES[rule.category]} |",
        f"| Severity | {rule.severity.value} |",
        f"| Confidence | {rule.confidence.value} |",
        f"| Likely payer answer | {_answer(rule)} |",
        f"| Fix | {rule.fix.value} |",
        f"| Scope | {rule.scope} |",
        f"| Reference data | {', '.join(rule.requires) or '—'} |",
        f"| Needs input | {', '.join(rule.inputs) or '—'} |",
        f"| Since | {rule.since}{' (preview)' if rule.preview else ''} |",
        f"| Source | {rule.source} |",
        "",
    ]
    body = rule.doc.split("\n", 1)[1].strip() if "\n" in rule.doc else ""
    lines += [body, ""]
    return "\n".join(lines)


def index_page(rules: list[Rule]) -> str:
    """The catalogue index, grouped by category."""
    out = [
        "# Rule catalogue",
        "",
        "Generated from the rule registry by `scripts/generate_docs.py`.",
        "",
    ]
    for category, title in CATEGORIES.items():
        members = [r for r in rules if r.category == category]
        if not members:
            continue
        out += [
            f"## {category} — {title}",
            "",
            "| Code | Name | Severity | Confidence | Payer answer | Summary |",
            "|---|---|---|---|---|---|",
        ]
        out += [
            f"| [{r.code}]({r.code}.md) | `{r.name}` | {r.severity.value} | {r.confidence.value} "
            f"| {_answer(r)} | {r.summary} |"
            for r in members
        ]
        out.append("")
    return "\n".join(out)


def build() -> dict[Path, str]:
    """Path -> content of every generated page."""
    rules = sorted(load_builtin_rules().values(), key=lambda r: r.code)
    pages = {RULES_DIR / f"{r.code}.md": rule_page(r) for r in rules}
    pages[RULES_DIR / "index.md"] = index_page(rules)
    return pages


def main() -> None:
    RULES_DIR.mkdir(parents=True, exist_ok=True)
    pages = build()
    for stale in set(RULES_DIR.glob("*.md")) - set(pages):
        stale.unlink()
    for path, content in pages.items():
        path.write_text(content, encoding="utf-8")
    print(f"wrote {len(pages)} pages to {RULES_DIR.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
