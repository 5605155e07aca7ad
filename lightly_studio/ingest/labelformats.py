"""labelformat's input classes as an import path (the reference product's escape hatches).

Any ``labelformat`` ``ObjectDetectionInput`` (boxes, confidences) or
``InstanceSegmentationInput`` (multi-polygons, binary masks) — KITTI, Labelbox, YOLOv5–v26,
RT-DETR, Lightly predictions, … — goes through the same checked bulk import as our own
formats. Image files are ``images_path / image.filename``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from lightly_studio.errors import IngestError
from lightly_studio.ingest.labelset import LabelSet, Records, add_samples


def parse_labelformat(input_labels: Any, images_path: str | os.PathLike) -> LabelSet:
    from labelformat.model.binary_mask_segmentation import BinaryMaskSegmentation
    from labelformat.model.multipolygon import MultiPolygon

    if not all(hasattr(input_labels, m) for m in ("get_categories", "get_labels")):
        raise IngestError(
            "input_labels must be a labelformat ObjectDetectionInput or "
            f"InstanceSegmentationInput, got {type(input_labels).__name__}"
        )
    root = os.path.abspath(os.path.expanduser(str(images_path)))
    source = type(input_labels).__name__
    names = [c.name for c in input_labels.get_categories()]
    records = Records()
    try:
        labels = list(input_labels.get_labels())
    except (ValueError, KeyError, OSError) as exc:  # labelformat's own parse errors
        raise IngestError(
            f"{source}: cannot read the labels ({type(exc).__name__}: {exc})"
        ) from exc
    for label in labels:
        image = label.image
        where = f"{source}, image {image.filename!r}: "
        path = os.path.normpath(os.path.join(root, image.filename))
        if not path.startswith(root.rstrip(os.sep) + os.sep):
            raise IngestError(f"{where}the file name points outside the images folder {root}")
        img = records.image(path, where, width=image.width, height=image.height)
        for k, obj in enumerate(label.objects):
            owhere = f"{where}object {k}: "
            name = obj.category.name
            box = getattr(obj, "box", None)
            seg = getattr(obj, "segmentation", None)
            if box is not None:
                conf = getattr(obj, "confidence", None)
                records.box(
                    img, name, box.xmin, box.ymin, box.xmax, box.ymax, owhere, confidence=conf
                )
            elif isinstance(seg, MultiPolygon):
                rings = [[float(v) for pt in poly for v in pt] for poly in seg.polygons]
                records.polygon(img, name, rings, owhere)
            elif isinstance(seg, BinaryMaskSegmentation):
                records.mask(img, name, list(seg.get_rle()), (seg.width, seg.height), owhere)
            else:
                raise IngestError(f"{owhere}unsupported object {type(obj).__name__}")
    return records.label_set(source, names, [])


def add_samples_from_labelformat(
    dataset: Any,
    input_labels: Any,
    images_path: str | os.PathLike,
    embed: bool = True,
    annotation_source: str | None = None,
):
    """Index images with the labels of any labelformat input (one transaction)."""
    labels = parse_labelformat(input_labels, images_path)
    return add_samples(dataset, labels, embed=embed, annotation_source=annotation_source)


def add_samples_from_lightly(
    dataset: Any,
    input_folder: str | os.PathLike,
    images_rel_path: str = "../images",
    embed: bool = True,
    annotation_source: str | None = None,
):
    """Index a Lightly predictions folder (schema.json + one JSON per image); the images are
    in ``input_folder / images_rel_path``."""
    from labelformat.formats.lightly import LightlyObjectDetectionInput

    folder = Path(input_folder).expanduser()
    if not (folder / "schema.json").is_file():
        raise IngestError(f"{folder}: no schema.json (not a Lightly predictions folder)")
    input_labels = LightlyObjectDetectionInput(input_folder=folder, images_rel_path=images_rel_path)
    return add_samples_from_labelformat(
        dataset,
        input_labels,
        folder / images_rel_path,
        embed=embed,
        annotation_source=annotation_source,
    )
