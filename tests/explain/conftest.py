"""Fixtures of the explain tests: explanations are built once per (code, date, payer)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

# explain_helpers.py and explain_cases.py sit next to the tests.
sys.path.insert(0, str(Path(__file__).parent))

from explain_helpers import explained  # noqa: E402


@pytest.fixture
def explain() -> Any:
    """``explain(code, on, payer=None)`` -> explanation dict (cached)."""
    return explained
