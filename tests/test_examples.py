"""The bundled example batch: derived files are current, the 837P is valid X12, all forms agree."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

from claimscrub.readers import read_claims

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def _builder():  # noqa: ANN202
    spec = importlib.util.spec_from_file_location(
        "make_examples", ROOT / "scripts" / "make_examples.py"
    )
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_derived_example_files_are_current() -> None:
    for name, content in _builder().build().items():
        assert (EXAMPLES / name).read_text(encoding="utf-8") == content, (
            f"run scripts/make_examples.py ({name})"
        )


def test_example_837_is_valid_x12_for_pyx12(tmp_path: Path) -> None:
    x12valid = Path(sys.executable).parent / "x12valid"
    copy = tmp_path / "immunosuppressants.837"  # x12valid writes a 997 beside its input
    shutil.copyfile(EXAMPLES / "immunosuppressants.837", copy)
    out = subprocess.run([str(x12valid), str(copy)], capture_output=True, text=True)
    # x12valid's exit code does not reflect validity; its verdict is the last line it prints.
    printed = (out.stdout + out.stderr).strip()
    assert printed.endswith("immunosuppressants.837: OK"), printed
    assert "ERROR" not in printed


def test_every_form_of_the_example_reads_the_same_claims_and_lines() -> None:
    forms = {
        ext: read_claims([EXAMPLES / f"immunosuppressants.{ext}"]) for ext in ("json", "csv", "837")
    }
    for ext, claims in forms.items():
        assert claims.rejected.height == 0, (ext, claims.rejected.to_dicts())
    keys = ["claim_id", "line_no", "hcpcs", "modifiers", "units", "dos_from", "ndc_qty", "ndc_unit"]
    reference = forms["json"].lines.select(keys).sort(["claim_id", "line_no"])
    for ext in ("csv", "837"):
        assert forms[ext].lines.select(keys).sort(["claim_id", "line_no"]).equals(reference), ext
