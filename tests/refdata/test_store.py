"""store.write_release / scan_root: readable releases, no half-written ones listed."""

from __future__ import annotations

import stat
from pathlib import Path

import polars as pl

from claimscrub.refdata.store import scan_root, write_release


def test_written_release_is_readable_and_listed(tmp_path: Path) -> None:
    frame = pl.DataFrame({"pos_code": ["01"], "pos_name": ["Pharmacy"], "pos_description": ["x"]})
    target = write_release(
        tmp_path, frame, {"dataset": "pos", "release": "2030-01", "effective_from": "2030-01-01"}
    )
    assert stat.S_IMODE(target.stat().st_mode) == 0o755
    # a work folder left behind by an interrupted write is never taken for a release
    leftover = tmp_path / "pos" / ".2030-02.abcd"
    leftover.mkdir()
    (leftover / "data.parquet").write_bytes((target / "data.parquet").read_bytes())
    (leftover / "provenance.json").write_text((target / "provenance.json").read_text())
    refs = scan_root(tmp_path, bundled=False)
    assert [(r.dataset, r.release, r.provenance["rows"]) for r in refs] == [("pos", "2030-01", 1)]
