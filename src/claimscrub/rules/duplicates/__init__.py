"""DUP: lines billed twice, within a claim or against the patient's history."""
