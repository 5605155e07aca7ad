"""A tiny dataset for the annotator: three generated images, a box, a prediction, a caption."""

from __future__ import annotations

import pytest


@pytest.fixture
def ann_ds(db, tmp_path):
    """a.png 40x30 (box 'car' + caption), b.png 20x10 (prediction 'dog' 0.7 from 'model'),
    c.png 8x8 (nothing). ``ds.by_name`` maps file names to samples."""
    from PIL import Image

    from lightly_studio.core.annotation import CreateObjectDetection
    from lightly_studio.core.image_dataset import ImageDataset

    folder = tmp_path / "images"
    folder.mkdir()
    for name, size in {"a.png": (40, 30), "b.png": (20, 10), "c.png": (8, 8)}.items():
        Image.new("RGB", size, (10, 20, 30)).save(folder / name)
    ds = ImageDataset.create("ann")
    ds.add_images_from_path(str(folder), embed=False)
    by_name = {s.file_name: s for s in ds}
    by_name["a.png"].add_annotation(
        CreateObjectDetection(label="car", x=1, y=2, width=10, height=5)
    )
    by_name["a.png"].add_caption("a car")
    by_name["b.png"].add_annotation(
        CreateObjectDetection(
            label="dog", x=2, y=2, width=5, height=5, confidence=0.7, annotation_source="model"
        )
    )
    ds.by_name = by_name
    return ds
