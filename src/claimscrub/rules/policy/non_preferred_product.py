"""PAU005: the drug (code or NDC) is a non-preferred product on the payer's list."""

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
    ndc_digits,
    pack_list,
)
from claimscrub.rules.registry import rule


@rule(
    code="PAU005",
    name="non-preferred-product",
    severity=Severity.WARNING,
    # the preferred-product list is a payer pattern in the pack, not a
    # dated CMS file; plans change formularies between pack updates.
    confidence=Confidence.MEDIUM,
    inputs=(c.HCPCS,),
    source="payer policy pack `preferred_products` (UHC: IR tacrolimus preferred over Envarsus "
    "XR; Oregon PDL: Astagraf XL non-preferred); rules.md §7",
    applies_when=listed_in("preferred_products"),
)
def non_preferred_product(ctx: RuleContext) -> Finding:
    """The drug is a non-preferred product on the payer's preferred-product list.

    ## What it checks
    Lines whose code — or NDC, where the list names NDCs — is marked
    `preferred: false` in their payer policy pack's `preferred_products` list
    (commercial: J7503 Envarsus XR; Medicaid: J7508 Astagraf XL, after the Oregon
    preferred-drug list). An entry that names an NDC wins over an entry for the whole
    code, so a plan can prefer a brand NDC and not the generics of the same code (as
    the Texas Vendor Drug Program did for Prograf in 2020). Claims with an
    authorisation are not reported: the payer has already agreed to the product.

    ## Why it matters
    A non-preferred product usually needs prior authorisation or a formulary
    exception, costs the patient more, and is the first thing a plan questions. The
    message names the plan's preferred products so the prescriber can be asked
    before the claim goes out.

    ## Example
    J7503 (tacrolimus, extended release (Envarsus XR), oral, 0.25 mg) to a commercial
    plan whose list prefers J7507 (immediate-release tacrolimus).

    Use instead: J7507 if the prescriber agrees; otherwise keep J7503 and obtain the
    authorisation.

    ## Fix
    None: a product change is the prescriber's decision.

    ## Options
    None. The lists come from the payer policy packs
    (`preferred_products: [{hcpcs, preferred, ndc, note}]`).

    ## Related
    PAU001 (prior authorisation missing), PAU003 (step therapy not met).

    ## References
    - rules.md §7 (formulary/PDL tiers; brand vs generic), R-MCD-1 (Oregon and Texas
      preferred-drug lists).
    """
    products = pack_list(
        ctx,
        "preferred_products",
        {"hcpcs": pl.String(), "ndc": pl.String(), "preferred": pl.Boolean(), "note": pl.String()},
    )
    base = ctx.lines.with_row_index(ROW_ID).with_columns(ndc_digits(pl.col(c.NDC)).alias("_ndc"))
    # The most specific entry decides: an NDC entry before a whole-code entry.
    decided = (
        base.select(ROW_ID, PACK, c.HCPCS, "_ndc")
        .join(products, on=[PACK, c.HCPCS], how="inner")
        .filter(pl.col("ndc").is_null() | (pl.col("ndc") == pl.col("_ndc")))
        .sort(ROW_ID, pl.col("ndc").is_null())
        .group_by(ROW_ID, maintain_order=True)
        .first()
        .select(ROW_ID, "preferred", "note", pl.col("ndc").alias("_entry_ndc"))
    )
    preferred = (
        products.filter(pl.col("preferred").fill_null(False))
        .with_columns(
            pl.when(pl.col("ndc").is_not_null())
            .then(pl.format("{} (NDC {})", pl.col("hcpcs"), pl.col("ndc")))
            .otherwise(pl.col("hcpcs"))
            .alias("_product")
        )
        .group_by(PACK)
        .agg(pl.col("_product").sort().unique(maintain_order=True).alias("_preferred"))
    )
    rows = (
        base.join(decided, on=ROW_ID, how="inner")
        .join(preferred, on=PACK, how="left")
        .with_columns(
            pl.when(pl.col("_entry_ndc").is_not_null())
            .then(pl.format("{} (NDC {})", pl.col(c.HCPCS), pl.col("_entry_ndc")))
            .otherwise(pl.col(c.HCPCS))
            .alias("_what"),
            pl.when(pl.col("note").is_not_null())
            .then(pl.format(" ({})", pl.col("note")))
            .otherwise(pl.lit(""))
            .alias("_note"),
            pl.when(pl.col("_preferred").list.len() > 0)
            .then(pl.format("; its preferred products: {}", pl.col("_preferred").list.join(", ")))
            .otherwise(pl.lit(""))
            .alias("_alternatives"),
        )
    )
    return Finding(
        rows=rows,
        violated=pl.col("preferred").eq(False).fill_null(False) & ~has_authorization(),
        message="{_what} is a non-preferred product under payer policy {pack}{_note}"
        "{_alternatives}",
    )
