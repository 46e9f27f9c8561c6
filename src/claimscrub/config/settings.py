"""Every configuration setting, defined once: key, type, default, flag and description.

The table :data:`SETTINGS` drives everything else: parsing and validating
``claimscrub.toml`` / ``[tool.claimscrub]`` (``discovery.py``), ``claimscrub config``,
the JSON Schema shipped for editors (``schema.py``) and ``docs/configuration.md``.
TOML keys are kebab-case and dotted by table (``rules.fail-on``); each setting names
the :class:`Settings` attribute (snake_case) it fills.

This module is a leaf of the layer graph: it knows no rules, packs or reporters.
Whether a selector names a rule, or an output format exists, is checked by the
command line, which knows the registries, and reported with :meth:`Settings.where`.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Where a value came from when it was not set in a file or by a flag.
DEFAULT_ORIGIN = "default"


class ConfigError(Exception):
    """A configuration file that cannot be used: every problem, each naming file and key."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Setting:
    """One configuration setting.

    ``kind`` is how its TOML value is checked: ``string``, ``choice``, ``boolean``,
    ``integer``, ``strings`` (array of strings), ``paths`` (array of paths relative to
    the configuration file), ``severity-map`` (rule → severity), ``confidence-map``
    (rule → confidence), ``selector-map``
    (pattern → array of rule selectors) or ``options-map`` (rule → table of options).
    """

    key: str
    attr: str
    kind: str
    default: Any
    summary: str
    details: str = ""
    choices: tuple[str, ...] = ()
    flag: str | None = None
    example: str = ""
    minimum: int | None = None

    @property
    def type_name(self) -> str:
        """The type as shown to people."""
        names = {
            "string": "string",
            "choice": "string",
            "boolean": "boolean",
            "integer": "integer",
            "strings": "array of strings",
            "paths": "array of paths",
            "severity-map": "table: rule -> severity",
            "confidence-map": "table: rule -> confidence",
            "selector-map": "table: pack pattern -> array of selectors",
            "options-map": "table: rule -> table of options",
        }
        return names[self.kind]

    @property
    def section(self) -> str:
        """The TOML table holding the key (``""`` for top-level keys)."""
        return self.key.rpartition(".")[0]

    @property
    def name(self) -> str:
        """The key within its table."""
        return self.key.rpartition(".")[2]


SEVERITIES = ("error", "warning", "info")
CONFIDENCES = ("high", "medium", "low")

SETTINGS: tuple[Setting, ...] = (
    Setting(
        key="payer",
        attr="payer",
        kind="string",
        default=None,
        flag="--payer",
        summary="Payer policy pack applied to every claim.",
        details=(
            "Name of a payer policy pack (built-in: base, medicare-dme, medicare-ab, "
            "medicare-outpatient, medicaid, medicare-advantage, commercial; or one of your "
            "own, see `policy`). Unset, each claim gets the pack it names itself, else the "
            "default pack for its payer type, claim type and place of service."
        ),
        example='payer = "medicare-dme"',
    ),
    Setting(
        key="policy",
        attr="policy",
        kind="paths",
        default=(),
        flag="--policy",
        summary="Extra payer policy pack files or folders.",
        details=(
            "Pack files (YAML or TOML), or folders of them, read after the built-in packs (a pack with "
            "the name of a built-in one replaces it). Relative paths are relative to the "
            "configuration file. The flag adds to this list. `check`, `explain` and `serve` "
            "all read it (the server loads the packs once, at start-up)."
        ),
        example='policy = ["packs/"]',
    ),
    Setting(
        key="input-format",
        attr="input_format",
        kind="choice",
        default="auto",
        # NOTE: filled in from the readers by the command line, like output-format's.
        choices=(),
        flag="--input-format",
        summary="Format of the inputs; auto sniffs each input's first bytes.",
        example='input-format = "x12"',
    ),
    Setting(
        key="output-format",
        attr="output_format",
        kind="choice",
        default="full",
        # NOTE: the choices are the reporters' formats; the command line fills them in
        # (this leaf module does not import reporters), see ``with_choices``.
        choices=(),
        flag="--format",
        summary="Report format written to stdout (or -o FILE).",
        details=(
            "`full` and `concise` are for people (grouped by claim, colours on a terminal, a "
            "summary footer); `json` is the public result document; `jsonl`, `csv` and "
            "`sarif` are for pipelines, spreadsheets and code-scanning tools."
        ),
        example='output-format = "concise"',
    ),
    Setting(
        key="show-progress",
        attr="show_progress",
        kind="boolean",
        default=True,
        flag="--no-progress",
        summary="Show a progress bar on stderr while large inputs are checked.",
        details=(
            "Only when stderr is a terminal and the input is large enough to be checked in "
            "chunks (see `streaming.min-size-mb`); never in pipes or log files."
        ),
        example="show-progress = false",
    ),
    Setting(
        key="rules.select",
        attr="select",
        kind="strings",
        default=("ALL",),
        flag="--select",
        summary="Rules to run: codes, code prefixes, rule names, or ALL.",
        details=(
            "`--select` on the command line replaces this list and the configured "
            "`ignore` list (as in ruff); `--extend-select` and `--ignore` add to them."
        ),
        example='select = ["COD", "UNT", "NDC001"]',
    ),
    Setting(
        key="rules.ignore",
        attr="ignore",
        kind="strings",
        default=(),
        flag="--ignore",
        summary="Rules not to run (codes, prefixes or names).",
        example='ignore = ["MCR016", "DUP"]',
    ),
    Setting(
        key="rules.extend-select",
        attr="extend_select",
        kind="strings",
        default=(),
        flag="--extend-select",
        summary="Rules to run in addition to `select`.",
        example='extend-select = ["PAU"]',
    ),
    Setting(
        key="rules.fail-on",
        attr="fail_on",
        kind="choice",
        default="error",
        choices=SEVERITIES,
        flag="--fail-on",
        summary="Lowest severity that makes the exit code 1.",
        example='fail-on = "warning"',
    ),
    Setting(
        key="rules.min-confidence",
        attr="min_confidence",
        kind="choice",
        default="low",
        choices=CONFIDENCES,
        flag="--min-confidence",
        summary="Lowest confidence of the findings reported (like bandit's confidence level).",
        details=(
            "`low` reports everything. Findings below the level (after the rule's default, "
            "the payer pack's `rules.confidence` and `rules.confidence` here) are left out of "
            "every report format, the claim statuses, the summary counts and the exit code, "
            "and are not fixed by `--fix` (a fix for a finding nobody was shown would change "
            "the claim unexplained); `--statistics` counts only the findings shown. The "
            "report says how many were left out: a line under `full`, `concise` and "
            "`--statistics`, the HTML summary, `summary.hidden_findings` in the result JSON "
            "(`claimscrub.min_confidence` gives the level) and the SARIF run properties."
        ),
        example='min-confidence = "medium"',
    ),
    Setting(
        key="rules.severity",
        attr="severity",
        kind="severity-map",
        default={},
        summary="Severity overrides per rule (code or name).",
        details=(
            "Overrides the rule's own severity and the payer pack's override for every claim. "
            "A claim's status follows the overridden severity."
        ),
        example='severity = { MCR016 = "warning", "non-preferred-product" = "info" }',
    ),
    Setting(
        key="rules.confidence",
        attr="confidence",
        kind="confidence-map",
        default={},
        summary="Confidence overrides per rule (code or name).",
        details=(
            "Overrides the rule's own confidence (high, medium or low) and the payer pack's "
            "override for every claim, e.g. to mark a payer pattern you have confirmed as "
            "high. Confidence is reported with each finding; it does not change a claim's "
            "status or the exit code, except that findings below `min-confidence` are not "
            "reported at all."
        ),
        example='confidence = { PAU001 = "high", "line-already-billed" = "low" }',
    ),
    Setting(
        key="rules.per-payer-ignores",
        attr="per_payer_ignores",
        kind="selector-map",
        default={},
        summary="Rules to ignore on the claims of some payer policy packs.",
        details=(
            "Keys are pack names or glob patterns (`medicare-*`); values are rule selectors. "
            "The rules still run on other claims; their findings on claims under a matching "
            "pack are dropped, as if the pack itself ignored them."
        ),
        example='per-payer-ignores = { "medicaid" = ["NDC007"], "medicare-*" = ["PAU005"] }',
    ),
    Setting(
        key="rules.options",
        attr="rule_options",
        kind="options-map",
        default={},
        summary="Rule options, one table per rule (code or name).",
        details=(
            "Each rule documents its options (`claimscrub rule CODE`, heading Options; "
            "`claimscrub config rules.options` lists them with their defaults). A value must "
            "have the type of the option's default."
        ),
        example=("[tool.claimscrub.rules.options.diagnosis-not-billable]\nmax-choices = 5"),
    ),
    Setting(
        key="streaming.min-size-mb",
        attr="stream_min_size_mb",
        kind="integer",
        default=32,
        minimum=0,
        summary="Inputs at least this large (MB, all files together) are checked in chunks.",
        details=(
            "In chunks, memory stays bounded however large the input: claims are read chunk "
            "by chunk, spilled to a temporary folder by patient, checked a patient bucket at "
            "a time and reported in input order. 0 checks every input in chunks. Standard "
            "input is always read whole."
        ),
        example="min-size-mb = 64",
    ),
    Setting(
        key="streaming.chunk-claims",
        attr="stream_chunk_claims",
        kind="integer",
        default=5000,
        minimum=1,
        summary="Claims per chunk read from an X12 input checked in chunks.",
        example="chunk-claims = 20000",
    ),
    Setting(
        key="streaming.bucket-lines",
        attr="stream_bucket_lines",
        kind="integer",
        default=100_000,
        minimum=1,
        summary="Claim lines checked together when an input is checked in chunks.",
        details=(
            "The engine's memory grows with this (about 0.6 GB at the default), its speed a "
            "little too (each check has a fixed cost): it is the knob between memory and "
            "speed for very large inputs."
        ),
        example="bucket-lines = 50000",
    ),
)

BY_KEY: Mapping[str, Setting] = {s.key: s for s in SETTINGS}
SECTIONS = tuple(sorted({s.section for s in SETTINGS if s.section}))
# Keys whose TOML value is a table (not a section to descend into).
_TABLE_KINDS = ("severity-map", "confidence-map", "selector-map", "options-map")


@dataclass
class Settings:
    """The settings of one run, and where each value came from.

    ``origins`` maps a setting key to ``"default"``, the configuration file's path
    (with ``[tool.claimscrub]`` for pyproject.toml) or the flag that set it.
    """

    payer: str | None = None
    policy: tuple[Path, ...] = ()
    input_format: str = "auto"
    output_format: str = "full"
    show_progress: bool = True
    select: tuple[str, ...] = ("ALL",)
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    fail_on: str = "error"
    min_confidence: str = "low"
    severity: dict[str, str] = field(default_factory=dict)
    confidence: dict[str, str] = field(default_factory=dict)
    per_payer_ignores: dict[str, tuple[str, ...]] = field(default_factory=dict)
    rule_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    stream_min_size_mb: int = 32
    stream_chunk_claims: int = 5000
    stream_bucket_lines: int = 100_000
    config_file: Path | None = None
    origins: dict[str, str] = field(default_factory=dict)

    def origin(self, key: str) -> str:
        """Where the value of ``key`` came from."""
        return self.origins.get(key, DEFAULT_ORIGIN)

    def where(self, key: str) -> str:
        """A prefix for messages about ``key``: ``"claimscrub.toml: rules.select"``."""
        origin = self.origin(key)
        if origin.startswith("--"):
            return origin
        if origin == DEFAULT_ORIGIN:
            return f"default {key}"
        return f"{origin}: {key}"

    def value(self, key: str) -> Any:
        """The value of a setting by its TOML key."""
        return getattr(self, BY_KEY[key].attr)


def defaults() -> Settings:
    """Settings with every default (checked against the table by a test)."""
    return Settings()


def unknown_key_message(place: str, key: str) -> str:
    """``unknown key 'x' (did you mean 'y'?)`` for a misspelt key."""
    close = difflib.get_close_matches(key, [*BY_KEY, *SECTIONS], n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{place}: unknown key {key!r}{hint}"


def _type_of(value: Any) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return names.get(type(value), type(value).__name__)


def check_value(
    setting: Setting, value: Any, place: str, base: Path | None
) -> tuple[Any, list[str]]:
    """Validate one TOML value; return (the value as :class:`Settings` holds it, problems).

    ``place`` prefixes every problem (``"claimscrub.toml: rules.fail-on"``); relative
    paths are resolved against ``base`` (the configuration file's folder).
    """
    kind = setting.kind
    if kind == "boolean":
        if not isinstance(value, bool):
            return None, [f"{place}: expected true or false, got {_type_of(value)} ({value!r})"]
        return value, []
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            return None, [f"{place}: expected an integer, got {_type_of(value)} ({value!r})"]
        if setting.minimum is not None and value < setting.minimum:
            return None, [f"{place}: must be at least {setting.minimum}, got {value}"]
        return value, []
    if kind in ("string", "choice"):
        if not isinstance(value, str):
            return None, [f"{place}: expected a string, got {_type_of(value)} ({value!r})"]
        if setting.choices and value not in setting.choices:
            return None, [f"{place}: {value!r} is not one of {', '.join(setting.choices)}"]
        return value, []
    if kind in ("strings", "paths"):
        if isinstance(value, str):
            return None, [f"{place}: expected an array of strings, e.g. [{value!r}]"]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return None, [f"{place}: expected an array of strings, got {_type_of(value)}"]
        if kind == "strings":
            return tuple(value), []
        paths = [Path(v) if base is None else (base / v) for v in value]
        missing = [v for v, p in zip(value, paths, strict=True) if not p.exists()]
        if missing:
            return None, [f"{place}: {v!r}: no such file or folder" for v in missing]
        return tuple(paths), []
    if not isinstance(value, dict):
        return None, [f"{place}: expected a table, got {_type_of(value)} ({value!r})"]
    problems: list[str] = []
    if kind in ("severity-map", "confidence-map"):
        what, levels = (
            ("severity", SEVERITIES) if kind == "severity-map" else ("confidence", CONFIDENCES)
        )
        out_level: dict[str, str] = {}
        for rule, level in value.items():
            if level not in levels:
                problems.append(f"{place}.{rule}: {level!r} is not a {what} ({', '.join(levels)})")
            else:
                out_level[rule] = level
        return out_level, problems
    if kind == "selector-map":
        out_sel: dict[str, tuple[str, ...]] = {}
        for pattern, selectors in value.items():
            if isinstance(selectors, str):
                selectors = [selectors]
            if not isinstance(selectors, list) or not all(isinstance(s, str) for s in selectors):
                problems.append(f'{place}."{pattern}": expected an array of rule selectors')
            else:
                out_sel[pattern] = tuple(selectors)
        return out_sel, problems
    out_opt: dict[str, dict[str, Any]] = {}  # options-map
    for rule, options in value.items():
        if not isinstance(options, dict):
            problems.append(f"{place}.{rule}: expected a table of options, got {_type_of(options)}")
        else:
            out_opt[rule] = dict(options)
    return out_opt, problems


def read_table(
    table: Mapping[str, Any], file_label: str, base: Path | None
) -> tuple[dict[str, Any], list[str]]:
    """Check a configuration table; return ({setting key: value}, problems).

    ``file_label`` names the file in messages (``pyproject.toml [tool.claimscrub]``).
    """
    values: dict[str, Any] = {}
    problems: list[str] = []

    def walk(node: Mapping[str, Any], prefix: str) -> None:
        for name, value in node.items():
            key = f"{prefix}{name}"
            setting = BY_KEY.get(key)
            if setting is not None:
                checked, errs = check_value(setting, value, f"{file_label}: {key}", base)
                problems.extend(errs)
                if not errs:
                    values[key] = checked
            elif key in SECTIONS:
                if isinstance(value, dict):
                    walk(value, f"{key}.")
                else:
                    problems.append(f"{file_label}: {key}: expected a table, got {_type_of(value)}")
            elif key == "tool" and prefix == "":
                problems.append(
                    f"{file_label}: unknown key 'tool': in claimscrub.toml the settings are at "
                    "the top level (no [tool.claimscrub] header)"
                )
            else:
                problems.append(unknown_key_message(file_label, key))

    walk(table, "")
    return values, problems


def with_choices(setting: Setting, choices: tuple[str, ...]) -> Setting:
    """A copy of ``setting`` with its choices filled in (for registries known above)."""
    return Setting(**{**setting.__dict__, "choices": tuple(choices)})


def assert_table_matches_dataclass() -> None:
    """Every setting fills a :class:`Settings` attribute whose default is the table's."""
    plain = Settings()
    for s in SETTINGS:
        have = getattr(plain, s.attr)
        if have != s.default:
            raise AssertionError(f"{s.key}: Settings.{s.attr} = {have!r}, table says {s.default!r}")
