"""MCR010: a drug delivered around an inpatient stay is not dated as the discharge rule says."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Applicability, Severity
from claimscrub.model import columns as c
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.medicare import _benefit as b
from claimscrub.rules.registry import rule


@rule(
    code="MCR010",
    name="date-of-service-not-discharge-date",
    severity=Severity.ERROR,
    carc="CO-5",
    rarc=("M77",),
    fix=Applicability.UNSAFE,
    requires=("hcpcs", "mue"),
    inputs=(c.HCPCS, c.DOS_FROM, c.DISCHARGE_DATE),
    source="Policy article A52474 (drugs on/after discharge; pre-discharge delivery); rules.md R-MCR-1, R-MCR-5",
    options={"transplant_stay_max_days": 60},
    applies_when=b.benefit_applies,
)
def date_of_service_not_discharge_date(ctx: RuleContext) -> Finding:
    """An immunosuppressive drug is dated inside an inpatient stay instead of at discharge.

    ## What it checks
    Immunosuppressive drug lines under a pack with the Medicare immunosuppressive drug
    benefit on claims that give a `discharge_date` (and, when known, `admission_date`):

    - a line dated during the stay (from the admission date, up to the day before
      discharge) is reported: a drug delivered before discharge is billed with the
      discharge date. When the admission date is unknown the stay is taken to start at
      the patient's latest transplant on or before the line, if that transplant is at
      most `transplant_stay_max_days` before the discharge (a transplant is done in
      hospital, so its stay runs from the transplant to that discharge); otherwise
      only the 2 days before discharge count;
    - a line dated on the discharge date whose `delivered_on` is more than 2 days before
      the discharge (and not before the admission) is reported: the pre-discharge delivery
      window is 2 days.

    ## Why it matters
    The benefit pays for drugs furnished on or after discharge; drugs used during the
    stay are part of the Part A payment. Mail order may ship up to 2 days before the
    expected discharge, and the claim's date of service is then the discharge date (with
    place of service 12). Lines that break this are denied (CARC 5 + M77 when billed with
    the inpatient place of service; some contractors answer CARC 16).

    ## Example
    J7507 dated 2025-03-09; admission 2025-03-01, discharge 2025-03-10.

    Use instead: date of service 2025-03-10 (the discharge date).

    ## Fix
    Unsafe: the discharge date as the line's `service_date`, when the line is dated (or
    was delivered) within 2 days before discharge. Earlier deliveries have no fix.

    ## Options
    - `transplant_stay_max_days` (int, default 60): how long after a transplant a
      discharge is taken as the end of the transplant's stay when the claim gives no
      admission date.

    The 2-day window is a curated fact (`medicare_benefit.pre_discharge_delivery`).

    ## Related
    MCR009 (place of service; POS 21 is refused); MCR005 (drug dated before the
    transplant).

    ## References
    - Policy article A52474 (criterion: furnished on or after discharge; pre-discharge
      delivery); Noridian JD DME, immunosuppressive drugs.
    - rules.md R-MCR-1 criterion 5, R-MCR-5; failure class DOS_RULE_VIOLATION.
    """
    days = int(b.setting("pre_discharge_delivery")["max_days_before_discharge"])
    stay_days = int(ctx.options.get("transplant_stay_max_days", 60))
    lines = b.immuno_lines_status(ctx).filter(pl.col(c.DISCHARGE_DATE).is_not_null())
    dos, discharge, given_admission = (
        pl.col(c.DOS_FROM),
        pl.col(c.DISCHARGE_DATE),
        pl.col(c.ADMISSION_DATE),
    )
    transplant = pl.col(b.TX_LATEST)
    transplant_stay = (transplant <= discharge) & (
        transplant >= discharge - pl.duration(days=stay_days)
    )
    # Admission unknown: the transplant's own stay, when the discharge can be its end.
    admission = pl.coalesce(given_admission, pl.when(transplant_stay).then(transplant))
    window_start = discharge - pl.duration(days=days)
    in_stay = (dos < discharge) & pl.when(admission.is_not_null()).then(dos >= admission).otherwise(
        dos >= window_start
    )
    delivered = pl.col(c.DELIVERED_ON)
    early_delivery = (
        (dos == discharge)
        & (delivered < window_start)
        & (admission.is_null() | (delivered >= admission))
    )
    stay = (
        pl.when(given_admission.is_not_null())
        .then(pl.format("the inpatient stay {} to {}", given_admission, discharge))
        .when(admission.is_not_null())
        .then(
            pl.format(
                "the inpatient stay of the transplant on {}, discharged {} (no admission date "
                "given)",
                admission,
                discharge,
            )
        )
        .otherwise(pl.format("the inpatient stay ending {}", discharge))
    )
    why = (
        pl.when(in_stay & (dos >= window_start))
        .then(
            pl.format(
                "is dated {}, during {}; a drug delivered before discharge is billed with the discharge date",
                dos,
                stay,
            )
        )
        .when(in_stay)
        .then(
            pl.format(
                "is dated {}, during {}; deliveries more than {} days before discharge are not billable to the DME MAC",
                dos,
                stay,
                pl.lit(days),
            )
        )
        .otherwise(
            pl.format(
                "was delivered on {}, more than {} days before the discharge on {}",
                delivered,
                pl.lit(days),
                discharge,
            )
        )
    )
    return Finding(
        rows=lines.with_columns(why.alias("_why")),
        violated=(in_stay | early_delivery).fill_null(False),
        message="{hcpcs} {_why}",
        fix={"service_date": pl.when(in_stay & (dos >= window_start)).then(discharge)},
        fix_title="Date the line {discharge_date} (the discharge date)",
    )
