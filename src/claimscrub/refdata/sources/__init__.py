"""One normaliser module per dataset: raw canonical frame in, typed table out.

Every module here exposes:

- ``DATASET`` — the dataset name (a folder of the store, a key of ``manifest.toml``);
- ``RAW_COLUMNS`` — the columns of the raw canonical frame, named as the header of
  the shared CSV (all text, ISO dates, trimmed, empty = null; see
  :func:`claimscrub.refdata.sources.common.read_raw_csv`);
- ``KEY_COLUMNS`` — the columns a row is looked up by;
- ``NORMALISER_VERSION`` — bumped whenever the output of ``build`` changes;
- ``build(raw: pl.DataFrame) -> pl.DataFrame`` — pure: it types the columns, adds the
  derived columns documented in the module, sorts by key, and raises
  :class:`~claimscrub.refdata.sources.common.NormaliseError` (naming dataset, column
  and row) on a value it cannot read.

``scripts/build_refdata.py`` feeds them the shared CSVs; ``refdata/importer.py`` feeds
them the official CMS files parsed into the same raw frame. ``icd10cm`` is different:
its module builds its own table (``build() -> (table, provenance)``).
"""

from __future__ import annotations

import importlib
from types import ModuleType

# dataset -> module under claimscrub.refdata.sources
SOURCE_MODULES: dict[str, str] = {
    "hcpcs": "hcpcs",
    "ndc_hcpcs": "ndc_hcpcs",
    "asp": "asp",
    "mue": "mue",
    "opps": "opps",
    "pos": "pos",
    "carc_rarc": "carc_rarc",
}


def source_module(dataset: str) -> ModuleType:
    """The normaliser module of ``dataset`` (KeyError for an unknown dataset)."""
    return importlib.import_module(f"claimscrub.refdata.sources.{SOURCE_MODULES[dataset]}")
