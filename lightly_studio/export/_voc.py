"""Pascal VOC writers: detection XML per image and class-id segmentation PNGs.

Layout (what ``add_samples_from_pascal_voc*`` reads back)::

    output_folder/
      JPEGImages/<rel>                 the images (linked; images='none' skips them)
      Annotations/<rel stem>.xml       detections
      SegmentationClass/<rel stem>.png class ids per pixel (palette PNG, VOC colours)
      SegmentationObject/<rel stem>.png instance ids 1.. per pixel (when the export has
                                       instance masks; their order is the annotations')
      ImageSets/Main/<split>.txt       (detections) / ImageSets/Segmentation/<split>.txt
      labelmap.txt                     (segmentations) one 'name:r,g,b::' line per class id

Box coordinates are written as stored (shortest round-trip float text), so a re-import gives
the same boxes to the last bit.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import numpy as np

from lightly_studio.errors import ExportError
from lightly_studio.export._labelset import (
    check_image_mode,
    export_data,
    out_dir,
    place_images,
    stem,
    write_texts,
)
from lightly_studio.ingest.voc import INT_FIELDS, TEXT_FIELDS
from lightly_studio.shapes import rle
from lightly_studio.store.annotations import BOXED, MASKED, AnnotationType


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def _object_xml(label: str, x: float, y: float, w: float, h: float, attrs: dict) -> str:
    parts = [f"<object><name>{escape(label)}</name>"]
    for field in TEXT_FIELDS:
        if field in attrs:
            parts.append(f"<{field}>{escape(str(attrs[field]))}</{field}>")
    for field in INT_FIELDS:
        if field in attrs:
            parts.append(f"<{field}>{int(attrs[field])}</{field}>")
    parts.append(
        f"<bndbox><xmin>{_num(x)}</xmin><ymin>{_num(y)}</ymin>"
        f"<xmax>{_num(x + w)}</xmax><ymax>{_num(y + h)}</ymax></bndbox>"
    )
    extra = {k: v for k, v in attrs.items() if k not in INT_FIELDS and k not in TEXT_FIELDS}
    if extra:
        parts.append("<attributes>")
        for k, v in extra.items():
            parts.append(
                f"<attribute><name>{escape(str(k))}</name><value>{escape(str(v))}</value>"
                "</attribute>"
            )
        parts.append("</attributes>")
    parts.append("</object>")
    return "".join(parts)


def write_voc_detections(
    con,
    dataset: Any,
    query: Any,
    output_folder: str | os.PathLike,
    *,
    root: str | os.PathLike | None = None,
    images: str = "link",
    annotation_source: str | None = None,
) -> Path:
    data = export_data(
        con, dataset, query, root=root, annotation_source=annotation_source, types=BOXED
    )
    check_image_mode(images, data.samples, "Pascal VOC")
    out = out_dir(output_folder)
    objects: dict[str, list[str]] = {}
    a = data.annotations
    for ann_id, sid, label, x, y, w, h in zip(
        a["annotation_id"].to_list(),
        a["sample_id"].to_list(),
        a["label"].to_list(),
        a["x"].to_list(),
        a["y"].to_list(),
        a["width"].to_list(),
        a["height"].to_list(),
        strict=True,
    ):
        objects.setdefault(sid, []).append(
            _object_xml(label, x, y, w, h, data.attributes_of(ann_id))
        )
    jobs: list[tuple[str, str]] = []
    pairs: list[tuple[str, str]] = []
    splits: dict[str, list[str]] = {}
    s = data.samples
    for sid, path, rel, width, height, split in zip(
        s["sample_id"].to_list(),
        s["file_path_abs"].to_list(),
        s["rel"].to_list(),
        s["width"].to_list(),
        s["height"].to_list(),
        s["split"].to_list(),
        strict=True,
    ):
        xml = (
            f"<annotation><folder>JPEGImages</folder><filename>{escape(rel)}</filename>"
            f"<size><width>{width}</width><height>{height}</height><depth>3</depth></size>"
            f"<segmented>0</segmented>{''.join(objects.get(sid, ()))}</annotation>\n"
        )
        jobs.append((str(out / "Annotations" / (stem(rel) + ".xml")), xml))
        pairs.append((path, str(out / "JPEGImages" / rel)))
        if sid in data.split_tagged:
            splits.setdefault(split, []).append(stem(rel))
    write_texts(jobs)
    for split, stems in splits.items():
        write_texts([(str(out / "ImageSets" / "Main" / f"{split}.txt"), "\n".join(stems) + "\n")])
    place_images(pairs, images)
    return out


# --- segmentation ------------------------------------------------------------------------------


def voc_colormap(n: int = 256) -> np.ndarray:
    """The Pascal VOC palette (bit-interleaved class id → RGB)."""
    cmap = np.zeros((n, 3), dtype=np.uint8)
    for i in range(n):
        c, r, g, b = i, 0, 0, 0
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        cmap[i] = (r, g, b)
    return cmap


def default_class_ids(names: list[str]) -> dict[int, str]:
    """The labels in order from 1; 0 (unlabelled pixels) is 'background' only where the
    dataset has a label of that name."""
    others = [n for n in names if n != "background"]
    ids = {i + 1: n for i, n in enumerate(others)}
    return {0: "background", **ids} if "background" in names else ids


def _save_palette_png(ids: np.ndarray, palette: list[int], target: Path) -> None:
    from PIL import Image

    image = Image.fromarray(ids, mode="P")
    image.putpalette(palette)
    target.parent.mkdir(parents=True, exist_ok=True)
    image.save(target)


def write_voc_segmentations(
    con,
    dataset: Any,
    query: Any,
    output_folder: str | os.PathLike,
    *,
    class_id_to_name: dict[int, str] | None = None,
    root: str | os.PathLike | None = None,
    images: str = "link",
    annotation_source: str | None = None,
) -> Path:
    data = export_data(
        con, dataset, query, root=root, annotation_source=annotation_source, types=MASKED
    )
    check_image_mode(images, data.samples, "Pascal VOC")
    ids = class_id_to_name or default_class_ids(data.label_names)
    if any(not 0 <= int(k) <= 255 for k in ids):
        raise ExportError("Pascal VOC class ids are PNG values: 0..255")
    id_of = {name: int(k) for k, name in ids.items()}
    missing = sorted(set(data.annotations["label"].to_list()) - set(id_of))
    if missing:
        raise ExportError(f"class_id_to_name has no id for the labels {missing}")
    out = out_dir(output_folder)
    masks_of: dict[str, list[tuple[str, list[int], bool]]] = {}
    a = data.annotations
    instance = AnnotationType.INSTANCE_SEGMENTATION.value
    for sid, label, runs, kind in zip(
        a["sample_id"].to_list(),
        a["label"].to_list(),
        a["segmentation_mask"].to_list(),
        a["annotation_type"].to_list(),
        strict=True,
    ):
        masks_of.setdefault(sid, []).append((label, runs, kind == instance))
    with_instances = instance in set(a["annotation_type"].to_list())
    palette = voc_colormap().ravel().tolist()
    pairs: list[tuple[str, str]] = []
    splits: dict[str, list[str]] = {}
    s = data.samples
    for sid, path, rel, width, height, split in zip(
        s["sample_id"].to_list(),
        s["file_path_abs"].to_list(),
        s["rel"].to_list(),
        s["width"].to_list(),
        s["height"].to_list(),
        s["split"].to_list(),
        strict=True,
    ):
        canvas = np.zeros((height, width), dtype=np.uint8)
        objects = np.zeros((height, width), dtype=np.uint8)
        n_objects = 0
        for label, runs, is_instance in masks_of.get(sid, ()):
            pixels = rle.decode(runs, width, height)
            canvas[pixels] = id_of[label]
            if is_instance:
                n_objects += 1
                if n_objects > 254:  # 0 is background, 255 VOC's void
                    raise ExportError(f"{rel}: more than 254 instances do not fit a VOC PNG")
                objects[pixels] = n_objects
        _save_palette_png(canvas, palette, out / "SegmentationClass" / (stem(rel) + ".png"))
        if with_instances:
            _save_palette_png(objects, palette, out / "SegmentationObject" / (stem(rel) + ".png"))
        pairs.append((path, str(out / "JPEGImages" / rel)))
        if sid in data.split_tagged:
            splits.setdefault(split, []).append(stem(rel))
    cmap = voc_colormap()
    labelmap = "".join(
        f"{name}:{','.join(str(int(c)) for c in cmap[int(k)])}::\n"
        for k, name in sorted(ids.items())
    )
    write_texts([(str(out / "labelmap.txt"), labelmap)])
    for split, stems in splits.items():
        write_texts(
            [(str(out / "ImageSets" / "Segmentation" / f"{split}.txt"), "\n".join(stems) + "\n")]
        )
    place_images(pairs, images)
    return out
