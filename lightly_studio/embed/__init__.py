"""Embeddings: compute (open_clip or your own model), store, search, typicality, projection.

Importing this package is cheap; torch, open_clip and pacmap load on first use.
Bring-your-own encoders: ``lightly_studio.embed.models``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = [
    "add_embeddings",
    "compute_embeddings",
    "compute_projection",
    "compute_similarity_metadata",
    "compute_typicality_metadata",
    "embed_decoded_images",
    "embed_image_bytes",
    "embedding_model_names",
    "get_embeddings",
    "resolve_model_name",
    "similarity_scores",
    "with_vector",
]

if TYPE_CHECKING:
    from lightly_studio.embed._api import (
        add_embeddings,
        compute_embeddings,
        compute_projection,
        compute_similarity_metadata,
        compute_typicality_metadata,
        embed_decoded_images,
        embed_image_bytes,
        embedding_model_names,
        get_embeddings,
        resolve_model_name,
        similarity_scores,
        with_vector,
    )


def __getattr__(name: str) -> Any:
    if name in __all__:
        value = getattr(importlib.import_module("lightly_studio.embed._api"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'lightly_studio.embed' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
