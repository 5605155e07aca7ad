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
    records = Records()
    try:
        names = [c.name for c in input_labels.get_categories()]
        # labelformat's COCO input builds an object per box; its parsed JSON is read
        # column-wise instead (the same boxes, ~2x faster in all).
        plain_coco = _is_plain_coco_boxes(input_labels)
        labels = [] if plain_coco else list(input_labels.get_labels())
    except (ValueError, KeyError, OSError) as exc:  # labelformat's own parse errors
        raise IngestError(
            f"{source}: cannot read the labels ({type(exc).__name__}: {exc})"
        ) from exc
    if plain_coco:
        _coco_boxes(records, input_labels._data, root, source)
        return records.label_set(source, names, [])
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


def _is_plain_coco_boxes(input_labels: Any) -> bool:
    """labelformat's own COCOObjectDetectionInput (not a subclass that may change it), with
    the parsed JSON where that class keeps it."""
    from labelformat.formats.coco import COCOObjectDetectionInput

    return type(input_labels) is COCOObjectDetectionInput and isinstance(
        getattr(input_labels, "_data", None), dict
    )


def _coco_boxes(records: Records, data: dict, root: str, source: str) -> None:
    """The boxes of a parsed COCO file, as labelformat's COCO input reads them (bbox x, y, w,
    h; score as confidence), into ``records`` column-wise."""
    index: dict[Any, int] = {}
    try:
        for image in data["images"]:
            where = f"{source}, image {image['file_name']!r}: "
            path = os.path.normpath(os.path.join(root, image["file_name"]))
            if not path.startswith(root.rstrip(os.sep) + os.sep):
                raise IngestError(f"{where}the file name points outside the images folder {root}")
            index[image["id"]] = records.image(
                path, where, width=int(image["width"]), height=int(image["height"])
            )
        names = {c["id"]: c["name"] for c in data["categories"]}
        anns = data["annotations"]
        img_idx = [index[a["image_id"]] for a in anns]
        labels = [names[a["category_id"]] for a in anns]
        bbox = [a["bbox"] for a in anns]
        xywh = tuple([float(b[i]) for b in bbox] for i in range(4))
        scores = [a.get("score") for a in anns]
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise IngestError(
            f"{source}: cannot read the labels ({type(exc).__name__}: {exc})"
        ) from exc
    wheres = [f"{source}, annotations[{k}]: " for k in range(len(anns))]
    confidence = [None if v is None else float(v) for v in scores]
    records.boxes(img_idx, labels, xywh, wheres, confidence)  # type: ignore[arg-type]


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
