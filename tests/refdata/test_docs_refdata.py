"""docs/refdata.md documents every dataset and bundled release, and no forbidden claim."""

from __future__ import annotations

import re
from pathlib import Path

from claimscrub.refdata.catalog import RefData
from claimscrub.refdata.manifest import load_manifest

DOC = Path(__file__).resolve().parents[2] / "docs" / "refdata.md"


def test_every_dataset_and_release_is_documented(bundled: RefData) -> None:
    text = DOC.read_text(encoding="utf-8")
    for name in load_manifest().datasets:
        assert f"`{name}`" in text, name
    for item in bundled.all_releases():
        assert item.release in text, item.label


def test_no_false_claims_about_j7504_or_j7505() -> None:
    text = DOC.read_text(encoding="utf-8").lower()
    for sentence in re.split(r"[.;\n]", text):
        if "j7504" in sentence:
            assert "tacrolimus" not in sentence and "1 mg" not in sentence, sentence
        if "j7505" in sentence:
            assert "tacrolimus" not in sentence, sentence
