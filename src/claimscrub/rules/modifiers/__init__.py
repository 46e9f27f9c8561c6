"""MOD: modifiers on drug lines (rules.md section 5)."""
