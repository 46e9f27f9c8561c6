"""MOD003: an anatomic, equipment or distinct-service modifier on a drug line."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Applicability, Severity
from claimscrub.model import columns as c
from claimscrub.refdata import curated
from claimscrub.rules.batch import lines_with
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.modifiers._common import (
    DRUG_BETOS,
    ROW_ID,
    carries_modifiers,
    exploded_modifiers,
)
from claimscrub.rules.registry import rule


@rule(
    code="MOD003",
    name="modifier-not-applicable-to-drug-line",
    severity=Severity.ERROR,
    carc="CO-4",
    fix=Applicability.UNSAFE,
    requires=("hcpcs",),
    inputs=(c.HCPCS, c.MODIFIERS),
    options={"drug_betos": list(DRUG_BETOS)},
    source="rules.md §5 (RT/LT, E1-E4, FA-F9, TA-T9, NU/RR/UE, 59/XE/XS/XP/XU on drug lines); "
    "§8 MODIFIER_NOT_APPLICABLE",
    applies_when=carries_modifiers,
)
def modifier_not_applicable_to_drug_line(ctx: RuleContext) -> Finding:
    """A drug line carries a modifier that never applies to drugs.

    ## What it checks
    Drug lines — lines whose HCPCS code the CMS HCPCS file classes as a drug (BETOS
    O1D, O1E, O1G or D1G in the record in force on the date of service; this includes
    the immunosuppressive supply fees Q0510–Q0512) or that carry an NDC — for
    modifiers listed in `refdata/curated/immunosuppressants.yaml`
    (`drug_line_modifiers_not_applicable`):

    - anatomic modifiers RT, LT, E1–E4, FA, F1–F9, TA, T1–T9 (location on the body);
    - equipment modifiers NU, RR, UE (new, rented, used equipment);
    - NCCI distinct-service modifiers 59, XE, XS, XP, XU.

    One finding per line, naming every such modifier.

    ## Why it matters
    Where a drug was given is told by the place of service (or bill type and revenue
    code), not by a modifier; drugs are not rented or bought used; and 59/X{EPSU}
    exist to unbundle procedures, not to split drug supplies — on a drug line they
    look like an attempt to bypass duplicate or MUE edits. Payers deny such lines as a
    modifier inconsistent with the code (CARC 4).

    ## Example
    J7507 with modifiers KX and RT.

    Use instead: KX alone.

    ## Fix
    Unsafe. Removes the inapplicable modifiers and keeps the others in order. It
    changes the modifiers sent, and a 59 may be hiding a true duplicate that DUP001
    or an MUE rule should then catch.

    ## Options
    - `drug_betos` (list of BETOS codes, default ["O1D", "O1E", "O1G", "D1G"]): the
      HCPCS BETOS categories treated as drug lines.

    ## Related
    MOD001 (modifier not valid on the date), MOD002 (conflicting modifiers), MOD005
    (JW/JZ on a self-administered drug line), DUP001 (duplicate lines).

    ## References
    - rules.md §5 (modifier table: "never for drug lines"; "not used on drug supply
      lines"), §8 CARC 4.
    - CMS HCPCS Level II file, BETOS column.
    """
    drug_betos = [str(b) for b in ctx.options.get("drug_betos", DRUG_BETOS)]

    def betos(keys: pl.LazyFrame) -> pl.LazyFrame:
        return ctx.refdata.lookup(
            keys, "hcpcs", on={c.HCPCS: "hcpcs_code"}, as_of=c.DOS_FROM, columns={"betos": "_betos"}
        ).select(*keys.collect_schema().names(), "_betos")

    # What each distinct modifier list keeps and drops on a drug line (lists without a
    # non-empty modifier get nulls: nothing to say).
    lines = lines_with(
        ctx,
        "modifiers.not_applicable_to_drug_line",
        [((c.HCPCS, c.DOS_FROM), betos), ((c.MODIFIERS,), _verdicts)],
    )
    has_ndc = pl.col(c.NDC).str.strip_chars().str.len_chars().fill_null(0) > 0
    rows = lines.filter(pl.col("_betos").is_in(drug_betos).fill_null(False) | has_ndc).filter(
        pl.col("_bad").is_not_null()
    )
    return Finding(
        rows=rows,
        violated=pl.col("_bad").list.len() > 0,
        message="{hcpcs} is a drug line: {_why}",
        fix={c.MODIFIERS: pl.col("_keep")},
        fix_title="Remove {_bad} from the {hcpcs} line",
    )


def _verdicts(keys: pl.LazyFrame) -> pl.LazyFrame:
    """Per modifier list: ``_keep`` and ``_bad`` (submitted modifiers) and ``_why``; all
    three null when no modifier is to be removed."""
    table = (
        curated.drug_line_modifiers_not_applicable()
        .lazy()
        .select(pl.col("modifier").alias("_mod"), pl.col("reason").alias("_reason"))
    )
    numbered = keys.with_row_index(ROW_ID)
    mods = (
        exploded_modifiers(numbered)
        .join(table, on="_mod", how="left")
        .sort(ROW_ID, "_mpos")
        .group_by(ROW_ID, maintain_order=True)
        .agg(
            pl.col("_submitted").filter(pl.col("_reason").is_null()).alias("_keep"),
            pl.col("_submitted").filter(pl.col("_reason").is_not_null()).alias("_bad"),
            pl.format("{} is {}", pl.col("_submitted"), pl.col("_reason"))
            .filter(pl.col("_reason").is_not_null())
            .str.join("; ")
            .alias("_why"),
        )
    )
    # Lists with nothing to remove get nulls (nothing to say, and no memory per line).
    reported = pl.col("_bad").list.len() > 0
    return (
        numbered.join(mods, on=ROW_ID, how="left", maintain_order="left")
        .with_columns(
            pl.when(reported).then(pl.col(name)).alias(name) for name in ("_keep", "_bad", "_why")
        )
        .drop(ROW_ID)
    )
