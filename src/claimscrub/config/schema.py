"""The JSON Schema of the configuration and its reference page, generated from SETTINGS.

The schema (``claimscrub.schema.json``, shipped in the package) describes the
``[tool.claimscrub]`` table of ``pyproject.toml`` and the top level of
``claimscrub.toml``, for editors (taplo, Even Better TOML) as ruff's does. Both it
and the settings table of ``docs/configuration.md`` are regenerated with
``claimscrub config --schema`` / ``--format markdown``; a test fails when they are stale.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from claimscrub.config.settings import CONFIDENCES, SETTINGS, SEVERITIES, Setting

SCHEMA_FILE = Path(__file__).resolve().parent / "claimscrub.schema.json"


def _property(s: Setting) -> dict[str, Any]:
    text = s.summary + (f" {s.details}" if s.details else "")
    prop: dict[str, Any] = {"description": text}
    if s.flag:
        prop["description"] += f" Command line: {s.flag}."
    if s.kind == "boolean":
        prop["type"] = "boolean"
    elif s.kind == "integer":
        prop["type"] = "integer"
        if s.minimum is not None:
            prop["minimum"] = s.minimum
    elif s.kind in ("string", "choice"):
        prop["type"] = "string"
        if s.choices:
            prop["enum"] = list(s.choices)
    elif s.kind in ("strings", "paths"):
        prop["type"] = "array"
        prop["items"] = {"type": "string"}
    elif s.kind == "severity-map":
        prop["type"] = "object"
        prop["additionalProperties"] = {"type": "string", "enum": list(SEVERITIES)}
    elif s.kind == "confidence-map":
        prop["type"] = "object"
        prop["additionalProperties"] = {"type": "string", "enum": list(CONFIDENCES)}
    elif s.kind == "selector-map":
        prop["type"] = "object"
        prop["additionalProperties"] = {"type": "array", "items": {"type": "string"}}
    else:  # options-map
        prop["type"] = "object"
        prop["additionalProperties"] = {"type": "object"}
    if s.default not in (None, (), {}):
        prop["default"] = list(s.default) if isinstance(s.default, tuple) else s.default
    return prop


def json_schema(settings: Sequence[Setting] = SETTINGS) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a configuration table."""
    root: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "claimscrub configuration",
        "description": (
            "[tool.claimscrub] in pyproject.toml, or the top level of claimscrub.toml. "
            "Generated from claimscrub.config.settings; do not edit."
        ),
        "type": "object",
        "additionalProperties": False,
        "properties": {},
    }
    for s in settings:
        node = root
        for part in s.section.split(".") if s.section else ():
            node = node["properties"].setdefault(
                part, {"type": "object", "additionalProperties": False, "properties": {}}
            )
        node["properties"][s.name] = _property(s)
    return root


def schema_text(settings: Sequence[Setting] = SETTINGS) -> str:
    """The schema as the shipped file holds it."""
    return json.dumps(json_schema(settings), indent=2, ensure_ascii=False) + "\n"


def shown_default(s: Setting) -> str:
    """A default as TOML would write it (``(unset)`` for none)."""
    if s.default is None:
        return "(unset)"
    if isinstance(s.default, bool):
        return "true" if s.default else "false"
    if isinstance(s.default, tuple):
        return "[" + ", ".join(json.dumps(v) for v in s.default) + "]"
    if isinstance(s.default, dict):
        return "{}"
    if isinstance(s.default, str):
        return json.dumps(s.default)
    return str(s.default)


def markdown_table(settings: Sequence[Setting] = SETTINGS) -> str:
    """The settings reference of docs/configuration.md (one section per setting)."""
    out: list[str] = []
    for s in settings:
        out.append(f"### `{s.key}`\n")
        out.append(f"{s.summary}" + (f" {s.details}" if s.details else "") + "\n")
        out.append(f"- Type: {s.type_name}")
        if s.choices:
            out.append(f"- Values: {', '.join(f'`{c}`' for c in s.choices)}")
        out.append(f"- Default: `{shown_default(s)}`")
        if s.flag:
            out.append(f"- Command line: `{s.flag}`")
        if s.example:
            table = f"[tool.claimscrub.{s.section}]" if s.section else "[tool.claimscrub]"
            snippet = s.example if s.example.startswith("[") else f"{table}\n{s.example}"
            out.append(f"\n```toml\n{snippet}\n```")
        out.append("")
    return "\n".join(out)
