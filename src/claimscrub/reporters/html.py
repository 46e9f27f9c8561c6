"""A self-contained HTML report for a billing team: figures, charts, a worklist, claim detail.

One file, nothing fetched: CSS and a little vanilla JavaScript are inline, the charts are SVG
drawn here on the server, and every piece of claim content goes through Jinja's autoescaping.
Without JavaScript the page still shows everything; with it, the worklist table can be
filtered, sorted and paged.

Like every reporter this one computes no findings. It reads the public result JSON
(``Report.to_dict()``) and only aggregates it for display: counts by rule, payer and code, and
the *charges at risk*, i.e. the billed amount on lines that carry an ``error`` finding (the
claim's total charge when an error concerns the whole claim). A line is counted once per
claim in the totals, once per rule in the by-rule chart.
"""

from __future__ import annotations

import functools
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TextIO

import jinja2

from claimscrub.refdata import curated
from claimscrub.wording import counted

# Above these sizes the page would get slow to open and search in a browser; the report says
# what it left out and points to the complete machine-readable formats.
TABLE_LIMIT = 10_000  # rows of the worklist table (most severe first)
DETAIL_LIMIT = 2_000  # claims with per-claim detail (errors first)
CLEAN_LIST_LIMIT = 500  # ids of claims without findings listed by name
CHART_BARS = 12  # bars per chart; the rest are summed into one "others" bar

_SEVERITIES = ("error", "warning", "info")
_CONFIDENCES = ("high", "medium", "low")
_RANK = {"error": 0, "warning": 1, "info": 2}
_CLAIM_LEVEL = "claim-level"
_BY_SEVERITY = "most errors first, then warnings, then info"
# fields of a finding the template reads that a result may leave out (spec: optional fields)
_OPTIONAL_FINDING_KEYS: dict[str, Any] = dict.fromkeys(
    (
        "name",
        "line",
        "carc",
        "fix_title",
        "applicability",
        "source",
        "hcpcs",
        "charge",
        "confidence",
    )
)


def render(result: dict[str, Any], stream: TextIO, fmt: str) -> None:
    """Write ``result`` (the public result JSON) as one self-contained HTML page."""
    stream.write(render_html(result))


def render_html(
    result: dict[str, Any],
    *,
    table_limit: int = TABLE_LIMIT,
    detail_limit: int = DETAIL_LIMIT,
) -> str:
    """The HTML report for ``result`` as a string (used by the CLI and the web app)."""
    view = _build_view(result, table_limit=table_limit, detail_limit=detail_limit)
    return _environment().get_template("report.html").render(**view)


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("claimscrub.reporters", "templates"),
        autoescape=True,  # claim content is untrusted text: escape everything by default
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["money"] = money
    env.filters["count"] = lambda n: f"{n:,}"
    env.filters["plural"] = _plural
    return env


def money(amount: float | None) -> str:
    """``1234.5`` -> ``$1,234.50``; unknown amounts show as a dash."""
    return "—" if amount is None else f"${amount:,.2f}"


def payer_label(payer: dict[str, Any] | None) -> str:
    """A readable payer name: name (id), else id, else type, else "unknown payer"."""
    payer = payer or {}
    name, ident, kind = payer.get("name"), payer.get("id"), payer.get("type")
    if name and ident:
        return f"{name} ({ident})"
    return name or ident or kind or "unknown payer"


# --- charts -----------------------------------------------------------------------------------


@dataclass
class _Segment:
    severity: str  # css class of the segment: error / warning / info / money
    value: float
    x: float = 0.0
    width: float = 0.0


@dataclass
class _Bar:
    label: str
    tooltip: str
    value_text: str
    total: float
    segments: list[_Segment]
    end: float = 0.0  # where the bar ends (px), for the value label
    filter_key: str | None = None  # worklist filter a click on the bar applies ("rule", …)
    filter_value: str | None = None


@dataclass
class _Chart:
    title: str
    note: str
    bars: list[_Bar]
    legend: tuple[str, ...] = ()
    height: int = 0
    label_width: int = 280
    bar_width: int = 240

    def layout(self) -> _Chart:
        """Place the segments: bar lengths are proportional to the largest total."""
        top = max((b.total for b in self.bars), default=0.0) or 1.0
        for bar in self.bars:
            x = 0.0
            for seg in bar.segments:
                seg.x = x
                seg.width = round(seg.value / top * self.bar_width, 2)
                x += seg.width
            bar.end = x
        self.height = 24 * len(self.bars) + 4
        return self


def _top(items: dict[str, Any], key: Any, limit: int = CHART_BARS) -> tuple[list[str], list[str]]:
    """The ``limit - 1`` largest keys, and the keys folded into an "others" bar."""
    ordered = sorted(items, key=key)
    if len(ordered) <= limit:
        return ordered, []
    return ordered[: limit - 1], ordered[limit - 1 :]


def _count_chart(
    title: str,
    note: str,
    counts: dict[str, Counter[str]],
    names: dict[str, str],
    filter_key: str,
) -> _Chart:
    # errors first: what will be denied matters more than how often a reminder fires
    keep, rest = _top(counts, key=lambda k: (*(-counts[k][s] for s in _SEVERITIES), k))
    bars = []
    for key in keep:
        total = sum(counts[key].values())
        parts = ", ".join(f"{counts[key][s]:,} {s}" for s in _SEVERITIES if counts[key][s])
        bars.append(
            _Bar(
                label=names.get(key, key),
                tooltip=f"{names.get(key, key)}: {total:,} findings ({parts})",
                value_text=f"{total:,}",
                total=total,
                segments=[_Segment(s, counts[key][s]) for s in _SEVERITIES if counts[key][s]],
                filter_key=filter_key,
                filter_value=key,
            )
        )
    if rest:
        merged: Counter[str] = Counter()
        for key in rest:
            merged.update(counts[key])
        total = sum(merged.values())
        bars.append(
            _Bar(
                label=f"{len(rest):,} others",
                tooltip=f"{len(rest):,} others: {total:,} findings",
                value_text=f"{total:,}",
                total=total,
                segments=[_Segment(s, merged[s]) for s in _SEVERITIES if merged[s]],
            )
        )
    return _Chart(title, note, bars, legend=_SEVERITIES).layout()


def _money_chart(
    title: str,
    note: str,
    amounts: dict[str, float],
    names: dict[str, str],
    filter_key: str | None,
) -> _Chart:
    positive = {k: v for k, v in amounts.items() if v > 0}
    keep, rest = _top(positive, key=lambda k: (-positive[k], k))
    bars = [
        _Bar(
            label=names.get(key, key),
            tooltip=f"{names.get(key, key)}: {money(positive[key])} at risk",
            value_text=money(positive[key]),
            total=positive[key],
            segments=[_Segment("money", positive[key])],
            filter_key=filter_key if key != _CLAIM_LEVEL else None,
            filter_value=key,
        )
        for key in keep
    ]
    if rest:
        total = sum(positive[k] for k in rest)
        bars.append(
            _Bar(
                label=f"{len(rest):,} others",
                tooltip=f"{len(rest):,} others: {money(total)} at risk",
                value_text=money(total),
                total=total,
                segments=[_Segment("money", total)],
            )
        )
    return _Chart(title, note, bars).layout()


# --- the view ---------------------------------------------------------------------------------


@dataclass
class _ClaimView:
    anchor: str
    id: str
    status: str
    source: str | None
    payer: str
    at_risk: float
    whole_claim_at_risk: bool
    counts: Counter[str]
    findings: list[dict[str, Any]] = field(default_factory=list)


def _fix_edits(fix: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (name, (", ".join(map(str, value)) or "(none)") if isinstance(value, list) else str(value))
        for name, value in fix.items()
    ]


def _where(finding: dict[str, Any]) -> str:
    """Where the finding points in the input: X12 loop/segment, CSV row or JSON path."""
    loc = finding.get("location") or {}
    parts = []
    x12 = loc.get("x12")
    if x12:
        parts.append(f"loop {x12.get('loop')}, {x12.get('segment')} (segment {x12.get('ordinal')})")
    if loc.get("row") is not None:
        parts.append(f"row {loc['row']}")
    if loc.get("json_path"):
        parts.append(str(loc["json_path"]))
    return "; ".join(parts)


def _answer(finding: dict[str, Any]) -> str:
    return " + ".join(x for x in [finding.get("carc"), *(finding.get("rarc") or [])] if x)


def _claim_at_risk(findings: Iterable[dict[str, Any]]) -> tuple[float, bool]:
    """Charges at risk on one claim: the claim total for a claim-level error, else error lines."""
    errors = [f for f in findings if f["severity"] == "error"]
    for f in errors:
        if f.get("line") is None:
            return float(f.get("charge") or 0.0), True
    lines = {f["line"]: float(f.get("charge") or 0.0) for f in errors}
    return sum(lines.values()), False


def _group_skipped(skipped: list[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    """Skipped rules grouped by reason: the same missing data usually disables several."""
    groups: dict[str, list[str]] = defaultdict(list)
    for item in skipped:
        groups[str(item.get("reason", ""))].append(str(item.get("rule", "")))
    return sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))


def _plural(count: int, word: str) -> str:
    return counted(count, word, "info" if word == "info" else None, grouped=True)


@dataclass
class _Tally:
    """Counts and charges at risk by rule, payer and code, gathered in one pass."""

    by_rule: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    by_payer: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    by_code: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    risk_rule: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    risk_payer: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    risk_code: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    severities: Counter[str] = field(default_factory=Counter)
    rule_names: dict[str, str] = field(default_factory=dict)
    rule_sources: dict[str, str] = field(default_factory=dict)
    payer_names: dict[str, str] = field(default_factory=dict)  # filter key -> label
    fixable: int = 0
    with_charge: bool = True  # false when an error finding has no charge (older result JSON)

    def payer_key(self, label: str) -> str:
        """A short key for a payer label (the table filter compares keys, not long names)."""
        for key, known in self.payer_names.items():
            if known == label:
                return key
        key = f"p{len(self.payer_names)}"
        self.payer_names[key] = label
        return key

    def add_claim(self, view: _ClaimView, pkey: str) -> None:
        """Count the findings of one claim and the charges they put at risk."""
        self.risk_payer[pkey] += view.at_risk
        rule_lines: set[tuple[str, Any]] = set()
        code_lines: set[Any] = set()
        by_code_on_claim = 0.0
        for f in view.findings:
            sev, rule = f["severity"], f["rule"]
            self.severities[sev] += 1
            self.by_rule[rule][sev] += 1
            self.by_payer[pkey][sev] += 1
            self.by_code[f["code"]][sev] += 1
            self.rule_names.setdefault(rule, f["name"])
            self.rule_sources.setdefault(rule, f["source"] or "")
            self.fixable += bool(f["edits"])
            if sev != "error":
                continue
            self.with_charge = self.with_charge and f["charge_known"]
            charge = float(f["charge"] or 0.0)
            if (rule, f["line"]) not in rule_lines:  # a rule may flag one line twice
                rule_lines.add((rule, f["line"]))
                self.risk_rule[rule] += charge
            if f["line"] is not None and f["line"] not in code_lines:
                code_lines.add(f["line"])
                self.risk_code[f["code"]] += charge
                by_code_on_claim += charge
        if view.whole_claim_at_risk:
            # the rest of a claim at risk as a whole, so that the by-code bars add up to it
            self.risk_code[_CLAIM_LEVEL] += max(view.at_risk - by_code_on_claim, 0.0)

    def charts(self) -> list[_Chart]:
        """The six charts: findings and charges at risk, by rule, payer and HCPCS code."""
        rule_labels = self.rule_labels()
        return [
            _count_chart("Findings by rule", _BY_SEVERITY, self.by_rule, rule_labels, "rule"),
            _money_chart(
                "Charges at risk by rule",
                "billed amount on lines with an error; a line flagged by two rules counts under both",
                self.risk_rule,
                rule_labels,
                "rule",
            ),
            _count_chart(
                "Findings by payer", _BY_SEVERITY, self.by_payer, self.payer_names, "payer"
            ),
            _money_chart(
                "Charges at risk by payer",
                "billed amount on lines with an error (whole claim for claim-level errors)",
                self.risk_payer,
                self.payer_names,
                "payer",
            ),
            _count_chart(
                "Findings by HCPCS code",
                _BY_SEVERITY + "; findings about a whole claim are 'claim-level'",
                self.by_code,
                {},
                "code",
            ),
            _money_chart(
                "Charges at risk by HCPCS code",
                "'whole claim': the rest of a claim whose error concerns the whole claim",
                self.risk_code,
                {_CLAIM_LEVEL: "whole claim"},
                "code",
            ),
        ]

    def rule_labels(self) -> dict[str, str]:
        """Rule code -> "CODE name"."""
        return {code: f"{code} {name}" for code, name in self.rule_names.items()}

    def rules(self) -> list[dict[str, Any]]:
        """One row per rule that fired, for the "Rules that fired" table."""
        return [
            {
                "code": code,
                "name": self.rule_names[code],
                "source": self.rule_sources[code],
                "counts": self.by_rule[code],
                "at_risk": self.risk_rule.get(code, 0.0),
            }
            for code in sorted(self.by_rule)
        ]


def _finding_view(f: dict[str, Any], view: _ClaimView, pkey: str) -> dict[str, Any]:
    """A finding with what the template shows next to it (claim, payer, answer, fix text)."""
    edits = _fix_edits(f["fix"]) if "fix" in f else []
    item = {
        **_OPTIONAL_FINDING_KEYS,
        **f,
        "claim_anchor": view.anchor,
        "claim_id": view.id,
        "payer_key": pkey,
        "payer_label": view.payer,
        "code": f.get("hcpcs") or _CLAIM_LEVEL,
        "answer": _answer(f),
        "answer_meaning": curated.describe_answer(f.get("carc"), f.get("rarc") or []),
        "where": _where(f),
        "edits": edits,
        "fix_summary": ", ".join(f"{name} → {value}" for name, value in edits),
        "charge_known": "charge" in f,
    }
    item["name"] = item["name"] or f["rule"]
    return item


def _build_view(result: dict[str, Any], *, table_limit: int, detail_limit: int) -> dict[str, Any]:
    tally = _Tally()
    rows: list[tuple[tuple[int, int, int], dict[str, Any]]] = []
    claims: list[_ClaimView] = []
    for index, claim in enumerate(result["claims"]):
        findings = claim["findings"]
        if not findings:
            continue
        at_risk, whole_claim = _claim_at_risk(findings)
        view = _ClaimView(
            anchor=f"c{index}",
            id=str(claim["id"]),
            status=claim["status"],
            source=claim.get("source"),
            payer=payer_label(findings[0].get("payer")),
            at_risk=at_risk,
            whole_claim_at_risk=whole_claim,
            counts=Counter(f["severity"] for f in findings),
        )
        pkey = tally.payer_key(view.payer)
        view.findings = [_finding_view(f, view, pkey) for f in findings]
        tally.add_claim(view, pkey)
        claims.append(view)
        rows.extend(
            ((_RANK.get(f["severity"], 3), index, order), f)
            for order, f in enumerate(view.findings)
        )
    rows.sort(key=lambda r: r[0])  # most severe first, then in input order
    claims.sort(key=lambda v: _RANK.get(v.status, 2))  # errors, warnings, then info-only

    clean_claims = [str(c["id"]) for c in result["claims"] if not c["findings"]]
    rejected = result.get("rejected") or []
    noticed = result.get("input_warnings") or []
    return {
        "meta": result.get("claimscrub") or {},
        "summary": result["summary"],
        "sources": sorted({c["source"] for c in result["claims"] if c.get("source")}),
        "total_findings": len(rows),
        "severity_totals": tally.severities,
        "fixable": tally.fixable,
        "at_risk_total": sum(v.at_risk for v in claims),
        "with_charge": tally.with_charge,
        "charts": tally.charts(),
        "rows": [item for _, item in rows[:table_limit]],
        "rows_left_out": max(len(rows) - table_limit, 0),
        "claims": claims[:detail_limit],
        "claims_left_out": max(len(claims) - detail_limit, 0),
        "clean_claims": clean_claims[:CLEAN_LIST_LIMIT],
        "clean_left_out": max(len(clean_claims) - CLEAN_LIST_LIMIT, 0),
        "rules": tally.rules(),
        "filters": {
            "rules": sorted(tally.rule_labels().items()),
            "payers": sorted(tally.payer_names.items(), key=lambda kv: kv[1]),
            "codes": sorted(tally.by_code),
        },
        "rejected": rejected[:DETAIL_LIMIT],
        "rejected_left_out": max(len(rejected) - DETAIL_LIMIT, 0),
        "input_warnings": noticed[:DETAIL_LIMIT],
        "input_warnings_left_out": max(len(noticed) - DETAIL_LIMIT, 0),
        "skipped_rules": _group_skipped(result.get("skipped_rules") or []),
        "engine_errors": result.get("engine_errors") or [],
        "severities": _SEVERITIES,
        "confidences": _CONFIDENCES,
    }
