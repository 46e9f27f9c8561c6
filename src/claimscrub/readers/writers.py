"""Write canonical frames back out: Claims JSON, Claims CSV, and a flat Parquet table.

* **Claims JSON** (``write_json``) is the public format of ``shared/spec/claim-formats.md``
  and reads back into the same frames. Absent facts are left out rather than written
  as ``null``. Extension keys (``extensions``) go back where they were read. Facts the
  public format has no field for (those only X12 carries: billing provider, total
  charge, ``SV103`` unit basis, ``DTP*472`` end date ...) are kept under an ``x_x12``
  extension object on the claim and on each line, named as the canonical columns, so a
  conversion from X12 loses nothing; the rules ignore them, as every ``x_*`` key.
* **Claims CSV** (``write_csv``) is the public CSV format, one row per line with every
  column of the spec; it reads back into the same frames. The CSV format has fewer
  fields than JSON: what it cannot hold (history claims, a second transplant, optional
  JSON-only fields, X12-only facts, extensions) is left out and *named* in the notes the
  function returns, never dropped silently.
* **Parquet** (``write_parquet``) is a flat table for analytics: one row per line with
  the claim's columns joined, a ``history`` flag, the NDC as submitted plus ``ndc11``
  (its 11-digit form when it can be known, else null), lists as Parquet lists.
"""

from __future__ import annotations

import io
import json
import math
import re
from collections.abc import Iterator
from datetime import date
from typing import IO, Any

import polars as pl

from claimscrub.model import columns as c
from claimscrub.model.codes import parse_ndc
from claimscrub.model.schema import CLAIM_FIELDS, LINE_FIELDS
from claimscrub.readers.base import ClaimBatch
from claimscrub.readers.csv_claims import csv_columns

OUTPUT_FORMATS = ("json", "csv", "parquet")
X12_EXTENSION = "x_x12"

_KEYS = {c.CLAIM_KEY, c.CLAIM_ID, *c.LOCATION_COLUMNS}
# Canonical columns that neither public format has a field for (X12 facts).
X12_ONLY_CLAIM = tuple(
    f.name for f in CLAIM_FIELDS if not f.json and f.name not in _KEYS | {c.EXTENSIONS}
)
X12_ONLY_LINE = tuple(f.name for f in LINE_FIELDS if not f.json and f.name not in _KEYS)


def _history(batch: ClaimBatch) -> ClaimBatch:
    history = getattr(batch, "history", None)
    return history if isinstance(history, ClaimBatch) else ClaimBatch()


# --- JSON --------------------------------------------------------------------------------------


def _value(value: Any) -> Any:
    """A frame value as JSON: ISO dates, whole floats as integers, lists and structs inside."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 2**53:
            return int(value)
        return value
    if isinstance(value, list):
        return [_value(v) for v in value]
    if isinstance(value, dict):
        return _compact(value)
    return value


def _compact(values: dict[str, Any]) -> dict[str, Any]:
    """The non-null entries of ``values``, converted for JSON."""
    return {k: _value(v) for k, v in values.items() if v is not None}


def _put(target: dict[str, Any], key: str, value: Any) -> None:
    if value is None or value == {}:
        return
    target[key] = _value(value)


_PATH_PART = re.compile(r"^([a-z_]+)(?:\[(\d+)\])?$")


def _place_extensions(claim: dict[str, Any], text: str | None, notes: list[str]) -> None:
    """Put the extension keys read by the JSON reader back at their paths."""
    if not text:
        return
    for key, value in json.loads(text).items():
        if key.startswith("x_"):
            claim[key] = value
            continue
        parts = key.split(".")
        cut = next((i for i, p in enumerate(parts) if p.startswith("x_")), len(parts))
        target: Any = claim
        for part in parts[:cut]:
            match = _PATH_PART.match(part)
            if match is None or not isinstance(target, dict):
                target = None
                break
            name, index = match.group(1), match.group(2)
            if index is None:
                target = target.setdefault(name, {})
            else:
                items = target.get(name)
                target = (
                    items[int(index)]
                    if isinstance(items, list) and int(index) < len(items)
                    else None
                )
            if target is None:
                break
        if isinstance(target, dict) and cut < len(parts):
            target[".".join(parts[cut:])] = value
        else:
            notes.append(f"claim {claim.get('id')}: extension {key} has no place to go; left out")


def _x12_facts(row: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return _compact({name: row.get(name) for name in names})


def _line_json(row: dict[str, Any]) -> dict[str, Any]:
    line: dict[str, Any] = {}
    _put(line, "number", row.get(c.LINE_NO))
    _put(line, "hcpcs", row.get(c.HCPCS))
    if row.get(c.PROCEDURE_QUALIFIER) != "HC":  # HC is the default: written only when not HCPCS
        _put(line, "procedure_qualifier", row.get(c.PROCEDURE_QUALIFIER))
    _put(line, "modifiers", row.get(c.MODIFIERS) or None)
    _put(line, "units", row.get(c.UNITS))
    _put(line, "service_date", row.get(c.DOS_FROM))
    _put(line, "ndc", row.get(c.NDC))
    _put(line, "ndc_quantity", row.get(c.NDC_QTY))
    _put(line, "ndc_unit", row.get(c.NDC_UNIT))
    _put(line, "days_supply", row.get(c.DAYS_SUPPLY))
    _put(line, "diagnosis_pointers", row.get(c.DIAGNOSIS_POINTERS) or None)
    _put(line, "charge", row.get(c.CHARGE))
    _put(line, "narrative", row.get(c.NARRATIVE))
    _put(line, "revenue_code", row.get(c.REVENUE_CODE))
    _put(line, "drug_description", row.get(c.DRUG_DESCRIPTION))
    _put(line, "dose", _compact({"amount": row.get(c.DOSE_AMOUNT), "unit": row.get(c.DOSE_UNIT)}))
    _put(
        line,
        "discarded",
        _compact({"amount": row.get(c.DISCARDED_AMOUNT), "unit": row.get(c.DISCARDED_UNIT)}),
    )
    _put(line, "refill_requested_on", row.get(c.REFILL_REQUESTED_ON))
    _put(line, "delivered_on", row.get(c.DELIVERED_ON))
    _put(line, X12_EXTENSION, _x12_facts(row, X12_ONLY_LINE))
    return line


def _undated_claims(batch: ClaimBatch) -> pl.Series:
    """Claim keys with a line that has no date of service.

    Such a claim had no service_date of its own (a line takes it): the claims frame holds
    the earliest line date, which the writers leave out so that a reader does not date the
    undated line with it (it stays undated: COD006).
    """
    return batch.lines.filter(pl.col(c.DOS_FROM).is_null())[c.CLAIM_KEY].unique()


def _claim_json(
    row: dict[str, Any], lines: list[dict[str, Any]], notes: list[str], undated: bool = False
) -> dict[str, Any]:
    claim: dict[str, Any] = {"id": row.get(c.CLAIM_ID)}
    _put(claim, "type", row.get(c.CLAIM_TYPE))
    _put(
        claim,
        "payer",
        _compact(
            {
                "type": row.get(c.PAYER_TYPE),
                "id": row.get(c.PAYER_ID),
                "name": row.get(c.PAYER_NAME),
                "policy": row.get(c.PAYER_POLICY),
            }
        ),
    )
    patient = _compact(
        {
            "id": row.get(c.PATIENT_ID),
            "birth_date": row.get(c.BIRTH_DATE),
            "sex": row.get(c.SEX),
        }
    )
    if row.get(c.TRANSPLANTS) is not None:
        patient["transplants"] = [_compact(t) for t in row.get(c.TRANSPLANTS)]
    patient.update(
        _compact(
            {
                "esrd_only_entitlement": row.get(c.ESRD_ONLY_ENTITLEMENT),
                "part_b_id": row.get(c.PART_B_ID),
                "part_a_snf_stay": row.get(c.PART_A_SNF_STAY),
            }
        )
    )
    _put(
        patient,
        "medicare_entitlement",
        _compact(
            {
                "reason": row.get(c.MEDICARE_ENTITLEMENT_REASON),
                "part_a_since": row.get(c.PART_A_SINCE),
                "part_b_since": row.get(c.PART_B_SINCE),
                "esrd_coverage_end": row.get(c.ESRD_COVERAGE_END),
            }
        ),
    )
    _put(patient, "other_coverage", row.get(c.OTHER_COVERAGE))
    _put(claim, "patient", patient)
    if not undated:
        _put(claim, "service_date", row.get(c.SERVICE_DATE))
    _put(claim, "place_of_service", row.get(c.PLACE_OF_SERVICE))
    _put(claim, "bill_type", row.get(c.BILL_TYPE))
    _put(claim, "diagnoses", row.get(c.DIAGNOSES) or None)
    _put(claim, "prior_authorization", row.get(c.PRIOR_AUTHORIZATION))
    _put(claim, "admission_date", row.get(c.ADMISSION_DATE))
    _put(claim, "discharge_date", row.get(c.DISCHARGE_DATE))
    if row.get(c.AUTHORIZATION) is not None:
        claim["authorization"] = _compact(row.get(c.AUTHORIZATION))
    _put(
        claim,
        "supplier",
        _compact(
            {"npi": row.get(c.SUPPLIER_NPI), "enrolled_since": row.get(c.SUPPLIER_ENROLLED_SINCE)}
        ),
    )
    claim["lines"] = lines
    _put(claim, X12_EXTENSION, _x12_facts(row, X12_ONLY_CLAIM))
    _place_extensions(claim, row.get(c.EXTENSIONS), notes)
    return claim


def _present(frame: pl.DataFrame) -> pl.DataFrame:
    """Only the columns that hold a value somewhere: fewer keys per row to build and skip."""
    counts = frame.null_count().row(0, named=True)
    keep = [n for n in frame.columns if counts[n] < frame.height or n == c.CLAIM_KEY]
    return frame.select(keep)


def _claims_json(batch: ClaimBatch, notes: list[str]) -> Iterator[dict[str, Any]]:
    lines_by_claim: dict[int, list[dict[str, Any]]] = {}
    lines = _present(batch.lines.sort(c.CLAIM_KEY, maintain_order=True))
    for row in lines.iter_rows(named=True):
        lines_by_claim.setdefault(row[c.CLAIM_KEY], []).append(_line_json(row))
    undated = set(_undated_claims(batch).to_list())
    for row in _present(batch.claims).iter_rows(named=True):
        key = row[c.CLAIM_KEY]
        yield _claim_json(row, lines_by_claim.get(key, []), notes, key in undated)


def to_json_document(batch: ClaimBatch) -> tuple[dict[str, Any], list[str]]:
    """The Claims JSON document of a batch (``claims`` and its ``history``), and notes."""
    notes: list[str] = []
    document = {
        "claims": list(_claims_json(batch, notes)),
        "history": list(_claims_json(_history(batch), notes)),
    }
    return document, notes


def write_json(batch: ClaimBatch, stream: IO[str]) -> list[str]:
    """Write a batch as a Claims JSON document; returns notes about anything left out."""
    document, notes = to_json_document(batch)
    json.dump(document, stream, indent=2, ensure_ascii=False)
    stream.write("\n")
    return notes


# --- CSV ---------------------------------------------------------------------------------------


def _text_list(expr: pl.Expr, index: int) -> pl.Expr:
    return expr.list.get(index, null_on_oob=True)


def csv_frame(batch: ClaimBatch) -> pl.DataFrame:
    """The rows of a batch's claims in the Claims CSV layout (all columns, text cells)."""
    transplant = pl.col(c.TRANSPLANTS).list.first()
    claim_cells = {
        "claim_id": pl.col(c.CLAIM_ID),
        "claim_type": pl.col(c.CLAIM_TYPE),
        "payer_type": pl.col(c.PAYER_TYPE),
        "payer_id": pl.col(c.PAYER_ID),
        "payer_policy": pl.col(c.PAYER_POLICY),
        "patient_id": pl.col(c.PATIENT_ID),
        "birth_date": pl.col(c.BIRTH_DATE),
        "sex": pl.col(c.SEX),
        "transplant_organ": transplant.struct.field("organ"),
        "transplant_date": transplant.struct.field("date"),
        "transplant_medicare_paid": transplant.struct.field("medicare_paid"),
        "part_a_at_transplant": transplant.struct.field("part_a_at_transplant"),
        "esrd_only_entitlement": pl.col(c.ESRD_ONLY_ENTITLEMENT),
        "part_b_id": pl.col(c.PART_B_ID),
        "part_a_snf_stay": pl.col(c.PART_A_SNF_STAY),
        "service_date": pl.when(~pl.col(c.CLAIM_KEY).is_in(_undated_claims(batch).implode())).then(
            pl.col(c.SERVICE_DATE)
        ),
        "place_of_service": pl.col(c.PLACE_OF_SERVICE),
        "bill_type": pl.col(c.BILL_TYPE),
        **{f"dx{i + 1}": _text_list(pl.col(c.DIAGNOSES), i) for i in range(12)},
        "prior_authorization": pl.col(c.PRIOR_AUTHORIZATION),
    }
    line_cells = {
        "line_number": pl.col(c.LINE_NO),
        "hcpcs": pl.col(c.HCPCS),
        **{f"mod{i + 1}": _text_list(pl.col(c.MODIFIERS), i) for i in range(4)},
        "units": pl.col(c.UNITS),
        "line_service_date": pl.col(c.DOS_FROM),
        "ndc": pl.col(c.NDC),
        "ndc_quantity": pl.col(c.NDC_QTY),
        "ndc_unit": pl.col(c.NDC_UNIT),
        "days_supply": pl.col(c.DAYS_SUPPLY),
        "diagnosis_pointers": pl.col(c.DIAGNOSIS_POINTERS)
        .list.eval(pl.element().cast(pl.String))
        .list.join(","),
        "charge": pl.col(c.CHARGE),
        "narrative": pl.col(c.NARRATIVE),
    }
    cells = {**claim_cells, **line_cells}
    assert list(cells) == list(csv_columns()), "writer columns must follow the CSV schema"
    claim_part = batch.claims.select(c.CLAIM_KEY, *[e.alias(k) for k, e in claim_cells.items()])
    line_part = batch.lines.sort(c.CLAIM_KEY, maintain_order=True).select(
        c.CLAIM_KEY, *[e.alias(k) for k, e in line_cells.items()]
    )
    rows = line_part.join(claim_part, on=c.CLAIM_KEY, how="left", maintain_order="left")
    return rows.select(list(cells))


def _csv_gaps(batch: ClaimBatch) -> list[str]:
    """What a batch holds that the Claims CSV format has no place for."""
    has_csv = {f.name for f in CLAIM_FIELDS if f.csv} | {f.name for f in LINE_FIELDS if f.csv}
    claims, lines = batch.claims, batch.lines
    missing = []
    for frame, fields, what in ((claims, CLAIM_FIELDS, "claim"), (lines, LINE_FIELDS, "line")):
        for f in fields:
            if f.name in has_csv or f.name in _KEYS:
                continue
            count = frame.height - frame[f.name].null_count()
            if count:
                missing.append(f"{f.name} ({count} {what}{'s' if count != 1 else ''})")
    extra_transplants = claims.filter(pl.col(c.TRANSPLANTS).list.len() > 1).height
    if extra_transplants:
        missing.append(f"transplants after the first ({extra_transplants} claims)")
    too_many = claims.filter(pl.col(c.DIAGNOSES).list.len() > 12).height
    if too_many:
        missing.append(f"diagnoses after the 12th ({too_many} claims)")
    too_many = lines.filter(pl.col(c.MODIFIERS).list.len() > 4).height
    if too_many:
        missing.append(f"modifiers after the 4th ({too_many} lines)")
    notes = []
    if missing:
        notes.append(
            "the Claims CSV format has no column for " + ", ".join(missing) + "; left out "
            "of the CSV (Claims JSON keeps them)"
        )
    history = _history(batch).claims.height
    if history:
        notes.append(
            f"{history} history claim(s) left out: Claims CSV holds only the claims to check "
            "(Claims JSON keeps history)"
        )
    return notes


def write_csv(batch: ClaimBatch, stream: IO[str]) -> list[str]:
    """Write a batch's claims as Claims CSV; returns notes naming what was left out."""
    stream.write(csv_frame(batch).write_csv(float_scientific=False, null_value=""))
    return _csv_gaps(batch)


# --- Parquet -----------------------------------------------------------------------------------


def _ndc11(ndc: pl.Series) -> pl.Expr:
    """The 11-digit NDC of each submitted value when it can be known (see model.codes)."""
    mapping = {value: parse_ndc(value).ndc11 for value in ndc.drop_nulls().unique().to_list()}
    return pl.col(c.NDC).replace_strict(mapping, default=None, return_dtype=pl.String)


def flat_lines(batch: ClaimBatch) -> pl.DataFrame:
    """One row per line (claims, then history), with the claim's columns joined."""
    claim_columns = [name for name in batch.claims.columns if name not in _KEYS]
    parts = []
    for part, is_history in ((batch, False), (_history(batch), True)):
        lines = part.lines.sort(c.CLAIM_KEY, maintain_order=True)
        claims = part.claims.select(c.CLAIM_KEY, *claim_columns)
        parts.append(
            lines.join(claims, on=c.CLAIM_KEY, how="left", maintain_order="left").with_columns(
                pl.lit(is_history).alias("history")
            )
        )
    flat = pl.concat(parts, how="vertical")
    line_columns = [name for name in batch.lines.columns if name not in _KEYS]
    order = [c.CLAIM_KEY, c.CLAIM_ID, "history", *c.LOCATION_COLUMNS, *claim_columns]
    for name in line_columns:
        order.append(name)
        if name == c.NDC:
            order.append("ndc11")
    return flat.with_columns(_ndc11(flat[c.NDC]).alias("ndc11")).select(order)


def write_parquet(batch: ClaimBatch, target: str | IO[bytes]) -> list[str]:
    """Write the flat line table as Parquet (zstd) to a path or a binary stream."""
    table = flat_lines(batch)
    if isinstance(target, str):
        table.write_parquet(target, compression="zstd")
    else:
        buffer = io.BytesIO()
        table.write_parquet(buffer, compression="zstd")
        target.write(buffer.getvalue())
    return []
