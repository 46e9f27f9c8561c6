"""Which codes are NOC comes from the bundled HCPCS descriptors, release by release."""

from __future__ import annotations

from claimscrub.refdata.catalog import default_refdata
from claimscrub.rules.noc.classify import noc_codes


def test_the_noc_codes_are_read_from_the_hcpcs_file() -> None:
    codes = set(noc_codes(default_refdata()).to_list())
    # "Immunosuppressive drug, not otherwise classified", "Unclassified drugs" ...
    assert {"J7599", "J3490", "J7999", "J8499"} <= codes
    # ... and no specific code with a unit: tacrolimus (J7507, J7503), equine
    # anti-thymocyte globulin (J7504).
    assert not {"J7507", "J7503", "J7504"} & codes
