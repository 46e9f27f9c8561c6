"""MCR008: a refill is dispensed before the previous supply is close to running out."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Applicability, Confidence, Severity
from claimscrub.model import columns as c
from claimscrub.rules.batch import KEY_ROW, key_table, with_key_row
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.medicare import _benefit as b
from claimscrub.rules.registry import rule
from claimscrub.rules.units.common import ndc11


@rule(
    code="MCR008",
    name="refill-too-early",
    scope="patient",
    severity=Severity.WARNING,
    # refill timing: the earlier supply may have run out sooner (dose
    # change, lost drug) and history may be incomplete.
    confidence=Confidence.MEDIUM,
    carc="CO-50",
    fix=Applicability.DISPLAY_ONLY,
    requires=("hcpcs", "mue"),
    inputs=(c.HCPCS, c.DOS_FROM, c.PATIENT_ID),
    options={"window_days": b.setting("refill")["earliest_days_before_runout"]},
    source="Noridian DME refill requirements (deliver no earlier than 10 days before run-out); rules.md R-MCR-5",
    applies_when=b.benefit_applies,
)
def refill_too_early(ctx: RuleContext) -> Finding:
    """The same drug was dispensed earlier and its supply lasts well past this date.

    ## What it checks
    Immunosuppressive drug lines under a pack with the Medicare immunosuppressive drug
    benefit. For each, the latest earlier dispense of the same HCPCS code to the same
    patient (`patient.id`) is found among the history claims and the other claims of the
    batch; when it has a `days_supply`, the earliest refill date is its date of service +
    its days' supply − `window_days` (10). A line dated before that is reported. When
    the earlier dispense was another NDC (a new strength, or another maker), the message
    says so: a dose change on a new order may explain it, which only the order on file
    can show.

    ## Why it matters
    DME MAC suppliers may deliver a refill no earlier than 10 days before the current
    supply runs out (and contact the beneficiary no earlier than 30 days before). An
    early refill is usually paid and then denied on review as not reasonable and
    necessary (CARC 50), so it is a warning here.

    ## Example
    J7507 dispensed 2025-01-10 with a 90-day supply; the next J7507 is dated 2025-03-20.

    Use instead: ship on or after 2025-03-31 (2025-01-10 + 90 − 10 days).

    ## Fix
    Display only: the earliest date the refill may ship, as `service_date`.

    ## Options
    - `window_days` (integer, default 10 from the curated facts): how many days before
      the previous supply runs out a refill may be delivered.

    ## Related
    MCR016 (days' supply missing: earlier dispenses without it are not compared);
    MCR007 (days' supply over the limit); DUP rules (the same dispense billed twice,
    same date).

    ## References
    - Noridian DME, refill requirements for immunosuppressive drugs; Noridian JD DME,
      immunosuppressive drugs.
    - rules.md R-MCR-5; failure class REFILL_TOO_EARLY.
    """
    # The (patient, code) pairs of the batch, numbered (KEY_ROW): the as-of match below
    # is by that one integer. A history dispense whose pair no batch line has can match
    # nothing, so it is left out.
    pair = [c.PATIENT_ID, c.HCPCS]
    pairs, batch = key_table(ctx, pair)
    numbered = with_key_row(ctx, b.benefit_lines(ctx), pair)
    lines = (
        numbered.filter(b.benefit_applies())
        .filter(pl.col(b.IMMUNO_LINE) & pl.col(c.PATIENT_ID).is_not_null())
        .sort(c.DOS_FROM)
    )
    wanted = [KEY_ROW, c.PATIENT_ID, c.DOS_FROM, c.DAYS_SUPPLY, c.NDC]
    dispensed = [batch.select(wanted)]
    if ctx.history is not None:
        history = ctx.history.select(*pair, c.DOS_FROM, c.DAYS_SUPPLY, c.NDC)
        dispensed.append(history.join(pairs, on=pair, how="inner").select(wanted))
    earlier = (
        pl.concat(dispensed, how="vertical_relaxed")
        .filter(
            pl.col(c.PATIENT_ID).is_not_null()
            & pl.col(c.DOS_FROM).is_not_null()
            & (pl.col(c.DAYS_SUPPLY) > 0)
        )
        # One row per patient, code and date (the longest supply dispensed that day), so
        # the as-of match below is deterministic.
        .group_by(KEY_ROW, pl.col(c.DOS_FROM).alias("_prev_dos"))
        .agg(
            pl.col(c.DAYS_SUPPLY).max().cast(pl.Int64).alias("_prev_days"),
            ndc11(pl.col(c.NDC)).sort_by(c.DAYS_SUPPLY).last().alias("_prev_ndc"),
        )
        .sort("_prev_dos")
    )
    # The latest dispense of the same code strictly before this line's date (the line
    # itself and same-day lines are not "earlier").
    joined = lines.join_asof(
        earlier,
        left_on=c.DOS_FROM,
        right_on="_prev_dos",
        by=KEY_ROW,
        strategy="backward",
        allow_exact_matches=False,
        check_sortedness=False,
    )
    window = int(ctx.options["window_days"])
    runout = pl.col("_prev_dos") + pl.duration(days=pl.col("_prev_days"))
    joined = joined.with_columns(
        runout.alias("_runout"),
        (runout - pl.duration(days=window)).alias("_earliest"),
    )
    # Another product of the same code (a new strength or maker) may be a dose change on a
    # new order rather than an early refill: said, not excused (NDCs compared as 11 digits,
    # read as every units rule reads them; one that cannot be read is not compared).
    other_product = (pl.col("_prev_ndc") != ndc11(pl.col(c.NDC))).fill_null(False)
    joined = joined.with_columns(
        pl.when(other_product)
        .then(
            pl.lit(
                "; the earlier dispense was another NDC: if the dose changed on a new order, "
                "keep that order on file for review"
            )
        )
        .otherwise(pl.lit(""))
        .alias("_dose_note")
    )
    return Finding(
        rows=joined,
        violated=(pl.col(c.DOS_FROM) < pl.col("_earliest")).fill_null(False),
        message=(
            "{hcpcs} is dated {dos_from}, but the {_prev_days}-day supply of {hcpcs} "
            "dispensed on {_prev_dos} lasts until {_runout}; a refill may ship from "
            "{_earliest}{_dose_note}"
        ),
        fix={"service_date": pl.col("_earliest")},
        fix_title="Ship the refill on or after {_earliest}",
    )
