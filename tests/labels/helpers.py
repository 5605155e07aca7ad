"""Small builders shared by the label tests: images, COCO files, YOLO folders."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import lightly_studio as ls
from tests.conftest import make_images


def image_dataset_with(tmp_path: Path, sizes: dict[str, tuple[int, int]], name: str = "ds"):
    """A dataset holding generated images {relative path: (width, height)}."""
    root = tmp_path / "images"
    make_images(root, sizes)
    ds = ls.ImageDataset.create(name)
    ds.add_images_from_path(path=str(root), embed=False)
    return ds, root


#: The images coco_dict() describes, {relative path: (width, height)}.
COCO_IMAGE_SIZES = {"a.jpg": (40, 30), "sub/b.png": (20, 20)}


def coco_dict() -> dict[str, Any]:
    """Two images (a.jpg 40x30, sub/b.png 20x20): a polygon on a.jpg, an RLE mask on b.png."""
    return {
        "images": [
            {"id": 1, "file_name": "a.jpg", "width": 40, "height": 30},
            {"id": 2, "file_name": "sub/b.png", "width": 20, "height": 20},
        ],
        "categories": [{"id": 5, "name": "cat"}, {"id": 9, "name": "dog"}],
        "annotations": [
            {
                "id": 10,
                "image_id": 1,
                "category_id": 5,
                "bbox": [1, 2, 10, 8],
                "iscrowd": 0,
                "segmentation": [[1, 2, 11, 2, 11, 10, 1, 10]],
            },
            {
                "id": 11,
                "image_id": 2,
                "category_id": 9,
                "bbox": [0, 0, 4, 2],
                "iscrowd": 1,
                "segmentation": {"size": [20, 20], "counts": [0, 2, 18, 2, 18, 2, 18, 2, 338]},
            },
        ],
    }


def write_coco(
    path: Path, images: list[dict], annotations: list[dict], categories: list[dict] | None = None
) -> Path:
    data = {"images": images, "annotations": annotations}
    if categories is not None:
        data["categories"] = categories
    path.write_text(json.dumps(data))
    return path


def boxes_of(ds) -> dict[tuple[str, str], list[tuple]]:
    """{(file_name, label): sorted boxes} of every boxed annotation of a dataset."""
    out: dict[tuple[str, str], list[tuple]] = {}
    for sample in ds:
        for a in sample.annotations:
            if hasattr(a, "x"):
                out.setdefault((sample.file_name, a.label), []).append(
                    (a.x, a.y, a.width, a.height)
                )
    return {k: sorted(v) for k, v in out.items()}
