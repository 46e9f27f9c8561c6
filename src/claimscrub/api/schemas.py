"""Pydantic models that document the API's JSON in the OpenAPI document.

They describe; they do not re-serialise. Routes return the documents the library builds
(``Report.to_dict()``, the explanation, the rule record) byte for byte, so the API and
the CLI cannot drift apart. A schemathesis test checks every answer against these
models, which keeps the description honest. ``extra="allow"`` everywhere: the public
formats may gain optional fields (shared/spec/claim-formats.md).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class ErrorItem(_Open):
    """One problem: where (``query.as_of``) and what."""

    loc: str
    message: str


class ErrorEnvelope(BaseModel):
    """Every error: ``ok`` false, a sentence, the itemised problems, the HTTP status."""

    ok: bool = Field(False, description="Always false for an error.")
    error: str
    errors: list[ErrorItem]
    status: int


class X12Location(_Open):
    """Where in the X12 file: loop, segment id and the segment's ordinal in the file."""

    loop: str | None
    segment: str | None
    ordinal: int | None


class Location(_Open):
    """Where a finding points in the input."""

    source: str | None
    x12: X12Location | None
    row: int | None
    json_path: str | None


class Finding(_Open):
    """One finding on a claim line (or on the claim when ``line`` is null)."""

    rule: str
    name: str
    severity: str = Field(description="error | warning | info")
    confidence: str | None = Field(
        None, description="high | medium | low: how sure the finding is (rule default or override)"
    )
    line: int | None
    message: str
    carc: str | None
    rarc: list[str]
    hcpcs: str | None = Field(None, description="The line's HCPCS code (null on a claim finding).")
    charge: float | None = Field(
        None, description="The line's charge, or the claim's total on a claim finding."
    )
    payer: dict[str, Any] | None = Field(
        None, description="The claim's payer: type, id and name, as the claim gives them."
    )
    fix: dict[str, Any] | None = Field(None, description="Corrected field values, when known.")
    fix_title: str | None = None
    applicability: str | None = Field(
        None,
        description="safe | unsafe | display-only: whether --fix, --unsafe-fixes or a person applies the fix",
    )
    source: str
    location: Location


class ClaimResult(_Open):
    """One input claim: its status and its findings."""

    id: str | None
    status: str = Field(description="error | warning | clean")
    source: str | None
    location: Location | None = Field(
        None, description="Where the claim starts: its CLM segment, first CSV row or JSON path."
    )
    findings: list[Finding]


class Provenance(_Open):
    """Tool version, reference-data releases used, rule-set fingerprint, time."""

    version: str
    refdata: dict[str, str]
    rules_hash: str
    min_confidence: str = Field(
        "low", description="low | medium | high: findings below it were not reported"
    )
    generated: str


class Summary(_Open):
    """Counts of the run."""

    claims: int
    lines: int
    clean: int
    error: int
    warning: int
    rejected_input: int
    hidden_findings: int = Field(
        0, description="Findings below claimscrub.min_confidence, left out of this report"
    )


class SkippedRule(_Open):
    """A selected rule the input could not support."""

    rule: str
    reason: str


class EngineError(_Open):
    """A rule that failed; the others still ran."""

    rule: str
    error: str


class CheckResult(_Open):
    """The result JSON of shared/spec/claim-formats.md (what ``check --format json`` prints)."""

    claimscrub: Provenance
    summary: Summary
    claims: list[ClaimResult]
    rejected: list[dict[str, Any]] = Field(
        description="Inputs that could not be read as claims: file, position and reason."
    )
    input_warnings: list[dict[str, Any]] = Field(
        default_factory=list,
        description="What a reader noticed but read anyway: file, position and reason.",
    )
    skipped_rules: list[SkippedRule]
    engine_errors: list[EngineError]


class RuleRecord(_Open):
    """A rule's metadata (``claimscrub rules --format json``)."""

    code: str
    name: str
    category: str
    category_title: str
    summary: str
    severity: str
    confidence: str = Field(description="high | medium | low: the rule's default confidence")
    carc: str | None
    rarc: list[str]
    fix: str
    scope: str
    requires: list[str]
    inputs: list[str]
    options: dict[str, Any]
    since: str
    preview: bool
    source: str


class RulePage(RuleRecord):
    """A rule's metadata and documentation page (``claimscrub rule CODE --format json``)."""

    doc: str


class RuleList(_Open):
    """Every rule, by code."""

    rules: list[RuleRecord]


class ReleaseInfo(_Open):
    """One installed release of a dataset."""

    release: str
    effective_from: str | None
    effective_to: str | None
    in_force_until: str | None
    rows: int | None
    origin: str = Field(description="bundled | user")


class DatasetInfo(_Open):
    """A reference dataset and its installed releases."""

    name: str
    title: str | None
    publisher: str | None
    releases: list[ReleaseInfo]


class RefdataList(_Open):
    """The installed reference data."""

    datasets: list[DatasetInfo]


class PayerPack(_Open):
    """A payer policy pack that ``payer=`` may name."""

    name: str
    title: str
    sources: list[str]


class PayerList(_Open):
    """Every payer policy pack known to the server."""

    payers: list[PayerPack]


class Health(_Open):
    """Liveness and what the page needs to know before its first call."""

    ok: bool
    version: str
    rules: int
    payers: int
    auth_required: bool
    max_body_bytes: int
