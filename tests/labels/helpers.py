"""Small builders shared by the label tests: images, COCO files, YOLO folders."""

from __future__ import annotations

import json
from pathlib import Path

import lightly_studio as ls
from tests.conftest import make_images


def image_dataset_with(tmp_path: Path, sizes: dict[str, tuple[int, int]], name: str = "ds"):
    """A dataset holding generated images {relative path: (width, height)}."""
    root = tmp_path / "images"
    make_images(root, sizes)
    ds = ls.ImageDataset.create(name)
    ds.add_images_from_path(path=str(root), embed=False)
    return ds, root


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
