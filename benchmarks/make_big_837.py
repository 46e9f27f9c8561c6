"""Build a large 837P of drug claims for the X12 reader benchmark (not a test).

The claims are a real TR3 example claim (home-infusion pharmacy, drug lines with
LIN/CTP) replicated and varied: claim ids, member ids, birth dates, dates of
service inside the crosswalk quarter, and the drug lines' HCPCS code, NDC and
quantities drawn from the CMS ASP NDC-HCPCS crosswalk (immunosuppressant J75xx
codes with an 11-digit NDC). Envelope counts, HL numbering and SE01 are exact, so
a correct reader rejects nothing.

    python benchmarks/make_big_837.py                 # ~27 MB, 20,000 claims
    python benchmarks/make_big_837.py --large         # ~250 MB, 193,000 claims

Output goes to benchmarks/out/ (git-ignored).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
from pathlib import Path

from claimscrub.readers.x12.tokenizer import Segment, iter_segments

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DEFAULT_BASE = (
    SHARED / "fixtures/x12/badx12__X222-home-infusion-therapy-pharmacy-"
    "(adjudicated-with-HCPCS-in-loop-2400-or-NDC-in-loop-2410).edi"
)
CROSSWALK = SHARED / "refdata/asp_ndc_hcpcs_crosswalk_2025_q4.csv"
OUT = ROOT / "benchmarks/out"


def load_drugs(path: Path) -> list[dict[str, str]]:
    """Crosswalk rows of J75xx codes (the immunosuppressant range) that carry an NDC."""
    with path.open(newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["hcpcs_code"].startswith("J75") and r["ndc11"]]
    if not rows:
        raise SystemExit(f"no J75xx rows with an NDC in {path}")
    return rows


def split_base(
    segments: list[Segment],
) -> tuple[list[Segment], list[Segment], list[Segment], list[Segment]]:
    """(ISA+GS, ST header up to the first subscriber HL, one claim block, GE+IEA)."""
    ids = [s.id for s in segments]
    st = ids.index("ST")
    first_sub = next(i for i, s in enumerate(segments) if s.id == "HL" and s.element(3) == "22")
    se = ids.index("SE")
    return segments[:st], segments[st:first_sub], segments[first_sub:se], segments[se + 1 :]


class Writer:
    """Join elements with the base file's separators."""

    def __init__(self, seg: Segment) -> None:
        self.el = seg.separators.element
        self.comp = seg.separators.component
        self.term = seg.separators.segment + "\n"

    def join(self, elements: list[str]) -> str:
        while len(elements) > 1 and elements[-1] == "":
            elements.pop()
        return self.el.join(elements) + self.term


def claim_segments(
    block: list[Segment],
    w: Writer,
    rnd: random.Random,
    n: int,
    hl_id: int,
    parent_hl: str,
    drugs: list[dict],
) -> list[str]:
    """One varied copy of the base claim block (HL*22 … last line)."""
    start = dt.date(2025, 10, 1) + dt.timedelta(days=rnd.randrange(0, 85))
    end = start + dt.timedelta(days=6)
    period = f"{start:%Y%m%d}-{end:%Y%m%d}"
    member = f"SYN{rnd.randrange(10**8):08d}"
    birth = dt.date(1940, 1, 1) + dt.timedelta(days=rnd.randrange(0, 25000))
    out: list[str] = []
    total = 0.0
    clm_at = -1
    clm: list[str] = []
    drug: dict[str, str] | None = None
    for seg in block:
        e = list(seg.elements)
        if seg.id == "HL":
            e = ["HL", str(hl_id), parent_hl, "22", "0"]
        elif seg.id == "NM1" and e[1] == "IL":
            e[9] = member
        elif seg.id == "DMG":
            e[2] = f"{birth:%Y%m%d}"
        elif seg.id == "CLM":
            e[1] = f"SYN{n:07d}"
            clm_at, clm = len(out), e
        elif seg.id == "LX":
            drug = None
        elif seg.id == "SV1":
            comp = e[1].split(w.comp)
            units = float(e[4] or 1)
            charge = float(e[2] or 0)
            if comp[1].startswith("J"):
                drug = rnd.choice(drugs)
                comp[1] = drug["hcpcs_code"]
                del comp[
                    2:
                ]  # the example's J3490 lines carry a NOC description; J75xx codes do not
                packages = rnd.choice((1, 1, 2, 3))
                units = float(drug["bill_units_per_ndc"] or 1) * packages
                charge = round(units * rnd.uniform(0.5, 40.0), 2)
            e[1] = w.comp.join(comp)
            e[2] = f"{charge:.2f}"
            e[4] = f"{units:g}"
            total += charge
        elif seg.id == "DTP" and e[1] == "472":
            e[2], e[3] = "RD8", period
        elif seg.id == "DTP" and e[1] == "471":
            e[3] = f"{start - dt.timedelta(days=2):%Y%m%d}"
        elif seg.id == "LIN" and drug is not None:
            e[3] = drug["ndc11"]
        elif seg.id == "CTP" and drug is not None:
            size = float(drug["pkg_size"] or 1) * float(drug["pkg_qty"] or 1)
            e[4] = f"{size * rnd.choice((1, 2, 3)):g}"
            e[5] = "ML" if drug["hcpcs_dosage"].endswith("ML") else "UN"
        elif seg.id == "REF" and e[1] == "XZ":
            e[2] = f"RX{rnd.randrange(10**7):07d}"
        out.append(w.join(e))
    clm[2] = f"{total:.2f}"
    out[clm_at] = w.join(clm)
    return out


def build(base: Path, out: Path, claims: int, per_st: int, seed: int) -> tuple[int, int]:
    """Write the file; return (bytes, claims)."""
    with base.open("rb") as fh:
        segments = list(iter_segments(fh))
    head, st_header, block, tail = split_base(segments)
    w = Writer(segments[0])
    drugs = load_drugs(CROSSWALK)
    rnd = random.Random(seed)
    isa, gs = head[0], head[1]
    written = 0
    n_st = 0
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as fh:
        fh.write(isa.separators.element.join(isa.elements) + w.term)
        fh.write(w.join(list(gs.elements)))
        while written < claims:
            n_st += 1
            body: list[str] = []
            for seg in st_header:
                e = list(seg.elements)
                if seg.id == "ST":
                    e[2] = f"{n_st:04d}"
                body.append(w.join(e))
            billing_hl = next(s.element(1) for s in st_header if s.id == "HL")
            hl = int(billing_hl)
            for _ in range(min(per_st, claims - written)):
                hl += 1
                body.extend(claim_segments(block, w, rnd, written + 1, hl, billing_hl, drugs))
                written += 1
            body.append(w.join(["SE", str(len(body) + 1), f"{n_st:04d}"]))
            fh.write("".join(body))
        fh.write(w.join(["GE", str(n_st), gs.element(6)]))
        fh.write(w.join(["IEA", "1", isa.element(13)]))
        del tail
    return out.stat().st_size, written


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--base", type=Path, default=DEFAULT_BASE, help="fixture whose claim is replicated"
    )
    ap.add_argument("--claims", type=int, default=None, help="number of claims (default 20,000)")
    ap.add_argument("--per-st", type=int, default=100, help="claims per ST…SE transaction set")
    ap.add_argument("--large", action="store_true", help="the ~250 MB variant (193,000 claims)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    claims = args.claims or (193_000 if args.large else 20_000)
    out = args.out or OUT / ("big_837p_250mb.x12" if args.large else "big_837p.x12")
    size, n = build(args.base, out, claims, args.per_st, args.seed)
    print(f"{out}: {size / 1e6:.1f} MB, {n} claims")


if __name__ == "__main__":
    main()
