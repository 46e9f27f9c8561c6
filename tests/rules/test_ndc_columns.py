"""The column-wise NDC normaliser agrees with ``model.codes.parse_ndc`` on every input."""

from __future__ import annotations

import random

import polars as pl
import pytest

from claimscrub.model.codes import parse_ndc
from claimscrub.refdata.catalog import default_refdata
from claimscrub.rules.ndc.normalise import CANDIDATES, FIELDS, hyphenated, is_blank, with_ndc_parse

# Hand-picked shapes: every branch of parse_ndc, with real NDCs from the bundled crosswalk
# and rules.md R-NDC-2 (Sandoz tacrolimus, Dr. Reddy's tacrolimus, Envarsus XR, Thymoglobulin).
HAND_PICKED = [
    "00781210401",
    "00781-2104-01",
    "0781-2104-01",
    "55111-527-05",
    "68992-3075-3",
    "58468-0080-1",
    "6899230753",
    "0781210401",
    " 00781210401 ",
    "\t00781-2104-01\n",
    "\xa000781210401\u3000",
    "\x1c00781210401\x1f",
    "00781 2104 01",
    "0078 1210401",
    "",
    "   ",
    "-",
    "--",
    "0781--01",
    "0781-2104",
    "0781-2104-01-1",
    "1-2-3",
    "12345-123-123",
    "123456-1234-12",
    "0781-2104-0a",
    "N400781210401",
    "N4 00781210401 UN180",
    "00781.2104.01",
    "007812104011",
    "0078121040",
    "007812104",
    "12345",
    "1",
    "abc",
]
DEVANAGARI_11 = "१२३४५६७८९०१"  # eleven Devanagari digits: str.isdigit() is True for them


def _random_sample(rng: random.Random, n: int) -> list[str]:
    alphabet = "0123456789-- 0123456789\tN4x"
    out = []
    for _ in range(n):
        length = rng.randint(0, 15)
        out.append("".join(rng.choice(alphabet) for _ in range(length)))
    return out


def _crosswalk_forms(limit: int) -> list[str]:
    """Real NDCs in every printed form: 11 digits, 5-4-2, and each 10-digit layout."""
    table = default_refdata().table("ndc_hcpcs").filter(pl.col("ndc11").is_not_null())
    out = []
    for ndc in table["ndc11"].head(limit).to_list():
        a, b, c = ndc[:5], ndc[5:9], ndc[9:]
        out += [ndc, f"{a}-{b}-{c}"]
        if a.startswith("0"):
            out.append(f"{a[1:]}-{b}-{c}")
        if b.startswith("0"):
            out.append(f"{a}-{b[1:]}-{c}")
        if c.startswith("0"):
            out.append(f"{a}-{b}-{c[1:]}")
    return out


def _parse(frame: pl.DataFrame) -> list[dict[str, str | None]]:
    parsed = with_ndc_parse(frame.lazy(), "ndc", prefix="p_").collect()
    assert parsed.columns == ["ndc", *(f"p_{name}" for name in FIELDS)]  # temporaries dropped
    return parsed.select(pl.col(f"p_{name}").alias(name) for name in FIELDS).to_dicts()


def _expected(value: str | None) -> dict[str, str | None]:
    if value is None:
        return dict.fromkeys(["status", "ndc11", "layout", "reason", *CANDIDATES.values()])
    parsed = parse_ndc(value)
    return {
        "status": parsed.status,
        "ndc11": parsed.ndc11,
        "layout": parsed.layout,
        "reason": parsed.reason,
        **{col: parsed.candidates.get(name) for name, col in CANDIDATES.items()},
    }


def test_vectorised_parse_agrees_with_parse_ndc() -> None:
    rng = random.Random(20251001)
    sample: list[str | None] = [
        *HAND_PICKED,
        *_crosswalk_forms(300),
        *_random_sample(rng, 3000),
        None,
    ]
    frame = pl.DataFrame({"ndc": sample}, schema={"ndc": pl.String})
    got = _parse(frame)
    mismatches = [
        (value, row, _expected(value))
        for value, row in zip(sample, got, strict=True)
        if row != _expected(value)
    ]
    assert not mismatches, mismatches[:5]
    statuses = {row["status"] for row in got}
    assert statuses == {"ok", "ambiguous", "invalid", None}  # the sample reaches every branch


@pytest.mark.parametrize(
    ("submitted", "ndc11", "printed"),
    [
        ("0781-2104-01", "00781210401", "00781-2104-01"),
        ("55111-527-05", "55111052705", "55111-0527-05"),
        ("68992-3075-3", "68992307503", "68992-3075-03"),
    ],
)
def test_hyphenated_ten_digit_forms_pad_the_short_segment(
    submitted: str, ndc11: str, printed: str
) -> None:
    frame = pl.DataFrame({"ndc": [submitted]})
    assert _parse(frame)[0]["ndc11"] == ndc11
    assert frame.select(hyphenated(pl.lit(ndc11)).alias("h"))["h"][0] == printed


def test_blank_text() -> None:
    frame = pl.DataFrame({"t": [None, "", "  \t", "N4", " x "]}, schema={"t": pl.String})
    assert frame.select(is_blank(pl.col("t")))["t"].to_list() == [True, True, True, False, False]


def test_non_ascii_digits_are_not_an_ndc() -> None:
    frame = pl.DataFrame({"ndc": [DEVANAGARI_11]})
    parsed = _parse(frame)[0]
    assert parsed["status"] == "invalid"
    assert parsed["reason"] == "NDC must contain only digits and hyphens"


def test_parse_ndc_rejects_non_ascii_digits() -> None:
    assert parse_ndc(DEVANAGARI_11).status == "invalid"
