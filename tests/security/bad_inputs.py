"""Hostile and careless COCO / YOLO label files, written into a test's tmp_path from code.

Each builder starts from a small valid dataset and breaks one thing. ``CASES`` pairs a builder
with what the import must do: raise our error, or skip the bad item with a warning; either
way the message names the file and the item (image / annotation id, label file and line).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from lightly_studio.core import rle
from lightly_studio.errors import IngestError
from tests.conftest import make_images
from tests.labels.helpers import COCO_IMAGE_SIZES, coco_dict

# --- COCO ----------------------------------------------------------------------------------------


def write_coco_dataset(
    root: Path, mutate: Callable[[dict, Path], None] | None = None, name: str = "instances.json"
) -> tuple[Path, Path]:
    """images/ and a COCO JSON under ``root``; ``mutate(coco, images_dir)`` breaks them."""
    images = root / "images"
    make_images(images, COCO_IMAGE_SIZES)
    coco = coco_dict()
    if mutate is not None:
        mutate(coco, images)
    path = root / name
    # allow_nan: Python's json writes NaN / Infinity, as careless tools do.
    path.write_text(json.dumps(coco, allow_nan=True))
    return path, images


def captions_dict() -> dict[str, Any]:
    return {
        "images": coco_dict()["images"],
        "annotations": [
            {"id": 1, "image_id": 1, "caption": "A cat."},
            {"id": 2, "image_id": 2, "caption": "A dog."},
        ],
    }


def write_captions_dataset(root: Path, mutate: Callable[[dict, Path], None]) -> tuple[Path, Path]:
    images = root / "images"
    make_images(images, COCO_IMAGE_SIZES)
    coco = captions_dict()
    mutate(coco, images)
    path = root / "captions.json"
    path.write_text(json.dumps(coco))
    return path, images


def _set(where: str, index: int, **values) -> Callable[[dict, Path], None]:
    def mutate(coco: dict, images: Path) -> None:
        coco[where][index].update(values)

    return mutate


def _polygon(*coords: float) -> Callable[[dict, Path], None]:
    return _set("annotations", 0, segmentation=[list(coords)], bbox=None)


def _zigzag(coco: dict, images: Path) -> None:
    """A polygon that runs 100 000 times across its 40x30 image: an outline of ~4e6 px."""
    ring = []
    for i in range(100_000):
        ring += [0, i % 2 * 30]
        ring += [40, i % 2 * 30]
    coco["annotations"][0]["segmentation"] = [ring]


def _write_file(relative: str, data: bytes) -> Callable[[dict, Path], None]:
    def mutate(coco: dict, images: Path) -> None:
        (images / relative).write_bytes(data)

    return mutate


def _remove(relative: str) -> Callable[[dict, Path], None]:
    def mutate(coco: dict, images: Path) -> None:
        (images / relative).unlink()

    return mutate


def _replace_image(relative: str, size: tuple[int, int]) -> Callable[[dict, Path], None]:
    def mutate(coco: dict, images: Path) -> None:
        (images / relative).unlink()
        make_images(images, {relative: size})

    return mutate


# --- YOLO ----------------------------------------------------------------------------------------


def write_yolo_dataset(
    root: Path, labels: dict[str, str] | None = None, yaml_text: str | None = None
) -> Path:
    """data/train (a.jpg 100x50, b.png 40x40) and data/valid (c.jpg 10x20); returns data.yaml.

    ``labels`` replaces label files by name ({"a": "0 0.5 0.5 0 0\\n"}).
    """
    data = root / "data"
    make_images(data / "train" / "images", {"a.jpg": (100, 50), "b.png": (40, 40)})
    make_images(data / "valid" / "images", {"c.jpg": (10, 20)})
    texts = {
        "a": "0 0.5 0.5 0.2 0.4\n1 0.25 0.5 0.5 1.0\n",
        "c": "1 0.1 0.1 0.9 0.1 0.9 0.9 0.1 0.9\n",
        **(labels or {}),
    }
    for name, text in texts.items():
        split = "valid" if name == "c" else "train"
        (data / split / "labels").mkdir(parents=True, exist_ok=True)
        (data / split / "labels" / f"{name}.txt").write_text(text)
    yaml_path = root / "data.yaml"
    yaml_path.write_text(
        yaml_text
        or "path: data\ntrain: train/images\nval: valid/images\nnames:\n  0: car\n  1: person\n"
    )
    return yaml_path


# --- the corpus ----------------------------------------------------------------------------------


@dataclasses.dataclass
class Case:
    id: str
    #: "coco" (add_samples_from_coco, instance segmentation), "coco_captions", "yolo"
    kind: str
    #: writes the dataset under the given folder; returns the kwargs of the import call
    build: Callable[[Path], dict[str, Any]]
    #: IngestError: the whole import fails; UserWarning: the bad items are skipped
    outcome: type
    #: the message names the file and the item
    must_contain: tuple[str, ...]
    #: file names (of images) that must not be stored when the bad items are skipped
    not_stored: tuple[str, ...] = ()


def coco_case(
    id: str, mutate, outcome: type, *must_contain: str, not_stored: tuple[str, ...] = ()
) -> Case:
    def build(root: Path) -> dict[str, Any]:
        path, images = write_coco_dataset(root, mutate)
        return {"annotations_json": str(path), "images_path": str(images)}

    return Case(id, "coco", build, outcome, ("instances.json", *must_contain), not_stored)


def captions_case(id: str, mutate, outcome: type, *must_contain: str) -> Case:
    def build(root: Path) -> dict[str, Any]:
        path, images = write_captions_dataset(root, mutate)
        return {"annotations_json": str(path), "images_path": str(images)}

    return Case(id, "coco_captions", build, outcome, ("captions.json", *must_contain))


def yolo_case(
    id: str,
    outcome: type,
    *must_contain: str,
    labels: dict[str, str] | None = None,
    yaml_text: str | None = None,
) -> Case:
    def build(root: Path) -> dict[str, Any]:
        return {"data_yaml": str(write_yolo_dataset(root, labels, yaml_text))}

    return Case(id, "yolo", build, outcome, must_contain)


NAN = float("nan")

CASES = [
    # COCO geometry: nothing may be allocated beyond the real image size.
    coco_case(
        "coco-nan-polygon",
        _polygon(1, 2, NAN, 2, 11, 10),
        IngestError,
        "annotation id 10",
        "finite",
    ),
    coco_case(
        "coco-inf-polygon",
        _polygon(1, 2, float("inf"), 2, 11, 10),
        IngestError,
        "annotation id 10",
        "finite",
    ),
    coco_case(
        "coco-polygon-outline-of-millions-of-px",
        _zigzag,
        IngestError,
        "annotation id 10",
        "outline",
    ),
    coco_case(
        "coco-polygon-not-numbers",
        _polygon(1, 2, "3", 2, 11, 10),
        IngestError,
        "annotation id 10",
        "a flat list of numbers",
    ),
    coco_case(
        "coco-rle-negative-counts",
        _set("annotations", 1, segmentation={"size": [20, 20], "counts": [-5, 405]}),
        IngestError,
        "annotation id 11",
        "negative",
    ),
    coco_case(
        "coco-rle-counts-beyond-image",
        _set("annotations", 1, segmentation={"size": [20, 20], "counts": [0, 400, 4_000_000_000]}),
        IngestError,
        "annotation id 11",
        "do not sum to 20*20",
    ),
    coco_case(
        "coco-rle-counts-huge-int",
        _set("annotations", 1, segmentation={"size": [20, 20], "counts": [10**30]}),
        IngestError,
        "annotation id 11",
        "a flat list of non-negative integers",
    ),
    coco_case(
        "coco-rle-compressed-beyond-image",
        _set(
            "annotations",
            1,
            segmentation={
                "size": [20, 20],
                "counts": rle.mask_to_coco_rle(np.ones((40, 40), bool), True)["counts"],
            },
        ),
        IngestError,
        "annotation id 11",
        "more than the 400 pixels",
    ),
    coco_case(
        "coco-rle-compressed-truncated",
        _set("annotations", 1, segmentation={"size": [20, 20], "counts": "0o"}),
        IngestError,
        "annotation id 11",
        "ends in the middle of a value",
    ),
    coco_case(
        "coco-rle-size-not-numbers",
        _set("annotations", 1, segmentation={"size": ["20", None], "counts": [400]}),
        IngestError,
        "annotation id 11",
        "an RLE 'size' is [height, width]",
    ),
    # Declared image sizes.
    coco_case(
        "coco-declared-60000x60000",
        _set("images", 0, width=60000, height=60000),
        IngestError,
        "image id 1",
        "60000x60000",
    ),
    coco_case(
        "coco-width-3e9", _set("images", 0, width=3e9), IngestError, "image id 1", "3000000000"
    ),
    coco_case(
        "coco-width-fraction", _set("images", 0, width=40.5), IngestError, "image id 1", "'width'"
    ),
    coco_case(
        "coco-width-bool", _set("images", 0, width=True), IngestError, "image id 1", "'width'"
    ),
    coco_case(
        "coco-size-mismatch",
        _replace_image("a.jpg", (30, 40)),
        IngestError,
        "image id 1",
        "'a.jpg'",
        "40x30 in the JSON",
        "30x40",
    ),
    # File names.
    coco_case(
        "coco-file-name-traversal",
        _set("images", 1, file_name="../../../../etc/passwd"),
        IngestError,
        "image id 2",
        "'../../../../etc/passwd'",
        "outside the images folder",
    ),
    coco_case(
        "coco-file-name-absolute",
        _set("images", 1, file_name="/etc/passwd"),
        IngestError,
        "image id 2",
        "'/etc/passwd'",
        "outside the images folder",
    ),
    coco_case(
        "coco-file-name-sibling-prefix",
        _set("images", 1, file_name="../images2/b.png"),
        IngestError,
        "image id 2",
        "'../images2/b.png'",
        "outside the images folder",
    ),
    # Missing and unreadable image files are skipped like add_images_from_path skips them.
    coco_case(
        "coco-missing-file",
        _remove("sub/b.png"),
        UserWarning,
        "1 image files are missing",
        "b.png",
        "file not found",
        not_stored=("b.png",),
    ),
    coco_case(
        "coco-empty-file",
        _write_file("sub/b.png", b""),
        UserWarning,
        "b.png",
        "file is empty",
        not_stored=("b.png",),
    ),
    coco_case(
        "coco-not-an-image",
        _write_file("sub/b.png", b"hello"),
        UserWarning,
        "b.png",
        "not a readable image",
        not_stored=("b.png",),
    ),
    # Captions.
    captions_case(
        "coco-caption-object",
        _set("annotations", 1, caption={"text": "A dog."}),
        IngestError,
        "annotation #1 (id 2)",
        "not a string",
    ),
    captions_case(
        "coco-caption-list",
        _set("annotations", 0, caption=["A", "cat"]),
        IngestError,
        "annotation #0 (id 1)",
        "not a string",
    ),
    captions_case(
        "coco-caption-file-name-traversal",
        _set("images", 0, file_name="../../../etc/passwd"),
        IngestError,
        "image id 1",
        "outside the images folder",
    ),
    # YOLO.
    yolo_case(
        "yolo-nc-not-a-number",
        IngestError,
        "data.yaml",
        "'nc'",
        "'two'",
        yaml_text="path: data\ntrain: train/images\nnc: two\nnames: [car, person]\n",
    ),
    yolo_case(
        "yolo-class-out-of-range",
        IngestError,
        "a.txt, line 2",
        "class id '7'",
        labels={"a": "0 0.5 0.5 0.2 0.4\n7 0.5 0.5 0.2 0.4\n"},
    ),
    yolo_case(
        "yolo-zero-box", IngestError, "a.txt, line 1", "degenerate", labels={"a": "0 0.5 0.5 0 0\n"}
    ),
    yolo_case(
        "yolo-box-under-a-pixel",
        IngestError,
        "a.txt, line 2",
        "degenerate",
        labels={"a": "0 0.5 0.5 0.2 0.4\n1 0.5 0.5 0.005 0.4\n"},
    ),
    yolo_case(
        "yolo-degenerate-polygon",
        IngestError,
        "c.txt, line 1",
        "degenerate",
        labels={"c": "1 0.1 0.1 0.5 0.5 0.9 0.9\n"},
    ),
    yolo_case(
        "yolo-nan-coordinate",
        IngestError,
        "c.txt, line 1",
        "not a number",
        labels={"c": "1 0.1 0.1 nan 0.1 0.9 0.9\n"},
    ),
]
