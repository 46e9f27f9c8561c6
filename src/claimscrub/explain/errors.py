"""The one exception of the explanation builder."""

from __future__ import annotations

UNKNOWN = "unknown"
MALFORMED = "malformed"


class ExplainError(ValueError):
    """A code (or option) that cannot be explained; the message names the problem.

    ``kind`` is ``"unknown"`` for a well-formed code no installed release lists (the CLI
    exits 1, the web app answers 404) and ``"malformed"`` for input that is not a HCPCS
    Level II code or an unknown payer pack (the CLI exits 2, the web app answers 422).
    ``param`` names the input at fault (``code`` or ``payer``).
    """

    def __init__(self, message: str, kind: str = MALFORMED, param: str = "code") -> None:
        super().__init__(message)
        self.kind = kind
        self.param = param  # the input at fault: "code", "payer" or "on"
