"""`claimscrub refdata list` shows every dataset and release, bundled or user."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from claimscrub.cli import cli
from claimscrub.refdata.catalog import RefData, default_refdata
from claimscrub.refdata.manifest import load_manifest
from claimscrub.refdata.store import BUNDLED_ROOT, write_release


@pytest.fixture
def user_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    root = tmp_path / "store"
    monkeypatch.setenv("CLAIMSCRUB_DATA_DIR", str(root))
    default_refdata.cache_clear()
    yield root
    default_refdata.cache_clear()


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_text_lists_every_dataset(user_store: Path) -> None:
    status, out, _ = run("refdata", "list")
    assert status == 0
    for name in load_manifest().datasets:
        assert name in out
    for release in (
        "2026-01",
        "2020-01",
        "2025-Q4",
        "2024-07-01",
        "2025-10",
        "2026-04",
        "2023-09",
        "2024-06-18",
    ):
        assert release in out
    assert "1a9ce53ae654" in out  # the HCPCS 2026 TXT checksum
    assert "2025-10-01 .. 2025-12-31" in out
    assert "bundled" in out


def test_json_shape(user_store: Path) -> None:
    status, out, _ = run("refdata", "list", "--format", "json")
    assert status == 0
    doc = json.loads(out)
    assert doc["schema"] == "claimscrub-refdata-list/1"
    assert doc["user_store"] == str(user_store)
    by_name = {d["name"]: d for d in doc["datasets"]}
    assert set(load_manifest().datasets) <= set(by_name)
    hcpcs = {r["release"]: r for r in by_name["hcpcs"]["releases"]}
    assert hcpcs["2026-01"]["rows"] == 9006
    assert hcpcs["2020-01"]["in_force_until"] == "2025-12-31"
    assert (
        hcpcs["2026-01"]["source_sha256"]
        == "1a9ce53ae6546c54e8150fc51b25d2b3e3eeefbca657c2ab2f7f1d7888a2239e"
    )
    assert hcpcs["2026-01"]["origin"] == "bundled"
    assert {r["release"] for r in by_name["opps"]["releases"]} == {"2025-10", "2026-01", "2026-04"}
    assert by_name["asp"]["publisher"] == "CMS"


def test_user_release_is_listed_as_user(user_store: Path) -> None:
    bundled = RefData(roots=[(BUNDLED_ROOT, True)])
    provenance = dict(bundled.release("pos").provenance, imported_at="2026-02-01T09:00:00Z")
    write_release(
        user_store, bundled.table("pos"), provenance
    )  # same id: overrides the bundled one
    write_release(
        user_store,
        bundled.table("pos"),
        dict(provenance, release="2026-01", effective_from="2026-01-01"),
    )
    _, out, _ = run("refdata", "list", "--format", "json")
    pos = {
        r["release"]: r
        for d in json.loads(out)["datasets"]
        if d["name"] == "pos"
        for r in d["releases"]
    }
    assert pos["2023-09"]["origin"] == "user" and pos["2023-09"]["overrides_bundled"] is True
    assert pos["2026-01"]["origin"] == "user" and pos["2026-01"]["overrides_bundled"] is False
    assert pos["2023-09"]["in_force_until"] == "2025-12-31"
    _, text, _ = run("refdata", "list")
    assert "user, overrides" in text


def test_import_without_importer_or_with_bad_file(user_store: Path, tmp_path: Path) -> None:
    bogus = tmp_path / "not-a-cms-file.txt"
    bogus.write_text("hello\n")
    status, _, err = run("refdata", "import", str(bogus))
    assert status == 2
    assert "Traceback" not in err
    status, _, err = run("refdata", "import", str(tmp_path / "missing.txt"))
    assert status == 2
    assert "does not exist" in err
