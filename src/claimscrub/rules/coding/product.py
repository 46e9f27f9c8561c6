"""Which HCPCS code the line's NDC belongs to, per the ASP NDC–HCPCS crosswalk.

Shared by COD003 (wrong code for the product), COD004 (route of the code differs from
the product's) and NOC001 (NOC code although the product has a specific code), which
split the cases between them so a line gets at most one of the three:

- billed code is NOC → NOC001;
- otherwise, the route class of the billed code differs from the route class of every
  code the NDC is crosswalked to → COD004;
- otherwise → COD003.

Two steps keep this cheap on millions of lines. :func:`product_table` works on the
distinct (submitted NDC, billed code, date) triples only: it reads each NDC
(:mod:`claimscrub.rules.ndc.normalise`; only status ``ok`` is kept), looks up the
crosswalk rows of the NDC in the release used for the date, keeps the *candidate*
codes — crosswalked codes other than the billed one that are valid on the date and not
NOC — says whether the billed code itself is listed, and adds the billed and candidate
codes' facts and the message texts. A rule filters that small table with its
predicate (:func:`wrong_code_for_product`, :func:`route_differs` ...) and
:func:`product_lines` joins what is left to the few claim lines concerned (a narrow
projection: keys, codes, units and NDC quantity), adding the line-level unit figures.

Units in the candidate code (:func:`units_from_ndc_quantity`): the crosswalk's
``units_per_item`` is HCPCS units per one item of PKG SIZE — a tablet, capsule,
packet, vial, ampule or mL. The NDC quantity is read the way UNT001 reads it
(``rules/units/common.py``): UN counts items when the candidate code is oral (and the
package quantity is one) or the package size is one item (a vial, an ampule); ML
counts mL when the package size is more than one (a liquid measured in mL). Any other pairing (UN for a 5 mL Atgam
ampule counted in mL, GR, F2, ME) gives no figure. The product is computed in
integers (thousandths of the quantity × millionths of the factor), rounded to 1/10,000
of a unit to absorb the 6-place rounding of ``units_per_item`` (2/3 is stored as
0.666667), then rounded *up* only when a true remainder is left (CMS RAC issue 0074:
never round down). A missing, non-positive or more-than-3-decimal quantity gives no
figure. When the billed and candidate codes have the same billing unit (amount and
unit of measure), the billed units carry over unchanged.
"""

from __future__ import annotations

import polars as pl

from claimscrub.model import columns as c
from claimscrub.rules.batch import KEY_ROW, key_table, keyed_table
from claimscrub.rules.coding.code_qualifier_not_hcpcs import hcpcs_coded
from claimscrub.rules.coding.facts import FACTS, at_most_three_decimals, code_facts
from claimscrub.rules.context import RuleContext
from claimscrub.rules.ndc.normalise import hyphenated, with_ndc_parse
from claimscrub.rules.querying import collect
from claimscrub.rules.units.common import counted_text, items_reading, number_text

ORAL = "oral"


def units_from_ndc_quantity(
    quantity: pl.Expr,
    ndc_unit: pl.Expr,
    per_item: pl.Expr,
    package_size: pl.Expr,
    package_quantity: pl.Expr,
    code_route: pl.Expr,
) -> pl.Expr:
    """Whole HCPCS units for ``quantity`` items at ``per_item`` units each (Int64 or null).

    ``package_size`` and ``package_quantity`` are the crosswalk's PKG SIZE and PKG QTY,
    ``code_route`` the route of the code the units are for; together they say whether UN
    or ML counts the items. An oral package with PKG SIZE and PKG QTY both above one
    is ambiguous, as UNT001 finds (Prograf 5 mg 00469-0657-73: PKG SIZE 100, PKG QTY 5
    for one bottle of 100 capsules reads as 1 unit per capsule, not 5): no figure.
    """
    unit = ndc_unit.str.strip_chars().str.to_uppercase()
    oral = (code_route == ORAL).fill_null(False)
    counts_items = items_reading(unit, package_size, package_quantity, oral).is_not_null()
    milli = quantity * 1000
    exact_thousandths = at_most_three_decimals(quantity)
    usable = (
        quantity.is_finite().fill_null(False)
        & (quantity > 0).fill_null(False)
        & exact_thousandths.fill_null(False)
        & counts_items.fill_null(False)
        & (per_item > 0).fill_null(False)
    )
    nano = milli.round(0).cast(pl.Int128, strict=False) * (per_item * 1_000_000).round(0).cast(
        pl.Int128, strict=False
    )
    ten_thousandths = (nano + 50_000) // 100_000
    # Rounded up; a positive quantity is never billed as zero units.
    whole = ((ten_thousandths + 9_999) // 10_000).clip(lower_bound=1)
    return pl.when(usable).then(whole.cast(pl.Int64, strict=False))


_KEY = (c.NDC, c.HCPCS, c.DOS_FROM)
# The table reads the date only as the as_of of crosswalk and HCPCS lookups: its rows
# are worked out once per date class (rules.batch), and lines find theirs by KEY_ROW.
_CLASSED = (c.DOS_FROM, ("hcpcs", "ndc_hcpcs"))
_LINE_COLUMNS = (c.CLAIM_KEY, c.LINE_NO, *_KEY, c.UNITS, c.NDC_QTY, c.NDC_UNIT)


def product_table(ctx: RuleContext) -> pl.LazyFrame:
    """One row per distinct (``ndc`` as submitted, ``hcpcs``, ``dos_from``) with a readable NDC.

    Columns: the NDC parse ``_ndc_*``; billed-code facts ``_billed_*`` (see
    :func:`claimscrub.rules.coding.facts.code_facts`, with the code's crosswalk NDC count
    ``_billed_xwalk_ndcs``); ``_ndc_print`` (5-4-2 with
    hyphens); ``_xw_on`` (the NDC is on the crosswalk), ``_xw_billed_listed`` (the billed
    code is one of its codes), ``_xw_product`` (drug and labeler), ``_xw_release``,
    ``_xw_in_force``, ``_xw_end`` (the release's last day), ``_xw_note`` (release text
    for messages); ``_cands`` (candidate
    codes, sorted), ``_n_cands``, ``_cands_text``, ``_cand_routes`` (their route
    classes), ``_cand_route_unknown``; and for the first candidate ``_cand``,
    ``_cand_desc``, ``_cand_unit_text`` / ``_cand_unit_amount`` / ``_cand_unit_uom``,
    ``_cand_per_item``, ``_cand_size`` (crosswalk PKG SIZE) and ``_cand_route``.

    Computed once per batch, for every rule that reads it (COD003, COD004, COD009,
    NOC001, NDC007); each row also carries ``KEY_ROW``, its (NDC, code, date) row number in the
    batch (see :func:`claimscrub.rules.batch.key_table`).
    """
    return keyed_table(
        ctx,
        "coding.product_table",
        _KEY,
        lambda distinct, whole: _product_table(ctx, distinct, eager=not whole),
        classed=_CLASSED,
    )


def _product_table(ctx: RuleContext, distinct: pl.LazyFrame, eager: bool) -> pl.LazyFrame:
    base = _product_base(ctx, distinct, eager)
    billed = code_facts(
        ctx, base.select(c.HCPCS, c.DOS_FROM).unique(), c.HCPCS, c.DOS_FROM, crosswalk=True
    ).rename({name: f"_billed_{name}" for name in (*FACTS, "xwalk_release")})
    return base.join(billed, on=[c.HCPCS, c.DOS_FROM], how="left", maintain_order="left")


def _product_base(ctx: RuleContext, distinct: pl.LazyFrame, eager: bool) -> pl.LazyFrame:
    """:func:`product_table` without the billed code's facts, for the ``distinct`` keys.

    ``eager`` (a few keys of a small batch) computes the frames several lookups read
    once, in memory: each lookup of the engine's facts store collects its input.
    """

    def shared(frame: pl.LazyFrame) -> pl.LazyFrame:
        return collect(frame).lazy() if eager else frame.cache()

    # The NDC strings are few: read each once, then attach the parse to the triples.
    submitted = distinct.select(c.NDC).unique().filter(pl.col(c.NDC).is_not_null())
    parsed = with_ndc_parse(submitted, c.NDC).filter(pl.col("_ndc_ndc11").is_not_null())
    triples = (
        distinct.filter(pl.col(c.HCPCS).is_not_null() & pl.col(c.DOS_FROM).is_not_null())
        .join(parsed, on=c.NDC, how="inner")
        .pipe(shared)  # read by four branches below; computed once
    )
    crosswalked = ctx.refdata.lookup(
        triples.select("_ndc_ndc11", c.DOS_FROM).unique(),
        "ndc_hcpcs",
        on={"_ndc_ndc11": "ndc11"},
        as_of=c.DOS_FROM,
        columns={
            "hcpcs_code": "_xw_code",
            "units_per_item": "_xw_per_item",
            "pkg_size": "_xw_size",
            "pkg_qty": "_xw_qty",
            "drug_name": "_xw_drug",
            "labeler_name": "_xw_labeler",
            "effective_end": "_xw_end",
        },
    ).pipe(shared)
    crosswalk_codes = code_facts(
        ctx,
        crosswalked.select("_xw_code", c.DOS_FROM).unique(),
        "_xw_code",
        c.DOS_FROM,
        crosswalk=False,
    ).rename({name: f"_xc_{name}" for name in (*FACTS, "xwalk_release")})
    key = ["_ndc_ndc11", "_pk_code", c.DOS_FROM]
    rows = (
        triples.select("_ndc_ndc11", pl.col(c.HCPCS).alias("_pk_code"), c.DOS_FROM)
        .unique()
        .join(crosswalked, on=["_ndc_ndc11", c.DOS_FROM], how="left")
        .join(crosswalk_codes, on=["_xw_code", c.DOS_FROM], how="left")
        .pipe(shared)
    )
    candidate = (
        pl.col("_xw_code").is_not_null()
        & (pl.col("_xw_code") != pl.col("_pk_code"))
        & pl.col("_xc_valid").fill_null(False)
        & ~pl.col("_xc_noc").fill_null(False)
    )
    # Simple aggregations per key, then the candidates (already filtered and sorted, so
    # "first" is the alphabetically first candidate) in a second, smaller group-by.
    about_ndc = rows.group_by(key).agg(
        pl.col("_xw_code").is_not_null().any().alias("_xw_on"),
        (pl.col("_xw_code") == pl.col("_pk_code"))
        .fill_null(False)
        .any()
        .alias("_xw_billed_listed"),
        pl.col("_xw_per_item")
        .filter(pl.col("_xw_code") == pl.col("_pk_code"))
        .first()
        .alias("_xw_billed_per_item"),
        pl.col("_xw_drug").drop_nulls().first().alias("_xw_drug"),
        pl.col("_xw_labeler").drop_nulls().first().alias("_xw_labeler"),
        pl.col("ndc_hcpcs_release").first().alias("_xw_release"),
        pl.col("ndc_hcpcs_in_force").first().alias("_xw_in_force"),
        pl.col("_xw_end").max().alias("_xw_end"),
    )
    candidates = (
        rows.filter(candidate)
        .sort([*key, "_xw_code"])
        .group_by(key, maintain_order=True)
        .agg(
            pl.col("_xw_code").unique(maintain_order=True).alias("_cands"),
            pl.col("_xc_route_class").drop_nulls().unique().sort().alias("_cand_routes"),
            pl.col("_xc_route_class").is_null().any().alias("_cand_route_unknown"),
            pl.col("_xw_code").first().alias("_cand"),
            pl.col("_xc_desc").first().alias("_cand_desc"),
            pl.col("_xc_unit_text").first().alias("_cand_unit_text"),
            pl.col("_xc_unit_amount").first().alias("_cand_unit_amount"),
            pl.col("_xc_unit_uom").first().alias("_cand_unit_uom"),
            pl.col("_xw_per_item").first().alias("_cand_per_item"),
            pl.col("_xw_size").first().alias("_cand_size"),
            pl.col("_xw_qty").first().alias("_cand_qty"),
            pl.col("_xc_route").first().alias("_cand_route"),
        )
    )
    per_key = about_ndc.join(candidates, on=key, how="left")
    in_force_note = (
        pl.when(pl.col("_xw_in_force").fill_null(True))
        .then(pl.format("crosswalk {}", pl.col("_xw_release")))
        .otherwise(
            pl.format(
                "crosswalk {}, the nearest release to the date of service", pl.col("_xw_release")
            )
        )
    )
    n_cands = pl.col("_cands").list.len().fill_null(0)
    return triples.join(
        per_key,
        left_on=["_ndc_ndc11", c.HCPCS, c.DOS_FROM],
        right_on=["_ndc_ndc11", "_pk_code", c.DOS_FROM],
        how="left",
    ).with_columns(
        hyphenated(pl.col("_ndc_ndc11")).alias("_ndc_print"),
        pl.col("_xw_on").fill_null(False),
        pl.col("_xw_billed_listed").fill_null(False),
        n_cands.alias("_n_cands"),
        in_force_note.alias("_xw_note"),
        pl.when(n_cands == 1)
        .then(pl.format("{} ({})", pl.col("_cand"), pl.col("_cand_desc")))
        .otherwise(pl.format("one of {}", pl.col("_cands").list.join(", ")))
        .alias("_cands_text"),
        pl.format(
            "{}{}",
            pl.col("_xw_drug"),
            pl.when(pl.col("_xw_labeler").is_not_null())
            .then(pl.format(", {}", pl.col("_xw_labeler")))
            .otherwise(pl.lit("")),
        ).alias("_xw_product"),
    )


def product_lines(ctx: RuleContext, table: pl.LazyFrame) -> pl.LazyFrame:
    """The claim lines of the (filtered) :func:`product_table` rows, with unit figures.

    Adds ``_cand_units`` (units of the single candidate code: from the NDC quantity, or
    the billed units when both codes share the billing unit; null otherwise) and
    ``_cand_units_note`` (the arithmetic, for messages; empty when there is none).
    """
    lines = (
        key_table(ctx, _KEY, _CLASSED)[1]
        .filter(hcpcs_coded())  # another code set's code (COD007) matches no HCPCS product
        .select(*_LINE_COLUMNS, KEY_ROW)
        .join(table.drop(_KEY), on=KEY_ROW, how="inner", maintain_order="left")
    )
    from_quantity = units_from_ndc_quantity(
        pl.col(c.NDC_QTY),
        pl.col(c.NDC_UNIT),
        pl.col("_cand_per_item"),
        pl.col("_cand_size"),
        pl.col("_cand_qty"),
        pl.col("_cand_route"),
    )
    same_unit = (pl.col("_billed_unit_amount") == pl.col("_cand_unit_amount")) & (
        pl.col("_billed_unit_uom") == pl.col("_cand_unit_uom")
    )
    carried = pl.when(
        same_unit.fill_null(False) & (pl.col(c.UNITS) == pl.col(c.UNITS).round(0)).fill_null(False)
    ).then(pl.col(c.UNITS).round(0).cast(pl.Int64, strict=False))
    # Worked out once as columns: an expression used in several places is computed at
    # each (a small batch's queries are not optimised, so not merged by Polars).
    from_quantity_col, carried_col = pl.col("_from_quantity"), pl.col("_carried_units")
    note = (
        pl.when(from_quantity_col.is_not_null())
        .then(
            pl.format(
                "; {} {} × {} = {} of {}",
                number_text(pl.col(c.NDC_QTY)),
                pl.col(c.NDC_UNIT),
                number_text(pl.col("_cand_per_item")),
                counted_text(from_quantity_col, "unit"),
                pl.col("_cand"),
            )
        )
        .when(carried_col.is_not_null())
        .then(
            pl.format(
                "; {} and {} share the billing unit {}",
                pl.col(c.HCPCS),
                pl.col("_cand"),
                pl.col("_cand_unit_text"),
            )
        )
        .otherwise(pl.lit(""))
    )
    single = pl.col("_n_cands") == 1
    return (
        lines.with_columns(from_quantity.alias("_from_quantity"), carried.alias("_carried_units"))
        .with_columns(
            pl.when(single).then(pl.coalesce(from_quantity_col, carried_col)).alias("_cand_units"),
            pl.when(single).then(note).otherwise(pl.lit("")).alias("_cand_units_note"),
        )
        .drop("_from_quantity", "_carried_units")
    )


def route_differs() -> pl.Expr:
    """The billed code's route class is known and differs from every candidate's."""
    return (
        pl.col("_billed_route_class").is_not_null()
        & (pl.col("_n_cands") > 0)
        & ~pl.col("_cand_route_unknown").fill_null(True)
        & ~pl.col("_cand_routes").list.contains(pl.col("_billed_route_class")).fill_null(True)
    )


# A billed code HCPCS lists, valid on the date or not: a terminated code's line is COD001's
# for the date and still COD003's / COD004's for the product, whose code is the fix.
_KNOWN = ("valid", "terminated", "not_yet_valid")


def crosswalk_predates_billed_code() -> pl.Expr:
    """HCPCS added the billed code after the crosswalk release used (the nearest to a date
    no bundled release covers) ended: that release cannot list the NDC under it (J7528,
    added 2026-01-01, against the 2025-Q4 crosswalk)."""
    return (pl.col("_billed_added") > pl.col("_xw_end")).fill_null(False)


def wrong_code_for_product() -> pl.Expr:
    """The NDC is on the crosswalk, not under the billed (known, specific) code."""
    return (
        pl.col("_billed_status").is_in(_KNOWN).fill_null(False)
        & ~pl.col("_billed_noc").fill_null(True)
        & pl.col("_xw_on")
        & ~pl.col("_xw_billed_listed")
        & (pl.col("_n_cands") > 0)
    )
