"""UNT: billing units (units vs NDC quantity and dose, whole units, one line per strength, JW)."""
