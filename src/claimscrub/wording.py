"""Small wording helpers shared by the reports: a count and the word it counts."""

from __future__ import annotations


def counted(count: int, word: str, plural: str | None = None, *, grouped: bool = False) -> str:
    """'1 finding', '3 findings', '2 passes' (``plural`` when adding 's' is wrong);
    ``grouped`` writes thousands with commas ('1,204 lines')."""
    number = f"{count:,}" if grouped else str(count)
    return f"{number} {word if count == 1 else plural or word + 's'}"
