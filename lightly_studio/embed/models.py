"""Bring your own encoder: anything with ``embed_images`` and ``embed_texts`` can be used.

    class MyEncoder:
        name = "my-encoder-v1"
        def embed_images(self, images: list[PIL.Image.Image]) -> np.ndarray: ...  # [n, d]
        def embed_texts(self, texts: list[str]) -> np.ndarray: ...                # [n, d]

    register_embedding_model(MyEncoder())
    dataset.compute_embeddings(embedding_model="my-encoder-v1")   # or pass the object
    dataset.query().sort_by_similarity(text="a red car")        # uses embed_texts

Vectors may be numpy arrays or torch tensors; they are L2-normalised before storage.
Registration lives in this process only: after a restart, register the model again to run
text search with it (stored vectors, image search, typicality and the plot work without).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image as PILImage

CUSTOM_PREFIX = "custom:"


@runtime_checkable
class EmbeddingModel(Protocol):
    """What lightly_studio needs from an image–text encoder."""

    name: str

    def embed_images(self, images: list[PILImage.Image]) -> np.ndarray:
        """One vector per RGB image, shape ``[len(images), dim]``."""
        ...

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        """One vector per text, shape ``[len(texts), dim]``, in the same space as the images."""
        ...


_REGISTRY: dict[str, Any] = {}


def register_embedding_model(model: EmbeddingModel, name: str | None = None) -> str:
    """Make ``model`` usable by name in ``compute_embeddings(embedding_model=name)`` and search."""
    if not callable(getattr(model, "embed_images", None)):
        raise TypeError(f"{type(model).__name__} has no embed_images(images) method.")
    name = name or getattr(model, "name", None) or type(model).__name__
    _REGISTRY[name] = model
    return name


def unregister_embedding_model(name: str) -> None:
    _REGISTRY.pop(name, None)


def registered_model(name: str) -> Any | None:
    if name.startswith(CUSTOM_PREFIX):
        name = name[len(CUSTOM_PREFIX) :]
    return _REGISTRY.get(name)


def registered_names() -> list[str]:
    return list(_REGISTRY)
