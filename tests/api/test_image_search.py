"""Search by image (api/image_search.py, embed.embed_image_bytes): an uploaded image is embedded
in memory with the dataset's model and ranks the grid; limits give clear errors."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest

from lightly_studio.api import dispatch
from lightly_studio.embed.models import register_embedding_model, unregister_embedding_model
from lightly_studio.errors import EmbeddingError, QueryError


class MeanColourModel:
    """Image vector = the normalised mean RGB (+ a small constant), so the ranking is known."""

    def embed_images(self, images):
        rows = [
            np.asarray(im.convert("RGB"), dtype=np.float32).mean(axis=(0, 1)) + 1 for im in images
        ]
        return np.array(rows, dtype=np.float32)

    def embed_texts(self, texts):
        raise AssertionError("not used")


@pytest.fixture
def colour_ds(small_ds):
    from PIL import Image

    model = MeanColourModel()
    register_embedding_model(model, name="colour")
    samples = list(small_ds)
    vectors = model.embed_images([Image.open(s.file_path_abs) for s in samples])
    small_ds.add_embeddings("colour", [s.sample_id for s in samples], vectors)
    yield small_ds
    unregister_embedding_model("colour")


def jpeg_of(path) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.open(path).convert("RGB").resize((64, 64)).save(out, "PNG")
    return out.getvalue()


def ranked(ds, token):
    result, _ = dispatch(
        "samples_page",
        {"spec": {"dataset_id": str(ds.dataset_id), "similar_image": token}, "limit": 10},
    )
    return [(r["file_name"], r["similarity"]) for r in result["rows"]]


def files_under(folder) -> set[str]:
    return {os.path.join(d, f) for d, _, names in os.walk(folder) for f in names}


def test_an_uploaded_image_ranks_the_grid_with_scores_and_writes_nothing(colour_ds, tmp_path):
    before = files_under(tmp_path)
    result, _ = dispatch(
        "image_search",
        {"dataset_id": str(colour_ds.dataset_id)},
        [jpeg_of(colour_ds.by_name["c.png"].file_path_abs)],
    )
    assert result["model"] == "colour" and result["token"].startswith("image-")
    rows = ranked(colour_ds, result["token"])
    assert rows[0][0] == "c.png" and rows[0][1] == pytest.approx(1.0, abs=1e-4)
    assert [s for _, s in rows] == sorted((s for _, s in rows), reverse=True)
    # Embedded in memory: not a file more anywhere near the database or the images.
    assert files_under(tmp_path) - before <= {p for p in files_under(tmp_path) if ".wal" in p}


def test_image_search_refuses_too_large_empty_and_non_images(colour_ds):
    ds = {"dataset_id": str(colour_ds.dataset_id)}
    with pytest.raises(EmbeddingError, match=r"is 8\.0 MB; the limit is 8 MB"):
        dispatch("image_search", ds, [b"\xff" * (8 * 1024 * 1024 + 1)])
    with pytest.raises(EmbeddingError, match="cannot be read as an image"):
        dispatch("image_search", ds, [b"%PDF-1.4 not an image"])
    with pytest.raises(EmbeddingError, match="empty"):
        dispatch("image_search", ds, [b""])
    with pytest.raises(QueryError, match="exactly one image"):
        dispatch("image_search", ds, [])


def test_a_spec_with_an_unknown_image_token_is_a_clear_error(colour_ds):
    with pytest.raises(QueryError, match="Unknown or expired image reference"):
        ranked(colour_ds, "image-999999")


def test_image_search_needs_an_image_encoder_in_this_process(colour_ds):
    unregister_embedding_model("colour")
    with pytest.raises(EmbeddingError, match="has no image encoder in this process"):
        dispatch(
            "image_search",
            {"dataset_id": str(colour_ds.dataset_id)},
            [jpeg_of(colour_ds.by_name["c.png"].file_path_abs)],
        )
    register_embedding_model(MeanColourModel(), name="colour")
