"""Exact unit arithmetic shared by the UNT and MUE rules (no rule is registered here).

Every amount is turned into an integer before any division: a decimal ``x`` becomes
``round(x * 10**6)`` as Int128 (claim quantities have at most three decimals, HCPCS
unit amounts and crosswalk figures at most four), and a quotient is rounded up with
integer arithmetic only. Float ceil is never used: 1.5 mg / 0.1 mg is
15.000000000000002 in floating point, and its ceiling would wrongly be 16.

Conversions (rules.md R-UNIT-1, R-UNIT-4):

- **NDC quantity → units** with the ASP NDC–HCPCS crosswalk in force on the date of
  service (dataset ``ndc_hcpcs``): billing units per one unit of PKG SIZE — a tablet,
  capsule, packet, mL or vial, whichever CMS counted — as the exact fraction of the
  CMS figures it was derived from (``bill_units_per_ndc / (pkg_size * pkg_qty)``, or
  ``bill_units_per_pkg_item / pkg_size`` where CMS rounded the per-NDC figure up;
  docs/refdata.md). ``units = ceil(quantity * that fraction)``.
- **Dose → units** with the HCPCS unit of the code in force on the date of service
  (``unit_amount`` + ``unit_uom`` read from the CMS long descriptor):
  ``units = ceil(dose / unit)`` after converting g / mg / mcg (or L / mL) to one base.

The columns these helpers add start with an underscore so they never collide with
canonical columns.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import polars as pl

from claimscrub.model import columns as c
from claimscrub.refdata.curated import liquid_form_codes, single_dose_containers
from claimscrub.rules.batch import batch_shared, lines_with, rows_of
from claimscrub.rules.modifier_terms import has_modifier as has_modifier
from claimscrub.rules.querying import collect
from claimscrub.wording import word_for

__all__ = ["batch_shared"]  # re-exported: other rule packages import it from here

if TYPE_CHECKING:
    from claimscrub.rules.context import RuleContext

SCALE = 1_000_000
# Dimension and factor to the dimension's base (mass: micrograms; volume: mL) of every
# spelling of an amount unit we accept in `dose`, `discarded` and HCPCS `unit_uom`.
_MASS = "mass"
_VOLUME = "volume"
_UNIT_SPELLINGS: dict[str, tuple[str, int]] = {
    **dict.fromkeys(("g", "gm", "gram", "grams"), (_MASS, 1_000_000)),
    **dict.fromkeys(("mg", "milligram", "milligrams"), (_MASS, 1_000)),
    **dict.fromkeys(("mcg", "ug", "\u00b5g", "\u03bcg", "microgram", "micrograms"), (_MASS, 1)),
    **dict.fromkeys(
        ("ml", "cc", "cm3", "milliliter", "milliliters", "millilitre", "millilitres"),
        (_VOLUME, 1),
    ),
    **dict.fromkeys(("l", "liter", "liters", "litre", "litres"), (_VOLUME, 1_000)),
    **dict.fromkeys(("unit", "units", "u"), ("units", 1)),
    **dict.fromkeys(("iu", "i.u."), ("iu", 1)),
}
JW, JZ = "JW", "JZ"
# Values of the crosswalk's `units_check` (docs/refdata.md, "ndc_hcpcs: billing units per item").
CHECK_AGREE_ROUNDED = "agree_rounded"
CHECK_CONFLICT = "conflict"
ORAL = "oral"
# HCPCS forms (from the long descriptor) whose products are measured, not counted.
LIQUID_FORM_PATTERN = r"solution|suspension"


# --- exact arithmetic ------------------------------------------------------------------
def scaled(expr: pl.Expr) -> pl.Expr:
    """``round(x * 10**6)`` as Int128: an exact integer for up to six decimals."""
    return (expr.cast(pl.Float64) * SCALE).round(0).cast(pl.Int128)


def scaled_amount(expr: pl.Expr) -> pl.Expr:
    """:func:`scaled` of a positive amount, never below one millionth: an amount too
    small for six decimals still rounds up to one billing unit, never to none."""
    return scaled(expr).clip(lower_bound=1)


def ceil_div(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    """Integer ceiling of ``numerator / denominator`` (numerator >= 0, denominator > 0)."""
    return (numerator + denominator - 1) // denominator


def ratio(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    """The quotient as Float64, for messages only (never rounded up from this)."""
    return numerator.cast(pl.Float64) / denominator.cast(pl.Float64)


def positive(expr: pl.Expr) -> pl.Expr:
    """True for a finite number greater than zero; False for null, NaN, inf, 0, < 0."""
    return (expr.is_not_null() & expr.is_finite() & (expr > 0)).fill_null(False)


def whole(expr: pl.Expr) -> pl.Expr:
    """True for a finite whole number (null and NaN are not)."""
    return (expr.is_finite() & (expr == expr.floor())).fill_null(False)


def number_text(expr: pl.Expr) -> pl.Expr:
    """A Float64 as message text: whole numbers without '.0', others to four decimals.

    A value within 10**-6 of a whole number (float noise such as 5.000000000000001)
    prints as that whole number. A value too small for four decimals, but not zero,
    prints in full (``1e-7``): a tiny dose reads as what it is, not as 0.
    """
    near = expr.round(6)
    # A whole number beyond Int64 (absurd, but read) prints as the float's own text.
    as_int = pl.coalesce(
        near.round(0).cast(pl.Int64, strict=False).cast(pl.String), expr.cast(pl.String)
    )
    return (
        pl.when((expr != 0) & (expr.abs() < 0.00005))
        .then(expr.cast(pl.String))
        .when(near == near.round(0))
        .then(as_int)
        .otherwise(expr.round(4).cast(pl.String))
        .fill_null("?")
    )


def counted_text(expr: pl.Expr, word: str) -> pl.Expr:
    """'1 unit' / '25 units': a number as :func:`number_text`, then the word it counts."""
    return pl.format("{} {}", number_text(expr.cast(pl.Float64)), word_for(expr, word))


def quotient_text(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    """An exact quotient as text: the integer when it divides, else four decimals."""
    divides = (numerator % denominator) == 0
    return (
        pl.when(divides)
        .then((numerator // denominator).cast(pl.String))
        .otherwise(number_text(ratio(numerator, denominator)))
    )


def units_quotient_text(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    """:func:`quotient_text` followed by 'unit' or 'units' ('1 unit', '4.2 units')."""
    text = quotient_text(numerator, denominator)
    word = pl.when(text == "1").then(pl.lit("unit")).otherwise(pl.lit("units"))
    return pl.format("{} {}", text, word)


def rounding_text(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    """'' when the quotient is whole, else ', rounded up to 47' (its integer ceiling)."""
    return (
        pl.when((numerator % denominator) == 0)
        .then(pl.lit(""))
        .otherwise(pl.format(", rounded up to {}", ceil_div(numerator, denominator)))
    )


def billed_text() -> pl.Expr:
    """'60 were billed' / '1 was billed' for the line's units."""
    units = pl.col(c.UNITS)
    verb = pl.when(units == 1).then(pl.lit("was")).otherwise(pl.lit("were"))
    return pl.format("{} {} billed", number_text(units), verb)


# --- codes and amounts -------------------------------------------------------------------
def ndc_unit() -> pl.Expr:
    """The line's NDC unit of measure as the code list writes it: trimmed, upper case."""
    return pl.col(c.NDC_UNIT).str.strip_chars().str.to_uppercase()


def ndc11(expr: pl.Expr) -> pl.Expr:
    """The 11-digit NDC of a submitted value, or null when it cannot be known.

    Same reading as :func:`claimscrub.model.codes.parse_ndc`: 11 digits as they are;
    hyphenated 5-4-2, 4-4-2, 5-3-2 or 5-4-1 padded to 5-4-2. An unhyphenated 10-digit
    value is ambiguous and gives null (never guessed).
    """
    text = expr.str.replace_all(r"\s", "")
    parts = text.str.extract_groups(r"^(\d{4,5})-(\d{3,4})-(\d{1,2})$")
    a, b, d = (parts.struct.field(name) for name in ("1", "2", "3"))
    total = a.str.len_chars() + b.str.len_chars() + d.str.len_chars()
    padded = pl.concat_str(a.str.zfill(5), b.str.zfill(4), d.str.zfill(2))
    return (
        pl.when(text.str.contains(r"^\d{11}$"))
        .then(text)
        .when(total.is_in([10, 11]))  # 4-4-2 / 5-3-2 / 5-4-1, or 5-4-2
        .then(padded)
        .otherwise(None)
    )


def amount_dimension(unit: pl.Expr) -> pl.Expr:
    """'mass', 'volume', 'units', 'iu' for a known amount unit, else null."""
    mapping = {k: v[0] for k, v in _UNIT_SPELLINGS.items()}
    return unit.str.strip_chars().str.to_lowercase().replace_strict(mapping, default=None)


def amount_base(amount: pl.Expr, unit: pl.Expr, dispensed: bool = False) -> pl.Expr:
    """An amount in its dimension's base (mcg, mL ...) times 10**6, as Int128.

    ``dispensed``: a positive amount given or dispensed, read with :func:`scaled_amount`
    (never none at six decimals); a discarded amount may be zero, and is not."""
    mapping = {k: v[1] for k, v in _UNIT_SPELLINGS.items()}
    factor = (
        unit.str.strip_chars()
        .str.to_lowercase()
        .replace_strict(mapping, default=None, return_dtype=pl.Int64)
    )
    return (scaled_amount(amount) if dispensed else scaled(amount)) * factor.cast(pl.Int128)


# --- reference data joins ------------------------------------------------------------------
def with_code_facts(ctx: RuleContext, lines: pl.LazyFrame) -> pl.LazyFrame:
    """Add the HCPCS record in force: validity, unit, route and form.

    Adds ``_code_valid`` (valid on the DOS; COD001 reports the others), ``_unit_amount``
    (text), ``_unit_uom``, ``_route``, ``_form``, ``_unit_dim`` and ``_unit_base`` (the
    unit in its dimension's base times 10**6, null when the descriptor states no unit).
    """
    lines = ctx.refdata.lookup(
        lines,
        "hcpcs",
        on={c.HCPCS: "hcpcs_code"},
        as_of=c.DOS_FROM,
        columns={
            "unit_amount": "_unit_amount",
            "unit_uom": "_unit_uom",
            "route": "_route",
            "form": "_form",
        },
    )
    unit_amount = pl.col("_unit_amount").cast(pl.Float64, strict=False)
    return lines.with_columns(
        _code_valid=(pl.col("hcpcs_status") == "valid").fill_null(False),
        _unit_dim=amount_dimension(pl.col("_unit_uom")),
        _unit_base=pl.when(positive(unit_amount)).then(
            amount_base(unit_amount, pl.col("_unit_uom"))
        ),
        _unit_label=pl.format("{} {}", pl.col("_unit_amount"), pl.col("_unit_uom")),
    )


# The columns :func:`with_crosswalk` takes from the line's crosswalk row.
_XW_ROW = ("_xw_size", "_xw_qty", "_xw_item_units", "_xw_ndc_units", "_xw_upi", "_xw_check")


def with_crosswalk(ctx: RuleContext, lines: pl.LazyFrame) -> pl.LazyFrame:
    """Add the crosswalk row of the line's NDC under the billed code, in force on the DOS.

    Adds ``_ndc11``; ``_xw_size``, ``_xw_qty``, ``_xw_item_units``, ``_xw_ndc_units``,
    ``_xw_upi`` (units per item, Float64 for messages), ``_xw_check``; the exact units per
    item as the fraction ``_upi_num / _upi_den`` (Int128); ``_ndc_on_code`` (the NDC is
    listed under the billed code) and ``_ndc_other_code`` (listed, but only under other
    codes: a code-to-product mismatch, which COD003 / COD004 report); ``_xw_older`` (the
    row is the older code's, for a curated liquid-form code the release predates).
    """
    # One lookup on the NDC alone (an NDC may be listed under up to three codes), then
    # one row per line again: the billed code's row when listed, else a row of nulls.
    lines = lines.with_row_index("_xw_row").with_columns(_ndc11=ndc11(pl.col(c.NDC)))
    lines = ctx.refdata.lookup(
        lines,
        "ndc_hcpcs",
        on={"_ndc11": "ndc11"},
        as_of=c.DOS_FROM,
        columns={
            "hcpcs_code": "_xw_code",
            "pkg_size": "_xw_size",
            "pkg_qty": "_xw_qty",
            "bill_units_per_pkg_item": "_xw_item_units",
            "bill_units_per_ndc": "_xw_ndc_units",
            "units_per_item": "_xw_upi",
            "units_check": "_xw_check",
        },
    )
    # A curated liquid-form code newer than the crosswalk release (J7528 from 2026) finds
    # its liquid under the code it replaced (J7517 on 2025-Q4): that row is read, its units
    # per mL converted by the two codes' units (see _via_older_code).
    older = dict(liquid_form_codes().select("hcpcs", "instead_of").iter_rows())
    batch = getattr(ctx.refdata, "lines", None)  # the engine's batch, in memory
    if isinstance(batch, pl.DataFrame) and not batch[c.HCPCS].is_in(list(older)).any():
        older = {}  # no such code in the batch: no lookups for it (a claim's latency)
    lines = lines.with_columns(
        pl.col(c.HCPCS)
        .replace_strict(older, default=None, return_dtype=pl.String)
        .alias("_xw_older")
    )
    match = (pl.col("_xw_code") == pl.col(c.HCPCS)).fill_null(False)
    via_older = (pl.col("_xw_code") == pl.col("_xw_older")).fill_null(False)
    lines = (
        lines.with_columns(
            _ndc_listed=pl.col("_xw_code").is_not_null().any().over("_xw_row"),
            _xw_match=match,
            _xw_rank=match.cast(pl.Int8) * 2 + via_older.cast(pl.Int8),
        )
        .sort("_xw_row", "_xw_rank", descending=[False, True], maintain_order=True)
        .unique("_xw_row", keep="first", maintain_order=True)
        .with_columns(
            pl.when(pl.col("_xw_rank") > 0).then(pl.col(name)).alias(name) for name in _XW_ROW
        )
        .with_columns(pl.when(pl.col("_xw_rank") == 1).then(pl.col("_xw_older")).alias("_xw_older"))
        .drop("_xw_row", "_xw_code", "_xw_rank")
    )
    lines = _via_older_code(ctx, lines, bool(older))
    usable = pl.all_horizontal(
        positive(pl.col(name))
        for name in ("_xw_size", "_xw_qty", "_xw_item_units", "_xw_ndc_units")
    )
    on_code = pl.col("_xw_upi").is_not_null() & usable
    upi_num, upi_den = units_per_item_fraction(
        pl.col("_xw_item_units"),
        pl.col("_xw_ndc_units"),
        pl.col("_xw_size"),
        pl.col("_xw_qty"),
        pl.col("_xw_check"),
    )
    # Read under the older code: units per item x older unit / billed unit, exactly.
    older_row = pl.col("_xw_older").is_not_null()
    upi_num = pl.when(older_row).then(upi_num * pl.col("_older_base")).otherwise(upi_num)
    upi_den = pl.when(older_row).then(upi_den * pl.col("_billed_base")).otherwise(upi_den)
    return lines.with_columns(
        _ndc_on_code=on_code.fill_null(False),
        _ndc_other_code=(
            pl.col("_ndc_listed").fill_null(False) & ~pl.col("_xw_match") & ~older_row
        ),
        _upi_num=pl.when(on_code).then(upi_num),
        _upi_den=pl.when(on_code).then(upi_den),
        _xw_upi=pl.when(older_row)
        .then(pl.col("_xw_upi") * ratio(pl.col("_older_base"), pl.col("_billed_base")))
        .otherwise(pl.col("_xw_upi")),
    ).drop("_older_base", "_billed_base")


def _via_older_code(ctx: RuleContext, lines: pl.LazyFrame, older_codes: bool) -> pl.LazyFrame:
    """``_older_base`` and ``_billed_base`` (each code's unit in its dimension's base,
    scaled) on lines whose crosswalk row is the older code's (``_xw_older`` set); null
    elsewhere, and null when either unit is missing or of another dimension (no row)."""
    if not older_codes:
        return lines.with_columns(
            pl.lit(None, pl.Int128).alias("_older_base"),
            pl.lit(None, pl.Int128).alias("_billed_base"),
        )
    pairs = (
        lines.filter(pl.col("_xw_older").is_not_null())
        .select(c.HCPCS, "_xw_older", c.DOS_FROM)
        .unique()
    )

    def base(code: str, name: str) -> pl.LazyFrame:
        # The code's unit in its dimension's base, as with_code_facts reads it.
        codes = pairs.select(pl.col(code).alias(c.HCPCS), c.DOS_FROM).unique()
        return with_code_facts(ctx, codes).select(
            pl.col(c.HCPCS).alias(code),
            c.DOS_FROM,
            pl.col("_unit_base").alias(name),
            pl.col("_unit_dim").alias(f"{name}_dim"),
        )

    bases = (
        pairs.join(base(c.HCPCS, "_billed_base"), on=[c.HCPCS, c.DOS_FROM], how="left")
        .join(base("_xw_older", "_older_base"), on=["_xw_older", c.DOS_FROM], how="left")
        .filter(pl.col("_billed_base_dim") == pl.col("_older_base_dim"))
        .select(c.HCPCS, "_xw_older", c.DOS_FROM, "_billed_base", "_older_base")
    )
    joined = lines.join(
        bases, on=[c.HCPCS, "_xw_older", c.DOS_FROM], how="left", maintain_order="left"
    )
    # Without both units the older row cannot be converted: it is not used.
    unusable = pl.col("_xw_older").is_not_null() & pl.col("_older_base").is_null()
    return joined.with_columns(
        pl.when(unusable).then(None).otherwise(pl.col(name)).alias(name)
        for name in (*_XW_ROW, "_xw_older")
    )


def units_per_item_fraction(
    item_units: pl.Expr, ndc_units: pl.Expr, size: pl.Expr, qty: pl.Expr, check: pl.Expr
) -> tuple[pl.Expr, pl.Expr]:
    """A crosswalk row's exact billing units per item of PKG SIZE, as (numerator,
    denominator) Int128: BILLUNITSPKG / (PKG SIZE x PKG QTY), or BILLUNITS / PKG SIZE
    where CMS rounded the per-NDC figure up (``units_check`` agree_rounded)."""
    rounded = check == CHECK_AGREE_ROUNDED
    numerator = pl.when(rounded).then(scaled(item_units)).otherwise(scaled(ndc_units) * SCALE)
    denominator = pl.when(rounded).then(scaled(size)).otherwise(scaled(size) * scaled(qty))
    return numerator, denominator


def lines_code_facts(ctx: RuleContext) -> pl.LazyFrame:
    """Every line with the :func:`with_code_facts` columns, computed once per batch.

    The facts depend on the code and the date only, so they are worked out for each
    distinct (code, date) pair and spread to the lines.
    """
    return lines_with(
        ctx,
        "units.code_facts",
        [((c.HCPCS, c.DOS_FROM), lambda keys: with_code_facts(ctx, keys))],
        classed=(c.DOS_FROM, ("hcpcs",)),  # the date is only the lookup's as_of
    )


def line_facts(ctx: RuleContext) -> pl.LazyFrame:
    """Every line with the :func:`with_code_facts` and :func:`with_crosswalk` columns.

    Computed once per batch: the crosswalk row depends on the NDC, the code and the
    date only, so it is worked out for each distinct triple and spread to the lines.
    """
    return lines_with(
        ctx,
        "units.line_facts",
        [((c.NDC, c.HCPCS, c.DOS_FROM), lambda keys: with_crosswalk(ctx, keys))],
        base=lines_code_facts(ctx),
        classed=(c.DOS_FROM, ("ndc_hcpcs",)),  # the date is only the lookup's as_of
    )


JW_GROUP = "_jw_group"


def lines_jw_group(ctx: RuleContext) -> pl.LazyFrame:
    """:func:`line_facts` with ``JW_GROUP``: the line's claim has a JW (discarded) line of
    the same code and date. Computed once per batch."""
    return batch_shared(ctx, ("units.jw_group",), lambda: _with_jw_group(ctx))


def _with_jw_group(ctx: RuleContext) -> pl.DataFrame:
    # A join against the few (claim, code, date) groups that have a JW line, computed as
    # one narrow column and attached: a window over three keys on every line is slow.
    group = [c.CLAIM_KEY, c.HCPCS, c.DOS_FROM]
    frame = rows_of(ctx, line_facts(ctx))  # a shared frame: in memory already
    with_jw = frame.lazy().filter(has_modifier(JW)).select(group).unique()
    flag = collect(
        frame.lazy()
        .select(group)
        .join(
            with_jw.with_columns(pl.lit(True).alias(JW_GROUP)),
            on=group,
            how="left",
            nulls_equal=True,  # as a window would, a null key is a group of its own
            maintain_order="left",
        )
        .select(pl.col(JW_GROUP).fill_null(False))
    ).rechunk()
    return frame.hstack(flag)


def with_expected_units(ctx: RuleContext) -> pl.LazyFrame:
    """Claim lines with everything UNT001-UNT003 need: code facts, crosswalk, both expectations.

    Dose (UNT002): ``_dose_checkable``, ``_dose_expected`` (Int128), the exact units as
    ``_dose_num / _dose_den``.
    NDC quantity (UNT001): ``_ndc_reading`` (UN / ML / ME), ``_ndc_checkable``,
    ``_ndc_expected`` (the quantity read at face value), ``_ndc_expected_containers``
    (UN read as whole package items, for oral liquids billed by the bottle) and the
    exact units as ``_ndc_num / _ndc_den``. A line that states a convertible dose is
    UNT002's, never UNT001's. Computed once per batch (:func:`batch_shared`).
    """
    return batch_shared(ctx, ("units.expected_units",), lambda: _expected_units(ctx))


def _expected_units(ctx: RuleContext) -> pl.LazyFrame:
    return expected_units_of(lines_jw_group(ctx))


def expected_units_of(lines: pl.LazyFrame) -> pl.LazyFrame:
    """``lines`` (rows of :func:`lines_jw_group`) with the columns of
    :func:`with_expected_units`: for a rule that needs them on other rows than the
    batch's lines as billed."""
    for step in _expected_units_steps():
        lines = lines.with_columns(step)
    return lines.drop(_EXPECTED_SCRATCH)


# Columns _expected_units_steps works out once and reads several times, then drops.
_EXPECTED_SCRATCH = ("_common", "_dose_base", "_qty", "_per_item_num", "_per_item_den")


@cache  # the expressions depend on no batch
def _expected_units_steps() -> list[list[pl.Expr]]:
    """The column steps of :func:`with_expected_units`. A value read in several places
    is a column of its own (``_EXPECTED_SCRATCH``): a small batch's queries are not
    optimised, so a repeated expression would be evaluated at each place."""
    common = pl.col("_common")

    # --- from the dose --------------------------------------------------------------------
    dose_dim = amount_dimension(pl.col(c.DOSE_UNIT))
    dose_base = amount_base(pl.col(c.DOSE_AMOUNT), pl.col(c.DOSE_UNIT), dispensed=True)
    dose_ok = (
        common
        & positive(pl.col(c.DOSE_AMOUNT))
        & (dose_dim == pl.col("_unit_dim")).fill_null(False)
        & pl.col("_unit_base").is_not_null()
        & ~pl.col("_ndc_other_code")
    )
    dose_checkable = pl.col("_dose_checkable")
    dose_steps = [
        [
            (pl.col("_code_valid") & positive(pl.col(c.UNITS)) & ~has_modifier(JW)).alias(
                "_common"
            ),
            dose_base.alias("_dose_base"),
        ],
        [dose_ok.alias("_dose_checkable")],
        [
            pl.when(dose_checkable)
            .then(ceil_div(pl.col("_dose_base"), pl.col("_unit_base")))
            .alias("_dose_expected"),
            pl.when(dose_checkable).then(pl.col("_dose_base")).alias("_dose_num"),
            pl.when(dose_checkable).then(pl.col("_unit_base")).alias("_dose_den"),
        ],
    ]

    # --- from the NDC quantity ------------------------------------------------------------
    unit = ndc_unit()
    size_one = pl.col("_xw_size") == 1
    oral = (pl.col("_route") == ORAL).fill_null(False)
    reading = pl.coalesce(
        items_reading(unit, pl.col("_xw_size"), pl.col("_xw_qty"), oral),
        pl.when(
            (unit == "ME") & (pl.col("_unit_dim") == _MASS) & pl.col("_unit_base").is_not_null()
        ).then(pl.lit("ME")),
    )
    read_as = pl.col("_ndc_reading")
    qty = pl.col("_qty")
    per_item_num, per_item_den = pl.col("_per_item_num"), pl.col("_per_item_den")
    mg_num, mg_den = qty * 1_000, pl.col("_unit_base")  # ME: quantity in mg, base mcg
    checkable = pl.col("_ndc_checkable")
    me = read_as == "ME"
    ndc_steps = [
        [
            reading.alias("_ndc_reading"),
            scaled_amount(pl.col(c.NDC_QTY)).alias("_qty"),
        ],
        [
            (
                common
                # A quantity in mg needs only the code's unit, not the crosswalk: an NDC
                # the crosswalk does not list (NDC007) is converted too, unless it is
                # another code's product (COD003 / COD004).
                & (pl.col("_ndc_on_code") | (me & ~pl.col("_ndc_other_code")))
                & positive(pl.col(c.NDC_QTY))
                & read_as.is_not_null()
                & ~pl.col(JW_GROUP)
                & ~dose_checkable
            )
            .fill_null(False)
            .alias("_ndc_checkable"),
            (qty * pl.col("_upi_num")).alias("_per_item_num"),
            (pl.col("_upi_den") * SCALE).alias("_per_item_den"),
        ],
        [
            pl.when(checkable)
            .then(
                pl.when(me)
                .then(ceil_div(mg_num, mg_den))
                .otherwise(ceil_div(per_item_num, per_item_den))
            )
            .alias("_ndc_expected"),
            pl.when(checkable)
            .then(pl.when(me).then(mg_num).otherwise(per_item_num))
            .alias("_ndc_num"),
            pl.when(checkable)
            .then(pl.when(me).then(mg_den).otherwise(per_item_den))
            .alias("_ndc_den"),
            pl.when(checkable & (read_as == "UN") & ~size_one)
            .then(ceil_div(per_item_num * scaled(pl.col("_xw_size")), per_item_den * SCALE))
            .alias("_ndc_expected_containers"),
        ],
    ]
    return dose_steps + ndc_steps


def items_reading(
    unit: pl.Expr, package_size: pl.Expr, package_quantity: pl.Expr, oral: pl.Expr
) -> pl.Expr:
    """'UN' or 'ML' when an NDC quantity in ``unit`` (trimmed, upper case) counts items of
    the crosswalk's PKG SIZE, else null.

    UN counts items when the package size is one item (a vial, an ampule) or the code is
    ``oral`` (tablets, capsules); ML counts mL when the package size is more than one (a
    liquid measured in mL). An oral package whose size already counts tablets but whose
    package quantity is above one is ambiguous (Prograf 5 mg 00469-0657-73: PKG SIZE 100,
    PKG QTY 5 for a 100-capsule bottle gives 1 unit per capsule): not read. UNT001 and
    the code-to-product rules (``rules/coding/product.py``) read quantities alike.
    """
    size_one = package_size == 1
    oral_items = oral & (package_quantity == 1)
    return (
        pl.when((unit == "UN") & (size_one | oral_items))
        .then(pl.lit("UN"))
        .when((unit == "ML") & ~size_one)
        .then(pl.lit("ML"))
    )


def billed_equals(expected: pl.Expr) -> pl.Expr:
    """True when the billed units equal the integer ``expected`` exactly.

    The rules call it on lines with positive, finite units only. The cast is not strict
    (NaN or infinite units would compare as not equal instead of raising) so that Polars
    may filter on it before the message columns are built: it does not move a test that
    can raise past other work.
    """
    billed = (pl.col(c.UNITS).cast(pl.Float64) * SCALE).round(0).cast(pl.Int128, strict=False)
    return (billed == expected * SCALE).fill_null(False)


# --- single-dose containers (JW / JZ, rules.md R-MOD-4) ------------------------------------
DOSE_GROUP = (c.CLAIM_KEY, c.HCPCS, c.DOS_FROM)


def with_container_amounts(ctx: RuleContext, include_unverified: bool) -> pl.LazyFrame:
    """Lines of single-dose-container drugs with their (claim, code, DOS) group's amounts.

    A group is taken when its code is on the curated ``single_dose_containers`` list
    (unverified entries only when ``include_unverified``) or when one of its lines
    carries JW or JZ: both modifiers exist only for drugs from single-dose containers,
    so the biller has said so, whatever the code (except an oral drug: JW or JZ on it
    is the modifier's mistake, MOD005's). Amounts are in the base of the code's unit
    (x 10**6, Int128) and only when their unit is of the same kind as the code's:

    - ``_administered``: the sum of the doses of the group's lines without JW, null
      unless every such line states one;
    - ``_discarded``: the discarded amount stated on the group's JW line(s), else on its
      other lines, else null;
    - ``_jw_lines`` / ``_other_lines``: how many lines of the group carry JW / do not;
    - ``_first_line``: the group's lowest line number.

    Computed once per batch and setting (:func:`batch_shared`).
    """
    return batch_shared(
        ctx,
        ("units.container_amounts", include_unverified),
        lambda: _container_amounts(ctx, include_unverified),
    )


def _container_amounts(ctx: RuleContext, include_unverified: bool) -> pl.LazyFrame:
    containers = single_dose_containers()
    if not include_unverified:
        containers = containers.filter(pl.col("verified"))
    codes = containers.get_column("hcpcs").to_list()
    # The few groups with a JW or JZ line, joined on: a window over three keys on every
    # line is slow.
    declared = (
        ctx.lines.filter(has_modifier(JW) | has_modifier(JZ))
        .select(*DOSE_GROUP)
        .unique()
        .with_columns(_declared=pl.lit(True))
    )
    lines = (
        lines_code_facts(ctx)
        .join(declared, on=list(DOSE_GROUP), how="left", nulls_equal=True)
        .filter(
            pl.col(c.HCPCS).is_in(codes)
            | (pl.col("_declared") & (pl.col("_route") != "oral")).fill_null(False)
        )
        .drop("_declared")
    )
    same_kind = pl.col("_unit_base").is_not_null()
    dose = pl.when(
        same_kind
        & positive(pl.col(c.DOSE_AMOUNT))
        & (amount_dimension(pl.col(c.DOSE_UNIT)) == pl.col("_unit_dim")).fill_null(False)
    ).then(amount_base(pl.col(c.DOSE_AMOUNT), pl.col(c.DOSE_UNIT)))
    discarded_amount = pl.col(c.DISCARDED_AMOUNT)
    discarded = pl.when(
        same_kind
        & (discarded_amount.is_finite() & (discarded_amount >= 0)).fill_null(False)
        & (amount_dimension(pl.col(c.DISCARDED_UNIT)) == pl.col("_unit_dim")).fill_null(False)
    ).then(amount_base(discarded_amount, pl.col(c.DISCARDED_UNIT)))
    jw = has_modifier(JW)
    lines = lines.with_columns(_is_jw=jw, _dose_base=dose, _discarded_base=discarded)
    is_jw, other = pl.col("_is_jw"), ~pl.col("_is_jw")
    known_discard = pl.col("_discarded_base").is_not_null()
    lines = lines.with_columns(
        _jw_lines=is_jw.sum().over(DOSE_GROUP),
        _other_lines=other.sum().over(DOSE_GROUP),
        _first_line=pl.col(c.LINE_NO).min().over(DOSE_GROUP),
        _missing_doses=(other & pl.col("_dose_base").is_null()).sum().over(DOSE_GROUP),
        _administered_sum=pl.when(other).then(pl.col("_dose_base")).sum().over(DOSE_GROUP),
        _jw_discards=(is_jw & known_discard).sum().over(DOSE_GROUP),
        _jw_discarded=pl.when(is_jw).then(pl.col("_discarded_base")).sum().over(DOSE_GROUP),
        _other_discards=(other & known_discard).sum().over(DOSE_GROUP),
        _other_discarded=pl.when(other).then(pl.col("_discarded_base")).sum().over(DOSE_GROUP),
    )
    return lines.with_columns(
        _administered=pl.when((pl.col("_other_lines") > 0) & (pl.col("_missing_doses") == 0)).then(
            pl.col("_administered_sum")
        ),
        _discarded=pl.when(pl.col("_jw_discards") > 0)
        .then(pl.col("_jw_discarded"))
        .when(pl.col("_other_discards") > 0)
        .then(pl.col("_other_discarded")),
    )


def amount_text(base: pl.Expr) -> pl.Expr:
    """An amount in the code unit's base, as text in the code's unit of measure ('150 mg')."""
    amount = ratio(base, pl.col("_unit_base")) * pl.col("_unit_amount").cast(pl.Float64)
    return pl.format("{} {}", number_text(amount), pl.col("_unit_uom"))
