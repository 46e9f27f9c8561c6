"""PAU006: the plan's benefit excludes the drug (its code or its NDC) on the date of service."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Confidence, Severity
from claimscrub.model import columns as c
from claimscrub.payers.packs import PACK, list_entries
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.policy._common import ROW_ID, ndc_digits, pack_list
from claimscrub.rules.registry import rule


def _pack_excludes(ctx: RuleContext) -> pl.Expr:
    """The line's pack lists excluded products (only its entries are matched)."""
    names = sorted({name for name, _ in list_entries(ctx.packs, "excluded_products")})
    return pl.col(PACK).is_in(names).fill_null(False)


@rule(
    code="PAU006",
    name="product-excluded-by-plan",
    severity=Severity.ERROR,
    # the exclusion list is a payer pattern in a pack (no published CMS source), and plans
    # change their benefits between pack updates.
    confidence=Confidence.MEDIUM,
    carc="CO-204",
    inputs=(c.HCPCS,),
    preview=True,
    source="payer policy pack `excluded_products` (each entry cites its plan document); "
    "rules.md §7 (non-covered/excluded), §8 CARC 204",
    applies_when=_pack_excludes,
)
def product_excluded_by_plan(ctx: RuleContext) -> Finding:
    """The plan's benefit excludes the drug billed on the line.

    ## What it checks
    Lines whose code — or NDC — is in their payer policy pack's `excluded_products`
    list with the line's date of service inside the entry's dates (`from`, `to`,
    inclusive; an absent date leaves that side open). An entry names a HCPCS code, an
    NDC (11 digits, matched against the line's NDC without hyphens), or both; when
    several entries match a line, the most specific one is reported (code and NDC,
    then NDC, then code). A line without a date of service only matches entries with
    no dates.

    The built-in packs list no exclusions: the rules specification cites no
    published plan exclusion for these drugs. A plan's exclusions go in its own pack
    (`--policy FILE` or `$CLAIMSCRUB_PACKS_DIR`), each with its reason and the URL of
    the plan document that states it; the schema rejects an entry without them, and
    an entry whose `from` is after its `to`.

    ## Why it matters
    A plan that excludes a product or a benefit — a pharmacy-only drug billed on a
    medical claim, a product dropped from the plan's coverage — denies the line as
    not covered under the patient's current benefit plan (CARC 204). No
    authorisation changes that; the claim must go to the benefit that covers the
    drug, or the product must change.

    ## Example
    J7507 (tacrolimus, immediate release, oral, 1 mg) on a medical claim, dated
    2025-06-10, to a plan whose pack lists
    `{hcpcs: J7507, from: 2025-01-01, reason: "oral tacrolimus is covered under the
    pharmacy benefit only", source: "https://…"}`.

    Use instead: bill the prescription to the plan's pharmacy benefit.

    ## Fix
    None: where the drug should be billed, or which product replaces it, is outside
    the claim.

    ## Options
    None. The lists come from the payer policy packs
    (`excluded_products: [{hcpcs, ndc, from, to, reason, source}]`).

    ## Related
    PAU005 (non-preferred product), PAU001 (prior authorisation missing), DGN005
    (transplant diagnosis outside the Medicare benefit).

    ## References
    - rules.md §7 (commercial payer patterns: "Non-covered/excluded", CO-204 / CO-96),
      §8 (CARC 204; BENEFIT_CRITERIA_NOT_MET lists CO-204 as an alternate).
    """
    # Entry columns get an `_entry_` prefix: the lines have their own `hcpcs` and `ndc`.
    fields = ("hcpcs", "ndc", "from", "to", "reason", "source")
    entries = (
        pack_list(ctx, "excluded_products", dict.fromkeys(fields, pl.String()))
        .rename({name: f"_entry_{name}" for name in fields})
        .with_columns(
            pl.col("_entry_from").str.to_date("%Y-%m-%d").alias("_from"),
            pl.col("_entry_to").str.to_date("%Y-%m-%d").alias("_to"),
        )
    )
    base = ctx.lines.with_row_index(ROW_ID).with_columns(ndc_digits(pl.col(c.NDC)).alias("_ndc"))
    day = pl.col(c.DOS_FROM)
    code, ndc = pl.col("_entry_hcpcs"), pl.col("_entry_ndc")
    matches = (
        (code.is_null() | (code == pl.col(c.HCPCS)))
        & (ndc.is_null() | (ndc == pl.col("_ndc")))
        & (pl.col("_from").is_null() | (day >= pl.col("_from")))
        & (pl.col("_to").is_null() | (day <= pl.col("_to")))
    ).fill_null(False)
    # One entry per line: the most specific (code and NDC, then NDC, then code).
    chosen = (
        base.select(ROW_ID, PACK, c.HCPCS, "_ndc", c.DOS_FROM)
        .join(entries, on=PACK, how="inner")
        .filter(matches)
        .sort(ROW_ID, ndc.is_null(), code.is_null())
        .group_by(ROW_ID, maintain_order=True)
        .first()
        .select(ROW_ID, *(f"_entry_{name}" for name in fields[1:]))
    )
    titles = pl.LazyFrame(
        {
            PACK: [p.name for p in ctx.packs.values()],
            "_title": [p.title for p in ctx.packs.values()],
        },
        schema={PACK: pl.String, "_title": pl.String},
    )
    product = (
        pl.when(pl.col("_entry_ndc").is_not_null())
        .then(pl.format("{} (NDC {})", pl.col(c.HCPCS), pl.col("_entry_ndc")))
        .otherwise(pl.col(c.HCPCS))
    )
    start, end = pl.col("_entry_from"), pl.col("_entry_to")
    dates = (
        pl.when(start.is_not_null() & end.is_not_null())
        .then(pl.format(" from {} to {}", start, end))
        .when(start.is_not_null())
        .then(pl.format(" from {}", start))
        .when(end.is_not_null())
        .then(pl.format(" until {}", end))
        .otherwise(pl.lit(""))
    )
    plan = (
        pl.when(pl.col("_title").is_not_null() & (pl.col("_title") != pl.col(PACK)))
        .then(pl.format("{} ({})", pl.col(PACK), pl.col("_title")))
        .otherwise(pl.col(PACK))
    )
    rows = (
        base.join(chosen, on=ROW_ID, how="inner")
        .join(titles, on=PACK, how="left")
        .with_columns(product.alias("_product"), dates.alias("_dates"), plan.alias("_plan"))
    )
    return Finding(
        rows=rows,
        violated=pl.lit(True),
        message="{_product} is excluded from the benefit of payer policy {_plan}{_dates}: "
        "{_entry_reason} (source: {_entry_source})",
    )
