"""The synthetic user pack that excludes a product (PAU006) and a claim it excludes.

``fixtures/packs/example-medical-plan.yaml`` is made up (example.org sources; its TOML twin
``example-medical-plan.toml`` says the same); the claim uses
a real code and NDC: 00469-0617-73 is J7507 on the bundled ASP crosswalk.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

EXAMPLE_PLAN = Path(__file__).resolve().parent / "fixtures" / "packs" / "example-medical-plan.yaml"
EXAMPLE_PLAN_TOML = EXAMPLE_PLAN.with_suffix(".toml")  # the same pack, written in TOML
EXAMPLE_PLAN_NAME = "example-medical-plan"


def excluded_claim(policy: str = EXAMPLE_PLAN_NAME) -> dict[str, Any]:
    """One J7507 claim naming ``policy`` (the example plan excludes J7507)."""
    return {
        "id": "SYN-EXCL-1",
        "type": "professional",
        "payer": {"type": "commercial", "policy": policy},
        "place_of_service": "12",
        "service_date": "2025-06-10",
        "patient": {"id": "P61"},
        "diagnoses": ["Z94.0"],
        "lines": [
            {
                "number": 1,
                "hcpcs": "J7507",
                "units": 180,
                "ndc": "00469061773",
                "ndc_quantity": 180,
                "ndc_unit": "UN",
            }
        ],
    }
