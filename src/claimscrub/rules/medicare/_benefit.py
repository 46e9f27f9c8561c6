"""Building blocks shared by the MCR and RTE rules, all read from data.

**Immunosuppressive drug line** (``IMMUNO``): the CMS HCPCS record in force on the line's
date types the code as an immunosuppressive drug (type of service G in ``tos_1..tos_5``;
the letter itself comes from the curated file). In the bundled files that is every code
J7500-J7599 except J7519 (which CMS types 1 / P), plus J0480, J0215, J1675, J2919/J2920/
J2930, the interferons J9213-J9216, J8650 and the oral anticancer drugs cyclophosphamide
and methotrexate (J8530, J8610-J8612). Those last ones CMS also types P (DME purchase, the
oral anticancer benefit): they count as immunosuppressive lines only when the claim
carries a transplant diagnosis (curated diagnosis sets), so an oral chemotherapy claim is
not held to the transplant rules.

**Immunosuppressive benefit line** (``IMMUNO_LINE``): an immunosuppressive drug line whose
code is valid on its date (COD001 reports the others) and which is not an injected drug the
DME MAC does not pay (injected route and DME-supplier MUE 0: RTE002 reports those).

**Supply fee lines** (``FEE_ROLE``): the curated pharmacy supply fee codes and their roles.

**Transplant status** (:func:`transplant_status`, on the benefit lines once per batch by
:func:`benefit_lines_status`, with the texts the rules' messages quote):
what the patient's recorded transplants say as of each line's date — which transplants
are on or before the date, which of them qualify (covered organ, covered-from dates,
organs covered only after another organ's transplant), Part A at transplant, whether
Medicare paid — and the single reason the benefit criteria fail (``FAIL``), when the
facts say so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

import polars as pl

from claimscrub.model import columns as c
from claimscrub.refdata import curated
from claimscrub.rules.batch import batch_shared, facts_kept, lines_with
from claimscrub.rules.modifier_terms import has_modifier as has_modifier

if TYPE_CHECKING:
    from claimscrub.payers.packs import Pack
    from claimscrub.refdata.catalog import RefData
    from claimscrub.rules.context import RuleContext

# Pack settings (``pack_<setting>`` columns joined by the engine).
BENEFIT_SETTING = "pack_medicare_immunosuppressive_benefit"
CONTRACTOR_SETTING = "pack_contractor"
KX_POLICY_SETTING = "pack_kx_policy"
MAX_DAYS_SETTING = "pack_max_days_supply"
SUPPLY_FEES_SETTING = "pack_supply_fees"

# Routes (as refdata/sources/descriptor.py names them) of drugs given by injection/infusion.
INJECTED_ROUTES = (
    "parenteral",
    "injection",
    "infusion",
    "intravenous",
    "intramuscular",
    "subcutaneous",
    "intradermal",
)

# Columns added by the helpers below (underscored: never canonical names).
ROUTE = "_route"
DESCRIPTOR = "_descriptor"
IMMUNO = "_immuno"
IMMUNO_LINE = "_immuno_line"
ORAL_DRUG = "_oral_drug"
FEE_ROLE = "_fee_role"
FEE_QUALIFYING = "_fee_qualifying"
FEE_MAX_UNITS = "_fee_max_units"
FEE_MONTHS = "_fee_months_after_transplant"
FEE_PERIOD_DAYS = "_fee_period_days"
DME_MUE = "_dme_mue"
PRACTITIONER_MUE = "_practitioner_mue"
FROM_HISTORY = "_from_history"

# Transplant status columns (see transplant_status).
N_TX = "_n_tx"
N_AFTER = "_n_after"
N_RELEVANT = "_n_relevant"
N_COVERED = "_n_covered"
N_NOT_COVERED = "_n_not_covered"
N_UNKNOWN = "_n_unknown"
N_PART_A = "_n_part_a"
N_NO_PART_A = "_n_no_part_a"
N_MEDICARE_PAID = "_n_medicare_paid"
N_PAYER_UNKNOWN = "_n_payer_unknown"
TX_LATEST = "_tx_latest"
ORGAN_LATEST = "_organ_latest"
NOT_COVERED_TEXT = "_not_covered_text"
COVERED_TEXT = "_covered_text"
AFTER_TEXT = "_after_text"
MISSING_TEXT = "_missing_text"
FAIL = "_criteria_fail"  # after_dos | organ | part_a | null
CRITERIA_MET = "_criteria_met"
UNDETERMINED = "_undetermined"

_ROW = "_tx_row"
_DIAGNOSIS_SETS = ("transplant_covered_organ", "not_supporting_immunosuppressive_benefit")


@cache
def _transplant_dx_pattern() -> str:
    """A regex matching an undotted transplant status / complication diagnosis (curated)."""
    sets = curated.diagnosis_sets().filter(
        pl.col("set").is_in(_DIAGNOSIS_SETS) & pl.col("kind").is_in(["status", "complication"])
    )
    parts = [
        dx if is_prefix else f"{dx}$"
        for dx, is_prefix in zip(sets["dx"].to_list(), sets["is_prefix"].to_list(), strict=True)
    ]
    return "^(?:" + "|".join(sorted(set(parts))) + ")"


def has_transplant_diagnosis() -> pl.Expr:
    """True when any claim diagnosis is a transplant status or complication code."""
    return (
        pl.col(c.DIAGNOSES)
        .list.eval(
            pl.element()
            .str.replace_all(".", "", literal=True)
            .str.to_uppercase()
            .str.contains(_transplant_dx_pattern())
        )
        .list.any()
        .fill_null(False)
    )


_TYPED_IMMUNO = "_typed_immuno"
_TYPED_DME = "_typed_dme"
_TRANSPLANT_DX = "_transplant_dx"


def _code_facts(frame: pl.LazyFrame, refdata: RefData) -> pl.LazyFrame:
    """The :func:`with_code_facts` columns that depend on the code and date only.

    ``IMMUNO`` is left as its two type-of-service tests (``_TYPED_IMMUNO``,
    ``_TYPED_DME``): whether a code typed both counts depends on the claim's diagnoses.
    """
    tos_columns = {f"tos_{i}": f"_tos_{i}" for i in range(1, 6)}
    out = refdata.lookup(
        frame,
        "hcpcs",
        on={c.HCPCS: "hcpcs_code"},
        as_of=c.DOS_FROM,
        columns={**tos_columns, "route": ROUTE, "long_description": DESCRIPTOR},
    )
    immuno_tos = curated.type_of_service_code("immunosuppressive_drug")
    dme_tos = curated.type_of_service_code("dme_purchase")
    fees = (
        curated.supply_fees()
        .select(
            pl.col("hcpcs").alias("_fee_hcpcs"),
            pl.col("role").alias(FEE_ROLE),
            pl.col("qualifying").alias(FEE_QUALIFYING),
            pl.col("max_units").alias(FEE_MAX_UNITS),
            pl.col("months_after_transplant").alias(FEE_MONTHS),
            pl.col("period_days").alias(FEE_PERIOD_DAYS),
        )
        .lazy()
    )

    def typed(code: str) -> pl.Expr:
        # most codes have empty TOS columns; without fill_null a missing type would be null,
        # and ``~null`` would hide the line from every benefit rule
        return pl.any_horizontal(
            [(pl.col(name) == code).fill_null(False) for name in tos_columns.values()]
        )

    out = (
        out.with_columns(typed(immuno_tos).alias(_TYPED_IMMUNO), typed(dme_tos).alias(_TYPED_DME))
        .drop(list(tos_columns.values()))
        .join(fees, left_on=c.HCPCS, right_on="_fee_hcpcs", how="left", maintain_order="left")
    )
    oral_drug = (pl.col(ROUTE) == "oral") & pl.col(FEE_ROLE).is_null() & pl.col("hcpcs_valid")
    return out.with_columns(oral_drug.fill_null(False).alias(ORAL_DRUG))


def _immuno(transplant_dx: pl.Expr) -> pl.Expr:
    # A code typed both G and P (oral anticancer drugs) is immunosuppressive only for a
    # transplant patient.
    return (pl.col(_TYPED_IMMUNO) & (~pl.col(_TYPED_DME) | transplant_dx)).fill_null(False)


def with_code_facts(frame: pl.LazyFrame, refdata: RefData) -> pl.LazyFrame:
    """Add the HCPCS record in force (type of service, route, descriptor) and the line kinds.

    Adds ``hcpcs_status`` / ``hcpcs_valid`` (from the lookup), ``ROUTE``, ``DESCRIPTOR``,
    ``IMMUNO``, ``ORAL_DRUG`` and the
    supply fee columns ``FEE_ROLE``, ``FEE_QUALIFYING``, ``FEE_MAX_UNITS``, ``FEE_MONTHS``,
    ``FEE_PERIOD_DAYS`` (null on other lines).
    """
    return (
        _code_facts(frame, refdata)
        .with_columns(_immuno(has_transplant_diagnosis()).alias(IMMUNO))
        .drop(_TYPED_IMMUNO, _TYPED_DME)
    )


def with_mue(frame: pl.LazyFrame, refdata: RefData, service_type: str, prefix: str) -> pl.LazyFrame:
    """Add the CMS MUE of ``service_type`` in force on each line's date.

    Columns ``<prefix>_value``, ``<prefix>_rationale``, ``<prefix>_release``,
    ``<prefix>_in_force`` (null value when the code has no MUE of that type).
    """
    key = f"{prefix}_service_type"
    out = refdata.lookup(
        frame.with_columns(pl.lit(service_type).alias(key)),
        "mue",
        on={c.HCPCS: "hcpcs_code", key: "service_type"},
        as_of=c.DOS_FROM,
        columns={"mue_value": f"{prefix}_value", "mue_rationale": f"{prefix}_rationale"},
    )
    return out.rename(
        {"mue_release": f"{prefix}_release", "mue_in_force": f"{prefix}_in_force"}
    ).drop(key)


def injected_not_paid_by_dme_mac() -> pl.Expr:
    """An injected drug whose DME-supplier MUE is 0 (needs :func:`with_mue` as ``DME_MUE``)."""
    return (
        pl.col("hcpcs_valid").fill_null(False)
        & pl.col(ROUTE).is_in(INJECTED_ROUTES).fill_null(False)
        & (pl.col(f"{DME_MUE}_value") == 0).fill_null(False)
    )


def benefit_lines(ctx: RuleContext) -> pl.LazyFrame:
    """Every line with the :func:`with_code_facts` columns, the DME-supplier MUE
    (:func:`with_mue` as ``DME_MUE``) and ``IMMUNO_LINE``; computed once per batch.

    The code facts and the MUE are worked out per distinct (code, date), whether a claim
    carries a transplant diagnosis per distinct diagnosis list.
    """
    return batch_shared(ctx, ("medicare.benefit_lines",), lambda: _benefit_lines(ctx))


def _benefit_lines(ctx: RuleContext) -> pl.LazyFrame:
    def code_facts(keys: pl.LazyFrame) -> pl.LazyFrame:
        return with_mue(_code_facts(keys, ctx.refdata), ctx.refdata, "dme_supplier", DME_MUE)

    def transplant_dx(keys: pl.LazyFrame) -> pl.LazyFrame:
        return keys.with_columns(has_transplant_diagnosis().alias(_TRANSPLANT_DX))

    lines = lines_with(
        ctx,
        "medicare.benefit_facts",
        [((c.HCPCS, c.DOS_FROM), code_facts), ((c.DIAGNOSES,), transplant_dx)],
        classed=(c.DOS_FROM, ("hcpcs", "mue")),  # the date is only the lookups' as_of
    )
    immuno_line = (
        pl.col(IMMUNO) & pl.col("hcpcs_valid").fill_null(False) & ~injected_not_paid_by_dme_mac()
    )
    return (
        lines.with_columns(_immuno(pl.col(_TRANSPLANT_DX)).alias(IMMUNO))
        .with_columns(immuno_line.alias(IMMUNO_LINE))
        .drop(_TYPED_IMMUNO, _TYPED_DME, _TRANSPLANT_DX)
    )


def benefit_lines_with_mue(ctx: RuleContext, service_type: str, prefix: str) -> pl.LazyFrame:
    """:func:`benefit_lines` with the CMS MUE of ``service_type`` as ``prefix`` columns.

    See :func:`with_mue`; computed once per batch, per distinct (code, date).
    """
    return lines_with(
        ctx,
        f"medicare.benefit_lines.mue.{service_type}.{prefix}",
        [((c.HCPCS, c.DOS_FROM), lambda keys: with_mue(keys, ctx.refdata, service_type, prefix))],
        base=benefit_lines(ctx),
        classed=(c.DOS_FROM, ("mue",)),  # the date is only the lookup's as_of
    )


def lines_transplant_status(ctx: RuleContext, organ: str | None = None) -> pl.LazyFrame:
    """Every line with :func:`transplant_status` (for ``organ``), computed once per batch.

    The status is worked out per distinct (transplants, date of service).
    """
    return lines_with(
        ctx,
        f"medicare.lines_transplant_status.{organ}",
        [((c.TRANSPLANTS, c.DOS_FROM), lambda keys: transplant_status(keys, organ))],
    )


def benefit_frame(ctx: RuleContext, applies: pl.Expr) -> pl.LazyFrame:
    """The lines ``applies`` selects (a pack-setting test), with code facts and ``IMMUNO_LINE``.

    The facts are computed once per batch (:func:`benefit_lines`); most MCR rules share
    them.
    """
    return benefit_lines(ctx).filter(applies.fill_null(False))


def benefit_lines_status(ctx: RuleContext) -> pl.LazyFrame:
    """:func:`benefit_lines` with :func:`transplant_status`, computed once per batch (per
    distinct transplant list and date; on small batches kept per key across batches, with
    the message texts: see :func:`with_transplant_texts`).

    Rules filter it rather than work the status out on their own lines: in each rule's
    query that was the heaviest part of a Medicare claim's check.
    """
    texts = facts_kept(ctx)  # see with_transplant_texts
    return lines_with(
        ctx,
        "medicare.transplant_status.texts" if texts else "medicare.transplant_status",
        [((c.TRANSPLANTS, c.DOS_FROM), lambda keys: transplant_status(keys, texts=texts))],
        base=benefit_lines(ctx),
    )


def immuno_lines_status(ctx: RuleContext) -> pl.LazyFrame:
    """Immunosuppressive benefit lines of packs applying the benefit, with transplant status.

    :func:`benefit_lines_status` filtered: the KX and transplant-criteria rules all start
    from it.
    """
    return benefit_lines_status(ctx).filter(benefit_applies()).filter(pl.col(IMMUNO_LINE))


def benefit_applies(_ctx: RuleContext | None = None) -> pl.Expr:
    """The pack applies the Medicare immunosuppressive drug benefit.

    Also the ``applies_when`` of the rules that check only such lines (as are
    :func:`supply_fees_apply` and :func:`days_supply_limit_applies`): the engine leaves
    them out of a batch without one.
    """
    return pl.col(BENEFIT_SETTING).fill_null(False)


def supply_fees_apply(_ctx: RuleContext | None = None) -> pl.Expr:
    """The pack pays the immunosuppressive drug supply fees."""
    return pl.col(SUPPLY_FEES_SETTING).fill_null(False)


def prescriptions_on_claim() -> pl.Expr:
    """The number of drug prescriptions on the line's claim (a window expression): its
    immunosuppressive drug lines, counted once per prescription number (2410 REF*XZ),
    or once per line without one. Supply fees are paid per prescription (R-MCR-7)."""
    drug = pl.col(IMMUNO_LINE) | pl.col(ORAL_DRUG)
    prescription = pl.coalesce(
        pl.col(c.PRESCRIPTION_NUMBER), pl.format("line {}", pl.col(c.LINE_NO))
    )
    return prescription.filter(drug).n_unique().over(c.CLAIM_KEY)


def days_supply_limit_applies(_ctx: RuleContext | None = None) -> pl.Expr:
    """The pack limits the days' supply of one dispense on the line's date."""
    return pl.col(MAX_DAYS_SETTING).is_not_null()


def billed_to(contractor: str) -> pl.Expr:
    """The line's pack is processed by ``contractor`` (``dme_mac``, ``ab_mac``)."""
    return (pl.col(CONTRACTOR_SETTING) == contractor).fill_null(False)


@cache  # curated facts: the same for every batch
def _organ_tables() -> tuple[pl.LazyFrame, pl.LazyFrame]:
    organs = (
        curated.covered_organs()
        .select(
            pl.col("organ").alias("_organ"),
            pl.col("covered").alias("_covered"),
            pl.col("transplanted_from").alias("_covered_from"),
        )
        .lazy()
    )
    requirements = (
        curated.organ_requirements()
        .select(
            pl.col("organ").alias("_organ"),
            pl.col("requires_transplant_of").alias("_req_organ"),
            pl.col("alone_from").alias("_alone_from"),
        )
        .lazy()
    )
    return organs, requirements


_ITEM = "_tx_item"


def _exploded(frame: pl.LazyFrame) -> pl.LazyFrame:
    """``frame`` with one row per recorded transplant of each line (one row when none).

    Every column of ``frame`` is kept (the ``transplants`` list too); ``_ROW`` numbers
    the lines. Adds ``_present`` (a transplant row, not the placeholder of a line without
    transplants), ``_organ``, ``_date``, ``_paid``, ``_part_a``, ``_state`` (covered /
    not_covered / unknown), ``_relevant`` (dated on or before the line, or undated),
    ``_after`` (dated after the line) and the curated ``_covered`` / ``_covered_from`` /
    ``_req_organ`` / ``_alone_from``. Per-line results are window aggregates over
    ``_ROW`` followed by :func:`_one_row_per_line`: no self-join, so the plan above is
    computed once.
    """
    organs, requirements = _organ_tables()
    fields, *steps = _exploded_steps()
    tx = (
        frame.with_row_index(_ROW)
        .with_columns(pl.col(c.TRANSPLANTS).alias(_ITEM))
        .explode(_ITEM, empty_as_null=True, keep_nulls=True)
        .with_columns(fields)
        .join(organs, on="_organ", how="left", maintain_order="left")
        .join(requirements, on="_organ", how="left", maintain_order="left")
    )
    for step in steps:
        tx = tx.with_columns(step)
    return tx


@cache  # the expressions depend on no batch; building them cost each rule's plan ~0.5 ms
def _exploded_steps() -> tuple[list[pl.Expr], ...]:
    """The column steps of :func:`_exploded`: the transplant's fields, then each step's
    columns after the curated organ tables are joined."""
    item = pl.col(_ITEM).struct.field
    fields = [
        pl.col(_ITEM).is_not_null().alias("_present"),
        item("organ").str.strip_chars().str.to_lowercase().alias("_organ"),
        item("date").alias("_date"),
        item("medicare_paid").alias("_paid"),
        item("part_a_at_transplant").alias("_part_a"),
    ]
    date = pl.col("_date")
    # Earliest transplant of each organ that another organ requires (curated, a handful).
    req_first: pl.Expr = pl.lit(None, dtype=pl.Date)
    req_undated: pl.Expr = pl.lit(False)
    required = curated.organ_requirements()["requires_transplant_of"].unique().sort()
    for organ in required.to_list():
        of_organ = pl.col("_organ") == organ
        req_first = (
            pl.when(pl.col("_req_organ") == organ)
            .then(date.filter(of_organ).min().over(_ROW))
            .otherwise(req_first)
        )
        req_undated = (
            pl.when(pl.col("_req_organ") == organ)
            .then((of_organ & date.is_null()).any().over(_ROW))
            .otherwise(req_undated)
        )
    requirement_met = (
        pl.col("_req_organ").is_null()
        | (date >= pl.col("_alone_from"))
        | (pl.col("_req_first") <= date)
    ).fill_null(False)
    state = (
        pl.when(~pl.col("_present"))
        .then(pl.lit(None, dtype=pl.String))
        .when(pl.col("_covered").is_null())
        .then(pl.lit("unknown"))
        .when(~pl.col("_covered"))
        .then(pl.lit("not_covered"))
        .when(date.is_null())
        .then(pl.lit("unknown"))
        .when(date < pl.col("_covered_from"))
        .then(pl.lit("not_covered"))
        .when(requirement_met)
        .then(pl.lit("covered"))
        .when(pl.col("_req_undated").fill_null(False))
        .then(pl.lit("unknown"))
        .otherwise(pl.lit("not_covered"))
    )
    return (
        fields,
        [req_first.alias("_req_first"), req_undated.alias("_req_undated")],
        [state.alias("_state")],
        [
            (pl.col("_present") & (date.is_null() | (date <= pl.col(c.DOS_FROM))))
            .fill_null(False)
            .alias("_relevant"),
            (date > pl.col(c.DOS_FROM)).fill_null(False).alias("_after"),
        ],
    )


_TX_COLUMNS = (
    _ITEM,
    "_present",
    "_organ",
    "_date",
    "_paid",
    "_part_a",
    "_covered",
    "_covered_from",
    "_req_organ",
    "_alone_from",
    "_req_first",
    "_req_undated",
    "_state",
    "_relevant",
    "_after",
)


def _one_row_per_line(exploded: pl.LazyFrame) -> pl.LazyFrame:
    """Back to one row per line (the first of its transplant rows), helper columns dropped."""
    return exploded.filter(pl.col(_ROW).is_first_distinct()).drop(_ROW, *_TX_COLUMNS)


_MISSING_ORGAN = "_missing_organ"
_MISSING_DATE = "_missing_date"
_MISSING_PART_A = "_missing_part_a"


def transplant_status(
    frame: pl.LazyFrame, organ: str | None = None, texts: bool = False
) -> pl.LazyFrame:
    """``frame`` with what the transplants (``transplants``) say as of ``dos_from``.

    A transplant is *relevant* when dated on or before the line's date (or undated: it
    may be). Its state is ``covered``, ``not_covered`` (organ not on the benefit list,
    transplanted before the organ's covered-from date, or an organ covered only after
    another organ's transplant without one) or ``unknown`` (organ missing or not
    recognised, or the date is needed and missing).

    Counts (relevant transplants unless said otherwise): ``N_TX`` (all recorded),
    ``N_AFTER`` (dated after the line), ``N_RELEVANT``, ``N_COVERED``, ``N_NOT_COVERED``,
    ``N_UNKNOWN``; of the covered ones ``N_PART_A`` / ``N_NO_PART_A`` (Part A at
    transplant true / false), ``N_MEDICARE_PAID``, ``N_PAYER_UNKNOWN``. ``TX_LATEST`` is
    the latest transplant date on or before the line; ``ORGAN_LATEST`` the same for
    ``organ`` (when given). ``FAIL`` is the reason the benefit criteria fail when the
    facts show it (``after_dos``, ``organ``, ``part_a``), ``CRITERIA_MET`` is true when a
    covered transplant with Part A precedes the line, ``UNDETERMINED`` when neither can
    be said. With ``texts``, the message texts too (see :func:`with_transplant_texts`).
    """
    date = pl.col("_date")
    present = pl.col("_present")
    relevant = pl.col("_relevant")
    covered = relevant & (pl.col("_state") == "covered")
    dated_before = (date <= pl.col(c.DOS_FROM)).fill_null(False)

    def count(expr: pl.Expr) -> pl.Expr:
        return expr.fill_null(False).sum().over(_ROW).cast(pl.Int64)

    organ_latest = (
        date.filter(dated_before & (pl.col("_organ") == organ)).max().over(_ROW)
        if organ is not None
        else pl.lit(None, dtype=pl.Date)
    )
    exploded = _exploded(frame).with_columns(
        count(present).alias(N_TX),
        count(pl.col("_after")).alias(N_AFTER),
        count(relevant).alias(N_RELEVANT),
        count(covered).alias(N_COVERED),
        count(relevant & (pl.col("_state") == "not_covered")).alias(N_NOT_COVERED),
        count(relevant & (pl.col("_state") == "unknown")).alias(N_UNKNOWN),
        count(covered & pl.col("_part_a").fill_null(False)).alias(N_PART_A),
        count(covered & ~pl.col("_part_a").fill_null(True)).alias(N_NO_PART_A),
        count(covered & pl.col("_paid").fill_null(False)).alias(N_MEDICARE_PAID),
        count(covered & pl.col("_paid").is_null()).alias(N_PAYER_UNKNOWN),
        date.filter(dated_before).max().over(_ROW).alias(TX_LATEST),
        organ_latest.alias(ORGAN_LATEST),
        (present & pl.col("_covered").is_null()).any().over(_ROW).alias(_MISSING_ORGAN),
        (present & date.is_null()).any().over(_ROW).alias(_MISSING_DATE),
        (present & pl.col("_part_a").is_null() & (pl.col("_state") != "not_covered"))
        .fill_null(False)
        .any()
        .over(_ROW)
        .alias(_MISSING_PART_A),
    )
    n = pl.col
    fail = (
        pl.when((n(N_TX) > 0) & (n(N_AFTER) == n(N_TX)))
        .then(pl.lit("after_dos"))
        .when((n(N_RELEVANT) > 0) & (n(N_NOT_COVERED) == n(N_RELEVANT)))
        .then(pl.lit("organ"))
        .when((n(N_COVERED) > 0) & (n(N_UNKNOWN) == 0) & (n(N_NO_PART_A) == n(N_COVERED)))
        .then(pl.lit("part_a"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    if texts:
        labels, lists, missing = _text_steps()
        exploded = exploded.with_columns(labels).with_columns(lists).drop("_label", "_why_not")
    status = (
        _one_row_per_line(exploded)
        .with_columns(fail.alias(FAIL), (n(N_PART_A) > 0).alias(CRITERIA_MET))
        .with_columns((n(FAIL).is_null() & ~n(CRITERIA_MET)).alias(UNDETERMINED))
    )
    return status.with_columns(missing) if texts else status


def with_transplant_texts(ctx: RuleContext, frame: pl.LazyFrame) -> pl.LazyFrame:
    """Rows of :func:`benefit_lines_status` (a rule's reported rows) with the message texts.

    ``NOT_COVERED_TEXT`` (why each relevant transplant does not qualify),
    ``COVERED_TEXT`` (the relevant covered ones), ``AFTER_TEXT`` (those dated after the
    line), ``MISSING_TEXT`` (the facts that are missing). Transplants are listed by date.

    On a small batch the status already carries them, worked out per key with it and
    kept for the next batches (six rules quote them: once, not in six queries); on a
    big batch they are worked out here, on the rows a rule reports only, as string work
    on every line costs more than it saves (1 M lines, measured both ways).
    """
    if facts_kept(ctx):
        return frame
    labels, lists, missing = _text_steps()
    exploded = _exploded(frame).with_columns(labels).with_columns(lists).drop("_label", "_why_not")
    return _one_row_per_line(exploded).with_columns(missing)


@cache  # the expressions depend on no batch
def _text_steps() -> tuple[list[pl.Expr], list[pl.Expr], pl.Expr]:
    """The columns of :func:`with_transplant_texts`: each transplant's label and why it
    does not qualify, the per-line lists, and the missing facts."""
    date = pl.col("_date")
    label = pl.format(
        "{} ({})",
        pl.col("_organ").fill_null("organ not given"),
        date.cast(pl.String).fill_null("undated"),
    )
    why_not = (
        pl.when(~pl.col("_covered").fill_null(True))
        .then(pl.format("{}: not a covered organ", label))
        .when(date < pl.col("_covered_from"))
        .then(pl.format("{}: covered only for transplants from {}", label, pl.col("_covered_from")))
        .otherwise(
            pl.format(
                "{}: covered alone only from {}, and no earlier {} transplant is recorded",
                label,
                pl.col("_alone_from"),
                pl.col("_req_organ"),
            )
        )
    )
    relevant = pl.col("_relevant")

    def listed(text: pl.Expr, keep: pl.Expr, separator: str) -> pl.Expr:
        # Listed by date, then organ: sort within the line's rows before joining.
        ordered = text.filter(keep).sort_by(
            date.filter(keep), pl.col("_organ").filter(keep), nulls_last=True
        )
        return ordered.str.join(separator).over(_ROW)

    lists = [
        listed(pl.col("_why_not"), relevant & (pl.col("_state") == "not_covered"), "; ").alias(
            NOT_COVERED_TEXT
        ),
        listed(pl.col("_label"), relevant & (pl.col("_state") == "covered"), ", ").alias(
            COVERED_TEXT
        ),
        listed(pl.col("_label"), pl.col("_after"), ", ").alias(AFTER_TEXT),
    ]
    n = pl.col
    missing = (
        pl.when(n(N_TX) == 0)
        .then(pl.lit("no transplant is recorded (organ, date, Part A at transplant)"))
        .otherwise(
            pl.concat_list(
                pl.when(n(_MISSING_ORGAN)).then(pl.lit("the organ (one of the listed organs)")),
                pl.when(n(_MISSING_DATE)).then(pl.lit("the transplant date")),
                pl.when(n(_MISSING_PART_A)).then(pl.lit("whether Part A was in effect")),
            )
            .list.drop_nulls()
            .list.join(", ")
        )
    )
    return [label.alias("_label"), why_not.alias("_why_not")], lists, missing.alias(MISSING_TEXT)


def dispenses(ctx: RuleContext, columns: Iterable[str]) -> pl.LazyFrame:
    """This batch's lines and the history's lines (``columns`` + ``FROM_HISTORY``).

    Look-back rules compare a line with the same patient's other lines in both.
    """
    wanted = list(columns)
    frames = [ctx.lines.select(wanted).with_columns(pl.lit(False).alias(FROM_HISTORY))]
    if ctx.history is not None:
        frames.append(ctx.history.select(wanted).with_columns(pl.lit(True).alias(FROM_HISTORY)))
    return pl.concat(frames, how="vertical_relaxed")


def pack_for_contractor(packs: Mapping[str, Pack], contractor: str) -> pl.Expr:
    """The general pack whose ``contractor`` setting is ``contractor``, as a literal.

    Several packs may share a contractor (``medicare-outpatient`` extends ``medicare-ab``);
    the least specific one (lowest ``priority``) is the general answer. Null when there is
    none, or when two share the lowest priority.
    """
    matching = [p for p in packs.values() if p.settings.get("contractor") == contractor]
    lowest = min((p.priority for p in matching), default=None)
    names = sorted(p.name for p in matching if p.priority == lowest)
    return pl.lit(names[0] if len(names) == 1 else None, dtype=pl.String)


def setting(name: str) -> Any:
    """A fact of the curated ``medicare_benefit`` block (e.g. ``refill``)."""
    return curated.medicare_benefit()[name]


# --- supply fee look-back -------------------------------------------------------------
P_DOS = "_p_dos"
P_HCPCS = "_p_hcpcs"
P_CLAIM = "_p_claim"
P_LINE = "_p_line"
P_HISTORY = "_p_history"


def fee_pool(ctx: RuleContext, codes: Iterable[str]) -> pl.LazyFrame:
    """Supply fee lines with ``codes`` in this batch and the history, one row per line.

    Columns ``patient_id``, ``P_DOS``, ``P_HCPCS``, ``P_CLAIM``, ``P_LINE``, ``P_HISTORY``.
    """
    return (
        dispenses(ctx, [c.CLAIM_KEY, c.LINE_NO, c.PATIENT_ID, c.HCPCS, c.DOS_FROM])
        .filter(
            pl.col(c.HCPCS).is_in(list(codes))
            & pl.col(c.PATIENT_ID).is_not_null()
            & pl.col(c.DOS_FROM).is_not_null()
        )
        .select(
            c.PATIENT_ID,
            pl.col(c.DOS_FROM).alias(P_DOS),
            pl.col(c.HCPCS).alias(P_HCPCS),
            pl.col(c.CLAIM_KEY).alias(P_CLAIM),
            pl.col(c.LINE_NO).alias(P_LINE),
            pl.col(FROM_HISTORY).alias(P_HISTORY),
        )
    )


def pool_line_is_other() -> pl.Expr:
    """The pool row is not the line itself."""
    same = (
        ~pl.col(P_HISTORY)
        & (pl.col(P_CLAIM) == pl.col(c.CLAIM_KEY))
        & (pl.col(P_LINE) == pl.col(c.LINE_NO))
    )
    return ~same


def pool_line_is_earlier() -> pl.Expr:
    """The pool row was billed before the line: an earlier date, or the same date and
    from the history, an earlier claim of the batch, or an earlier line of the claim."""
    same_day_first = (
        pl.col(P_HISTORY)
        | (pl.col(P_CLAIM) < pl.col(c.CLAIM_KEY))
        | ((pl.col(P_CLAIM) == pl.col(c.CLAIM_KEY)) & (pl.col(P_LINE) < pl.col(c.LINE_NO)))
    )
    return (pl.col(P_DOS) < pl.col(c.DOS_FROM)) | (
        (pl.col(P_DOS) == pl.col(c.DOS_FROM)) & same_day_first
    )
