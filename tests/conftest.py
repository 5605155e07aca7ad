"""Shared fixtures: a fresh database per test, example data, small generated images."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
EXAMPLES = Path(os.environ.get("LIGHTLY_STUDIO_EXAMPLE_DATA", SHARED / "dataset_examples"))

# Tests never download model weights; they use random ones unless a test says otherwise.
# ViT-S-32 builds and runs ~3x faster than ViT-B-32 on the CPU; weights are random anyway.
os.environ.setdefault("LIGHTLY_STUDIO_EMBEDDING_MODEL", "open_clip:ViT-S-32:random")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture
def db(tmp_path):
    """A fresh database file for one test; closed afterwards."""
    from lightly_studio import db_manager

    db_manager.connect(db_file=tmp_path / "lightly_studio.db")
    yield tmp_path / "lightly_studio.db"
    db_manager.close()


@pytest.fixture
def examples() -> Path:
    """The reference product's example datasets (read-only)."""
    if not EXAMPLES.is_dir():
        pytest.fail(f"Example data not found at {EXAMPLES}; set LIGHTLY_STUDIO_EXAMPLE_DATA.")
    return EXAMPLES


def make_images(folder: Path, specs: dict[str, tuple[int, int]], fmt: str | None = None) -> list[Path]:
    """Write small solid-colour images: {relative path: (width, height)}."""
    from PIL import Image

    paths = []
    for i, (relative, (w, h)) in enumerate(sorted(specs.items())):
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (w, h), ((37 * i) % 256, (91 * i) % 256, (53 * i) % 256)).save(
            path, format=fmt)
        paths.append(path)
    return paths


@pytest.fixture
def image_folder(tmp_path) -> Path:
    """cat/a.jpg, cat/b.png, dog/c.jpg, dog/puppy/d.jpg, e.jpg with known sizes."""
    root = tmp_path / "images"
    make_images(root, {
        "cat/a.jpg": (64, 48), "cat/b.png": (32, 32), "dog/c.jpg": (100, 50),
        "dog/puppy/d.jpg": (20, 40), "e.jpg": (640, 480),
    })
    return root
