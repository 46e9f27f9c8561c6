"""PAU: prior authorisation and payer drug policy (rules.md section 7)."""
