"""The curated clinical file: every fact sourced, every URL from the domain spec (or standing
in, by name, for one of its links)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from claimscrub.refdata.curated.clinical import PLACEHOLDER, clinical

RULES_MD = Path(__file__).resolve().parents[3] / "shared" / "domain" / "rules.md"


def test_every_source_url_is_one_the_domain_spec_cites() -> None:
    if not RULES_MD.is_file():
        pytest.skip(f"{RULES_MD} not available")
    spec = RULES_MD.read_text(encoding="utf-8")
    # A source may stand in for a link of the spec that is not an authoritative page
    # (``instead_of``); it must still name that link.
    missing = [
        s["url"]
        for s in clinical()["sources"].values()
        if s["url"] not in spec and s.get("instead_of", "\0") not in spec
    ]
    assert missing == []


def test_every_fact_has_a_source_and_placeholders_name_codes() -> None:
    doc = clinical()
    facts = [f for d in doc["drugs"] for f in d.get("facts") or []]
    facts += [d["class"] for d in doc["drugs"] if d.get("class")]
    for name in (
        "alternatives",
        "replacements",
        "supplier_records",
        "payer_notes",
        "misconceptions",
    ):
        facts += doc[name]
    assert facts
    for fact in facts:
        assert fact["source"] and all(s["url"].startswith("http") for s in fact["source"])
    for item in doc["misconceptions"]:
        # The wrong statement is plain text (shown only as "Not: ..."); every code it names is
        # described in the correction through a placeholder filled from the HCPCS data.
        assert not PLACEHOLDER.search(item["not"])
        named = set(re.findall(r"\b[A-Z][0-9]{4}\b", item["not"]))
        described = {m.group(1) for m in PLACEHOLDER.finditer(item["correct"])}
        assert named <= described, item["id"]
