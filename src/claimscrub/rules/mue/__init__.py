"""MUE: Medicare medically unlikely edits (units per line and per date of service)."""
