"""Pascal VOC import: detection XML and segmentation PNGs.

Detection: one XML per image (``<annotation>`` with ``<filename>``, ``<size>`` and
``<object>``s holding ``<name>`` and ``<bndbox>``). Coordinates are read as given (floats
allowed) and stored as pixel boxes ``x = xmin, width = xmax - xmin``, so an export writes
exactly what was read. ``difficult``, ``truncated``, ``occluded`` (ints) and ``pose`` (text),
and CVAT-style ``<attributes><attribute><name/><value/></attribute></attributes>`` (text), are
kept as annotation attributes. ``ImageSets/Main/{train,val,test}.txt`` next to the
annotations folder become split tags.

Segmentation: one PNG of class ids per image (palette or grayscale), named like the image.
Each class present becomes one semantic-segmentation annotation. Ids missing from
``class_id_to_name`` are an error, except 0 (background) and 255 (VOC's "void" border),
which are skipped unless mapped. With ``instances_path`` (VOC's ``SegmentationObject/``: one
PNG of instance ids per image, same names), each instance becomes an instance-segmentation
annotation whose class is the one its pixels have in the class PNG (an instance over several
classes is an error); class pixels that no instance covers stay a semantic annotation.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from lightly_studio.errors import IngestError
from lightly_studio.ingest.files import IMAGE_EXTENSIONS, list_files
from lightly_studio.ingest.labelset import LabelSet, Records, add_annotations, add_samples
from lightly_studio.ingest.xmlfiles import number_of, read_xml, text_of
from lightly_studio.shapes import rle
from lightly_studio.store.annotations import AnnotationType

#: Object fields kept as integer attributes, and as text.
INT_FIELDS = ("difficult", "truncated", "occluded")
TEXT_FIELDS = ("pose",)
SPLIT_NAMES = ("train", "val", "test")


def _inside(root: str, name: str, where: str) -> str:
    full = os.path.normpath(os.path.join(root, name))
    if not full.startswith(root.rstrip(os.sep) + os.sep):
        raise IngestError(f"{where}the file name {name!r} points outside the images folder {root}")
    return full


def _split_tags(annotations_root: str) -> dict[str, list[str]]:
    """{xml stem: [split, ...]} from ImageSets/Main/{train,val,test}.txt next to the folder."""
    folder = Path(annotations_root).parent / "ImageSets" / "Main"
    tags: dict[str, list[str]] = {}
    for split in SPLIT_NAMES:
        path = folder / f"{split}.txt"
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    tags.setdefault(line.split()[0], []).append(split)
    return tags


def parse_voc_detections(
    images_path: str | os.PathLike, annotations_path: str | os.PathLike
) -> LabelSet:
    """Every ``*.xml`` below ``annotations_path``; images are ``images_path/<filename>``."""
    images_root = os.path.abspath(os.path.expanduser(str(images_path)))
    ann_root = os.path.abspath(os.path.expanduser(str(annotations_path)))
    xml_files = sorted(list_files(ann_root, (".xml",)).paths)
    if not xml_files:
        raise IngestError(f"{ann_root}: no .xml annotation files found")
    splits = _split_tags(ann_root)
    records = Records()
    for xml_path in xml_files:
        root = read_xml(xml_path)
        where = f"{xml_path}: "
        if root.tag != "annotation":
            raise IngestError(f"{where}the root element is <{root.tag}>, expected <annotation>")
        filename = text_of(root, "filename", where)
        size = root.find("size")
        width = height = None
        if size is not None:
            width = int(number_of(size, "width", f"{xml_path}, <size>: "))
            height = int(number_of(size, "height", f"{xml_path}, <size>: "))
        rel_stem = os.path.splitext(os.path.relpath(xml_path, ann_root))[0].replace(os.sep, "/")
        img = records.image(
            _inside(images_root, filename, where),  # type: ignore[arg-type]
            where,
            width=width,
            height=height,
            tags=splits.get(rel_stem),
        )
        for n, obj in enumerate(root.iter("object"), start=1):
            owhere = f"{xml_path}, <object> #{n}: "
            label = text_of(obj, "name", owhere)
            box = obj.find("bndbox")
            if box is None:
                raise IngestError(f"{owhere}missing <bndbox>")
            bwhere = f"{xml_path}, <object> #{n} <bndbox>: "
            x0, y0 = number_of(box, "xmin", bwhere), number_of(box, "ymin", bwhere)
            x1, y1 = number_of(box, "xmax", bwhere), number_of(box, "ymax", bwhere)
            records.box(img, label, x0, y0, x1, y1, owhere, attributes=_attributes(obj, owhere))  # type: ignore[arg-type]
    return records.label_set(ann_root, [], [])


def _attributes(obj, where: str) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    for field in INT_FIELDS:
        text = text_of(obj, field, where, required=False)
        if text is not None:
            try:
                attrs[field] = int(float(text))
            except ValueError:
                raise IngestError(f"{where}<{field}> is not a number: {text!r}") from None
    for field in TEXT_FIELDS:
        text = text_of(obj, field, where, required=False)
        if text is not None:
            attrs[field] = text
    extra = obj.find("attributes")
    if extra is not None:
        for attr in extra.findall("attribute"):
            name = text_of(attr, "name", where)
            value = attr.find("value")
            attrs[name] = (value.text or "") if value is not None else ""  # type: ignore[index]
    return attrs


def add_samples_from_pascal_voc(
    dataset: Any,
    images_path: str | os.PathLike,
    annotations_path: str | os.PathLike,
    embed: bool = True,
    annotation_source: str | None = None,
):
    """Index a Pascal VOC detection dataset (one transaction)."""
    labels = parse_voc_detections(images_path, annotations_path)
    return add_samples(dataset, labels, embed=embed, annotation_source=annotation_source)


def add_annotations_from_pascal_voc(
    dataset: Any,
    images_path: str | os.PathLike,
    annotations_path: str | os.PathLike,
    annotation_source: str | None = None,
):
    """Attach Pascal VOC boxes to images already in the dataset (matched by path)."""
    labels = parse_voc_detections(images_path, annotations_path)
    return add_annotations(dataset, labels, annotation_source=annotation_source)


# --- segmentation ------------------------------------------------------------------------------


def parse_voc_segmentations(
    images_path: str | os.PathLike,
    masks_path: str | os.PathLike,
    class_id_to_name: dict[int, str],
    split: str | None = None,
    limit: int | None = None,
    instances_path: str | os.PathLike | None = None,
) -> LabelSet:
    """One semantic-segmentation annotation per class present in each mask PNG; with
    ``instances_path`` one instance-segmentation annotation per instance id."""
    if not class_id_to_name:
        raise IngestError("class_id_to_name must map the mask values to class names")
    ids = {int(k): str(v) for k, v in class_id_to_name.items()}
    images_root = os.path.abspath(os.path.expanduser(str(images_path)))
    masks_root = os.path.abspath(os.path.expanduser(str(masks_path)))
    instances_root = (
        os.path.abspath(os.path.expanduser(str(instances_path))) if instances_path else None
    )
    if instances_root is not None and not os.path.isdir(instances_root):
        raise IngestError(f"{instances_root}: the instances folder does not exist")
    by_stem: dict[str, str] = {}
    for p in list_files(images_root, IMAGE_EXTENSIONS).paths:
        by_stem.setdefault(os.path.splitext(os.path.relpath(p, images_root))[0], p)
    masks = sorted(list_files(masks_root, (".png",)).paths)
    if not masks:
        raise IngestError(f"{masks_root}: no .png mask files found")
    if limit is not None:
        masks = masks[: max(0, int(limit))]
    records = Records()
    for mask_path in masks:
        where = f"{mask_path}: "
        stem = os.path.splitext(os.path.relpath(mask_path, masks_root))[0]
        image = by_stem.get(stem)
        if image is None:
            raise IngestError(f"{where}no image named {stem}.* in {images_root}")
        arr = _read_id_png(mask_path, where, "class ids")
        h, w = arr.shape[:2]
        img = records.image(image, where, tags=[split] if split else None)
        values = np.unique(arr)
        unknown = [int(v) for v in values if int(v) not in ids and int(v) not in (0, 255)]
        if unknown:
            raise IngestError(
                f"{where}has class ids {unknown} that are not in class_id_to_name ({sorted(ids)})"
            )
        covered = np.zeros((h, w), dtype=bool)
        instance_png = _instance_png(instances_root, stem)
        if instance_png is not None:
            covered = _add_instances(records, img, arr, instance_png, ids)
        for v in values:
            name = ids.get(int(v))
            pixels = (arr == v) & ~covered
            if name is not None and pixels.any():
                records.mask(
                    img,
                    name,
                    rle.encode(pixels),
                    (w, h),
                    f"{where}class id {int(v)}: ",
                    annotation_type=AnnotationType.SEMANTIC_SEGMENTATION.value,
                )
    return records.label_set(masks_root, [ids[k] for k in sorted(ids)], [])


def _read_id_png(path: str, where: str, what: str) -> np.ndarray:
    from PIL import Image

    try:
        with Image.open(path) as im:
            if im.mode not in ("P", "L", "I", "I;16"):
                raise IngestError(
                    f"{where}a mask is a palette or grayscale PNG of {what}, got mode {im.mode!r}"
                )
            return np.asarray(im)
    except IngestError:
        raise
    except Exception as exc:  # PIL raises many types for broken files
        raise IngestError(f"{where}cannot read the mask ({exc})") from exc


def _instance_png(instances_root: str | None, stem: str) -> str | None:
    if instances_root is None:
        return None
    path = os.path.join(instances_root, stem + ".png")
    return path if os.path.isfile(path) else None


def _add_instances(
    records: Records, img: int, classes: np.ndarray, path: str, ids: dict[int, str]
) -> np.ndarray:
    """One instance mask per instance id of the PNG at ``path`` (0 and 255 are background
    and void), its class read from ``classes``; returns the pixels the instances cover."""
    where = f"{path}: "
    instances = _read_id_png(path, where, "instance ids")
    if instances.shape != classes.shape:
        raise IngestError(
            f"{where}the instance PNG is {instances.shape[1]}x{instances.shape[0]} but its class "
            f"PNG is {classes.shape[1]}x{classes.shape[0]}"
        )
    h, w = classes.shape
    covered = np.zeros((h, w), dtype=bool)
    for v in np.unique(instances):
        if int(v) in (0, 255):
            continue
        pixels = instances == v
        found = [int(c) for c in np.unique(classes[pixels]) if int(c) in ids]
        iwhere = f"{where}instance id {int(v)}: "
        if len(found) != 1:
            raise IngestError(
                f"{iwhere}its pixels have {'no' if not found else 'several'} classes in the "
                f"class PNG ({found}); an instance has exactly one"
            )
        records.mask(img, ids[found[0]], rle.encode(pixels), (w, h), iwhere)
        covered |= pixels
    return covered


def add_samples_from_pascal_voc_segmentations(
    dataset: Any,
    images_path: str | os.PathLike,
    masks_path: str | os.PathLike,
    class_id_to_name: dict[int, str],
    split: str | None = None,
    embed: bool = True,
    annotation_source: str | None = None,
    limit: int | None = None,
    instances_path: str | os.PathLike | None = None,
):
    """Index the images that have a mask in ``masks_path``, with their class masks (and
    instance masks from ``instances_path``, VOC's SegmentationObject folder)."""
    labels = parse_voc_segmentations(
        images_path, masks_path, class_id_to_name, split, limit, instances_path
    )
    return add_samples(dataset, labels, embed=embed, annotation_source=annotation_source)


def add_annotations_from_pascal_voc_segmentations(
    dataset: Any,
    masks_path: str | os.PathLike,
    images_root: str | os.PathLike,
    class_id_to_name: dict[int, str],
    annotation_source: str | None = None,
    instances_path: str | os.PathLike | None = None,
):
    """Attach VOC segmentation masks to images already in the dataset (matched by path)."""
    labels = parse_voc_segmentations(
        images_root, masks_path, class_id_to_name, instances_path=instances_path
    )
    return add_annotations(dataset, labels, annotation_source=annotation_source)
