"""NDC003: a 10-digit NDC without hyphens, which cannot be padded to 11 digits safely."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Applicability, Severity
from claimscrub.model import columns as c
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.ndc.normalise import CANDIDATES, hyphenated, with_ndc_parse
from claimscrub.rules.registry import rule


def maybe_ten_digits(_ctx: RuleContext | None = None) -> pl.Expr:
    """The line's NDC has no hyphen and exactly ten digits among its characters: every
    NDC that NDC003 reports does (10 digits once white space is taken out), so this is
    its ``applies_when``; a claim of 11-digit NDCs does not build its query."""
    ndc = pl.col(c.NDC)
    return ~ndc.str.contains("-", literal=True) & (ndc.str.count_matches("[0-9]") == 10)


@rule(
    code="NDC003",
    name="ndc-ambiguous-ten-digits",
    severity=Severity.ERROR,
    carc="CO-16",
    rarc=("M119",),
    # rules.md R-NDC-2: the scrubber must not guess the padding; only an NDC directory
    # settles it. The crosswalk's one candidate is shown, never applied.
    fix=Applicability.DISPLAY_ONLY,
    requires=("ndc_hcpcs",),
    inputs=(c.NDC,),
    source="FDA NDC layouts; CMS ASP NDC-HCPCS crosswalk; rules.md R-NDC-2 (NDC_AMBIGUOUS_10_DIGIT)",
    applies_when=maybe_ten_digits,
)
def ndc_ambiguous_ten_digits(ctx: RuleContext) -> Finding:
    """The NDC has 10 digits and no hyphens, so its 11-digit form cannot be known.

    ## What it checks
    NDCs (837P/837I 2410 LIN03, JSON/CSV ``ndc``) of exactly 10 digits with no
    hyphens. The FDA prints a 10-digit NDC as 4-4-2, 5-3-2 or 5-4-1 and the 11-digit
    billing form pads the *short* segment with a zero; without the hyphens the short
    segment is unknown, so the value has three possible 11-digit forms. The message
    lists all three and says which of them the CMS ASP NDC–HCPCS crosswalk (release
    used for the date of service) lists under the billed code.

    ## Why it matters
    Padding in the wrong place gives a different NDC — usually one that does not
    exist, sometimes another product. Payers deny the line as a billing error with an
    invalid NDC (CARC 16 with RARC M119). Hold the line and read the NDC from the
    package.

    ## Example
    J7503 with NDC ``6899230753``: it could be 06899-2307-53 (4-4-2),
    68992-0307-53 (5-3-2) or 68992-3075-03 (5-4-1).

    Use instead: 68992307503 (Envarsus XR 0.75 mg, 30 tablets; printed 68992-3075-3).

    ## Fix
    Display only, and only when exactly one of the three candidates is on the crosswalk
    under the billed code: that candidate, for the biller to check against the package.
    It is never applied, even with `--unsafe-fixes`: rules.md R-NDC-2 forbids guessing
    the padding, and the crosswalk lists Part B drug NDCs, not every marketed NDC (only
    an NDC directory settles it). With no match or several matches there is no fix.

    ## Options
    None.

    ## Related
    NDC008 (hyphenated or spaced NDC whose 11-digit form is determinable); NDC002
    (NDC that cannot be read at all); NDC007 (NDC not on the crosswalk).

    ## References
    - rules.md R-NDC-2 (10→11 conversion; "an unhyphenated 10-digit string is
      ambiguous") and §8 NDC_AMBIGUOUS_10_DIGIT (CO-16 + M119 if sent).
    - CMS ASP NDC–HCPCS crosswalk (quarterly).
    """
    key = [c.NDC, c.HCPCS, c.DOS_FROM]
    # Parse each distinct NDC string once; keep the (NDC, code, date) triples to judge.
    ambiguous = with_ndc_parse(
        ctx.lines.select(c.NDC).unique().filter(pl.col(c.NDC).is_not_null()), c.NDC
    ).filter(pl.col("_ndc_status") == "ambiguous")
    triples = ctx.lines.select(key).unique().join(ambiguous, on=c.NDC, how="inner").cache()
    candidates = triples.select(
        *key, *[pl.col(f"_ndc_{col}").alias(layout) for layout, col in CANDIDATES.items()]
    ).unpivot(index=key, variable_name="_layout", value_name="_cand")
    matched = ctx.refdata.lookup(
        candidates,
        "ndc_hcpcs",
        on={"_cand": "ndc11", c.HCPCS: "hcpcs_code"},
        as_of=c.DOS_FROM,
        columns={"drug_name": "_drug"},
    )
    listed = pl.col("_drug").is_not_null()
    per_key = matched.group_by(key).agg(
        pl.col("_cand").filter(listed).unique().sort().alias("_matches"),
        pl.col("_drug").filter(listed).first().alias("_match_drug"),
        pl.col("ndc_hcpcs_release").first().alias("_release"),
    )
    table = triples.join(per_key, on=key, how="left", nulls_equal=True)
    lines = ctx.lines.select(c.CLAIM_KEY, c.LINE_NO, *key).join(
        table, on=key, how="inner", nulls_equal=True
    )
    n = pl.col("_matches").list.len().fill_null(0)
    only = pl.when(n == 1).then(pl.col("_matches").list.first())
    under = (
        pl.when(pl.col(c.HCPCS).is_not_null())
        .then(pl.format("under {} [crosswalk {}]", pl.col(c.HCPCS), pl.col("_release")))
        .otherwise(pl.lit("(the line has no HCPCS code to check them against)"))
    )
    verdict = (
        pl.when(pl.col(c.HCPCS).is_null())
        .then(under)
        .when(n == 0)
        .then(pl.format("none of them is on the crosswalk {}", under))
        .when(n == 1)
        .then(
            pl.format(
                "only {} ({}) is on the crosswalk {}",
                hyphenated(only),
                pl.col("_match_drug"),
                under,
            )
        )
        .otherwise(
            pl.format(
                "{} of them are on the crosswalk {}: {}",
                n.cast(pl.String),
                under,
                pl.col("_matches").list.eval(hyphenated(pl.element())).list.join(", "),
            )
        )
    )
    shown = [
        pl.format("{} ({})", hyphenated(pl.col(f"_ndc_{col}")), pl.lit(layout))
        for layout, col in CANDIDATES.items()
    ]
    return Finding(
        rows=lines.with_columns(
            pl.concat_str(shown[:2], separator=", ").alias("_first_two"),
            shown[2].alias("_last"),
            verdict.alias("_verdict"),
            only.alias("_only"),
            hyphenated(only).alias("_only_print"),
        ),
        violated=pl.lit(True),
        message=(
            "NDC {ndc} has 10 digits and no hyphens, so the segment to pad is unknown: it "
            "could be {_first_two} or {_last}; {_verdict}"
        ),
        fix={"ndc": pl.col("_only")},
        fix_title=(
            "Use {_only_print}, the only candidate the crosswalk lists under {hcpcs} "
            "(check it against the package)"
        ),
    )
