"""MOD001: a Level II modifier is unknown, or not valid on the line's date of service."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Applicability, Severity
from claimscrub.model import columns as c
from claimscrub.rules.batch import lines_with
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.modifier_terms import normalised
from claimscrub.rules.modifiers._common import ROW_ID, carries_modifiers, exploded_modifiers
from claimscrub.rules.registry import rule

# CPT (Level I) modifiers are two digits (59, 76) or digit + letter (Category II: 1P, 8P);
# the HCPCS Level II file has only modifiers that start with a letter.
_CPT_MODIFIER = r"^[0-9]"
# Ambulance origin/destination modifiers are two letters from D, E, G, H, I, J, N, P, R, S,
# X (e.g. RH: residence to hospital); the HCPCS file describes them in its introduction and
# lists no record for most pairs.
_AMBULANCE_PAIRS = r"^[DEGHIJNPRSX]{2}$"


@rule(
    code="MOD001",
    name="modifier-not-valid-on-date-of-service",
    severity=Severity.ERROR,
    carc="CO-182",
    fix=Applicability.SAFE,
    requires=("hcpcs",),
    inputs=(c.MODIFIERS,),
    options={"unlisted_valid_patterns": [_AMBULANCE_PAIRS]},
    source="CMS HCPCS Level II file (modifier records: add / termination dates); rules.md §5, §8",
    applies_when=carries_modifiers,
)
def modifier_not_valid_on_date_of_service(ctx: RuleContext) -> Finding:
    """A HCPCS Level II modifier on the line is unknown, or was not valid on the date of service.

    ## What it checks
    Every modifier of the line (837P SV101-3..6, 837I SV202-3..6, JSON `modifiers`,
    CSV mod1–mod4) that starts with a letter, against the modifier records of the CMS
    HCPCS Level II file: valid on date d when its add date is on or before d and it has
    no termination date or d is on or before it (dates from the newest release that
    lists it). A modifier that no release lists is reported as unknown, unless it
    matches one of `unlisted_valid_patterns` (by default the ambulance origin/destination
    pairs such as RH, which the file describes but does not list one by one). One
    finding per modifier. A modifier that is valid once written as HCPCS lists it (upper
    case, no spaces) is reported too: X12 code values are case-sensitive, and a payer's
    front end does not read `kx` as KX.

    CPT (Level I) modifiers — two digits such as 59 or 76, and Category II modifiers
    such as 1P — are not in the Level II file and are not checked here (the CPT
    modifier list is AMA-licensed and not bundled).

    ## Why it matters
    A modifier that is not valid for the date of service makes the line unprocessable:
    CARC 182. JG (340B-acquired drug), for example, ended on 2024-12-31 — from 2025
    the TB modifier reports 340B drugs — and JZ did not exist before 2023.

    ## Example
    J7511 with modifiers JG and JZ, dated 2025-03-04.

    Use instead: TB and JZ.

    ## Fix
    Safe, only for a valid modifier written in lower case or with spaces (`kx` → `KX`):
    the line's modifiers as HCPCS lists them. None otherwise: the replacement (if any)
    depends on what the modifier meant to say.

    ## Options
    - `unlisted_valid_patterns` (list of regular expressions, default
      ["^[DEGHIJNPRSX]{2}$"]): modifiers accepted although no release lists them.

    ## Related
    COD001 (the HCPCS code itself not valid on the date), MOD002 (conflicting
    modifiers), MOD003 (modifier not applicable to a drug line).

    ## References
    - CMS HCPCS Level II Alpha-Numeric file, modifier records: ADD DT, TERM DT; its
      introduction on the ambulance origin/destination modifiers.
    - rules.md §5 ("Modifier invalid for the DOS → CO-182"), §8 CARC 182.
    """
    patterns = [str(p) for p in ctx.options.get("unlisted_valid_patterns", [])]

    def verdicts(keys: pl.LazyFrame) -> pl.LazyFrame:
        # Per distinct (modifiers, date): the modifiers in breach, in their order on the
        # line, as a list of {_submitted, _why}.
        numbered = keys.with_row_index(ROW_ID)
        mods = (
            exploded_modifiers(numbered)
            .filter(~pl.col("_mod").str.contains(_CPT_MODIFIER))
            .join(numbered.select(ROW_ID, c.DOS_FROM), on=ROW_ID)
            .sort(ROW_ID, "_mpos")
        )
        mods = ctx.refdata.lookup(
            mods,
            "hcpcs",
            on={"_mod": "hcpcs_code"},
            as_of=c.DOS_FROM,
            columns={"record_type": "_kind", "add_date": "_added", "termination_date": "_ended"},
        )
        allowed = pl.lit(False)
        for pattern in patterns:
            allowed = allowed | pl.col("_mod").str.contains(pattern)
        unknown = (pl.col("_kind").fill_null("") != "modifier") & ~allowed
        status = pl.col("hcpcs_status")
        out_of_date = status.is_in(["terminated", "not_yet_valid"]).fill_null(False)
        # X12 code values are case-sensitive: "kx" is no modifier to a payer's front end,
        # although it names KX unmistakably.
        miswritten = pl.col("_submitted") != pl.col("_mod")
        reason = (
            pl.when(unknown)
            .then(pl.lit("is not a HCPCS Level II modifier"))
            .when(status == "terminated")
            .then(pl.format("is not valid after {} (terminated)", pl.col("_ended")))
            .when(out_of_date)
            .then(pl.format("is valid only from {}", pl.col("_added")))
            .otherwise(
                pl.format(
                    "is not written as HCPCS lists it ({}); payers read modifier codes "
                    "case-sensitively (X12 SV101-3..6)",
                    pl.col("_mod"),
                )
            )
        )
        violated = unknown | out_of_date | miswritten
        found = (
            mods.filter(violated)
            .group_by(ROW_ID, maintain_order=True)
            .agg(
                pl.struct(
                    pl.col("_submitted"),
                    reason.alias("_why"),
                    # only a modifier valid once written as HCPCS lists it has a fix
                    (miswritten & ~unknown & ~out_of_date).alias("_case_only"),
                ).alias("_breaches")
            )
        )
        return numbered.join(found, on=ROW_ID, how="left", maintain_order="left").drop(ROW_ID)

    lines = lines_with(
        ctx,
        f"modifiers.not_valid_on_date_of_service.{patterns}",
        [((c.MODIFIERS, c.DOS_FROM), verdicts)],
    )
    rows = lines.filter(pl.col("_breaches").is_not_null()).explode("_breaches").unnest("_breaches")
    written = pl.col(c.MODIFIERS).list.eval(normalised(pl.element()))
    return Finding(
        rows=rows,
        violated=pl.lit(True),
        message="modifier {_submitted} {_why}; the line ({hcpcs}) is dated {dos_from}",
        fix={"modifiers": pl.when(pl.col("_case_only")).then(written)},
        fix_title="Write the modifiers as HCPCS lists them",
    )
