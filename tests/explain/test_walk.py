"""Every immunosuppressant code explains on every date, in every format, with no empty section.

The codes are read from the bundled HCPCS releases (every J7500-J7599 code any release
lists) plus the neighbours that share the claims: J7525, J0480, J0485 and the supply fees
Q0510-Q0512. The dates span the bundled releases: before the oldest one (2019), inside the
2020 release, before and after the 2025 additions (J7514, J7521), the last day before the
2026 terminations (J7505, J7513) and after them, inside the 2026 release.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import polars as pl
import pytest
from explain_helpers import all_statements, explained

from claimscrub.explain import render
from claimscrub.refdata.catalog import default_refdata

DATES = (
    dt.date(2019, 6, 1),
    dt.date(2020, 6, 1),
    dt.date(2024, 11, 15),
    dt.date(2025, 12, 31),
    dt.date(2026, 1, 1),
    dt.date(2026, 6, 1),
)
NEIGHBOURS = ("J7525", "J0480", "J0485", "Q0510", "Q0511", "Q0512")
SECTION_IDS = (
    "definition",
    "clinical",
    "modifiers",
    "documentation",
    "denials",
    "payers",
    "similar",
)
SOURCE_KINDS = {"refdata", "rule", "pack", "curated"}


def walked_codes() -> list[str]:
    """J7500-J7599 codes of every bundled HCPCS release, plus the neighbours."""
    refdata = default_refdata()
    family: set[str] = set()
    for release in refdata.releases("hcpcs"):
        codes = (
            refdata.scan("hcpcs", release.release)
            .filter(pl.col("hcpcs_code").str.contains(r"^J75[0-9]{2}$"))
            .select("hcpcs_code")
            .collect()
            .get_column("hcpcs_code")
            .to_list()
        )
        family.update(codes)
    return sorted(family) + [c for c in NEIGHBOURS if c not in family]


CODES = walked_codes()


def test_the_walk_covers_the_family_across_releases() -> None:
    # Codes only one release lists: J7514/J7519/J7521/J7528 (2026 file), none dropped since.
    assert {"J7500", "J7504", "J7505", "J7507", "J7513", "J7521", "J7528", "J7599"} <= set(CODES)
    assert len(CODES) >= 30


def _check_sources(explanation: dict, where: str) -> None:
    listed = {s["id"]: s for s in explanation["sources"]}
    for item in all_statements(explanation):
        assert isinstance(item["text"], str) and item["text"].strip(), where
        for ref in [item["source"], *item.get("also", [])]:
            assert ref["kind"] in SOURCE_KINDS, (where, item["text"])
            assert ref["label"], (where, item["text"])
            assert ref["id"] in listed, (where, ref)
    for source in listed.values():
        if source["kind"] == "curated":
            assert any(c.get("url") for c in source["citations"]), (where, source)
        if source["kind"] == "refdata":
            assert source["dataset"] and source["release"], (where, source)
        if source["kind"] == "rule":
            assert re.fullmatch(r"[A-Z]{3}[0-9]{3}", source["rule"]), (where, source)


def _check_misconceptions_stay_put(explanation: dict, where: str) -> None:
    """A wrong statement is only ever shown as "Not: ..." in the misconceptions."""
    from claimscrub.refdata.curated.clinical import clinical

    wrong = [m["not"].lower() for m in clinical()["misconceptions"]]
    for section in explanation["sections"]:
        for item in section["statements"]:
            lowered = item["text"].lower()
            assert not any(w in lowered for w in wrong), (where, item["text"])
    for item in explanation["misconceptions"]:
        assert item["text"].startswith("Not: "), (where, item["text"])


@pytest.mark.parametrize("code", CODES)
def test_code_explains_on_every_date_in_every_format(code: str) -> None:
    for on in DATES:
        where = f"{code} on {on}"
        explanation = explained(code, on)
        assert explanation["code"] == code
        assert explanation["on"] == on.isoformat()
        assert [s["id"] for s in explanation["sections"]] == list(SECTION_IDS)
        for section in explanation["sections"]:
            assert section["statements"], f"{where}: section {section['id']} is empty"
        _check_sources(explanation, where)
        _check_misconceptions_stay_put(explanation, where)

        assert json.loads(render(explanation, "json")) == explanation
        text = render(explanation, "text")
        assert text.startswith(f"{code} — ")
        for section in explanation["sections"]:
            assert f"{section['number']}. {section['title']}" in text
        markdown = render(explanation, "markdown")
        assert f"# {code} — " in markdown and "## 7. Similar codes" in markdown
        html = render(explanation, "html")
        assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
        # Self-contained: no stylesheet, script or image fetched from anywhere.
        assert not re.search(r"<(script|link|img|iframe)\b", html, re.I), where
        assert "<style>" in html


@pytest.mark.parametrize(
    ("code", "on", "status"),
    [
        ("J7505", dt.date(2025, 12, 31), "valid"),
        ("J7505", dt.date(2026, 1, 1), "terminated"),
        ("J7513", dt.date(2026, 1, 1), "terminated"),
        ("J7528", dt.date(2025, 12, 31), "not_yet_valid"),
        ("J7528", dt.date(2026, 1, 1), "valid"),
        ("J7521", dt.date(2024, 11, 15), "not_yet_valid"),
        ("J7521", dt.date(2025, 12, 31), "valid"),
        ("J7506", dt.date(2020, 6, 1), "terminated"),
    ],
)
def test_status_follows_the_dated_releases(code: str, on: dt.date, status: str) -> None:
    explanation = explained(code, on)
    assert explanation["status"] == status
    documentation = next(s for s in explanation["sections"] if s["id"] == "documentation")
    first = documentation["statements"][0]
    if status == "valid":
        assert first.get("kind") != "not_billable"
    else:
        # An invalid code: the page says the line is refused, and only COD001 and the checks
        # that survive its gate remain.
        assert first["kind"] == "not_billable"
        assert "COD001" in explanation["rules"]
        assert not {"MCR003", "NDC001", "UNT001", "DGN001"} & set(explanation["rules"])
