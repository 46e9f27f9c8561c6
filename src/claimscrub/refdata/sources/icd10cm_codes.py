"""ICD-10-CM diagnosis codes, read from a CDC/NCHS code-descriptions file.

Source: the ``icd10cm-codes-<year>.txt`` file of CDC's "Code Descriptions in Tabular Order"
download: one line per *billable* code, the code without its dot, spaces, then its long
description. It is used for a fiscal year whose tabular XML could not be recovered (see
:mod:`claimscrub.refdata.sources.icd10cm_wheels` for where the copy comes from); the table it
gives has the columns of :data:`claimscrub.refdata.sources.icd10cm.SCHEMA`:

* billable codes come straight from the file (``billable`` true, CDC's description);
* headings (``billable`` false) are the codes the file implies: every beginning of a billable
  code from its third character on, except where it ends in the placeholder ``X`` that merely
  pads a code to its 7th character (``T07``, not ``T07X``, ``T07XX``, ``T07XXX``, is the
  heading of ``T07XXXA``; ``T36.0X`` is a heading, since its 6th characters vary). Built this
  way from the billable codes of the bundled tabular releases, the headings and parents are
  exactly the tabular's (FY2025-04, FY2026-04) but for one quirk of the FY2021-01 tabular
  (``H54.512A`` listed under ``H54.511``), which a test keeps watching;
* a heading's ``description`` and every row's ``chapter`` are null: the file does not give
  them, and they are not borrowed from another release.

The file is read strictly: a line that is not a code and a description, a code listed twice,
or an empty file stops the build with the file name and line number.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import polars as pl

from claimscrub.refdata.sources import icd10cm
from claimscrub.refdata.sources.icd10cm import Icd10cmSourceError, IcdRelease

__all__ = ["NORMALISER_VERSION", "build", "headings_and_parents", "read_codes_file"]

NORMALISER_VERSION = "1"

# A line: the code without its dot (3 to 7 characters), at least one space, the description.
_LINE_RE = re.compile(r"^(?P<code>[A-Z][0-9][0-9A-Z]{1,5}) +(?P<description>\S.*)$")


def read_codes_file(path: Path) -> tuple[list[str], list[str]]:
    """The codes and descriptions of a CDC ``icd10cm-codes`` file, in file order.

    Raises:
        Icd10cmSourceError: a line is not ``CODE description``, a code is listed twice, or
            the file lists no code.
    """
    codes: list[str] = []
    descriptions: list[str] = []
    seen: dict[str, int] = {}
    text = Path(path).read_text(encoding="utf-8")
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        match = _LINE_RE.match(raw.rstrip())
        if match is None:
            raise Icd10cmSourceError(
                f"{Path(path).name}:{number}: not a line of a CDC code-descriptions file "
                f"(expected a code without its dot, spaces, a description): {raw[:60]!r}"
            )
        code = match["code"]
        if code in seen:
            raise Icd10cmSourceError(
                f"{Path(path).name}:{number}: code {code} is listed again (first at line "
                f"{seen[code]})"
            )
        seen[code] = number
        codes.append(code)
        descriptions.append(" ".join(match["description"].split()))
    if not codes:
        raise Icd10cmSourceError(f"{Path(path).name}: no code in the file")
    return codes, descriptions


def _is_heading_prefix(code: str, length: int) -> bool:
    """Whether the first ``length`` characters of billable ``code`` name a heading.

    A beginning that ends in ``X`` is a heading only when a real character (not another
    placeholder, not the 7th character) follows it: ``T36.0X`` of ``T36.0X1A``, not
    ``T07X`` of ``T07XXXA``.
    """
    if length < 4 or code[length - 1] != icd10cm.PLACEHOLDER:
        return True
    return length < icd10cm.SEVENTH_POSITION and code[length] != icd10cm.PLACEHOLDER


def headings_and_parents(billable: list[str]) -> tuple[list[str], dict[str, str | None]]:
    """The headings the billable codes imply (sorted) and each code's parent.

    The parent of a code is its longest beginning that is itself a code (billable or
    heading); categories (3 characters) have none.
    """
    listed = set(billable)
    headings: set[str] = set()
    for code in billable:
        for length in range(3, len(code)):
            if _is_heading_prefix(code, length) and code[:length] not in listed:
                headings.add(code[:length])
    every = listed | headings
    parents = {
        code: next((code[:n] for n in range(len(code) - 1, 2, -1) if code[:n] in every), None)
        for code in every
    }
    return sorted(headings), parents


def _frame(codes: list[str], descriptions: list[str]) -> pl.DataFrame:
    headings, parents = headings_and_parents(codes)
    all_codes = codes + headings
    df = pl.DataFrame(
        {
            "code": all_codes,
            "description": descriptions + [None] * len(headings),
            "billable": [True] * len(codes) + [False] * len(headings),
            "parent": [parents[code] for code in all_codes],
        },
        schema={k: icd10cm.SCHEMA[k] for k in ("code", "description", "billable", "parent")},
    )
    # Sorted by code, a heading comes before the codes that begin with it, as in the tabular.
    chapter = pl.lit(None, dtype=pl.String).alias("chapter")
    return icd10cm.with_derived_columns(df.with_columns(chapter).sort("code"))


def build(
    codes_path: Path,
    *,
    release: IcdRelease,
    recovered_from: str,
    licence: str,
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """Build the ICD-10-CM table of one release from its code-descriptions file.

    Args:
        codes_path: the CDC ``icd10cm-codes-<year>.txt`` file.
        release: the release the file holds and its window (declared in the manifest).
        recovered_from: where the file came from, for the provenance.
        licence: the licence statement of the release.

    Returns:
        The table (``icd10cm.SCHEMA``) and the provenance dict of ``claimscrub.refdata.store``.

    Raises:
        Icd10cmSourceError: the file is malformed (see :func:`read_codes_file`).
    """
    codes_path = Path(codes_path)
    codes, descriptions = read_codes_file(codes_path)
    df = _frame(codes, descriptions)
    headings = df.height - len(codes)
    provenance = icd10cm.release_provenance(
        release,
        codes_path,
        title=(
            f"ICD-10-CM code descriptions in tabular order, FY{release.fiscal_year} release "
            f"(effective {release.effective_from.isoformat()})"
        ),
        recovered_from=recovered_from,
        licence=licence,
        normaliser_version=NORMALISER_VERSION,
        notes=(
            f"{df.height} codes: {len(codes)} billable codes as listed in the file, with "
            f"CDC's descriptions, and {headings} headings implied by them (every beginning "
            "of a billable code from its 3rd character, placeholder X padding excepted). "
            "Headings have no description and no row has a chapter: the file gives neither. "
            "Chapters and blocks are not rows."
        ),
    )
    return df, provenance
