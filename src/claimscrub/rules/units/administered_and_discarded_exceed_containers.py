"""UNT007: more drug was administered and discarded than the opened containers held."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Severity
from claimscrub.model import columns as c
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.registry import rule
from claimscrub.rules.units.common import (
    DOSE_GROUP,
    SCALE,
    amount_text,
    ceil_div,
    ndc_unit,
    number_text,
    positive,
    scaled,
    with_container_amounts,
    with_crosswalk,
)


@rule(
    code="UNT007",
    name="administered-and-discarded-exceed-containers",
    severity=Severity.WARNING,
    carc="CO-16",
    rarc=("M53",),
    requires=("hcpcs", "ndc_hcpcs"),
    inputs=(c.HCPCS, c.DOSE_AMOUNT, c.NDC, c.NDC_QTY, c.NDC_UNIT, c.DOS_FROM),
    options={"include_unverified_containers": True},
    source="CMS JW/JZ modifier policy for single-dose containers; rules.md R-MOD-4",
)
def administered_and_discarded_exceed_containers(ctx: RuleContext) -> Finding:
    """The administered and discarded amounts add up to more units than the containers held.

    ## What it checks
    Lines of a drug from single-dose containers, grouped by claim, code and date of
    service: a code on the curated single-dose-container list, or any code but an oral
    one when a line of the group carries JW or JZ (the biller's statement that the drug
    came from single-dose containers). A group is checked when every line without JW
    states its administered `dose` and every line states the container count as an NDC quantity in `UN` for one NDC listed
    under the code on the CMS ASP NDC–HCPCS crosswalk. The containers hold
    `quantity × billing units per container` (crosswalk: units per item × package
    size). The administered amount plus the discarded amount (`discarded`; zero when
    none is stated and the group has no JW line) in billing units, rounded up, must
    not be more than the containers' units rounded up. When several lines repeat the
    container count the counts are added, so the check errs on the side of silence.
    The finding is reported on the group's first line.

    ## Why it matters
    Under the JW/JZ policy the administered line plus the JW line can never bill more
    than the single-dose containers opened for the patient (rules.md R-MOD-4). More
    units than that means the dose, the discarded amount or the NDC quantity is wrong,
    and the units are denied or recouped (CARC 16, RARC M53).

    ## Example
    J0485 (belatacept, 1 mg), NDC 00003-0371-13 (250 mg vial) quantity UN 1: 200 mg
    administered and 100 mg discarded.

    Use instead: NDC quantity UN 2 (two vials were opened), or the real amounts.

    ## Fix
    None: which of the three figures is wrong is not on the claim.

    ## Options
    - `include_unverified_containers` (bool, default true): also check codes whose
      single-dose packaging the curated list marks unverified (groups with a JW or JZ
      line are checked either way).

    ## Related
    UNT005 (JW units from the discarded amount), UNT002 (administered units from the
    dose), UNT001 (units from the NDC quantity), NDC005 / NDC006 (NDC unit and
    quantity).

    ## References
    - CMS JW/JZ policy for single-dose containers (CGS 2023 article).
    - CMS ASP NDC–HCPCS crosswalk (PKG SIZE, billable units per package item).
    - rules.md R-MOD-4.
    """
    lines = with_container_amounts(ctx, bool(ctx.options.get("include_unverified_containers")))
    lines = with_crosswalk(ctx, lines)
    counted = (
        pl.col("_ndc_on_code") & positive(pl.col(c.NDC_QTY)) & (ndc_unit() == "UN").fill_null(False)
    )
    # Containers' units in exact thousand-millionths: quantity x units per item x size.
    capacity_num = scaled(pl.col(c.NDC_QTY)) * pl.col("_upi_num") * scaled(pl.col("_xw_size"))
    capacity_den = pl.col("_upi_den") * SCALE * SCALE
    lines = lines.with_columns(
        _counted_lines=counted.sum().over(DOSE_GROUP),
        _ndcs=pl.col("_ndc11").n_unique().over(DOSE_GROUP),
        _containers=pl.when(counted).then(pl.col(c.NDC_QTY)).sum().over(DOSE_GROUP),
        _capacity_num=pl.when(counted).then(capacity_num).sum().over(DOSE_GROUP),
        _capacity_den=capacity_den.max().over(DOSE_GROUP),
        _lines=pl.len().over(DOSE_GROUP),
    )
    discarded = (
        pl.when(pl.col("_discarded").is_not_null())
        .then(pl.col("_discarded"))
        .when(pl.col("_jw_lines") == 0)
        .then(pl.lit(0, pl.Int128))
    )
    lines = lines.filter(
        pl.col("_code_valid")
        & (pl.col(c.LINE_NO) == pl.col("_first_line"))
        & pl.col("_administered").is_not_null()
        & discarded.is_not_null()
        & (pl.col("_counted_lines") == pl.col("_lines"))
        & (pl.col("_ndcs") == 1)
    ).with_columns(
        _used=pl.col("_administered") + discarded,
        _used_units=ceil_div(pl.col("_administered") + discarded, pl.col("_unit_base")),
        _capacity_units=ceil_div(pl.col("_capacity_num"), pl.col("_capacity_den")),
    )
    message = pl.format(
        "{} administered + {} discarded = {} is {} units of {} ({}), more than the {} "
        "container(s) of NDC {} hold ({} units)",
        amount_text(pl.col("_administered")),
        amount_text(discarded),
        amount_text(pl.col("_used")),
        pl.col("_used_units"),
        pl.col(c.HCPCS),
        pl.col("_unit_label"),
        number_text(pl.col("_containers")),
        pl.col("_ndc11"),
        pl.col("_capacity_units"),
    )
    return Finding(
        rows=lines.with_columns(_message=message),
        violated=pl.col("_used_units") > pl.col("_capacity_units"),
        message="{_message}",
    )
