"""MOD005: JW or JZ on a self-administered (oral or DME) drug line."""

from __future__ import annotations

import polars as pl

from claimscrub.diagnostics import Applicability, Confidence, Severity
from claimscrub.model import columns as c
from claimscrub.rules.coding.facts import route_class
from claimscrub.rules.context import RuleContext
from claimscrub.rules.finding import Finding
from claimscrub.rules.modifiers._common import (
    carries_modifiers,
    has_modifier,
    modifier_list,
    normalised,
)
from claimscrub.rules.registry import rule


@rule(
    code="MOD005",
    name="jw-jz-on-self-administered-drug",
    severity=Severity.WARNING,
    # the route is read from descriptor text, and most payers process
    # such lines anyway.
    confidence=Confidence.MEDIUM,
    carc="CO-4",
    fix=Applicability.UNSAFE,
    requires=("hcpcs",),
    inputs=(c.HCPCS, c.MODIFIERS),
    source="CMS JW/JZ FAQ and DME policy articles (not required on self-administered drugs); "
    "rules.md §5; §8 JW_JZ_NOT_APPLICABLE",
    applies_when=carries_modifiers,
)
def jw_jz_on_self_administered_drug(ctx: RuleContext) -> Finding:
    """JW or JZ is on a self-administered drug line, where the discarded-drug policy does not apply.

    ## What it checks
    Lines with JW or JZ whose code is an oral drug (route `oral` in the HCPCS record in
    force on the date of service, read from its long descriptor: J7500, J7502, J7503,
    J7507, J7508, J7517, J7518, J7520, J7527 ...) or that are billed under a DME MAC
    payer policy (`contractor: dme_mac`), where drugs are dispensed for the patient
    to take at home. A drug whose descriptor says it is injected or infused keeps the
    modifiers even at a DME MAC: a provider gives it, and billing it to the DME MAC is
    a routing error (RTE002), not a self-administered line.

    ## Why it matters
    JW and JZ report what was discarded from a single-dose container of a drug given
    by a provider. Oral immunosuppressives dispensed to the patient have no discarded
    amount; CMS's JW/JZ questions and answers and the DME policy articles say the
    modifiers are not required there. Such lines are usually processed, but some
    payers deny the modifier as not fitting the code (CARC 4), and a JW line on an
    oral drug bills drug that was never dispensed.

    ## Example
    J7507 (tacrolimus, immediate release, oral, 1 mg) with modifiers KX and JZ at the
    DME MAC.

    Use instead: J7507-KX.

    ## Fix
    Unsafe. Removes JZ. A JW line is not fixed: whether it should exist at all is for
    the biller to decide.

    ## Options
    None.

    ## Related
    MOD004 (JW/JZ missing where required), MOD002 (JW with JZ).

    ## References
    - CMS, JW/JZ modifier policy FAQ; DME MAC policy article A52474.
    - rules.md §5 (JW, JZ rows: "not applicable on self-administered oral DME lines"),
      §8 JW_JZ_NOT_APPLICABLE.
    """
    lines = ctx.refdata.lookup(
        ctx.lines,
        "hcpcs",
        on={c.HCPCS: "hcpcs_code"},
        as_of=c.DOS_FROM,
        columns={"route": "_route"},
    )
    oral = (pl.col("_route") == "oral").fill_null(False)
    # A drug injected or infused by a provider keeps the discarded-drug policy wherever it
    # is billed: at a DME MAC it is a routing question (RTE002), not a self-given drug.
    injected = (route_class(pl.col("_route")) == "parenteral").fill_null(False)
    dme = (pl.col("pack_contractor") == "dme_mac").fill_null(False) & ~injected
    which = (
        modifier_list()
        .list.eval(pl.element().filter(pl.element().is_in(["JW", "JZ"])))
        .list.join(" and ")
    )
    setting = (
        pl.when(oral)
        .then(pl.format("{} is an oral drug", pl.col(c.HCPCS)))
        .otherwise(pl.lit("the line is billed to a DME MAC"))
    )
    without_jz = pl.col(c.MODIFIERS).list.eval(
        pl.element().filter(normalised(pl.element()) != "JZ")
    )
    return Finding(
        rows=lines.with_columns(which.alias("_which"), setting.alias("_setting")),
        violated=(has_modifier("JW") | has_modifier("JZ")) & (oral | dme),
        message="{_which} on the {hcpcs} line: {_setting}, taken by the patient, "
        "with no discarded amount to report",
        fix={c.MODIFIERS: pl.when(~has_modifier("JW")).then(without_jz)},
        fix_title="Remove JZ",
    )
