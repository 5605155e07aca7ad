"""CVAT for images 1.1 XML import: boxes, polygons, masks (CVAT RLE), tags, attributes.

``<image name=… width=… height=… [subset=…]>`` holds ``<box xtl ytl xbr ybr>``, ``<polygon
points="x,y;x,y;…">``, ``<mask rle="…" left top width height>`` (runs alternate background and
foreground over the ``width x height`` crop, row by row, starting with background) and
``<tag>`` (an image-level class → a classification). ``<attribute name=…>value</attribute>``
children are kept as text attributes; ``occluded`` and ``z_order`` (ints) are kept when not
0. A ``subset`` becomes a tag. Polylines, points, ellipses, cuboids and skeletons have no
counterpart here: they are skipped and reported.

Two conventions of ours, which the writer follows: ``<polygon>``s of one image that share a
``group_id`` and a label are the rings of ONE annotation (a multi-part object); and the
attribute ``semantic_segmentation`` = ``true`` on a polygon or mask marks a semantic mask
(without it, polygons and masks are instance masks).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from lightly_studio.errors import IngestError
from lightly_studio.ingest.labelset import LabelSet, Records, add_annotations, add_samples
from lightly_studio.ingest.xmlfiles import attr_number, read_xml
from lightly_studio.shapes import rle
from lightly_studio.store.annotations import AnnotationType

SKIPPED_SHAPES = ("polyline", "points", "ellipse", "cuboid", "skeleton")
INT_ATTRIBUTES = ("occluded", "z_order")
CROWD_ATTRIBUTE = "is_crowd"
SEMANTIC_ATTRIBUTE = "semantic_segmentation"


def _inside(root: str, name: str, where: str) -> str:
    full = os.path.normpath(os.path.join(root, name))
    if not full.startswith(root.rstrip(os.sep) + os.sep):
        raise IngestError(f"{where}the image name {name!r} points outside the images folder {root}")
    return full


def _attributes(element, where: str) -> dict[str, Any]:
    get = element.get
    if (
        not len(element)
        and get("occluded", "0") == "0"
        and get("z_order", "0") == "0"
        and get("rotation") is None
    ):
        return {}  # the common case, without a loop
    attrs: dict[str, Any] = {}
    for name in INT_ATTRIBUTES:
        value = element.get(name)
        if value is not None and value.strip() not in ("", "0"):
            try:
                attrs[name] = int(float(value))
            except ValueError:
                raise IngestError(f"{where}attribute {name}={value!r} is not a number") from None
    rotation = element.get("rotation")
    if rotation is not None and float(rotation) != 0.0:
        attrs["rotation"] = rotation
    for attr in element.findall("attribute"):
        name = attr.get("name")
        if not name:
            raise IngestError(f"{where}an <attribute> without a name")
        attrs[name] = attr.text or ""
    return attrs


def _points(text: str | None, where: str) -> list[float]:
    if not text:
        raise IngestError(f"{where}missing 'points'")
    try:
        flat = [float(v) for pair in text.strip().split(";") for v in pair.split(",")]
    except ValueError:
        raise IngestError(f"{where}'points' is not a list of x,y pairs: {text[:80]!r}") from None
    if len(flat) % 2:
        raise IngestError(f"{where}'points' has an odd number of coordinates")
    if len(flat) < 6:
        raise IngestError(f"{where}a polygon needs at least 3 points, got {len(flat) // 2}")
    return flat


def cvat_mask_runs(element, width: int, height: int, where: str) -> list[int]:
    """Our row-wise RLE of the whole image from a CVAT ``<mask>`` (RLE over its crop)."""
    try:
        counts = np.asarray([int(v) for v in (element.get("rle") or "").split(",")], np.int64)
    except ValueError:
        raise IngestError(f"{where}'rle' is not a comma-separated list of run lengths") from None
    left, top = int(attr_number(element, "left", where)), int(attr_number(element, "top", where))
    w, h = int(attr_number(element, "width", where)), int(attr_number(element, "height", where))
    if w <= 0 or h <= 0 or left < 0 or top < 0 or left + w > width or top + h > height:
        raise IngestError(
            f"{where}the mask's crop {w}x{h} at ({left}, {top}) is not inside the "
            f"{width}x{height} image"
        )
    if (counts < 0).any() or int(counts.sum()) != w * h:
        raise IngestError(
            f"{where}the mask's runs sum to {int(counts.sum())}, expected {w * h} (its width x "
            "height)"
        )
    values = (np.arange(counts.size) % 2).astype(bool)
    crop = np.repeat(values, counts).reshape(h, w)
    full = np.zeros((height, width), dtype=bool)
    full[top : top + h, left : left + w] = crop
    return rle.encode(full)


#: (group_id, label) → [(ring, attributes, extra, where)]: the rings of one annotation
Groups = dict[tuple[str, str], list[tuple[list[float], dict, dict, str]]]


def _shape(
    records: Records, img: int, shape, swhere: str, size: tuple[int, int], groups: Groups
) -> None:
    label = shape.get("label")
    if shape.tag not in ("box", "polygon", "mask", "tag"):
        raise IngestError(f"{swhere}unknown element <{shape.tag}>")
    if not label:
        raise IngestError(f"{swhere}missing 'label'")
    attrs = _attributes(shape, swhere)
    # CVAT's own COCO import keeps iscrowd as the attribute is_crowd.
    crowd = str(attrs.pop(CROWD_ATTRIBUTE, "false")).lower() in ("true", "1")
    extra: dict[str, Any] = {"iscrowd": True} if crowd else {}
    if str(attrs.pop(SEMANTIC_ATTRIBUTE, "false")).lower() in ("true", "1"):
        extra["annotation_type"] = AnnotationType.SEMANTIC_SEGMENTATION.value
    if shape.tag == "box":
        try:
            get = shape.get
            x0, y0 = float(get("xtl")), float(get("ytl"))
            x1, y1 = float(get("xbr")), float(get("ybr"))
        except (TypeError, ValueError):  # say which one
            x0, y0 = attr_number(shape, "xtl", swhere), attr_number(shape, "ytl", swhere)
            x1, y1 = attr_number(shape, "xbr", swhere), attr_number(shape, "ybr", swhere)
        records.box(img, label, x0, y0, x1, y1, swhere, attributes=attrs, **extra)
    elif shape.tag == "polygon":
        ring = _points(shape.get("points"), swhere)
        group = shape.get("group_id")
        if group and group != "0":
            groups.setdefault((group, label), []).append((ring, attrs, extra, swhere))
        else:
            records.polygon(img, label, [ring], swhere, attributes=attrs, **extra)
    elif shape.tag == "mask":
        runs = cvat_mask_runs(shape, size[0], size[1], swhere)
        records.mask(img, label, runs, size, swhere, attributes=attrs, **extra)
    else:
        records.classification(img, label, swhere, attributes=attrs)


def parse_cvat(annotations_xml: str | os.PathLike, images_path: str | os.PathLike) -> LabelSet:
    path = str(annotations_xml)
    root = read_xml(path)
    if root.tag != "annotations":
        raise IngestError(f"{path}: the root element is <{root.tag}>, expected <annotations>")
    images_root = os.path.abspath(os.path.expanduser(str(images_path)))
    label_names = [
        (el.text or "").strip()
        for el in root.findall("./meta/task/labels/label/name")
        + root.findall("./meta/project/labels/label/name")
    ]
    records = Records()
    skipped: dict[str, int] = {}
    for n, image in enumerate(root.iter("image"), start=1):
        where = f"{path}, <image> #{n} (name={image.get('name')!r}): "
        name = image.get("name")
        if not name:
            raise IngestError(f"{where}missing 'name'")
        width = int(attr_number(image, "width", where))
        height = int(attr_number(image, "height", where))
        subset = image.get("subset")
        img = records.image(
            _inside(images_root, name, where),
            where,
            width=width,
            height=height,
            tags=[subset] if subset else None,
        )
        groups: Groups = {}
        for k, shape in enumerate(image, start=1):
            swhere = f"{path}, <image> #{n} (name={name!r}), <{shape.tag}> #{k}: "
            if shape.tag in SKIPPED_SHAPES:
                skipped[shape.tag] = skipped.get(shape.tag, 0) + 1
                continue
            _shape(records, img, shape, swhere, (width, height), groups)
        for (_, label), parts in groups.items():
            _, attrs, extra, swhere = parts[0]
            rings = [ring for ring, *_ in parts]
            records.polygon(img, label, rings, swhere, attributes=attrs, **extra)
    notes = []
    if skipped:
        what = ", ".join(f"{v} <{k}>" for k, v in skipped.items())
        notes.append(f"{path}: skipped shapes that have no counterpart here: {what}")
    return records.label_set(path, label_names, notes)


def add_samples_from_cvat(
    dataset: Any,
    annotations_xml: str | os.PathLike,
    images_path: str | os.PathLike,
    embed: bool = True,
    annotation_source: str | None = None,
):
    """Index the images of a CVAT for images 1.1 XML with their shapes (one transaction)."""
    labels = parse_cvat(annotations_xml, images_path)
    return add_samples(dataset, labels, embed=embed, annotation_source=annotation_source)


def add_annotations_from_cvat(
    dataset: Any,
    annotations_xml: str | os.PathLike,
    images_path: str | os.PathLike,
    annotation_source: str | None = None,
):
    """Attach the shapes of a CVAT XML (e.g. corrected in CVAT) to images already in the
    dataset, as a further annotation source."""
    labels = parse_cvat(annotations_xml, images_path)
    return add_annotations(dataset, labels, annotation_source=annotation_source)
