"""Functions plugins call to read and write the dataset, named as in the reference product's
plugin examples (``annotation_label_resolver``, ``annotation_resolver``, ``image_resolver``).

Each takes the ``session`` an operator receives (``lightly_studio.plugins.context.Session``) as a
keyword argument and works on this process's DuckDB database. Writes run in a transaction
that joins the operator run's transaction, so a failed run stores nothing.

The submodules are imported on first attribute access so ``import lightly_studio`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_SUBMODULES = {"annotation_label_resolver", "annotation_resolver", "image_resolver"}

__all__ = sorted(_SUBMODULES)


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"lightly_studio.resolvers.{name}")
    raise AttributeError(f"module 'lightly_studio.resolvers' has no attribute {name!r}")
