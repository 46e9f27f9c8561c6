"""NDC: NDC reporting (presence, format, qualifier, unit, quantity, crosswalk)."""
