"""DGN: diagnoses that support (or fail to support) a drug line (rules.md section 4)."""
