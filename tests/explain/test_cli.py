"""``claimscrub explain``: formats, files, and exit codes like ``claimscrub code``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from claimscrub.cli import cli


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["explain", *args])
    return result.exit_code, result.stdout, result.stderr


def test_text_page_names_every_section_with_sources() -> None:
    code, out, _ = run("J7507", "--on", "2026-03-01")
    assert code == 0
    assert out.startswith("J7507 — Tacrolimus, immediate release, oral, 1 mg\n")
    for title in ("1. Definition", "5. Common denial reasons", "7. Similar codes", "Sources"):
        assert title in out
    assert "[hcpcs 2026-01]" in out and "[rule MCR003" in out


def test_json_is_the_explanation() -> None:
    code, out, _ = run("J7504", "--on", "2026-03-01", "--format", "json", "--payer", "commercial")
    assert code == 0
    doc = json.loads(out)
    assert (
        doc["code"] == "J7504" and doc["payer"] == "commercial" and doc["packs"] == ["commercial"]
    )
    assert doc["schema"] == "claimscrub-explain/1"


def test_html_to_a_file(tmp_path: Path) -> None:
    target = tmp_path / "J7504.html"
    code, out, _ = run("j7504", "--on", "2026-03-01", "--format", "html", "-o", str(target))
    assert code == 0 and out == ""
    html = target.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "J7504" in html
    assert "/codes/" not in html  # a file on disk links nowhere


@pytest.mark.parametrize(
    ("args", "exit_code", "message"),
    [
        (("J9998", "--on", "2026-03-01"), 1, "unknown code J9998"),
        (("99213",), 1, "CPT (Level I) codes are not included"),
        (("J75",), 2, "is not a HCPCS code"),
        (("KX",), 2, "is a modifier, not a HCPCS code"),
        (("J7507", "--payer", "nope"), 2, "unknown payer pack 'nope'"),
        (("J7507", "--on", "2026-13-01"), 2, "Invalid value for '--on'"),
        (("J7507", "--format", "pdf"), 2, "Invalid value for '--format'"),
    ],
)
def test_exit_codes(args: tuple[str, ...], exit_code: int, message: str) -> None:
    code, out, err = run(*args)
    assert code == exit_code
    assert message in err
    assert "Traceback" not in err + out
