"""Dated, sourced reference data (HCPCS, NDC crosswalk, ASP, MUE, OPPS, POS, CARC/RARC, ICD-10-CM)."""
