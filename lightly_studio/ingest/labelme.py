"""LabelMe JSON import: one JSON per image with rectangles, polygons, masks and flags.

Each ``*.json`` below the folder names its image in ``imagePath`` (relative to the JSON) and
declares ``imageWidth`` / ``imageHeight``. Shapes: ``rectangle`` (two corner points) → a box,
``polygon`` (≥ 3 points) → an instance mask keeping the polygon, ``mask`` (a base64 PNG over
the box of its two points, LabelMe ≥ 5.3) → an instance mask. A shape's ``flags``,
``group_id`` and ``description`` are kept as annotation attributes; the image's ``flags`` in
the sample metadata ``image_flags``. Circles, lines, line strips and points are skipped and
reported.

Conventions of ours, which the writer follows: ``polygon`` shapes of one file that share a
``group_id`` and a label are the rings of ONE annotation (LabelMe's own meaning of a group:
parts of one object; the group id is then not kept as an attribute); the shape flag
``semantic_segmentation`` marks a semantic mask; and the image flags named in the top-level
list ``classifications`` (LabelMe keeps unknown top-level keys) are classifications of the
image, not flags (one the user unticked in LabelMe is dropped).
"""

from __future__ import annotations

import base64
import io
import os
from typing import Any

import numpy as np

from lightly_studio.errors import IngestError
from lightly_studio.ingest.coco import load_json
from lightly_studio.ingest.files import list_files
from lightly_studio.ingest.labelset import LabelSet, Records, add_annotations, add_samples
from lightly_studio.shapes import rle
from lightly_studio.store.annotations import AnnotationType

SKIPPED_SHAPES = ("circle", "line", "linestrip", "point", "points")
#: Shape keys kept as attributes (when not empty).
ATTRIBUTE_KEYS = ("flags", "group_id", "description")
#: The shape flag that marks a crowd (COCO iscrowd).
CROWD_FLAG = "is_crowd"
#: The shape flag that marks a semantic (not an instance) mask.
SEMANTIC_FLAG = "semantic_segmentation"
#: The top-level key listing the image flags that are classifications.
CLASSIFICATIONS_KEY = "classifications"


def _number_pairs(points: Any, where: str) -> list[float]:
    if not isinstance(points, list) or not all(
        isinstance(p, list)
        and len(p) == 2
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in p)
        for p in points
    ):
        raise IngestError(f"{where}'points' must be a list of [x, y] number pairs")
    return [float(v) for p in points for v in p]


def _decode_mask(data: Any, box: list[float], width: int, height: int, where: str) -> list[int]:
    from PIL import Image

    if not isinstance(data, str):
        raise IngestError(f"{where}a mask shape needs 'mask' (a base64 PNG)")
    try:
        with Image.open(io.BytesIO(base64.b64decode(data))) as im:
            crop = np.asarray(im.convert("L")) > 0
    except Exception as exc:  # PIL raises many types for broken data
        raise IngestError(f"{where}'mask' is not a base64 PNG ({exc})") from exc
    x0, y0 = round(box[0]), round(box[1])
    h, w = crop.shape
    if x0 < 0 or y0 < 0 or x0 + w > width or y0 + h > height:
        raise IngestError(
            f"{where}the {w}x{h} mask at ({x0}, {y0}) is not inside the {width}x{height} image"
        )
    full = np.zeros((height, width), dtype=bool)
    full[y0 : y0 + h, x0 : x0 + w] = crop
    return rle.encode(full)


def parse_labelme(folder: str | os.PathLike) -> LabelSet:
    root = os.path.abspath(os.path.expanduser(str(folder)))
    files = sorted(list_files(root, (".json",)).paths)
    if not files:
        raise IngestError(f"{root}: no LabelMe .json files found")
    records = Records()
    skipped: dict[str, int] = {}
    for json_path in files:
        where = f"{json_path}: "
        doc = load_json(json_path)
        if not isinstance(doc, dict) or not isinstance(doc.get("shapes"), list):
            raise IngestError(f"{where}not a LabelMe file (a JSON object with 'shapes')")
        image_path = doc.get("imagePath")
        if not isinstance(image_path, str) or not image_path:
            raise IngestError(f"{where}missing 'imagePath'")
        width, height = doc.get("imageWidth"), doc.get("imageHeight")
        for key, value in (("imageWidth", width), ("imageHeight", height)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise IngestError(f"{where}'{key}' must be a positive whole number, got {value!r}")
        flags = doc.get("flags")
        if flags is not None and not isinstance(flags, dict):
            raise IngestError(f"{where}'flags' must be an object")
        classes = doc.get(CLASSIFICATIONS_KEY) or []
        if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes):
            raise IngestError(f"{where}'{CLASSIFICATIONS_KEY}' must be a list of class names")
        flags = dict(flags or {})
        ticked = [c for c in classes if flags.pop(c, True)]
        full = os.path.normpath(os.path.join(os.path.dirname(json_path), image_path))
        img = records.image(full, where, width=width, height=height, flags=flags or None)
        for name in ticked:
            records.classification(img, name, f"{where}{CLASSIFICATIONS_KEY} {name!r}: ")
        groups: dict[tuple[Any, str], list[tuple[list[float], dict, dict, str]]] = {}
        for n, shape in enumerate(doc["shapes"]):
            swhere = f"{json_path}, shapes[{n}]: "
            _shape(records, img, shape, swhere, int(width), int(height), skipped, groups)  # type: ignore[arg-type]
        for (_, label), parts in groups.items():
            _, attrs, extra, swhere = parts[0]
            if len(parts) > 1:  # the group is the annotation: its id is not an attribute
                attrs = {k: v for k, v in attrs.items() if k != "group_id"}
            rings = [p for p, *_ in parts]
            records.polygon(img, label, rings, swhere, attributes=attrs, **extra)
    notes = []
    if skipped:
        what = ", ".join(f"{v} {k}" for k, v in skipped.items())
        notes.append(f"{root}: skipped shapes that have no counterpart here: {what}")
    return records.label_set(root, [], notes)


def _shape(
    records: Records,
    img: int,
    shape: Any,
    swhere: str,
    width: int,
    height: int,
    skipped: dict[str, int],
    groups: dict[tuple[Any, str], list[tuple[list[float], dict, dict, str]]],
) -> None:
    if not isinstance(shape, dict):
        raise IngestError(f"{swhere}a shape is a JSON object")
    kind = shape.get("shape_type") or "polygon"
    if kind in SKIPPED_SHAPES:
        skipped[kind] = skipped.get(kind, 0) + 1
        return
    label = shape.get("label")
    if not isinstance(label, str) or not label.strip():
        raise IngestError(f"{swhere}missing 'label'")
    pts = _number_pairs(shape.get("points"), swhere)
    attrs = {k: shape[k] for k in ATTRIBUTE_KEYS if shape.get(k) not in (None, {}, "")}
    extra: dict[str, Any] = {}
    if isinstance(attrs.get("flags"), dict) and (
        CROWD_FLAG in attrs["flags"] or SEMANTIC_FLAG in attrs["flags"]
    ):
        flags = dict(attrs["flags"])
        if CROWD_FLAG in flags:
            extra["iscrowd"] = bool(flags.pop(CROWD_FLAG))
        if flags.pop(SEMANTIC_FLAG, False):
            extra["annotation_type"] = AnnotationType.SEMANTIC_SEGMENTATION.value
        attrs = {k: v for k, v in attrs.items() if k != "flags"}
        if flags:
            attrs["flags"] = flags
    if kind == "rectangle":
        if len(pts) != 4:
            raise IngestError(f"{swhere}a rectangle has 2 points, got {len(pts) // 2}")
        x0, x1 = sorted((pts[0], pts[2]))
        y0, y1 = sorted((pts[1], pts[3]))
        records.box(img, label, x0, y0, x1, y1, swhere, attributes=attrs, **extra)
    elif kind == "polygon":
        if len(pts) < 6:
            raise IngestError(f"{swhere}a polygon needs at least 3 points, got {len(pts) // 2}")
        if shape.get("group_id") is not None:
            groups.setdefault((shape["group_id"], label), []).append((pts, attrs, extra, swhere))
        else:
            records.polygon(img, label, [pts], swhere, attributes=attrs, **extra)
    elif kind == "mask":
        if len(pts) != 4:
            raise IngestError(f"{swhere}a mask has 2 points (its box), got {len(pts) // 2}")
        runs = _decode_mask(shape.get("mask"), pts, width, height, swhere)
        records.mask(img, label, runs, (width, height), swhere, attributes=attrs, **extra)
    else:
        raise IngestError(f"{swhere}unknown shape_type {kind!r}")


def add_samples_from_labelme(
    dataset: Any,
    folder: str | os.PathLike,
    embed: bool = True,
    annotation_source: str | None = None,
):
    """Index the images of a folder of LabelMe JSON files with their shapes."""
    labels = parse_labelme(folder)
    return add_samples(dataset, labels, embed=embed, annotation_source=annotation_source)


def add_annotations_from_labelme(
    dataset: Any, folder: str | os.PathLike, annotation_source: str | None = None
):
    """Attach LabelMe shapes to images already in the dataset (matched by path)."""
    labels = parse_labelme(folder)
    return add_annotations(dataset, labels, annotation_source=annotation_source)
