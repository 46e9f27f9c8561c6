"""The web page as a biller uses it: a real `claimscrub serve`, driven in headless Chromium.

Starts ``claimscrub serve`` on a free loopback port, opens the page in Debian's Chromium
through Playwright, looks up J7504 and uploads the example 837, and checks what is on
screen against the API's own JSON for the same requests (the page is a view over it).
Screenshots are saved in the test's temporary folder for a person to look at.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from headless_chromium import headless_chromium

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "immunosuppressants.837"
API_KEY = "page-test-key-0b8f"
START_TIMEOUT = 90  # seconds for the server to load its reference data on a busy machine


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A `claimscrub serve` process and the file its log goes to."""

    def __init__(self, port: int, log: Path, process: subprocess.Popen[bytes]) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        self.process = process

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from _serve(tmp_path_factory, api_key="")


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from _serve(tmp_path_factory, api_key=API_KEY)


def _serve(factory: pytest.TempPathFactory, api_key: str) -> Iterator[Server]:
    port = _free_port()
    log = factory.mktemp("serve") / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "claimscrub", "serve", "--port", str(port)],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env={**os.environ, "CLAIMSCRUB_API_KEY": api_key},
        )
    running = Server(port, log, process)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"claimscrub serve exited {process.returncode}:\n{running.log_text()}")
            try:
                if httpx.get(f"{running.url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"claimscrub serve did not answer:\n{running.log_text()}")
            time.sleep(0.3)
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with headless_chromium() as chromium:
        yield chromium


@pytest.fixture
def page(browser: Browser, server: Server) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on(
        "console",
        # A 422 is an answer the page shows the user (a test provokes one), not a fault.
        lambda msg: (
            problems.append(msg.text)
            if msg.type == "error" and "status of 422" not in msg.text
            else None
        ),
    )
    page.on(
        "request",
        lambda req: (
            None
            if req.url.startswith((server.url, "about:", "blob:", "data:"))
            else problems.append(f"outside request: {req.url}")
        ),
    )
    page.goto(server.url + "/")
    yield page
    context.close()
    assert problems == [], problems  # no script errors, nothing fetched from elsewhere


def test_look_up_j7504(page: Page, server: Server, tmp_path: Path) -> None:
    expected = httpx.get(f"{server.url}/v1/codes/J7504", timeout=60).json()
    page.get_by_role("tab", name="Look up a code").click()
    page.get_by_label("HCPCS code").fill("j7504")
    page.get_by_role("button", name="Explain").click()
    expect(page.locator("#expl-descriptor")).to_have_text(expected["descriptor"], timeout=30_000)
    expect(page.locator("#expl-title")).to_have_text("J7504")
    expect(page.locator("#expl-status")).to_have_text(expected["status"].replace("_", " "))
    # The explanation page itself is shown, with its sections.
    frame = page.frame_locator("#expl-frame")
    expect(frame.locator("h1")).to_contain_text(expected["descriptor"])
    for section in expected["sections"]:
        expect(frame.get_by_text(section["title"], exact=False).first).to_be_visible()
    page.screenshot(path=str(tmp_path / "code-j7504.png"), full_page=False)
    # A code linked from the explanation opens in place, through the API.
    links = frame.locator("a[href^='/codes/']")
    if links.count():
        target = links.first.inner_text()
        links.first.click()
        expect(page.locator("#expl-title")).to_have_text(target, timeout=30_000)


def _api_result(server: Server) -> dict:
    response = httpx.post(
        f"{server.url}/v1/check",
        params={"source": EXAMPLE.name},
        content=EXAMPLE.read_bytes(),
        timeout=120,
    )
    assert response.status_code == 200
    return response.json()


def test_upload_the_example_batch_and_work_the_list(
    page: Page, server: Server, tmp_path: Path
) -> None:
    result = _api_result(server)
    findings = [(c["id"], f) for c in result["claims"] for f in c["findings"]]
    assert findings, "the example batch has findings"

    page.locator("#file").set_input_files(str(EXAMPLE))
    expect(page.locator("#file-name")).to_have_text(EXAMPLE.name)
    page.get_by_role("button", name="Check claims").click()
    expect(page.locator("#results")).to_be_visible(timeout=60_000)

    # Summary figures are the result's.
    summary = page.locator("#summary")
    for label, value in (
        ("Claims", result["summary"]["claims"]),
        ("Claims with errors", result["summary"]["error"]),
        ("Clean", result["summary"]["clean"]),
    ):
        card = summary.locator(".stat", has=page.locator(".label", has_text=label)).first
        expect(card.locator(".n")).to_have_text(str(value))

    # The clean box lists the claims the summary counts as clean (info findings allowed).
    clean = [c["id"] for c in result["claims"] if c["status"] == "clean"]
    expect(page.locator("#clean h3")).to_have_text(
        f"{len(clean)} clean claim(s): no errors or warnings"
    )

    # One worklist row per finding, each with its claim, rule and message.
    rows = page.locator("#worklist tbody tr")
    expect(rows).to_have_count(len(findings))
    for claim_id, finding in findings:
        row = rows.filter(has_text=claim_id).filter(has_text=finding["rule"])
        expect(row.filter(has_text=finding["message"][:40]).first).to_be_visible()
        if finding.get("fix_title"):
            expect(row.filter(has_text=finding["fix_title"]).first).to_be_visible()
    page.screenshot(path=str(tmp_path / "worklist.png"), full_page=True)

    # A filter that matches nothing says so.
    page.locator("#search").fill("no-such-text-anywhere")
    expect(page.locator("#no-findings")).to_have_text("No findings match the filter.")
    page.locator("#search").fill("")

    # Filtering by severity shows only those findings.
    errors = [f for _, f in findings if f["severity"] == "error"]
    errors_chip = page.locator(".chip[data-filter='error']")
    expect(errors_chip).to_have_text(f"Errors {len(errors)}")
    errors_chip.click()
    expect(page.locator("#worklist tbody tr:visible")).to_have_count(len(errors))
    page.locator(".chip[data-filter='all']").click()

    # A rule opens its documentation page from the catalogue.
    first_rule = findings[0][1]["rule"]
    rule = httpx.get(f"{server.url}/v1/rules/{first_rule}").json()
    rows.first.locator(".rule-link").click()
    dialog = page.locator("#rule-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#rule-title")).to_have_text(f"{rule['code']} {rule['name']}")
    expect(dialog.locator("#rule-doc")).to_contain_text(rule["doc"].splitlines()[0])
    page.screenshot(path=str(tmp_path / "rule.png"))
    dialog.get_by_role("button", name="Close").click()

    # Downloads: the JSON is the API's result; CSV and HTML are rendered by the server.
    with page.expect_download() as download:
        page.get_by_role("button", name="JSON", exact=True).click()
    downloaded = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert downloaded["claims"] == result["claims"]
    with page.expect_download() as download:
        page.get_by_role("button", name="CSV", exact=True).click()
    csv_text = Path(download.value.path()).read_text(encoding="utf-8")
    assert csv_text.startswith("claim_id,")
    assert len(csv_text.strip().splitlines()) == len(findings) + 1
    with page.expect_download() as download:
        page.get_by_role("button", name="HTML report", exact=True).click()
    assert download.value.suggested_filename == "claimscrub-report.html"
    html = Path(download.value.path()).read_text(encoding="utf-8")
    assert all(claim_id in html for claim_id, _ in findings)


def test_paste_and_errors_are_shown(page: Page, server: Server) -> None:
    page.get_by_role("button", name="Check claims").click()
    expect(page.locator("#alert")).to_contain_text("Choose a claims file or paste claims")
    page.locator("#paste").fill(EXAMPLE.read_text(encoding="utf-8"))
    page.get_by_label("Rules").fill("NOSUCHRULE")
    page.get_by_role("button", name="Check claims").click()
    expect(page.locator("#alert")).to_contain_text("matches no rule", timeout=30_000)
    page.get_by_label("Rules").fill("UNT")
    page.get_by_role("button", name="Check claims").click()
    expect(page.locator("#results")).to_be_visible(timeout=60_000)
    expect(page.locator("#alert")).to_be_hidden()
    rules = page.locator("#worklist .rule-link").all_inner_texts()
    assert rules and all(code.startswith("UNT") for code in rules)


def test_tabs_follow_the_keyboard_pattern(page: Page) -> None:
    check_tab = page.get_by_role("tab", name="Check claims")
    check_tab.focus()
    page.keyboard.press("ArrowRight")
    code_tab = page.get_by_role("tab", name="Look up a code")
    expect(code_tab).to_be_focused()
    expect(code_tab).to_have_attribute("aria-selected", "true")
    expect(page.locator("#panel-code")).to_be_visible()
    page.keyboard.press("Home")
    expect(check_tab).to_have_attribute("aria-selected", "true")
    expect(check_tab).to_have_attribute("tabindex", "0")
    expect(code_tab).to_have_attribute("tabindex", "-1")


def test_server_log_has_no_claim_content(server: Server) -> None:
    _api_result(server)
    log = server.log_text()
    assert "POST /v1/check 200" in log
    for needle in ("EX-1001", "P0001", "PATIENT", "00781210301", EXAMPLE.name, "Z940"):
        assert needle not in log, needle


def test_page_asks_for_the_api_key_when_the_server_wants_one(
    browser: Browser, keyed_server: Server
) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    page.goto(keyed_server.url + "/")
    key_box = page.get_by_label("API key")
    expect(key_box).to_be_visible()
    page.get_by_role("tab", name="Look up a code").click()
    page.get_by_label("HCPCS code").fill("J7504")
    page.get_by_role("button", name="Explain").click()
    expect(page.locator("#alert")).to_contain_text("API key", timeout=30_000)
    key_box.fill(API_KEY)
    key_box.dispatch_event("change")
    page.get_by_role("button", name="Explain").click()
    expected = httpx.get(
        f"{keyed_server.url}/v1/codes/J7504", headers={"X-API-Key": API_KEY}, timeout=60
    ).json()
    expect(page.locator("#expl-descriptor")).to_have_text(expected["descriptor"], timeout=30_000)
    expect(page.locator("#alert")).to_be_hidden()
    context.close()


def test_input_warnings_are_shown(page: Page, server: Server) -> None:
    # The example 837 with an implementation-guide id the reader does not know in ST03:
    # read by GS08's guide, and the page says so.
    text = EXAMPLE.read_text(encoding="utf-8")
    st03 = re.search(r"ST\*837\*\w+\*(005010X22[23]\w*)~", text)
    assert st03
    page.locator("#paste").fill(
        text.replace(st03.group(0), st03.group(0).replace(st03.group(1), "005010X299A9"), 1)
    )
    page.get_by_role("button", name="Check claims").click()
    expect(page.locator("#results")).to_be_visible(timeout=60_000)
    expect(page.locator("#input-warnings")).to_contain_text(
        "ST03 '005010X299A9' is not a known implementation guide"
    )
    expect(page.locator("#rejected")).to_be_hidden()
