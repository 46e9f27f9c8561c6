"""Read the public Claims JSON format (``shared/spec/claim-formats.md``) into canonical frames.

Every claim, under ``claims`` and under ``history``, is validated against the shipped
JSON Schema (``schemas/claims.schema.json``). A claim that fails becomes one row of
``rejected`` whose reason names each problem with its JSON path
(``claims[2].lines[0].units: 'abc' is not a number``); the other claims are read. A
file that is not JSON, or not a Claims JSON document, becomes one rejected row.

Locations: claims carry ``json_path`` ``claims[3]`` (or ``history[0]``), lines
``claims[3].lines[1]``; indexes are 0-based, as in JSON Pointer and jq.

``x_*`` extension keys are kept, as JSON text in the claim's ``extensions`` column: an
object whose keys are the extension keys of the claim itself (``x_source``) and, for
extensions on nested objects, their path below the claim followed by the key
(``patient.x_mrn``, ``lines[1].x_lot``, ``lines[0].dose.x_basis``). The writer puts
them back where they were.

Speed: the document is parsed with :mod:`json` (a hook marks objects that name a key
twice, which plain parsing would hide); each claim is checked with ``jsonschema-rs``
when it is installed (hundreds of times faster), and only the claims it finds invalid
go through :mod:`jsonschema`, whose errors make the located messages. The frames are
then built in columns by Polars' own JSON reader, with a Polars type derived from the
same schema, and mapped to canonical columns with expressions, not per claim.

Decisions (the spec leaves them open): unknown fields are errors (``x_*`` ones
excepted), as unknown CSV columns are; ``sex`` is X12's F / M / U; at most 12
diagnoses and 4 modifiers (X12 and CSV hold no more); a claim has at least one line;
top-level ``x_*`` keys belong to no claim and are accepted but not carried; a claim
id used twice in ``claims`` is read twice, with a warning.
"""

from __future__ import annotations

import difflib
import io
import json
import math
import re
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from typing import Any

import polars as pl

from claimscrub.model import columns as c
from claimscrub.model.schema import (
    CLAIMS_SCHEMA,
    LINES_SCHEMA,
    REJECTED_SCHEMA,
    empty_rejected,
)
from claimscrub.readers.base import ClaimBatch, sections_without_repeated_line_numbers

SCHEMA_FILE = "claims.schema.json"
SECTIONS = ("claims", "history")
MAX_MESSAGES = 10  # per rejected claim; the rest are counted

# A key no real document uses: the parse hook marks objects that named a key twice.
_DUPLICATES = "\x00claimscrub:duplicate-keys"


@lru_cache(maxsize=1)
def claims_json_schema() -> dict[str, Any]:
    """The JSON Schema of the Claims JSON format, as shipped in the package."""
    text = resources.files("claimscrub.readers").joinpath("schemas", SCHEMA_FILE).read_text("utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


def _claim_schema() -> dict[str, Any]:
    # One claim, with the definitions it refers to (the "#/$defs/..." pointers stay valid).
    schema = claims_json_schema()
    return {**schema["$defs"]["claim"], "$defs": schema["$defs"]}


@lru_cache(maxsize=1)
def _reference_validator() -> Any:
    """The jsonschema validator: the reference whose errors make the messages."""
    from jsonschema import Draft202012Validator, FormatChecker, validators

    def is_finite_number(checker: Any, instance: Any) -> bool:
        # JSON has no NaN or infinity; a number too big for a float (1e400) reads as inf.
        # A whole number too big for a float (10**400) is kept by the "number" bounds.
        if not Draft202012Validator.TYPE_CHECKER.is_type(instance, "number"):
            return False
        return isinstance(instance, int) or math.isfinite(instance)

    type_checker = Draft202012Validator.TYPE_CHECKER.redefine("number", is_finite_number)
    validator_class = validators.extend(Draft202012Validator, type_checker=type_checker)
    return validator_class(_claim_schema(), format_checker=FormatChecker(formats=("date",)))


@lru_cache(maxsize=1)
def _fast_validator() -> Any | None:
    """jsonschema-rs, when installed: answers valid / invalid, fast."""
    try:
        import jsonschema_rs
    except ImportError:
        return None
    return jsonschema_rs.Draft202012Validator(_claim_schema(), validate_formats=True)


def validate_claim(claim: Any, path: str) -> list[str]:
    """Located problems of one claim (empty when it is valid), e.g. ``claims[2].id: ...``."""
    fast = _fast_validator()
    if fast is not None:
        try:
            if fast.is_valid(claim):
                return []
        except (ValueError, TypeError, OverflowError):
            pass  # a value it cannot take (e.g. inf): let the reference validator explain
    errors = _reference_validator().iter_errors(claim)
    messages: list[str] = []
    for error in sorted(errors, key=lambda e: [str(p) for p in e.absolute_path]):
        for message in _messages(path, error):
            if message not in messages:
                messages.append(message)
    # NOTE: when jsonschema-rs and jsonschema disagree (none known), jsonschema decides.
    return messages


# --- messages --------------------------------------------------------------------------------

# The bounds of every "number" field (claims.schema.json): what a float can hold.
FLOAT_BOUND = 1e308
_INT_DIGITS_LIMIT = 4300

_TYPE_NAMES = {
    "number": "a number",
    "integer": "a whole number",
    "string": "a string",
    "boolean": "true or false",
    "object": "an object",
    "array": "a list",
}


_JSON_KINDS = {
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "true/false",
    list: "a list",
    type(None): "null",
}


def _show(value: Any) -> str:
    """A short rendering of a JSON value for a message: strings in single quotes."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:37] + "..."
        return f"'{text}'"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "..."


def _join_path(base: str, parts: Iterable[Any]) -> str:
    out = base
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _messages(base: str, error: Any) -> list[str]:
    """Our wording of one jsonschema error, located by its JSON path."""
    where = _join_path(base, error.absolute_path)
    kind, value, inst = error.validator, error.validator_value, error.instance
    if kind == "type":
        wanted = [value] if isinstance(value, str) else [t for t in value if t != "null"]
        names = " or ".join(_TYPE_NAMES.get(t, t) for t in wanted)
        if isinstance(inst, float) and not math.isfinite(inst):
            return [f"{where}: number out of range"]
        return [f"{where}: {_show(inst)} is not {names}"]
    if kind in ("maximum", "minimum") and abs(inst) > FLOAT_BOUND:
        return [f"{where}: number out of range"]
    if kind == "enum":
        allowed = ", ".join(str(v) for v in value if v is not None)
        return [f"{where}: {_show(inst)} is not one of {allowed}"]
    if kind == "required":
        missing = [name for name in value if name not in inst]
        return [f"{where}: missing required field '{name}'" for name in missing]
    if kind == "additionalProperties":
        known = list(error.schema.get("properties", {}))
        out = []
        for key in inst:
            if key in known or key.startswith("x_"):
                continue
            if key == _DUPLICATES:
                names = ", ".join(f"'{k}'" for k in inst[_DUPLICATES])
                out.append(f"{where}: key {names} appears more than once in one object")
                continue
            hint = difflib.get_close_matches(key, known, n=1)
            tip = f"did you mean '{hint[0]}'?" if hint else "extension fields must start with x_"
            out.append(f"{_join_path(where, [key])}: unknown field ({tip})")
        return out
    if kind in ("pattern", "format"):
        if isinstance(inst, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", inst):
            return [f"{where}: {_show(inst)} is not a day of the calendar"]
        return [f"{where}: {_show(inst)} is not a date (YYYY-MM-DD)"]
    if kind == "minimum":
        return [f"{where}: {_show(inst)} is less than {value}"]
    if kind == "maximum":
        return [f"{where}: {_show(inst)} is too large"]
    if kind == "minItems":
        return [f"{where}: has {len(inst)} item(s); at least {value} needed"]
    if kind == "maxItems":
        return [f"{where}: has {len(inst)} items; at most {value} allowed"]
    if kind == "minLength":
        return [f"{where}: must not be empty"]
    return [f"{where}: {error.message}"]


# --- parsing -----------------------------------------------------------------------------------


class _DocumentError(Exception):
    """The file as a whole is not a readable Claims JSON document."""


def _parse(data: bytes) -> tuple[Any, bool]:
    """The parsed document, and whether any object named a key twice."""
    found: list[bool] = []

    def mark_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(pairs)
        if len(obj) != len(pairs):
            # Plain json.loads keeps the last value silently; mark the object so that
            # validation names the key instead.
            names = [k for k, _ in pairs]
            obj[_DUPLICATES] = sorted({k for k in names if names.count(k) > 1})
            found.append(True)
        return obj

    def no_constants(name: str) -> Any:
        raise _DocumentError(f"{name} is not valid JSON (JSON has no NaN or Infinity)")

    def whole_number(digits: str) -> int | float:
        # Past Python's str-to-int limit (4300 digits) a whole number is read as a float,
        # i.e. inf, which validation rejects for its claim only ("number out of range").
        return int(digits) if len(digits) <= _INT_DIGITS_LIMIT else float(digits)

    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _DocumentError(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "save the file as UTF-8"
        ) from None
    try:
        doc = json.loads(
            text,
            object_pairs_hook=mark_duplicates,
            parse_constant=no_constants,
            parse_int=whole_number,
        )
    except json.JSONDecodeError as exc:
        raise _DocumentError(
            f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise _DocumentError("not readable: JSON nested too deeply") from None
    return doc, bool(found)


def _strip_markers(value: Any) -> Any:
    """Remove duplicate-key marks from an extension value (it is carried, not validated)."""
    if isinstance(value, dict):
        return {k: _strip_markers(v) for k, v in value.items() if k != _DUPLICATES}
    if isinstance(value, list):
        return [_strip_markers(v) for v in value]
    return value


# --- column building -------------------------------------------------------------------------


def _polars_dtype(node: dict[str, Any]) -> pl.DataType:
    """The Polars type that holds a JSON Schema node (dates stay text; they are cast after)."""
    defs = claims_json_schema()["$defs"]
    while "$ref" in node:
        node = defs[node["$ref"].rsplit("/", 1)[-1]]
    types = node.get("type", "string")
    kind = next(t for t in ([types] if isinstance(types, str) else types) if t != "null")
    if kind == "object":
        return pl.Struct({k: _polars_dtype(v) for k, v in node.get("properties", {}).items()})
    if kind == "array":
        return pl.List(_polars_dtype(node["items"]))
    return {
        "string": pl.String(),
        "number": pl.Float64(),
        "integer": pl.Int64(),
        "boolean": pl.Boolean(),
    }[kind]


@lru_cache(maxsize=1)
def _document_dtype() -> dict[str, pl.DataType]:
    claim = _polars_dtype(claims_json_schema()["$defs"]["claim"])
    return {section: pl.List(claim) for section in SECTIONS}


def _read_sections(data: bytes) -> pl.DataFrame:
    """Polars' own JSON reader: one row, a list of claim structs per section."""
    return pl.read_json(io.BytesIO(data), schema=_document_dtype())


def _for_polars(value: Any) -> Any:
    """A valid claim as Polars' reader needs it: no x_* keys, no integer wider than 64 bits."""
    if isinstance(value, dict):
        return {k: _for_polars(v) for k, v in value.items() if not k.startswith("x_")}
    if isinstance(value, list):
        return [_for_polars(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**63:
        return float(value)  # only a "number" field can hold one (integer fields are bounded)
    return value


def _polars_text(valid: dict[str, list[dict[str, Any]]]) -> bytes:
    return json.dumps(_for_polars(valid)).encode()


def _field(expr: pl.Expr, dotted: str) -> pl.Expr:
    for name in dotted.split("."):
        expr = expr.struct.field(name)
    return expr


def _to_date(expr: pl.Expr) -> pl.Expr:
    # The schema has checked the text: YYYY-MM-DD and a real calendar date.
    return expr.str.to_date("%Y-%m-%d")


# Names of the columns _frames adds beside a claim's (or line's) own fields.
_KEY, _ID, _PATH, _DATE, _EXT = "\x00key", "\x00id", "\x00path", "\x00date", "\x00ext"


def _canonical(columns: dict[str, pl.Expr], schema: pl.Schema) -> dict[str, pl.Expr]:
    """``columns`` completed to ``schema``, in its order: a column the reader does not
    give is null of its type."""
    return {
        name: columns[name].alias(name) if name in columns else pl.lit(None, dtype).alias(name)
        for name, dtype in schema.items()
    }


@lru_cache(maxsize=1)
def _line_columns() -> dict[str, pl.Expr]:
    """The canonical line columns, from a frame of one row per line: the line's own
    fields as columns, and its claim's key, id, path and service date (built once: the
    expressions depend on no document)."""
    index = pl.int_range(pl.len(), dtype=pl.Int64)
    first = pl.col(_KEY).ne_missing(pl.col(_KEY).shift())
    position = index - pl.when(first).then(index).forward_fill()  # 0-based index in its claim
    return _canonical(
        {
            c.CLAIM_KEY: pl.col(_KEY),
            c.CLAIM_ID: pl.col(_ID),
            c.JSON_PATH: pl.concat_str(
                [pl.col(_PATH), pl.lit(".lines["), position.cast(pl.String), pl.lit("]")]
            ),
            c.LINE_NO: pl.coalesce(pl.col("number"), position + 1),
            c.HCPCS: pl.col("hcpcs"),
            c.PROCEDURE_QUALIFIER: pl.col("procedure_qualifier"),
            c.MODIFIERS: pl.col("modifiers").fill_null(pl.lit([], dtype=pl.List(pl.String))),
            c.UNITS: pl.col("units"),
            c.CHARGE: pl.col("charge"),
            # A line without a date of its own takes its claim's service_date as given,
            # never another line's date (it stays undated: COD006).
            c.DOS_FROM: pl.coalesce(_to_date(pl.col("service_date")), _to_date(pl.col(_DATE))),
            c.DIAGNOSIS_POINTERS: pl.col("diagnosis_pointers").fill_null(
                pl.lit([], dtype=pl.List(pl.Int64))
            ),
            c.REVENUE_CODE: pl.col("revenue_code"),
            c.NDC: pl.col("ndc"),
            c.NDC_QTY: pl.col("ndc_quantity"),
            c.NDC_UNIT: pl.col("ndc_unit"),
            c.DAYS_SUPPLY: pl.col("days_supply"),
            c.NARRATIVE: pl.col("narrative"),
            c.DRUG_DESCRIPTION: pl.col("drug_description"),
            c.DOSE_AMOUNT: _field(pl.col("dose"), "amount"),
            c.DOSE_UNIT: _field(pl.col("dose"), "unit"),
            c.DISCARDED_AMOUNT: _field(pl.col("discarded"), "amount"),
            c.DISCARDED_UNIT: _field(pl.col("discarded"), "unit"),
            c.REFILL_REQUESTED_ON: _to_date(pl.col("refill_requested_on")),
            c.DELIVERED_ON: _to_date(pl.col("delivered_on")),
        },
        LINES_SCHEMA,
    )


@lru_cache(maxsize=1)
def _claim_columns() -> dict[str, pl.Expr]:
    """The canonical claim columns, from a frame of one row per claim: the claim's own
    fields as columns, and its key, path and extensions (built once, as the lines')."""
    transplant = pl.element()
    transplants = (
        pl.col("patient")
        .struct.field("transplants")
        .list.eval(
            pl.struct(
                transplant.struct.field("organ").alias("organ"),
                _to_date(transplant.struct.field("date")).alias("date"),
                transplant.struct.field("medicare_paid").alias("medicare_paid"),
                transplant.struct.field("part_a_at_transplant").alias("part_a_at_transplant"),
            )
        )
    )
    auth = pl.col("authorization")
    authorization = pl.when(auth.is_not_null()).then(
        pl.struct(
            auth.struct.field("number").alias("number"),
            auth.struct.field("status").alias("status"),
            auth.struct.field("hcpcs").alias("hcpcs"),
            auth.struct.field("units").alias("units"),
            _to_date(auth.struct.field("start")).alias("start"),
            _to_date(auth.struct.field("end")).alias("end"),
        )
    )
    # columns.SERVICE_DATE: the earliest line date when the claim has none.
    line_dates = pl.col("lines").list.eval(_to_date(pl.element().struct.field("service_date")))
    patient, entitlement = pl.col("patient"), pl.col("patient").struct.field("medicare_entitlement")
    return _canonical(
        {
            c.CLAIM_KEY: pl.col(_KEY),
            c.CLAIM_ID: pl.col("id"),
            c.JSON_PATH: pl.col(_PATH),
            c.CLAIM_TYPE: pl.col("type"),
            c.PAYER_TYPE: _field(pl.col("payer"), "type"),
            c.PAYER_ID: _field(pl.col("payer"), "id"),
            c.PAYER_NAME: _field(pl.col("payer"), "name"),
            c.PAYER_POLICY: _field(pl.col("payer"), "policy"),
            c.PATIENT_ID: _field(patient, "id"),
            c.BIRTH_DATE: _to_date(_field(patient, "birth_date")),
            c.SEX: _field(patient, "sex"),
            c.TRANSPLANTS: transplants,
            c.ESRD_ONLY_ENTITLEMENT: _field(patient, "esrd_only_entitlement"),
            c.PART_B_ID: _field(patient, "part_b_id"),
            c.PART_A_SNF_STAY: _field(patient, "part_a_snf_stay"),
            c.MEDICARE_ENTITLEMENT_REASON: _field(entitlement, "reason"),
            c.PART_A_SINCE: _to_date(_field(entitlement, "part_a_since")),
            c.PART_B_SINCE: _to_date(_field(entitlement, "part_b_since")),
            c.ESRD_COVERAGE_END: _to_date(_field(entitlement, "esrd_coverage_end")),
            c.OTHER_COVERAGE: _field(patient, "other_coverage"),
            c.SERVICE_DATE: pl.coalesce(_to_date(pl.col("service_date")), line_dates.list.min()),
            c.PLACE_OF_SERVICE: pl.col("place_of_service"),
            c.BILL_TYPE: pl.col("bill_type"),
            c.DIAGNOSES: pl.col("diagnoses").fill_null(pl.lit([], dtype=pl.List(pl.String))),
            c.PRIOR_AUTHORIZATION: pl.col("prior_authorization"),
            c.ADMISSION_DATE: _to_date(pl.col("admission_date")),
            c.DISCHARGE_DATE: _to_date(pl.col("discharge_date")),
            c.AUTHORIZATION: authorization,
            c.SUPPLIER_NPI: _field(pl.col("supplier"), "npi"),
            c.SUPPLIER_ENROLLED_SINCE: _to_date(_field(pl.col("supplier"), "enrolled_since")),
            c.EXTENSIONS: pl.col(_EXT),
        },
        CLAIMS_SCHEMA,
    )


def _with_src(columns: dict[str, pl.Expr], src: str) -> list[pl.Expr]:
    return [pl.lit(src).alias(name) if name == c.SRC else e for name, e in columns.items()]


def _frames(
    claims: pl.Series, paths: list[str], extensions: list[str | None], src: str
) -> ClaimBatch:
    """Canonical frames from a list of valid claims (structs as read by Polars).

    The claim structs are taken apart column by column first (no query: ~2 us), so the
    one query that builds each frame works on flat columns: a query over the whole claim
    struct spends most of its time working out that struct's type at every step.
    """
    count = claims.len()
    own = claims.struct.unnest()  # one column per claim field
    added = [
        pl.Series(_KEY, range(count), dtype=pl.Int64),
        pl.Series(_PATH, paths, dtype=pl.String),
        pl.Series(_EXT, extensions, dtype=pl.String),
    ]
    per_claim = own.hstack(added)
    # One row per line (a claim has at least one: the schema says so), its claim's key,
    # id, path and date beside its own fields.
    exploded = pl.DataFrame(
        [added[0], own["id"].alias(_ID), added[1], own["service_date"].alias(_DATE), own["lines"]]
    ).explode("lines")
    per_line = exploded[[_KEY, _ID, _PATH, _DATE]].hstack(exploded["lines"].struct.unnest())
    lines = per_line.select(_with_src(_line_columns(), src))
    claims_frame = per_claim.select(_with_src(_claim_columns(), src))
    # Both are in the canonical schemas by construction (every column named and cast by
    # _canonical; tests compare the schemas on every kind of document): comparing two
    # schemas of a hundred columns in Python cost a claim's read a third of its time.
    return ClaimBatch(claims=claims_frame, lines=lines)


# Nested objects of a claim that may hold x_* keys: (path below the claim, is a list).
_NESTED = (
    ("payer", False),
    ("patient", False),
    ("patient.medicare_entitlement", False),
    ("patient.transplants", True),
    ("authorization", False),
    ("supplier", False),
)
_LINE_NESTED = ("dose", "discarded")


def _x_keys(obj: Any, prefix: str, out: dict[str, Any], strip: bool) -> None:
    if not isinstance(obj, dict):
        return
    for key, value in obj.items():
        if key.startswith("x_"):
            out[prefix + key] = _strip_markers(value) if strip else value


def _get(obj: dict[str, Any], dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)  # type: ignore[assignment]
    return obj


def _extensions(claim: dict[str, Any], strip: bool) -> str | None:
    """The claim's x_* keys, with their nested paths, as JSON text (None when there are none)."""
    out: dict[str, Any] = {}
    _x_keys(claim, "", out, strip)
    for dotted, is_list in _NESTED:
        value = _get(claim, dotted)
        if is_list:
            for i, item in enumerate(value or []):
                _x_keys(item, f"{dotted}[{i}].", out, strip)
        else:
            _x_keys(value, f"{dotted}.", out, strip)
    for i, line in enumerate(claim["lines"]):
        _x_keys(line, f"lines[{i}].", out, strip)
        for name in _LINE_NESTED:
            _x_keys(line.get(name), f"lines[{i}].{name}.", out, strip)
    return json.dumps(out, ensure_ascii=False, separators=(",", ":")) if out else None


# --- the reader ----------------------------------------------------------------------------


def _rejected(rows: list[dict[str, Any]]) -> pl.DataFrame:
    # The columns a row does not name (the X12 and CSV positions) are null.
    return pl.DataFrame(rows, schema=REJECTED_SCHEMA) if rows else empty_rejected()


def _reason(messages: list[str]) -> str:
    shown = messages[:MAX_MESSAGES]
    more = len(messages) - len(shown)
    return "; ".join(shown) + (f"; and {more} more problem(s)" if more else "")


def read_json_claims(data: bytes, src: str) -> tuple[ClaimBatch, ClaimBatch]:
    """Read one Claims JSON document.

    Args:
        data: the file's bytes (UTF-8, a BOM is allowed).
        src: the name to record in ``src`` (the file name, ``-`` for stdin).

    Returns:
        ``(claims, history)``: the claims of the ``claims`` array, and those of the
        ``history`` array with ``claim_key`` numbered from 0 in each. Rejected claims of
        both arrays and all warnings are in the first batch's ``rejected`` / ``warnings``.
    """
    rejected: list[dict[str, Any]] = []
    warnings: list[dict[str, Any]] = []

    def reject(path: str | None, claim_id: str | None, reason: str) -> None:
        rejected.append({c.SRC: src, c.JSON_PATH: path, c.CLAIM_ID: claim_id, "reason": reason})

    try:
        doc, strip = _parse(data)
    except _DocumentError as exc:
        reject(None, None, str(exc))
        return ClaimBatch(rejected=_rejected(rejected)), ClaimBatch()

    if not isinstance(doc, dict):
        hint = ' (wrap the list as {"claims": [...]})' if isinstance(doc, list) else ""
        reject(None, None, f"top level is not an object with a 'claims' list{hint}")
        return ClaimBatch(rejected=_rejected(rejected)), ClaimBatch()
    if _DUPLICATES in doc:
        names = ", ".join(f"'{k}'" for k in doc[_DUPLICATES])
        reject(None, None, f"top-level key {names} appears more than once; the file is ambiguous")
        return ClaimBatch(rejected=_rejected(rejected)), ClaimBatch()
    if "claims" not in doc:
        reject(None, None, "top level has no 'claims' list")
    for key in doc:
        if key not in SECTIONS and not key.startswith("x_"):
            hint = difflib.get_close_matches(key, SECTIONS, n=1)
            tip = f"did you mean '{hint[0]}'?" if hint else "expected claims, history or x_* keys"
            reject(key, None, f"{key}: unknown top-level field ({tip}); its content was not read")

    valid: dict[str, list[dict[str, Any]]] = {section: [] for section in SECTIONS}
    paths: dict[str, list[str]] = {section: [] for section in SECTIONS}
    clean = True  # every claim valid: Polars can read the file as it is
    for section in SECTIONS:
        items = doc.get(section, [])
        if not isinstance(items, list):
            reject(section, None, f"{section}: {_show(items)} is not a list")
            clean = False
            continue
        first_seen: dict[str, str] = {}
        for index, claim in enumerate(items):
            path = f"{section}[{index}]"
            if not isinstance(claim, dict):
                found = _JSON_KINDS.get(type(claim), "something else")
                reject(
                    path, None, f"{path}: expected a claim object, found {found} ({_show(claim)})"
                )
                clean = False
                continue
            claim_id = claim.get("id") if isinstance(claim.get("id"), str) else None
            problems = validate_claim(claim, path)
            if problems:
                reject(path, claim_id, _reason(problems))
                clean = False
                continue
            assert claim_id is not None  # the schema requires a non-empty string id
            if section == "claims":
                if claim_id in first_seen:
                    warnings.append(
                        {
                            c.SRC: src,
                            c.JSON_PATH: path,
                            c.CLAIM_ID: claim_id,
                            "reason": f"claim id {claim_id} is also at {first_seen[claim_id]}",
                        }
                    )
                else:
                    first_seen[claim_id] = path
            valid[section].append(claim)
            paths[section].append(path)

    # Columns are built by Polars' JSON reader from the text: from the file itself when
    # every claim is valid, else from the valid claims written out again.
    try:
        read = _read_sections(data if clean else _polars_text(valid))
    except pl.exceptions.PolarsError:
        # e.g. an integer wider than 64 bits in an extension value, which Polars' reader
        # refuses even where it skips the key: give it the valid claims without them.
        read = _read_sections(_polars_text(valid))
    # Extension keys are not in the reader's schema: collected here, only if any exist.
    has_extensions = b'"x_' in data
    sections = []
    for section in SECTIONS:
        if not valid[section]:  # most documents have no history: no columns to build
            sections.append(ClaimBatch())
            continue
        structs = read[section][0]
        extensions = [
            _extensions(claim, strip) if has_extensions else None for claim in valid[section]
        ]
        sections.append(_frames(structs, paths[section], extensions, src))

    current, history = sections
    current.rejected = _rejected(rejected)
    current.warnings = _rejected(warnings)
    return sections_without_repeated_line_numbers(current, history)
