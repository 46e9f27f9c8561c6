"""MCR: rules of the Medicare Part B immunosuppressive drug benefit (DME MAC lines)."""
