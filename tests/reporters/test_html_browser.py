"""The HTML report as a billing lead sees it: rendered in headless Chromium.

Runs ``claimscrub check examples/immunosuppressants.837 --format html`` through the real
engine, opens the file in Debian's Chromium via Playwright and checks what is on screen
against the JSON result of the same command. A full-page screenshot is saved in the test's
temporary folder (``report.png``) for a person to look at.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from playwright.sync_api import Browser, Page, expect

from claimscrub.cli import cli
from headless_chromium import headless_chromium

EXAMPLE = Path(__file__).resolve().parent.parent.parent / "examples" / "immunosuppressants.837"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with headless_chromium() as chromium:
        yield chromium


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("html")
    for fmt, name in (("json", "result.json"), ("html", "report.html")):
        run = CliRunner().invoke(
            cli, ["check", str(EXAMPLE), "--format", fmt, "-o", str(folder / name)]
        )
        assert run.exit_code == 1, run.output  # the example batch has errors
    return folder / "report.html", json.loads((folder / "result.json").read_text())


def _open(browser: Browser, path: Path, *, javascript: bool = True) -> tuple[Page, list[str]]:
    context = browser.new_context(
        viewport={"width": 1400, "height": 1000}, java_script_enabled=javascript
    )
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"error: {exc}"))
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on(
        "request",
        lambda req: (
            problems.append(f"fetch: {req.url}") if not req.url.startswith("file:") else None
        ),
    )
    page.goto(path.as_uri())
    return page, problems


def _visible_rows(page: Page) -> int:
    return page.locator("#worklist-table tbody tr:visible").count()


def test_report_shows_the_json_figures_and_findings(browser: Browser, report, tmp_path) -> None:
    path, result = report
    page, problems = _open(browser, path)
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)

    summary = result["summary"]
    for key in ("claims", "lines", "error", "warning", "clean"):
        assert page.locator(f"#sum-{key}").inner_text() == f"{summary[key]:,}"
    findings = [(c["id"], f) for c in result["claims"] for f in c["findings"]]
    assert page.locator("#sum-findings").inner_text() == f"{len(findings):,}"
    assert page.locator("#charts svg").count() == 6
    assert page.locator("#charts svg rect.seg").first.is_visible()

    # a known finding: the first error of the batch, as a visible worklist row
    claim_id, first_error = next((cid, f) for cid, f in findings if f["severity"] == "error")
    row = page.locator("#worklist-table tbody tr", has_text=first_error["message"]).first
    assert row.is_visible()
    assert claim_id in row.inner_text() and first_error["rule"] in row.inner_text()
    assert problems == []


def test_filter_box_and_selects_narrow_the_worklist(browser: Browser, report) -> None:
    path, result = report
    page, problems = _open(browser, path)
    findings = [(c["id"], f) for c in result["claims"] for f in c["findings"]]
    assert _visible_rows(page) == min(len(findings), 100)

    claim_id = next(cid for cid, f in findings if f["severity"] == "error")
    page.fill("#f-text", claim_id)
    expected = sum(1 for cid, _ in findings if cid == claim_id)
    expect(page.locator("#worklist-table tbody tr:visible")).to_have_count(expected)
    for text in page.locator("#worklist-table tbody tr:visible").all_inner_texts():
        assert claim_id in text
    assert f"{expected} of {len(findings)}" in page.locator("#f-count").inner_text()

    page.click("#f-reset")
    page.select_option("#f-conf", "medium")
    assert _visible_rows(page) == sum(1 for _, f in findings if f["confidence"] == "medium") > 0

    page.click("#f-reset")
    page.select_option("#f-sev", "error")
    errors = sum(1 for _, f in findings if f["severity"] == "error")
    assert _visible_rows(page) == errors
    page.fill("#f-text", "no-such-thing-in-any-row")
    expect(page.locator("#worklist-table tbody tr:visible")).to_have_count(0)
    assert "No finding matches" in page.locator("#p-info").inner_text()
    assert problems == []


def test_chart_bar_filters_and_claim_link_opens_detail(browser: Browser, report) -> None:
    path, result = report
    page, problems = _open(browser, path)
    findings = [(c["id"], f) for c in result["claims"] for f in c["findings"]]

    bar = page.locator("#charts .bar-link[data-fkey='rule']").first
    rule = bar.get_attribute("data-fval")
    bar.click()
    assert page.locator("#f-rule").input_value() == rule
    assert _visible_rows(page) == sum(1 for _, f in findings if f["rule"] == rule)

    link = page.locator("#worklist-table tbody tr:visible a").first
    target = link.get_attribute("href")
    link.click()
    detail = page.locator(f"details{target}")
    assert detail.evaluate("el => el.open")
    assert detail.locator("article").first.is_visible()
    assert problems == []


def test_static_content_works_without_javascript(browser: Browser, report) -> None:
    path, result = report
    page, problems = _open(browser, path, javascript=False)
    findings = sum(len(c["findings"]) for c in result["claims"])

    assert page.locator("#sum-claims").inner_text() == f"{result['summary']['claims']:,}"
    assert page.locator("#charts svg").first.is_visible()
    assert _visible_rows(page) == findings  # no paging without JavaScript: every row shows
    assert not page.locator("#f-text").is_visible()  # controls that need JavaScript are hidden
    page.locator("details.claim summary").first.click()  # native disclosure, no script
    assert page.locator("details.claim article").first.is_visible()
    assert problems == []


@pytest.mark.parametrize("width", [800, 1024, 1400])
def test_the_problem_column_stays_readable_on_narrow_windows(
    browser: Browser, report, width: int
) -> None:
    path, _ = report
    page, _ = _open(browser, path)
    page.set_viewport_size({"width": width, "height": 900})
    problem = page.locator("#worklist-table tbody tr").first.locator("td").nth(5)
    assert problem.bounding_box()["width"] >= 280  # type: ignore[index]


def test_the_report_prints_on_few_pages_with_readable_rows(
    browser: Browser, report, tmp_path: Path
) -> None:
    # A4 portrait: the worklist's columns size to their content, the message takes the
    # room left, and charge and payer (in each claim card) are left out.
    path, result = report
    page, _ = _open(browser, path)
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 794, "height": 1123})
    row = page.locator("#worklist-table tbody tr").first
    assert row.locator("td").nth(5).bounding_box()["width"] >= 250  # type: ignore[index]
    assert not page.locator("#worklist-table th.c-payer").is_visible()
    pdf = tmp_path / "report.pdf"
    page.pdf(path=str(pdf), format="A4")
    pages = pdf.read_bytes().count(b"/Type /Page\n") or pdf.read_bytes().count(b"/Type/Page")
    findings = sum(len(c["findings"]) for c in result["claims"])
    assert 0 < pages <= findings // 2  # was 58 pages for the 27 findings
