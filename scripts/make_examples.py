"""Build the example batch's CSV and X12 837P forms from examples/immunosuppressants.json.

The JSON file is the hand-written source (synthetic patients, real codes and NDCs). This
script writes ``examples/immunosuppressants.csv`` with the project's CSV writer and
``examples/immunosuppressants.837`` as a 5010 837P (005010X222A1) with one claim per
2000B subscriber loop, drug lines with 2410 LIN/CTP, and correct envelope counts.
Facts that X12 cannot carry (patient transplant history, days' supply) are written as
2400 NTE text, as billers do. Run it after editing the JSON; a test checks the files
are current.

    python scripts/make_examples.py
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from claimscrub.readers.json_claims import read_json_claims
from claimscrub.readers.writers import write_csv

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "examples" / "immunosuppressants.json"

# X12 claim filing indicator (SBR09) by payer type: MB Medicare Part B, MC Medicaid,
# 16 HMO Medicare risk (Medicare Advantage), CI commercial insurance.
_FILING = {"medicare": "MB", "medicaid": "MC", "medicare_advantage": "16", "commercial": "CI"}


def _d8(iso: str) -> str:
    return iso.replace("-", "")


def _claim_segments(claim: dict[str, Any], hl: int) -> list[str]:
    patient, payer = claim["patient"], claim["payer"]
    segs = [
        f"HL*{hl}*1*22*0",
        f"SBR*P*18*******{_FILING[payer['type']]}",
        f"NM1*IL*1*PATIENT*{patient['id'].replace('-', '')}****MI*{patient['id'].replace('-', '')}",
        "N3*100 EXAMPLE STREET",
        "N4*PORTLAND*OR*97201",
        f"DMG*D8*{_d8(patient['birth_date'])}*{patient['sex']}",
        f"NM1*PR*2*{payer['name'].upper()}*****PI*{payer['id']}",
    ]
    total = sum(line.get("charge", 0) for line in claim["lines"])
    segs.append(f"CLM*{claim['id']}*{total:.2f}***{claim['place_of_service']}:B:1*Y*A*Y*Y")
    if claim.get("prior_authorization"):  # 2300 REF comes before HI
        segs.append(f"REF*G1*{claim['prior_authorization']}")
    codes = [dx.replace(".", "") for dx in claim["diagnoses"]]
    segs.append("HI*" + "*".join([f"ABK:{codes[0]}", *[f"ABF:{c}" for c in codes[1:]]]))
    for line in claim["lines"]:
        proc = ":".join(["HC", line["hcpcs"], *line.get("modifiers", [])])
        pointers = ":".join(str(p) for p in line.get("diagnosis_pointers", [1]))
        units = f"{line['units']:g}"
        segs += [
            f"LX*{line['number']}",
            f"SV1*{proc}*{line.get('charge', 0):.2f}*UN*{units}***{pointers}",
            f"DTP*472*D8*{_d8(line.get('service_date', claim['service_date']))}",
        ]
        notes = []
        for t in patient.get("transplants", []):
            notes.append(f"TRANSPLANT {t['organ'].upper()} {_d8(t['date'])}")
        if line.get("days_supply"):
            notes.append(f"DAYS SUPPLY {line['days_supply']}")
        if notes and line.get("ndc"):
            segs.append("NTE*ADD*" + " ".join(notes)[:80])
        if line.get("ndc"):
            segs += [
                f"LIN**N4*{line['ndc']}",
                f"CTP****{line['ndc_quantity']:g}*{line['ndc_unit']}",
            ]
    return segs


def to_837p(document: dict[str, Any]) -> str:
    """The claims of a Claims JSON document as one 837P interchange."""
    body = [
        "ST*837*0001*005010X222A1",
        "BHT*0019*00*EX0001*20260105*0900*CH",
        "NM1*41*2*EXAMPLE TRANSPLANT PHARMACY*****46*EXPHARM01",
        "PER*IC*BILLING OFFICE*TE*5035550100",
        "NM1*40*2*EXAMPLE CLEARINGHOUSE*****46*EXCLEAR01",
        "HL*1**20*1",
        "NM1*85*2*EXAMPLE TRANSPLANT PHARMACY*****XX*1234567893",
        "N3*200 EXAMPLE AVENUE",
        "N4*PORTLAND*OR*97201",
        "REF*EI*930000000",
    ]
    for i, claim in enumerate(document["claims"], start=2):
        body += _claim_segments(claim, i)
    body.append(f"SE*{len(body) + 1}*0001")
    envelope = [
        "ISA*00*          *00*          *ZZ*EXPHARM01      *ZZ*EXCLEAR01      *260105*0900*^*00501*000000001*0*T*:",
        "GS*HC*EXPHARM01*EXCLEAR01*20260105*0900*1*X*005010X222A1",
        *body,
        "GE*1*1",
        "IEA*1*000000001",
    ]
    return "~\n".join(envelope) + "~\n"


def build() -> dict[str, str]:
    """File name -> content of every derived example file."""
    data = SOURCE.read_bytes()
    batch, _history = read_json_claims(data, SOURCE.name)
    csv_text = io.StringIO()
    write_csv(batch, csv_text)
    return {
        "immunosuppressants.csv": csv_text.getvalue(),
        "immunosuppressants.837": to_837p(json.loads(data)),
    }


def main() -> None:
    for name, content in build().items():
        (ROOT / "examples" / name).write_text(content, encoding="utf-8", newline="")
        print(f"wrote examples/{name}")


if __name__ == "__main__":
    main()
