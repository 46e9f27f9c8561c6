"""The Claims JSON reader and writer: every field, located errors, nothing lost, round trips."""

from __future__ import annotations

import copy
import io
import json
import re
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from claimscrub.model.schema import CLAIMS_SCHEMA, LINES_SCHEMA
from claimscrub.readers import ClaimSet, read_bytes, read_claims
from claimscrub.readers.json_claims import (
    _fast_validator,
    _reference_validator,
    claims_json_schema,
    validate_claim,
)
from claimscrub.readers.writers import write_json

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "claims" / "json"
ALL_FIELDS = FIXTURES / "all-fields.json"
BROKEN = FIXTURES / "broken.json"

SPEC = Path(__file__).resolve().parents[3] / "shared" / "spec" / "claim-formats.md"


def spec_example() -> str:
    """The Claims JSON example of shared/spec/claim-formats.md, as published."""
    text = SPEC.read_text()
    start = text.index("## Claims JSON")
    block = re.search(r"```json\n(.*?)```", text[start:], re.S)
    assert block is not None
    return block.group(1)


def read_text(text: str, src: str = "test.json") -> ClaimSet:
    return read_bytes(text.encode("utf-8"), src, input_format="json")


def read_doc(doc: object, src: str = "test.json") -> ClaimSet:
    return read_text(json.dumps(doc), src)


def minimal_claim(**extra: object) -> dict[str, object]:
    claim: dict[str, object] = {
        "id": "C1",
        "service_date": "2025-11-03",
        "lines": [{"hcpcs": "J7507", "units": 180}],
    }
    claim.update(extra)
    return claim


def reasons(batch: ClaimSet) -> list[str]:
    return batch.rejected["reason"].to_list()


def without_top_level_extensions(doc: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in doc.items() if not k.startswith("x_")}


# --- what is read ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "document",
    [
        "examples/immunosuppressants.json",
        '{"claims": [{"id": "S1", "lines": [{"hcpcs": "J7507"}]}]}',
        '{"claims": [{"id": "S2", "service_date": "2025-01-02", "lines": [{"hcpcs": "J7507", '
        '"dose": {"amount": 1, "unit": "mg"}, "x_note": "n"}], "x_batch": 1}]}',
    ],
)
def test_frames_have_exactly_the_canonical_schemas(document: str) -> None:
    # The reader builds its frames in the canonical schemas directly, without conform.
    root = Path(__file__).resolve().parents[2]
    text = (root / document).read_text() if document.endswith(".json") else document
    batch = read_text(text)
    assert batch.claims.height > 0, batch.rejected
    assert batch.claims.schema == CLAIMS_SCHEMA and batch.lines.schema == LINES_SCHEMA


def test_spec_example_reads_into_canonical_frames() -> None:
    batch = read_text(spec_example())
    assert batch.rejected.is_empty() and batch.warnings.is_empty()
    assert batch.claims.schema == CLAIMS_SCHEMA and batch.lines.schema == LINES_SCHEMA
    claim = batch.claims.row(0, named=True)
    assert claim["claim_id"] == "C1001"
    assert claim["json_path"] == "claims[0]" and claim["src"] == "test.json"
    assert (claim["payer_type"], claim["payer_id"], claim["payer_policy"]) == (
        "medicare",
        "DME-JD",
        "medicare-dme",
    )
    assert claim["transplants"] == [
        {
            "organ": "kidney",
            "date": date(2021, 3, 14),
            "medicare_paid": True,
            "part_a_at_transplant": True,
        }
    ]
    assert claim["esrd_only_entitlement"] is False
    assert claim["diagnoses"] == ["Z94.0", "Z79.621"]
    assert claim["bill_type"] is None and claim["prior_authorization"] is None
    line = batch.lines.row(0, named=True)
    assert line["json_path"] == "claims[0].lines[0]"
    assert (line["line_no"], line["hcpcs"], line["modifiers"], line["units"]) == (
        1,
        "J7507",
        ["KX"],
        180.0,
    )
    assert (line["ndc"], line["ndc_qty"], line["ndc_unit"], line["days_supply"]) == (
        "00378204601",
        180.0,
        "UN",
        90,
    )
    assert line["dos_from"] == date(2025, 6, 10)
    assert line["diagnosis_pointers"] == [1] and line["charge"] == pytest.approx(412.8)


def test_every_optional_field_reaches_its_column() -> None:
    batch = read_claims(ALL_FIELDS)
    assert batch.rejected.is_empty()
    dme = batch.claims.filter(pl.col("claim_id") == "C1001").row(0, named=True)
    assert dme["payer_name"] == "Synthetic DME MAC"
    assert dme["medicare_entitlement_reason"] == "esrd"
    assert dme["part_a_since"] == date(2020, 1, 1) and dme["part_b_since"] == date(2020, 1, 1)
    assert dme["esrd_coverage_end"] == date(2024, 3, 31)
    assert dme["other_coverage"] is False
    assert dme["admission_date"] == date(2025, 10, 28) and dme["discharge_date"] == date(
        2025, 11, 2
    )
    assert dme["supplier_npi"] == "1234567893"
    assert dme["supplier_enrolled_since"] == date(2019, 5, 1)
    assert dme["prior_authorization"] == "PA-SYN-0001"
    hospital = batch.claims.filter(pl.col("claim_id") == "C1002").row(0, named=True)
    assert hospital["claim_type"] == "institutional" and hospital["bill_type"] == "131"
    assert hospital["authorization"] == {
        "number": "AUTH-SYN-7",
        "status": "approved",
        "hcpcs": "J7511",
        "units": 6.0,
        "start": date(2025, 10, 1),
        "end": date(2025, 12, 31),
    }
    lines = {(r["claim_id"], r["line_no"]): r for r in batch.lines.iter_rows(named=True)}
    tacrolimus = lines[("C1001", 1)]
    assert tacrolimus["drug_description"] == "tacrolimus 1 mg capsule"
    assert (tacrolimus["dose_amount"], tacrolimus["dose_unit"]) == (180.0, "mg")
    assert tacrolimus["refill_requested_on"] == date(2025, 10, 20)
    assert tacrolimus["delivered_on"] == date(2025, 11, 3)
    atg = lines[("C1002", 1)]
    assert atg["revenue_code"] == "0636"
    assert (atg["dose_amount"], atg["dose_unit"]) == (150.0, "mg")
    assert (atg["discarded_amount"], atg["discarded_unit"]) == (0.0, "mg")


def test_extension_keys_are_carried_with_their_paths() -> None:
    batch = read_claims(ALL_FIELDS)
    text = batch.claims.filter(pl.col("claim_id") == "C1001")["extensions"].item()
    assert json.loads(text) == {
        "x_source_system": "synthetic-billing-export",
        "patient.x_mrn_hash": "syn-3f2a",
        "patient.transplants[0].x_center": "SYN-TX-01",
        "lines[0].x_lot": "SYN-LOT-7",
        "lines[1].dose.x_basis": "dispensed",
    }
    assert batch.claims.filter(pl.col("claim_id") == "C1002")["extensions"].item() is None


def test_history_is_returned_apart_with_keys_after_the_claims() -> None:
    batch = read_claims(ALL_FIELDS)
    assert batch.claims["claim_id"].to_list() == ["C1001", "C1002"]
    assert batch.history.claims["claim_id"].to_list() == ["H0901"]
    assert batch.history.claims["json_path"].to_list() == ["history[0]"]
    assert batch.history.lines["json_path"].to_list() == ["history[0].lines[0]"]
    assert batch.history.claims["claim_key"].to_list() == [2]
    assert batch.history.lines["claim_key"].to_list() == [2]
    all_keys = pl.concat([batch.claims["claim_key"], batch.history.claims["claim_key"]])
    assert all_keys.n_unique() == all_keys.len()


def test_line_date_defaults_to_the_claims_and_claim_date_to_the_earliest_line() -> None:
    # A line without a date takes the claim's service_date as given, never another line's.
    doc = {
        "claims": [
            {"id": "A", "service_date": "2025-11-03", "lines": [{"hcpcs": "J7507"}]},
            {
                "id": "B",
                "lines": [
                    {"hcpcs": "J7507", "service_date": "2025-11-09"},
                    {"hcpcs": "J7507", "service_date": "2025-11-05"},
                    {"hcpcs": "J7507"},
                ],
            },
        ]
    }
    batch = read_doc(doc)
    assert batch.claims["service_date"].to_list() == [date(2025, 11, 3), date(2025, 11, 5)]
    assert batch.lines["dos_from"].to_list() == [
        date(2025, 11, 3),
        date(2025, 11, 9),
        date(2025, 11, 5),
        None,
    ]


def test_line_number_defaults_to_position_and_absent_lists_are_empty() -> None:
    doc = {"claims": [minimal_claim(lines=[{"hcpcs": "J7507"}, {"number": 7}, {"hcpcs": "J7517"}])]}
    batch = read_doc(doc)
    assert batch.lines["line_no"].to_list() == [1, 7, 3]
    assert batch.lines["modifiers"].to_list() == [[], [], []]
    assert batch.lines["diagnosis_pointers"].to_list() == [[], [], []]
    assert batch.claims["diagnoses"].to_list() == [[]]
    assert batch.claims["transplants"].to_list() == [None]  # unknown, not "none"


# --- located errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda c: c["lines"][0].update(units="abc"),
            "claims[0].lines[0].units: 'abc' is not a number",
        ),
        (lambda c: c["lines"][0].update(number=0), "claims[0].lines[0].number: 0 is less than 1"),
        (
            lambda c: c["lines"][0].update(number=1.5),
            "claims[0].lines[0].number: 1.5 is not a whole number",
        ),
        (
            lambda c: c.update(service_date="2025-02-30"),
            "claims[0].service_date: '2025-02-30' is not a day of the calendar",
        ),
        (
            lambda c: c.update(service_date="20251103"),
            "claims[0].service_date: '20251103' is not a date",
        ),
        (
            lambda c: c.update(type="dental"),
            "claims[0].type: 'dental' is not one of professional, institutional",
        ),
        (lambda c: c.pop("id"), "claims[0]: missing required field 'id'"),
        (lambda c: c.update(id=""), "claims[0].id: must not be empty"),
        (lambda c: c.update(lines=[]), "claims[0].lines: has 0 item(s); at least 1 needed"),
        (
            lambda c: c["lines"][0].update(modifiers=["KX", "GA", "GY", "GZ", "JW"]),
            "claims[0].lines[0].modifiers: has 5 items; at most 4 allowed",
        ),
        (
            lambda c: c["lines"][0].update(ndc_qty=3),
            "claims[0].lines[0].ndc_qty: unknown field (did you mean 'ndc_quantity'?)",
        ),
        (
            lambda c: c.update(patient={"transplants": [{"organ": "kidney", "date": "2021-3-14"}]}),
            "claims[0].patient.transplants[0].date: '2021-3-14' is not a date",
        ),
        (
            lambda c: c.update(patient={"part_b_id": "no"}),
            "claims[0].patient.part_b_id: 'no' is not true or false",
        ),
        (
            lambda c: c["lines"][0].update(diagnosis_pointers=[0]),
            "claims[0].lines[0].diagnosis_pointers[0]: 0 is less than 1",
        ),
        (
            lambda c: c.update(authorization={"status": "ok"}),
            "claims[0].authorization.status: 'ok' is not one of",
        ),
        (
            lambda c: c.update(foo=1),
            "claims[0].foo: unknown field (extension fields must start with x_)",
        ),
    ],
)
def test_an_invalid_claim_is_rejected_with_a_located_reason(change, expected: str) -> None:
    claim = minimal_claim()
    change(claim)
    batch = read_doc({"claims": [claim, minimal_claim(id="C2")]})
    assert batch.claims["claim_id"].to_list() == ["C2"]  # the rest goes on
    assert batch.rejected.height == 1
    rejected = batch.rejected.row(0, named=True)
    assert rejected["json_path"] == "claims[0]" and rejected["src"] == "test.json"
    assert expected in rejected["reason"]


def test_all_problems_of_a_claim_are_named() -> None:
    claim = minimal_claim(service_date="2025-13-01", patient={"sex": "female"})
    claim["lines"][0].update(units="abc", ndc_unit="XX")
    reason = read_doc({"claims": [claim]}).rejected["reason"].item()
    for part in (
        "claims[0].service_date: '2025-13-01' is not a day of the calendar",
        "claims[0].patient.sex: 'female' is not one of F, M, U",
        "claims[0].lines[0].units: 'abc' is not a number",
    ):
        assert part in reason
    assert "ndc_unit" not in reason  # read as submitted; NDC005 reports it


def test_an_ndc_unit_outside_the_list_is_read_as_submitted_and_reported() -> None:
    # As the X12 reader does: the claim is checked, NDC005 names the unit (a lower-case
    # unit gets its safe fix), and the fixed file reads back.
    from claimscrub.engine.scrub import make_plan, scrub

    claims = []
    for i, unit in enumerate(("un", "EA")):
        claim = minimal_claim(id=f"U{i}")
        claim["lines"][0].update(ndc="00378204601", ndc_quantity=60, ndc_unit=unit)
        claims.append(claim)
    batch = read_doc({"claims": claims})
    assert batch.rejected.height == 0
    assert batch.lines["ndc_unit"].to_list() == ["un", "EA"]
    result = scrub(batch, make_plan()).to_dict()
    ndc005 = {
        claim["id"]: finding
        for claim in result["claims"]
        for finding in claim["findings"]
        if finding["rule"] == "NDC005"
    }
    assert ndc005["U0"]["fix"] == {"ndc_unit": "UN"}
    assert "EA" in ndc005["U1"]["message"] and "fix" not in ndc005["U1"]


@pytest.mark.parametrize("digits", [400, 5000])
def test_a_whole_number_too_big_for_a_float_rejects_only_its_claim(digits: int) -> None:
    # 1e400 and a 400-digit integer are the same number; 5000 digits is past Python's
    # str-to-int limit. Neither may take the batch down.
    good, bad = minimal_claim(id="OK"), minimal_claim(id="BIG")
    text = json.dumps({"claims": [good, bad]}).replace(
        '"units": 180}]}]', '"units": ' + "9" * digits + "}]}]"
    )
    batch = read_text(text, "big.json")
    assert batch.claims["claim_id"].to_list() == ["OK"]
    assert batch.rejected["reason"].item() == "claims[1].lines[0].units: number out of range"


def test_number_too_big_for_a_float_and_nan_are_refused() -> None:
    text = json.dumps({"claims": [minimal_claim()]}).replace('"units": 180', '"units": 1e400')
    assert (
        "claims[0].lines[0].units: number out of range" in read_text(text).rejected["reason"].item()
    )
    nan = read_text(
        json.dumps({"claims": [minimal_claim()]}).replace('"units": 180', '"units": NaN')
    )
    assert nan.claims.is_empty()
    assert "NaN is not valid JSON" in nan.rejected["reason"].item()


def test_huge_numbers_and_unicode_are_read() -> None:
    doc = {
        "claims": [
            minimal_claim(x_big=10**40, lines=[{"units": 10**30, "hcpcs": "J\u00e9\u4e2d"}])
        ],
        "x_top": 10**50,
    }
    batch = read_doc(doc)
    assert batch.rejected.is_empty()
    assert batch.lines.select("units", "hcpcs").row(0) == (1e30, "J\u00e9\u4e2d")
    assert json.loads(batch.claims["extensions"].item()) == {"x_big": 10**40}


def test_duplicate_keys_are_named_not_silently_overwritten() -> None:
    text = json.dumps({"claims": [minimal_claim()]}).replace(
        '"units": 180', '"units": 180, "units": 18'
    )
    batch = read_text(text)
    assert batch.claims.is_empty()
    assert (
        "claims[0].lines[0]: key 'units' appears more than once" in batch.rejected["reason"].item()
    )
    whole = read_text('{"claims": [], "claims": []}')
    assert "top-level key 'claims' appears more than once" in whole.rejected["reason"].item()


def test_file_level_problems_are_one_rejected_row() -> None:
    cases = {
        b'{"claims": [': "not valid JSON",
        b"[]": 'wrap the list as {"claims": [...]}',
        b'{"history": []}': "top level has no 'claims' list",
        b'{"claims": {"id": "C1"}}': "claims: ",
        b'{"claims": [], "note": 1}': "note: unknown top-level field",
        '{"claims": [{"id": "Ä"}]}'.encode("latin-1"): "not UTF-8 text (byte 0xc4",
    }
    for data, expected in cases.items():
        batch = read_bytes(data, "f.json", input_format="json")
        assert batch.claims.is_empty(), data
        assert batch.rejected.height == 1, data
        assert expected in batch.rejected["reason"].item(), data


def test_duplicate_claim_ids_are_read_with_a_warning() -> None:
    batch = read_doc({"claims": [minimal_claim(), minimal_claim()]})
    assert batch.claims["claim_key"].to_list() == [0, 1]
    assert batch.warnings.row(0, named=True)["reason"] == "claim id C1 is also at claims[0]"
    assert batch.warnings["json_path"].to_list() == ["claims[1]"]


# --- nothing lost --------------------------------------------------------------------------------


def test_every_claim_of_a_broken_file_is_accounted_for_exactly_once() -> None:
    doc = json.loads(BROKEN.read_text())
    batch = read_claims(BROKEN)
    read_paths = batch.claims["json_path"].to_list() + batch.history.claims["json_path"].to_list()
    rejected_paths = batch.rejected["json_path"].to_list()
    expected = [f"claims[{i}]" for i in range(len(doc["claims"]))]
    expected += [f"history[{i}]" for i in range(len(doc["history"]))]
    expected += ["histroy"]  # the misspelt section: one row for what could not be read
    assert sorted(read_paths + rejected_paths) == sorted(expected)
    assert not set(read_paths) & set(rejected_paths)
    assert batch.claims["claim_id"].to_list() == ["B1", "B8"]
    assert batch.history.claims["claim_id"].to_list() == ["H1"]
    # every line of the claims read is there, with its own location
    assert batch.lines["json_path"].to_list() == [
        "claims[0].lines[0]",
        "claims[7].lines[0]",
        "claims[7].lines[1]",
    ]


def test_rejected_reasons_of_the_broken_file() -> None:
    batch = read_claims(BROKEN)
    by_path = dict(zip(batch.rejected["json_path"], batch.rejected["reason"], strict=True))
    assert by_path["claims[1]"] == "claims[1].lines[0].units: 'abc' is not a number"
    assert by_path["claims[3]"].startswith("claims[3]: expected a claim object, found a string")
    assert by_path["claims[4]"] == "claims[4]: missing required field 'id'"
    assert by_path["history[1]"] == "history[1].patient.sex: 'female' is not one of F, M, U"
    assert "did you mean 'history'?" in by_path["histroy"]


# --- round trips ---------------------------------------------------------------------------------


def write(batch: ClaimSet) -> str:
    out = io.StringIO()
    assert write_json(batch, out) == []
    return out.getvalue()


def test_json_frames_json_gives_back_the_document() -> None:
    original = json.loads(ALL_FIELDS.read_text())
    written = json.loads(write(read_claims(ALL_FIELDS)))
    # top-level x_* keys belong to no claim: accepted, not carried
    assert written == without_top_level_extensions(original)


def test_frames_json_frames_is_stable() -> None:
    first = read_claims(ALL_FIELDS)
    second = read_text(write(first), src=str(ALL_FIELDS))
    assert second.claims.equals(first.claims)
    assert second.lines.equals(first.lines)
    assert second.history.claims.equals(first.history.claims)
    assert second.history.lines.equals(first.history.lines)


def test_writer_leaves_out_what_is_absent_and_writes_whole_numbers_as_integers() -> None:
    written = json.loads(write(read_text(spec_example())))
    claim = written["claims"][0]
    assert "bill_type" not in claim and "prior_authorization" not in claim
    assert "narrative" not in claim["lines"][0]
    assert claim["lines"][0]["units"] == 180 and isinstance(claim["lines"][0]["units"], int)
    assert claim["lines"][0]["charge"] == 412.8
    assert written["history"] == []


def test_written_undated_line_stays_undated_and_other_code_sets_keep_their_qualifier() -> None:
    doc = {
        "claims": [
            {
                "id": "B",
                "lines": [
                    {"hcpcs": "J7507", "service_date": "2025-11-05"},
                    {"hcpcs": "1AFK1", "procedure_qualifier": "HP"},
                    {"hcpcs": "J7517", "procedure_qualifier": "HC"},
                ],
            }
        ]
    }
    first = read_doc(doc)
    written = json.loads(write(first))
    claim = written["claims"][0]
    # The earliest line date is the claim's service_date in the frames, but written out it
    # would date the second line on the next read.
    assert "service_date" not in claim
    assert [line.get("procedure_qualifier") for line in claim["lines"]] == [None, "HP", None]
    again = read_doc(written)
    assert again.lines["dos_from"].to_list() == [date(2025, 11, 5), None, None]
    assert again.claims["service_date"].to_list() == [date(2025, 11, 5)]
    assert again.lines["procedure_qualifier"].to_list() == [None, "HP", None]


# --- the schema and the two validators --------------------------------------------------------


def test_shipped_schema_is_a_valid_draft_2020_12_schema() -> None:
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(claims_json_schema())


def _mutations(claim: dict[str, object]) -> list[dict[str, object]]:
    """The claim with each value in turn replaced by values of other kinds."""
    bad_values = ["abc", "2025-02-30", "", -1, 0, 1.5, 10**30, True, None, [], {}, ["x"], [0]]
    out: list[dict[str, object]] = []

    def walk(node: object, setter) -> None:  # type: ignore[no-untyped-def]
        if isinstance(node, dict):
            for key in list(node):
                walk(node[key], lambda v, n=node, k=key: n.__setitem__(k, v))
        elif isinstance(node, list):
            for i in range(len(node)):
                walk(node[i], lambda v, n=node, i=i: n.__setitem__(i, v))
        for value in bad_values:
            original = node
            setter(value)
            out.append(copy.deepcopy(claim))
            setter(original)

    for key in list(claim):
        walk(claim[key], lambda v, k=key: claim.__setitem__(k, v))
    return out


def test_fast_validator_agrees_with_the_reference_on_mutated_claims() -> None:
    fast = _fast_validator()
    if fast is None:
        pytest.skip("jsonschema-rs is not installed; only the reference validator runs")
    reference = _reference_validator()
    claims = json.loads(ALL_FIELDS.read_text())["claims"]
    checked = 0
    for base in claims:
        for mutated in _mutations(copy.deepcopy(base)):
            assert fast.is_valid(mutated) == reference.is_valid(mutated), mutated
            checked += 1
    assert checked > 1000


def test_validate_claim_reports_nothing_for_a_valid_claim() -> None:
    for claim in json.loads(ALL_FIELDS.read_text())["claims"]:
        assert validate_claim(claim, "claims[0]") == []
