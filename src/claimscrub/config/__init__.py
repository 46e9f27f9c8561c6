"""Configuration: ``claimscrub.toml`` or ``[tool.claimscrub]`` in ``pyproject.toml``.

``settings.py`` defines every setting once (key, type, default, flag, description);
``discovery.py`` finds and reads the file and layers the command-line flags on top;
``schema.py`` generates the JSON Schema shipped for editors and the docs table.
"""

from __future__ import annotations

from claimscrub.config.discovery import apply_flags, find_config, load, resolve
from claimscrub.config.settings import BY_KEY, SETTINGS, ConfigError, Setting, Settings

__all__ = [
    "BY_KEY",
    "SETTINGS",
    "ConfigError",
    "Setting",
    "Settings",
    "apply_flags",
    "find_config",
    "load",
    "resolve",
]
