"""LabelMe JSON writer: one JSON per image, next to the image (linked into the folder).

Detections → ``rectangle``, polygons → ``polygon`` (a multi-ring one as one ``polygon`` per
ring sharing a fresh ``group_id``), other masks → ``mask`` (a base64 PNG of the mask's box,
LabelMe ≥ 5.3; pixel-exact). Semantic masks carry the shape flag ``semantic_segmentation``.
Shape attributes ``flags``, ``group_id``, ``description`` and the image's flags are written
back. Classifications have no LabelMe shape: they are image flags set to true and listed in
the top-level ``classifications``, which the importer reads back as classifications.
"""

from __future__ import annotations

import base64
import io
import json
import os
from pathlib import Path
from typing import Any

from lightly_studio.export._labelset import (
    ANNOTATION_COLUMNS,
    check_image_mode,
    export_data,
    named_rows,
    out_dir,
    place_images,
    stem,
    write_texts,
)
from lightly_studio.ingest.labelme import CLASSIFICATIONS_KEY, CROWD_FLAG, SEMANTIC_FLAG
from lightly_studio.shapes import rle
from lightly_studio.store.annotations import AnnotationType

LABELME_VERSION = "5.5.0"


def _mask_png(runs: list[int], width: int, height: int) -> tuple[list[list[float]], str]:
    from PIL import Image

    mask = rle.decode(runs, width, height)
    box = rle.bbox_from_mask(mask)
    x, y, w, h = box if box is not None else (0, 0, 1, 1)
    buf = io.BytesIO()
    Image.fromarray(mask[y : y + h, x : x + w]).save(buf, format="PNG")
    points = [[float(x), float(y)], [float(x + w - 1), float(y + h - 1)]]
    return points, base64.b64encode(buf.getvalue()).decode("ascii")


def _add_flags(shape: dict, attrs: dict, row: dict) -> None:
    shape["flags"] = dict(attrs.get("flags", {}))
    if row["iscrowd"]:
        shape["flags"][CROWD_FLAG] = True
    if row["annotation_type"] == AnnotationType.SEMANTIC_SEGMENTATION.value:
        shape["flags"][SEMANTIC_FLAG] = True


def _relative(target: str, start: str, cache: dict[tuple[str, str], str]) -> str:
    """os.path.relpath(target, start), computed once per pair of folders."""
    folder, name = os.path.split(target)
    key = (folder, start)
    if key not in cache:
        cache[key] = os.path.relpath(folder, start)
    rel = cache[key]
    return name if rel == "." else f"{rel}/{name}"


def write_labelme(
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
        con, dataset, query, root=root, annotation_source=annotation_source, types=None
    )
    check_image_mode(images, data.samples, "LabelMe")
    out = out_dir(output_folder)
    s = data.samples
    sizes = dict(
        zip(
            s["sample_id"].to_list(),
            zip(s["width"].to_list(), s["height"].to_list(), strict=True),
            strict=True,
        )
    )
    shapes: dict[str, list[dict]] = {}
    classes: dict[str, dict] = {}
    # The group ids a multi-ring polygon may take: above those the sample's shapes have.
    next_group: dict[str, int] = {}
    for sid, ann_id in zip(
        data.annotations["sample_id"].to_list(),
        data.annotations["annotation_id"].to_list(),
        strict=True,
    ):
        group = data.attributes_of(ann_id).get("group_id")
        if isinstance(group, int) and not isinstance(group, bool):
            next_group[sid] = max(next_group.get(sid, 1), group + 1)
    for values in named_rows(data.annotations, ANNOTATION_COLUMNS):
        row = dict(zip(ANNOTATION_COLUMNS, values, strict=True))
        attrs = data.attributes_of(row["annotation_id"])
        shape: dict[str, Any] = {"label": row["label"], "group_id": attrs.get("group_id")}
        shape["description"] = attrs.get("description", "")
        kind = row["annotation_type"]
        if kind == AnnotationType.CLASSIFICATION.value:
            classes.setdefault(row["sample_id"], {})[row["label"]] = True
            continue
        if kind == AnnotationType.OBJECT_DETECTION.value:
            x, y, w, h = row["x"], row["y"], row["width"], row["height"]
            shape.update(points=[[x, y], [x + w, y + h]], shape_type="rectangle")
        elif row["polygon"] and not row["iscrowd"]:
            if len(row["polygon"]) > 1:
                sid = row["sample_id"]
                shape["group_id"] = next_group.get(sid, 1)
                next_group[sid] = shape["group_id"] + 1
            _add_flags(shape, attrs, row)
            for ring in row["polygon"]:
                part = {
                    **shape,
                    "points": [[ring[i], ring[i + 1]] for i in range(0, len(ring), 2)],
                    "shape_type": "polygon",
                    "flags": dict(shape["flags"]),
                }
                shapes.setdefault(row["sample_id"], []).append(part)
            continue
        else:
            w, h = sizes[row["sample_id"]]
            points, png = _mask_png(row["segmentation_mask"], w, h)
            shape.update(points=points, shape_type="mask", mask=png)
        _add_flags(shape, attrs, row)
        shapes.setdefault(row["sample_id"], []).append(shape)
    jobs, pairs = [], []
    relative_dirs: dict[tuple[str, str], str] = {}
    for sid, path, rel, width, height in zip(
        s["sample_id"].to_list(),
        s["file_path_abs"].to_list(),
        s["rel"].to_list(),
        s["width"].to_list(),
        s["height"].to_list(),
        strict=True,
    ):
        json_path = out / (stem(rel) + ".json")
        target = str(out / rel) if images != "none" else path
        doc = {
            "version": LABELME_VERSION,
            "flags": {**data.flags.get(sid, {}), **classes.get(sid, {})},
            CLASSIFICATIONS_KEY: list(classes.get(sid, {})),
            "shapes": shapes.get(sid, []),
            "imagePath": _relative(target, str(json_path.parent), relative_dirs),
            "imageData": None,
            "imageHeight": height,
            "imageWidth": width,
        }
        jobs.append((str(json_path), json.dumps(doc, ensure_ascii=False)))
        pairs.append((path, target))
    write_texts(jobs)
    place_images(pairs, images)
    return out
