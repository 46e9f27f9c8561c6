"""*Common misconceptions*: known wrong statements about the code, with the correction.

The entries are curated (``clinical.yaml``, rules.md section 10), each with its sources and,
where known, the pages the wrong statement was seen on. The wrong statement is only ever
shown as "Not: ..." here, never as a fact; the correction names codes through placeholders
filled from the HCPCS release in force on the date.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from claimscrub.explain.statements import curated_source
from claimscrub.refdata.curated.clinical import clinical as clinical_file
from claimscrub.refdata.curated.clinical import code_in

if TYPE_CHECKING:
    from claimscrub.explain.builder import Context


def misconceptions(ctx: Context) -> list[dict[str, Any]]:
    """The misconceptions that concern the code."""
    out = []
    for entry in clinical_file()["misconceptions"]:
        if not code_in(entry, ctx.code):
            continue
        correct, codes = ctx.book.fill(entry["correct"])
        wrong = entry["not"]
        item = ctx.say(
            f"Not: {wrong}. {correct}",
            curated_source(entry["source"]),
            also=ctx.book.sources_for(codes),
            id=entry["id"],
            not_=None,
            correct=correct,
            codes=codes,
            seen_at=[{"title": s["title"], "url": s["url"]} for s in entry["seen_at"]] or None,
        )
        item["not"] = wrong
        out.append(item)
    return out
