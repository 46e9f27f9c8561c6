"""What a rule sees: the lines (with their claim's columns), reference data, options."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import polars as pl

if TYPE_CHECKING:
    from claimscrub.payers.packs import Pack
    from claimscrub.refdata.catalog import RefData


@dataclass
class RuleContext:
    """Inputs of one rule evaluation.

    ``lines`` holds every canonical line column plus the claim-level columns of its
    claim (payer, patient, diagnoses, place of service ...), so most rules need no join.
    ``history`` holds earlier claims' lines in the same shape (empty when none were
    given). ``options`` are this rule's options: its defaults, then the configuration.
    Each line also names its payer policy ``pack`` and carries that pack's scalar
    settings in force on its date as ``pack_<setting>`` columns; ``packs`` gives the
    list settings (prior authorisation, quantity limits ...) through
    :func:`claimscrub.payers.packs.list_table`.
    """

    lines: pl.LazyFrame
    claims: pl.LazyFrame
    refdata: RefData
    history: pl.LazyFrame | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    packs: Mapping[str, Pack] = field(default_factory=dict)
