"""Embedding tests: one small random-weight model (no downloads), shared by the process."""

from __future__ import annotations

import pytest

# ViT-S-32 is the smallest open_clip architecture with a text tower and the bundled
# tokenizer: building and running it with random weights costs ~3x less than ViT-B-32 here.
RANDOM_SPEC = "open_clip:ViT-S-32:random"


@pytest.fixture(scope="session")
def random_model():
    import warnings

    from lightly_studio.embed._open_clip import load_model

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_model(RANDOM_SPEC)
