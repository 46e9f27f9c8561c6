"""Dated, sourced reference data.

HCPCS, NDC crosswalk, ASP, MUE, OPPS, POS, CARC/RARC ids and ICD-10-CM.
"""
