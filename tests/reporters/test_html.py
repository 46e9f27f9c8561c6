"""``check --format html``: one self-contained page, escaped claim content, sizes it keeps."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

from click.testing import CliRunner

from claimscrub.cli import cli
from claimscrub.reporters import FORMATS, renderer
from claimscrub.reporters.html import render_html

EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples"


def _check(path: Path, fmt: str, out: Path) -> str:
    result = CliRunner().invoke(cli, ["check", str(path), "--format", fmt, "-o", str(out)])
    assert result.exit_code in (0, 1), result.output
    return out.read_text(encoding="utf-8")


_VOID = {"input", "meta", "br", "col", "hr", "img", "link"}


class _Page(HTMLParser):
    """Collects what the tests look at: element ids with their text, tags, attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text_by_id: dict[str, str] = {}
        self._open_ids: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if attributes.get("id") and tag not in _VOID:
            self._open_ids.append((tag, attributes["id"] or ""))
            self.text_by_id.setdefault(attributes["id"] or "", "")

    def handle_endtag(self, tag: str) -> None:
        if self._open_ids and self._open_ids[-1][0] == tag:
            self._open_ids.pop()

    def handle_data(self, data: str) -> None:
        for _, ident in self._open_ids:
            self.text_by_id[ident] += data


def _parse(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    return parser


def test_html_is_a_registered_format() -> None:
    assert "html" in FORMATS
    assert renderer("html").__module__ == "claimscrub.reporters.html"


def test_report_fetches_nothing_and_escapes_claim_content(tmp_path: Path) -> None:
    doc = json.loads((EXAMPLES / "immunosuppressants.json").read_text(encoding="utf-8"))
    hostile = '<img src=x onerror="alert(1)">'
    doc["claims"][1]["id"] = hostile
    doc["claims"][1]["payer"]["name"] = "</script><script>alert(2)</script>"
    source = tmp_path / "hostile.json"
    source.write_text(json.dumps(doc), encoding="utf-8")

    page = _check(source, "html", tmp_path / "report.html")

    assert "<img src=x" not in page and "alert(2)</script>" not in page
    assert "&lt;img src=x onerror=" in page  # shown as text, in the table and the detail
    tags = _parse(page).tags
    assert [t for t, _ in tags].count("script") == 2  # the report's own two inline scripts
    for tag, attrs in tags:
        assert tag not in {"link", "img", "iframe", "object", "embed"}, tag
        assert not (attrs.get("src") or ""), (tag, attrs)
        href = attrs.get("href") or ""
        assert href == "" or href.startswith("#"), (tag, href)
    assert not re.search(r"url\(|@import|https?://", page.split("</style>")[0])


def test_summary_worklist_and_detail_carry_every_finding(tmp_path: Path) -> None:
    source = EXAMPLES / "immunosuppressants.837"
    expected = json.loads(_check(source, "json", tmp_path / "r.json"))
    page = _parse(_check(source, "html", tmp_path / "r.html"))

    for key in ("claims", "lines", "error", "warning", "clean"):
        assert page.text_by_id[f"sum-{key}"] == f"{expected['summary'][key]:,}"
    assert page.text_by_id["sum-rejected"] == str(expected["summary"]["rejected_input"])
    findings = [(c["id"], f) for c in expected["claims"] for f in c["findings"]]
    assert page.text_by_id["sum-findings"] == str(len(findings))

    rows = [a for t, a in page.tags if t == "tr" and "data-sev" in a]
    assert sorted((a["data-rule"], a["data-sev"], a["data-conf"]) for a in rows) == sorted(
        (f["rule"], f["severity"], f["confidence"]) for _, f in findings
    )
    with_findings = [c for c in expected["claims"] if c["findings"]]
    details = [a for t, a in page.tags if t == "details"]
    assert len(details) == len(with_findings)
    worklist = page.text_by_id["worklist-table"]
    for claim_id, f in findings:
        assert claim_id in worklist and f["message"] in worklist


def test_charges_at_risk_count_error_lines_and_whole_claims(tmp_path: Path) -> None:
    """EX-1002 has a units error on its only line; EX-1010 a diagnosis error on the claim."""
    doc = json.loads((EXAMPLES / "immunosuppressants.json").read_text(encoding="utf-8"))
    picked = {c["id"]: c for c in doc["claims"] if c["id"] in {"EX-1001", "EX-1002", "EX-1010"}}
    source = tmp_path / "three.json"
    source.write_text(json.dumps({"claims": list(picked.values())}), encoding="utf-8")

    result = json.loads(_check(source, "json", tmp_path / "three.result.json"))
    status = {c["id"]: c["status"] for c in result["claims"]}
    assert status == {"EX-1001": "clean", "EX-1002": "error", "EX-1010": "error"}
    errors = {(c["id"], f["line"]) for c in result["claims"] for f in c["findings"]}
    assert ("EX-1010", None) in errors  # the claim-level error the whole claim is at risk for

    page = _parse(render_html(result))
    line_charge = picked["EX-1002"]["lines"][0]["charge"]
    claim_charge = sum(line["charge"] for line in picked["EX-1010"]["lines"])
    assert page.text_by_id["sum-at-risk"] == f"${line_charge + claim_charge:,.2f}"


def test_large_batches_are_capped_with_a_note(tmp_path: Path) -> None:
    result = json.loads(_check(EXAMPLES / "immunosuppressants.837", "json", tmp_path / "r.json"))
    total = sum(len(c["findings"]) for c in result["claims"])
    with_findings = sum(1 for c in result["claims"] if c["findings"])

    page = _parse(render_html(result, table_limit=5, detail_limit=3))

    rows = [a for t, a in page.tags if t == "tr" and "data-sev" in a]
    assert len(rows) == 5
    assert [a["data-sev"] for a in rows] == sorted(
        (a["data-sev"] for a in rows), key=["error", "warning", "info"].index
    )
    note = " ".join(page.text_by_id["rows-left-out"].split())
    assert f"first 5 of {total} findings" in note and f"{total - 5} more" in note
    assert len([t for t, _ in page.tags if t == "details"]) == 3
    assert f"{with_findings - 3} more" in page.text_by_id["claims-left-out"]
    assert page.text_by_id["sum-findings"] == str(total)  # the figures still count everything


def test_rejected_inputs_are_listed_with_their_position(tmp_path: Path) -> None:
    broken = Path(__file__).resolve().parent.parent / "fixtures" / "claims" / "json" / "broken.json"
    result = json.loads(_check(broken, "json", tmp_path / "b.json"))
    assert result["rejected"]

    page = _parse(render_html(result))

    assert page.text_by_id["sum-rejected"] == str(len(result["rejected"]))
    run = page.text_by_id["run"]
    for item in result["rejected"]:
        assert item["reason"] in run and item["json_path"] in run


def test_input_warnings_are_listed_with_their_position(tmp_path: Path) -> None:
    # The example 837 with an implementation-guide id the reader does not know in ST03.
    text = (EXAMPLES / "immunosuppressants.837").read_text(encoding="utf-8")
    assert text.count("ST*837*0001*005010X222A1~") == 1
    source = tmp_path / "unknown_st03.837"
    source.write_text(text.replace("ST*837*0001*005010X222A1~", "ST*837*0001*005010X299A9~"))
    result = json.loads(_check(source, "json", tmp_path / "w.json"))
    assert result["input_warnings"] and not result["rejected"]

    run = _parse(render_html(result)).text_by_id["run"]

    assert "Input warnings" in run and "Rejected inputs" not in run
    for item in result["input_warnings"]:
        assert item["reason"] in run and f"segment {item['seg_ordinal']}" in run


def test_a_clean_batch_says_so_instead_of_drawing_empty_charts(tmp_path: Path) -> None:
    doc = json.loads((EXAMPLES / "immunosuppressants.json").read_text(encoding="utf-8"))
    result = json.loads(_check(EXAMPLES / "immunosuppressants.json", "json", tmp_path / "r.json"))
    clean_ids = {c["id"] for c in result["claims"] if not c["findings"]}
    assert clean_ids, "the example batch has a claim without findings"
    source = tmp_path / "clean.json"
    source.write_text(
        json.dumps({"claims": [c for c in doc["claims"] if c["id"] in clean_ids]}), "utf-8"
    )

    page = _check(source, "html", tmp_path / "clean.html")
    parsed = _parse(page)

    assert parsed.text_by_id["sum-clean"] == str(len(clean_ids))
    assert parsed.text_by_id["sum-findings"] == "0"
    assert "<svg" not in page and "worklist-table" not in parsed.text_by_id
    assert "No findings, so nothing to chart." in page
    for claim_id in clean_ids:
        assert claim_id in parsed.text_by_id["claims"]


def test_a_result_without_charges_or_payers_still_renders(tmp_path: Path) -> None:
    """Results written before findings carried ``charge``, ``payer`` and ``hcpcs``."""
    result = json.loads(_check(EXAMPLES / "immunosuppressants.837", "json", tmp_path / "r.json"))
    for claim in result["claims"]:
        for finding in claim["findings"]:
            for key in ("charge", "payer", "hcpcs"):
                finding.pop(key)

    page = _parse(render_html(result))

    assert page.text_by_id["sum-at-risk"] == "—"
    assert "unknown payer" in page.text_by_id["charts"]
    assert "the amount at risk is unknown" in page.text_by_id["charts"]


def test_payer_answers_are_spelled_out_in_our_words(tmp_path: Path) -> None:
    source = EXAMPLES / "immunosuppressants.837"
    page = _check(source, "html", tmp_path / "r.html")
    # EX-1002 (0.5 mg capsules billed as mg): UNT001, CO-16 + M53
    assert 'title="CO-16: contractual obligation' in page
    assert "M53: the number of units (or days) billed is absent or unusable" in page
