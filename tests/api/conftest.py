"""A small image dataset with tags, labels, a mask, captions and metadata for api tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from lightly_studio import embed


def write_images(folder: Path, sizes: dict[str, tuple[int, int]]) -> None:
    from PIL import Image

    for i, (name, (w, h)) in enumerate(sorted(sizes.items())):
        Image.new("RGB", (w, h), ((40 * i) % 256, (90 * i) % 256, 120)).save(folder / name)


@pytest.fixture
def small_ds(db, tmp_path):
    """5 images: a.jpg 400x300 (tag 'good', 2 cars + a person mask, caption),
    b.jpg 200x100 (tag 'good', prediction 'car' 0.4), c.png 640x480 (metadata), d.jpg, e.jpg."""
    from lightly_studio.core.annotation import (
        CreateInstanceSegmentation,
        CreateObjectDetection,
    )
    from lightly_studio.core.image_dataset import ImageDataset

    images = tmp_path / "images"
    images.mkdir()
    write_images(
        images,
        {
            "a.jpg": (400, 300),
            "b.jpg": (200, 100),
            "c.png": (640, 480),
            "d.jpg": (50, 50),
            "e.jpg": (3000, 2000),
        },
    )
    ds = ImageDataset.create("small")
    ds.add_images_from_path(str(images), embed=False)
    by_name = {s.file_name: s for s in ds}
    by_name["a.jpg"].add_tag("good")
    by_name["b.jpg"].add_tag("good")
    by_name["a.jpg"].add_annotation(
        CreateObjectDetection(label="car", x=10, y=20, width=50, height=40)
    )
    by_name["a.jpg"].add_annotation(
        CreateObjectDetection(label="car", x=100, y=20, width=50, height=40)
    )
    mask = np.zeros((300, 400), dtype=bool)
    mask[100:150, 200:260] = True
    by_name["a.jpg"].add_annotation(CreateInstanceSegmentation.from_binary_mask("person", mask))
    by_name["b.jpg"].add_annotation(
        CreateObjectDetection(
            label="car", x=1, y=1, width=20, height=20, confidence=0.4, annotation_source="model"
        )
    )
    by_name["a.jpg"].add_caption("a red car <b>next</b> to a person")
    by_name["c.png"].metadata["weather"] = "sunny"
    by_name["c.png"].metadata["speed"] = 12.5
    by_name["d.jpg"].metadata["weather"] = "rain"
    by_name["d.jpg"].metadata["speed"] = 3.0
    ds.by_name = by_name  # test convenience
    return ds


@pytest.fixture
def fake_projection(small_ds, monkeypatch):
    """A projection without embedding models: x = width, y = height."""

    def compute_projection(dataset, embedding_model_name=None, recompute=False):
        frame = dataset.query().to_polars()
        return frame.select(
            pl.col("sample_id").cast(pl.Utf8),
            pl.col("width").cast(pl.Float32).alias("x"),
            pl.col("height").cast(pl.Float32).alias("y"),
        )

    monkeypatch.setattr(embed, "compute_projection", compute_projection)
    return small_ds


class _OneWayText:
    """A text encoder whose every text points one way: a text search ranks the samples that
    have a vector of this model, and those without one are not among its matches."""

    def embed_images(self, images):
        raise AssertionError("these tests store their vectors")

    def embed_texts(self, texts):
        return np.ones((len(texts), 2), dtype=np.float32)


@pytest.fixture
def text_searchable():
    """``embed_for_text(ds, samples)``: vectors of model 'words' (which has a text encoder)
    for these samples only, so a text search over ``ds`` matches just them."""
    from lightly_studio.embed.models import register_embedding_model, unregister_embedding_model

    register_embedding_model(_OneWayText(), name="words")

    def embed_for_text(ds, samples) -> list[str]:
        ids = [str(s.sample_id) for s in samples]
        vectors = np.random.default_rng(0).normal(size=(len(ids), 2))
        embed.add_embeddings(ds, "words", ids, vectors)
        return ids

    yield embed_for_text
    unregister_embedding_model("words")


@pytest.fixture
def no_scoring(monkeypatch):
    """Fail the test if anything scores samples by similarity from now on."""

    def similarity_scores(*args, **kwargs):
        raise AssertionError("scored every sample where only the matching set was needed")

    monkeypatch.setattr(embed, "similarity_scores", similarity_scores)
