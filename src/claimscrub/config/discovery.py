"""Find and read the configuration: ``claimscrub.toml`` or ``[tool.claimscrub]``.

Discovery works like ruff's: from the inputs' folder upward, the first folder that has
``.claimscrub.toml``, ``claimscrub.toml`` or a ``pyproject.toml`` with a
``[tool.claimscrub]`` table gives the configuration (in that order within a folder; a
``pyproject.toml`` without the table is passed over). ``--config PATH`` names the file
instead; ``--isolated`` ignores every file.

Precedence, lowest first: built-in defaults → the claim's payer policy pack (its
ignores and severities, applied per claim by the engine) → the configuration file →
command-line flags.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from claimscrub.config.settings import BY_KEY, ConfigError, Settings, read_table

CONFIG_NAMES = (".claimscrub.toml", "claimscrub.toml")
PYPROJECT = "pyproject.toml"
STDIN = "-"


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: not valid TOML: {exc}"]) from None
    except OSError as exc:
        raise ConfigError([f"{path}: cannot be read ({exc.strerror or exc})"]) from None


def _tool_table(doc: Mapping[str, Any]) -> Mapping[str, Any] | None:
    tool = doc.get("tool")
    if not isinstance(tool, Mapping):
        return None
    table = tool.get("claimscrub")
    return table if isinstance(table, Mapping) else None


def start_folder(inputs: Sequence[str]) -> Path:
    """Where discovery starts: the folder holding every input (the cwd for stdin only)."""
    folders = [
        (Path(p).resolve().parent if not Path(p).is_dir() else Path(p).resolve())
        for p in inputs
        if p != STDIN
    ]
    if not folders:
        return Path.cwd()
    return Path(os.path.commonpath([str(f) for f in folders]))


def find_config(start: Path) -> Path | None:
    """The configuration file that applies to inputs in ``start``, or None."""
    for folder in (start, *start.parents):
        for name in CONFIG_NAMES:
            candidate = folder / name
            if candidate.is_file():
                return candidate
        pyproject = folder / PYPROJECT
        if pyproject.is_file() and _tool_table(_load_toml(pyproject)) is not None:
            return pyproject
    return None


def read_config(path: Path) -> tuple[dict[str, Any], str]:
    """The checked settings of one file and the label that names it in messages.

    Raises ConfigError listing every unknown key and bad value.
    """
    if not path.is_file():
        raise ConfigError([f"{path}: no such configuration file"])
    doc = _load_toml(path)
    if path.name == PYPROJECT:
        table = _tool_table(doc)
        label = f"{path} [tool.claimscrub]"
        if table is None:
            raise ConfigError([f"{path}: has no [tool.claimscrub] table"])
    else:
        table, label = doc, str(path)
    values, problems = read_table(table, label, path.resolve().parent)
    if problems:
        raise ConfigError(problems)
    return values, label


def load(
    inputs: Sequence[str] = (), *, config: Path | None = None, isolated: bool = False
) -> Settings:
    """Defaults, then the configuration file that applies to ``inputs``.

    Args:
        inputs: the input paths (discovery starts from their common folder).
        config: an explicit configuration file (``--config``); no discovery.
        isolated: ignore configuration files (``--isolated``).

    Raises ConfigError naming the file and each bad key.
    """
    settings = Settings()
    path = None if isolated else (config or find_config(start_folder(inputs)))
    if path is None:
        return settings
    values, label = read_config(path)
    settings = replace(settings, **{BY_KEY[k].attr: v for k, v in values.items()})
    settings.config_file = path
    settings.origins = {k: label for k in values}
    return settings


# Flags whose values add to the file's list instead of replacing it.
_EXTENDING_FLAGS = ("rules.ignore", "rules.extend-select", "policy")


def apply_flags(settings: Settings, flags: Mapping[str, Any]) -> Settings:
    """``settings`` with the command-line values on top (None / empty = not given).

    ``rules.select`` given on the command line replaces the file's selection and its
    ``rules.ignore`` (a selection on the command line starts afresh, as in ruff);
    ``rules.ignore``, ``rules.extend-select`` and ``policy`` add to the file's lists.
    """
    out = replace(settings, origins=dict(settings.origins))
    given = {k: v for k, v in flags.items() if v is not None and v != () and v != []}
    if "rules.select" in given:
        out.ignore = ()
        out.origins.pop("rules.ignore", None)
    for key, value in given.items():
        setting = BY_KEY[key]
        if isinstance(value, list):
            value = tuple(value)
        if key in _EXTENDING_FLAGS:
            value = (*getattr(out, setting.attr), *value)
        setattr(out, setting.attr, value)
        out.origins[key] = setting.flag or key
    return out


def resolve(
    inputs: Sequence[str] = (),
    *,
    config: Path | None = None,
    isolated: bool = False,
    flags: Mapping[str, Any] | None = None,
) -> Settings:
    """The settings of a run: defaults, then the configuration file, then the flags."""
    return apply_flags(load(inputs, config=config, isolated=isolated), flags or {})
