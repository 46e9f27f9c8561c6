"""The canonical result JSON, and JSON Lines (one finding per line, for pipelines; then one
``{"rejected": ...}`` per rejected input and one ``{"input_warning": ...}`` per input
warning)."""

from __future__ import annotations

import json
from typing import Any, TextIO


def render(result: dict[str, Any], stream: TextIO, fmt: str) -> None:
    """Write ``result`` as the public result JSON, or as one JSON object per finding."""
    if fmt == "json":
        json.dump(result, stream, indent=2, ensure_ascii=False)
        stream.write("\n")
        return
    for claim in result["claims"]:
        for finding in claim["findings"]:
            stream.write(json.dumps({"claim": claim["id"], **finding}, ensure_ascii=False) + "\n")
    for rejected in result["rejected"]:
        stream.write(json.dumps({"rejected": rejected}, ensure_ascii=False) + "\n")
    for noticed in result.get("input_warnings", []):
        stream.write(json.dumps({"input_warning": noticed}, ensure_ascii=False) + "\n")
