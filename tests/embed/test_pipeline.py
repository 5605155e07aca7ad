"""From image files to normalised vectors, with open_clip random weights or a custom model."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pytest
from PIL import Image

from lightly_studio.embed._open_clip import RandomWeightsWarning, load_model, unload_models
from lightly_studio.embed._pipeline import Failures, embed_paths
from tests.embed.conftest import RANDOM_SPEC


def write_images(folder, n: int) -> list[str]:
    rng = np.random.default_rng(0)
    paths = []
    for i in range(n):
        path = folder / f"img_{i}.jpg"
        Image.fromarray(rng.integers(0, 255, (48 + i, 64, 3), dtype=np.uint8)).save(path)
        paths.append(str(path))
    return paths


def test_random_weights_warn_loudly_and_are_the_same_in_every_load(random_model, tmp_path):
    path = write_images(tmp_path, 1)[0]
    first = random_model.embed_images([Image.open(path)])
    unload_models()
    with pytest.warns(RandomWeightsWarning, match="RANDOM weights.*meaningless"):
        again = load_model(RANDOM_SPEC)
    np.testing.assert_allclose(first, again.embed_images([Image.open(path)]), atol=1e-5)


def test_pipeline_embeds_every_readable_image_in_batches(random_model, tmp_path):
    paths = write_images(tmp_path, 5)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not an image")
    paths.insert(2, str(broken))
    failures = Failures()
    model = load_model(RANDOM_SPEC)
    batches = list(
        embed_paths(model, paths, batch_size=2, num_workers=2, progress=False, failures=failures)
    )
    positions = np.concatenate([p for p, _ in batches])
    vectors = np.concatenate([v for _, v in batches])
    assert positions.tolist() == [0, 1, 3, 4, 5]
    assert vectors.shape == (5, model.dim) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert failures.paths == [str(broken)]
    assert "broken.jpg" in failures.summary()
    # The pipeline gives what the model gives image by image.
    single = model.embed_images([Image.open(paths[3])])
    np.testing.assert_allclose(vectors[2], single[0], atol=1e-4)


def test_texts_embed_into_the_image_space(random_model):
    model = load_model(RANDOM_SPEC)
    texts = model.embed_texts(["a red car", "a red car", "a dog"])
    assert texts.shape == (3, model.dim)
    np.testing.assert_allclose(texts[0], texts[1])
    assert not np.allclose(texts[0], texts[2])


class MeanColour:
    """A custom encoder: the mean RGB of an image; texts are colour names."""

    name = "mean-colour"
    colours: ClassVar[dict[str, list[int]]] = {
        "red": [1, 0, 0],
        "green": [0, 1, 0],
        "blue": [0, 0, 1],
    }

    def embed_images(self, images):
        return np.stack([np.asarray(img, dtype=np.float32).mean(axis=(0, 1)) for img in images])

    def embed_texts(self, texts):
        return np.array([self.colours[t] for t in texts], dtype=np.float32)


def test_custom_models_get_pil_images_and_their_vectors_are_normalised(tmp_path):
    path = tmp_path / "red.png"
    Image.new("RGB", (10, 10), (200, 0, 0)).save(path)
    [(positions, vectors)] = list(embed_paths(MeanColour(), [str(path)], progress=False))
    assert positions.tolist() == [0]
    np.testing.assert_allclose(vectors, [[1.0, 0.0, 0.0]])
