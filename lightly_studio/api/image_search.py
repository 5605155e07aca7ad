"""Search by image: an image pasted, uploaded or dropped on the search box is embedded in
memory with the dataset's stored embedding model; the grid then ranks by similarity to it
(spec ``similar_image``). A grid tile dropped on the box needs no upload: the view sends
``similar_to`` with its sample id instead."""

from __future__ import annotations

from typing import Any

from lightly_studio import embed as _embed
from lightly_studio.api import _contracts as c
from lightly_studio.api._methods import method
from lightly_studio.api._spec import dataset_of, optional_text, register_image_query
from lightly_studio.errors import QueryError


@method("image_search", c.ImageSearchParams, c.ImageSearchResult, buffers_in=True)
def image_search(params: dict, buffers: list[bytes]) -> tuple[Any, list[bytes]]:
    """Embed the one image in ``buffers``; answer the token a spec's ``similar_image`` takes.
    Nothing is written: the image lives only for this call, its vector in memory."""
    dataset = dataset_of(params.get("dataset_id"))
    if len(buffers) != 1:
        raise QueryError(f"image_search takes exactly one image, got {len(buffers)} buffers.")
    model_name = optional_text(params.get("embedding_model"), "embedding_model")
    name, vector = _embed.embed_image_bytes(dataset, bytes(buffers[0]), model_name)
    return {"token": register_image_query(name, vector), "model": name}, []
