"""Generated documentation is current, and every rule, dataset and command is documented."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from click.testing import CliRunner

from claimscrub.cli import _COMMANDS, cli

ROOT = Path(__file__).resolve().parent.parent


def _generator():  # noqa: ANN202
    spec = importlib.util.spec_from_file_location(
        "generate_docs", ROOT / "scripts" / "generate_docs.py"
    )
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_rule_pages_are_current() -> None:
    generator = _generator()
    pages = generator.build()
    on_disk = set((ROOT / "docs" / "rules").glob("*.md"))
    assert on_disk == set(pages), "run scripts/generate_docs.py"
    for path, content in pages.items():
        assert path.read_text(encoding="utf-8") == content, (
            f"run scripts/generate_docs.py ({path.name})"
        )


def test_every_command_has_help_text() -> None:
    runner = CliRunner()
    for name in _COMMANDS:
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert len(result.output.splitlines()) > 3, name
