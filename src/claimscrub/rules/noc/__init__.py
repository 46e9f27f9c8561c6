"""NOC: not-otherwise-classified codes."""
