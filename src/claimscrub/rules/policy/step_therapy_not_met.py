"""PAU003: a step-therapy drug without the preferred drug tried first and without authorisation."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Confidence, Severity
from claimscrub.model import columns as c
from claimscrub.payers.packs import PACK
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.policy._common import (
    ROW_ID,
    has_authorization,
    listed_in,
    pack_list,
    patient_key,
    patient_lines,
    patient_organs,
)
from claimscrub.rules.registry import rule


@rule(
    code="PAU003",
    name="step-therapy-not-met",
    severity=Severity.ERROR,
    # the step list is a payer pattern, and a missing earlier step in
    # partial history (another pharmacy, samples) is weak evidence.
    confidence=Confidence.LOW,
    carc="CO-197",
    inputs=(c.HCPCS, c.DOS_FROM),
    source="payer policy pack `step_therapy` (UHC: immediate-release tacrolimus before "
    "Envarsus XR); rules.md §7 (step therapy treated as a PA criterion); §8 PA_MISSING",
    applies_when=listed_in("step_therapy"),
)
def step_therapy_not_met(ctx: RuleContext) -> Finding:
    """The drug follows step therapy, the patient's history shows no earlier step, and there is no authorisation.

    ## What it checks
    Lines whose code is in their payer policy pack's `step_therapy` list (commercial:
    J7503 Envarsus XR after J7507 immediate-release tacrolimus), on claims with no
    authorisation. The step is met when the patient's lines dated before this one —
    the `history` claims and this batch's other claims of the same patient — include
    one of the codes to try first, or the drug itself (a patient already stable on
    it continues). When the entry names organs (`organs`), the step applies to
    patients with a transplant of one of them or whose transplants are not given.

    Without any history the rule cannot tell whether the step was met and reports
    nothing (PAU001 still asks for the authorisation).

    ## Why it matters
    Step therapy is enforced through prior authorisation: the plan approves the
    second-step drug only after the preferred one was tried (or for a patient already
    stable on it). Without that, the request is refused and the line denied as
    lacking authorisation (CARC 197). Part D plans should not step-edit patients
    stable on a drug (rules.md R-MCR-9), which the continuation check reflects.

    ## Example
    J7503 (tacrolimus, extended release (Envarsus XR), oral, 0.25 mg) to a commercial
    plan, no authorisation, and a history of mycophenolate (J7517) but no J7507.

    Use instead: document the immediate-release tacrolimus trial (or why it is not
    possible) and obtain the authorisation before billing J7503.

    ## Fix
    None.

    ## Options
    None. The steps come from the payer policy packs
    (`step_therapy: [{hcpcs, after, organs, reason}]`).

    ## Related
    PAU001 (authorisation missing), PAU005 (non-preferred product).

    ## References
    - rules.md §7 (UnitedHealthcare Envarsus XR criteria, immediate-release tacrolimus
      preferred; Cigna step-therapy denials), R-MCR-9.
    - rules.md §8 CARC 197.
    """
    steps = pack_list(
        ctx,
        "step_therapy",
        {
            "hcpcs": pl.String(),
            "after": pl.List(pl.String()),
            "organs": pl.List(pl.String()),
            "reason": pl.String(),
        },
    ).unique([PACK, "hcpcs"], keep="first", maintain_order=True)
    lines = (
        ctx.lines.with_row_index(ROW_ID)
        .join(steps, on=[PACK, c.HCPCS], how="inner")
        .with_columns(patient_organs().alias("_patient_organs"), patient_key().alias("_pid"))
    )
    organs = pl.col("organs").fill_null(pl.lit([], dtype=pl.List(pl.String)))
    applies = (
        (organs.list.len() == 0)
        | (pl.col("_patient_organs").list.len() == 0)
        | (organs.list.set_intersection(pl.col("_patient_organs")).list.len() > 0)
    )
    lines = lines.filter(applies & ~has_authorization())
    tried = (
        lines.select(ROW_ID, "_pid", c.HCPCS, c.DOS_FROM, "after")
        .join(patient_lines(ctx), on="_pid", how="inner")
        .filter(
            (pl.col("_other_dos") < pl.col(c.DOS_FROM))
            & (
                pl.col("after").list.contains(pl.col("_other_hcpcs"))
                | (pl.col("_other_hcpcs") == pl.col(c.HCPCS))
            )
        )
        .select(ROW_ID)
        .unique()
        .with_columns(pl.lit(True).alias("_tried"))
    )
    rows = lines.join(tried, on=ROW_ID, how="left").with_columns(
        pl.col("after").list.join(" or ").alias("_first"),
        pl.col("reason").fill_null("step therapy").alias("_reason"),
    )
    return Finding(
        rows=rows,
        violated=pl.lit(ctx.history is not None) & ~pl.col("_tried").fill_null(False),
        message="{hcpcs} follows step therapy under payer policy {pack} ({_reason}); the "
        "patient's history has no {_first} (or {hcpcs}) before {dos_from}, and the claim "
        "has no authorisation",
    )
