"""Shared helpers for rule tests: run a case file's claims through the real JSON reader."""
