"""What the reference data says about a HCPCS code on a date, joined onto claim lines.

Shared by the COD, NOC and NDC rules. Everything is read through
``RefData.lookup(..., as_of=date)`` on the *distinct* (code, date) pairs of a frame
(a few thousand even for millions of lines) and joined back, so a rule pays for the
lookup once per pair, not once per line.

Derived facts, all from data (no list of codes is kept anywhere):

- ``noc``: a not-otherwise-classified code (:mod:`claimscrub.rules.noc.classify`).
- ``route_class``: the descriptor's route (``refdata/sources/descriptor.py``) with the
  injected routes (parenteral, injection, intravenous, infusion, intramuscular,
  subcutaneous, intrathecal, intravitreal, intra-articular, intraocular, intracameral)
  folded into ``parenteral``; other routes (oral, inhalation, nasal, topical ...) are
  their own class; null when the descriptor names no route.
- ``drug``: a *drug line* code. A code is a drug code when the CMS HCPCS record or the
  ASP NDC–HCPCS crosswalk says so: a pricing indicator 51 ("drugs") in PRICE1..4, a
  type of service G ("immunosuppressive drugs") in TOS1..5, at least one 11-digit NDC
  on the crosswalk release used for the date, or a NOC code whose descriptor names a
  drug or biological and whose BETOS class is a drug class (O1D chemotherapy, O1E
  other drugs, D1G drugs administered through DME) — J8499 and J0799 are priced 00
  and 46 yet are drug NOC codes. The pharmacy supply and dispensing fees (Q0510-Q0514,
  pricing indicator 46, type of service 9) meet none of these, so they are not drug
  lines.
"""

from __future__ import annotations

import polars as pl

from claimscrub.rules.batch import frame_with, lines_with
from claimscrub.rules.context import RuleContext
from claimscrub.rules.noc.classify import is_noc, names_a_drug

_PRICE = ("price_ind_1", "price_ind_2", "price_ind_3", "price_ind_4")
_TOS = ("tos_1", "tos_2", "tos_3", "tos_4", "tos_5")
_DRUG_PRICING_INDICATOR = "51"
_IMMUNOSUPPRESSIVE_TOS = "G"
_DRUG_BETOS = ("O1D", "O1E", "D1G")
_INJECTED_ROUTES = (
    "parenteral",
    "injection",
    "intravenous",
    "infusion",
    "intramuscular",
    "subcutaneous",
    "intrathecal",
    "intravitreal",
    "intra-articular",
    "intraocular",
    "intracameral",
)
FACTS = (
    "valid",
    "status",
    "added",
    "desc",
    "unit_amount",
    "unit_uom",
    "unit_text",
    "route",
    "route_class",
    "noc",
    "drug",
    "xwalk_ndcs",
    "xwalk_only_ndc",
)


def route_class(route: pl.Expr) -> pl.Expr:
    """Injected routes folded into ``parenteral``; any other route is its own class."""
    return pl.when(route.is_in(_INJECTED_ROUTES)).then(pl.lit("parenteral")).otherwise(route)


def code_facts(
    ctx: RuleContext, keys: pl.LazyFrame, code: str, date: str, crosswalk: bool = True
) -> pl.LazyFrame:
    """One row per (``code``, ``date``) pair of ``keys`` with the columns of :data:`FACTS`.

    ``keys`` should be a small, distinct frame built straight from the claim lines (a
    projection and ``unique()``): every lookup reads it, and a deep plan repeated in
    each lookup makes the query slow to plan.

    ``valid`` is True / False for a code the HCPCS history knows (valid on the date or
    not) and null for a code no release lists. ``xwalk_ndcs`` (only with ``crosswalk``)
    counts the code's 11-digit NDCs on the crosswalk release used for the date, and
    ``xwalk_only_ndc`` is that NDC when there is exactly one; ``xwalk_release`` names
    the release.
    """
    keys = keys.select(pl.col(code).alias("_fk_code"), pl.col(date).alias("_fk_date")).filter(
        pl.col("_fk_code").is_not_null() & pl.col("_fk_date").is_not_null()
    )
    records = ctx.refdata.lookup(
        keys,
        "hcpcs",
        on={"_fk_code": "hcpcs_code"},
        as_of="_fk_date",
        columns=[
            "long_description",
            "add_date",
            "unit_amount",
            "unit_uom",
            "unit_text",
            "route",
            "betos",
        ]
        + list(_PRICE)
        + list(_TOS),
    )
    price_51 = pl.any_horizontal(
        (pl.col(name) == _DRUG_PRICING_INDICATOR).fill_null(False) for name in _PRICE
    )
    tos_g = pl.any_horizontal(
        (pl.col(name) == _IMMUNOSUPPRESSIVE_TOS).fill_null(False) for name in _TOS
    )
    noc = is_noc(pl.col("long_description"), pl.col("unit_uom"))
    drug_noc = (
        noc.fill_null(False)
        & names_a_drug(pl.col("long_description")).fill_null(False)
        & pl.col("betos").is_in(_DRUG_BETOS).fill_null(False)
    )
    facts = records.select(
        "_fk_code",
        "_fk_date",
        pl.col("hcpcs_valid").alias("valid"),
        pl.col("hcpcs_status").alias("status"),
        pl.col("add_date").alias("added"),
        pl.col("long_description").alias("desc"),
        "unit_amount",
        "unit_uom",
        "unit_text",
        "route",
        route_class(pl.col("route")).alias("route_class"),
        noc.alias("noc"),
        (price_51 | tos_g | drug_noc).alias("_drug_by_record"),
    )
    if crosswalk:
        # Kept per (code, date class) across a server's small batches: the lookup gives
        # every NDC row of the code, so the engine's lookup store cannot keep it itself.
        listed = frame_with(
            ctx,
            "coding.crosswalk_ndcs",
            keys.unique(),
            ["_fk_code", "_fk_date"],
            lambda asked: _crosswalk_ndcs(ctx, asked),
            classed=("_fk_date", ("ndc_hcpcs",)),  # the date is only the lookup's as_of
        )
        facts = facts.join(listed, on=["_fk_code", "_fk_date"], how="left").with_columns(
            pl.col("xwalk_ndcs").fill_null(0)
        )
        drug = pl.col("_drug_by_record") | (pl.col("xwalk_ndcs") > 0)
    else:
        facts = facts.with_columns(
            pl.lit(None, pl.UInt32).alias("xwalk_ndcs"),
            pl.lit(None, pl.String).alias("xwalk_only_ndc"),
            pl.lit(None, pl.String).alias("xwalk_release"),
        )
        drug = pl.col("_drug_by_record")
    return (
        facts.with_columns(pl.when(pl.col("valid").is_not_null()).then(drug).alias("drug"))
        .drop("_drug_by_record")
        .rename({"_fk_code": code, "_fk_date": date})
    )


def _crosswalk_ndcs(ctx: RuleContext, keys: pl.LazyFrame) -> pl.LazyFrame:
    """Per (``_fk_code``, ``_fk_date``): the code's NDC count on the crosswalk release used
    for the date, its only NDC when there is one, and the release."""
    return (
        ctx.refdata.lookup(
            keys,
            "ndc_hcpcs",
            on={"_fk_code": "hcpcs_code"},
            as_of="_fk_date",
            columns={"ndc11": "_fk_ndc11"},
        )
        .group_by("_fk_code", "_fk_date")
        .agg(
            pl.col("_fk_ndc11").drop_nulls().n_unique().alias("xwalk_ndcs"),
            pl.col("_fk_ndc11").drop_nulls().first().alias("xwalk_only_ndc"),
            pl.col("ndc_hcpcs_release").first().alias("xwalk_release"),
        )
        .with_columns(
            pl.when(pl.col("xwalk_ndcs") == 1)
            .then(pl.col("xwalk_only_ndc"))
            .alias("xwalk_only_ndc")
        )
    )


def with_code_facts(
    ctx: RuleContext,
    frame: pl.LazyFrame,
    code: str,
    date: str,
    prefix: str,
    crosswalk: bool = True,
) -> pl.LazyFrame:
    """``frame`` (claim lines) with ``<prefix><fact>`` columns for ``code`` on ``date``.

    See :func:`code_facts` for the facts; ``frame`` should be the claim lines or a
    light projection of them.
    """

    def facts_for(keys: pl.LazyFrame) -> pl.LazyFrame:
        facts = code_facts(ctx, keys.select(code, date).unique(), code, date, crosswalk)
        renamed = facts.rename({name: f"{prefix}{name}" for name in (*FACTS, "xwalk_release")})
        return keys.join(renamed, on=[code, date], how="left", maintain_order="left")

    if frame is ctx.lines:  # the batch's lines: once per batch, spread by position
        name = f"coding.code_facts.{code}.{date}.{prefix}.{crosswalk}"
        # code_facts reads the date only as the lookups' as_of: once per date class.
        looked_up = ("hcpcs", "ndc_hcpcs") if crosswalk else ("hcpcs",)
        return lines_with(ctx, name, [((code, date), facts_for)], classed=(date, looked_up))
    return facts_for(frame)


def at_most_three_decimals(expr: pl.Expr) -> pl.Expr:
    """True when a Float64 quantity has no digits beyond the third decimal.

    The tolerance is a few units in the last place of a double (relative 1e-14), so
    99999999.999 counts as three decimals and 2.0005 as four.
    """
    return (expr - expr.round(3)).abs() <= 1e-12 + 1e-14 * expr.abs()
