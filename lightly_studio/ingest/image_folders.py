"""Classification folders (torchvision ImageFolder / YOLO classify layout).

``path/<class>/…/image`` gives each image the classification ``<class>``. When every folder
directly under ``path`` is a split name (train, val, valid, validation, test), the layout is
``path/<split>/<class>/…/image`` and the split becomes the image's tag. Images directly
under ``path`` (or a split folder) have no class: they are an error, since the layout is
then not a classification dataset.
"""

from __future__ import annotations

import os
from typing import Any

from lightly_studio.errors import IngestError
from lightly_studio.ingest.files import IMAGE_EXTENSIONS, list_files
from lightly_studio.ingest.labelset import LabelSet, Records, add_annotations, add_samples

SPLIT_FOLDERS = ("train", "val", "valid", "validation", "test")


def parse_image_folders(path: str | os.PathLike) -> LabelSet:
    root = os.path.abspath(os.path.expanduser(str(path)))
    if not os.path.isdir(root):
        raise IngestError(f"{root}: not a folder")
    top = sorted(e.name for e in os.scandir(root) if e.is_dir() and not e.name.startswith("."))
    if not top:
        raise IngestError(
            f"{root}: no class folders found (expected <class>/<image> or <split>/<class>/<image>)"
        )
    with_splits = all(name in SPLIT_FOLDERS for name in top)
    listing = list_files(root, IMAGE_EXTENSIONS)
    records = Records()
    names: list[str] = []
    for image in sorted(listing.paths):
        parts = os.path.relpath(image, root).split(os.sep)
        depth = 3 if with_splits else 2
        if len(parts) < depth:
            layout = "<split>/<class>/<image>" if with_splits else "<class>/<image>"
            raise IngestError(f"{image}: the image is not inside a class folder ({layout})")
        split, label = (parts[0], parts[1]) if with_splits else (None, parts[0])
        where = f"{image}: "
        img = records.image(image, where, tags=[split] if split else None)
        records.classification(img, label, where)
        names.append(label)
    if not listing.paths:
        raise IngestError(f"{root}: no images found")
    return records.label_set(root, sorted(set(names)), [])


def add_samples_from_image_folders(
    dataset: Any,
    path: str | os.PathLike,
    embed: bool = True,
    annotation_source: str | None = None,
):
    """Index a classification dataset laid out as one folder per class (one transaction)."""
    return add_samples(
        dataset, parse_image_folders(path), embed=embed, annotation_source=annotation_source
    )


def add_annotations_from_image_folders(
    dataset: Any, path: str | os.PathLike, annotation_source: str | None = None
):
    """Attach the folder classes to images already in the dataset (matched by path)."""
    return add_annotations(dataset, parse_image_folders(path), annotation_source=annotation_source)
