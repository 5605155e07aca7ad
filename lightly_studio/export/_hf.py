"""Hugging Face ``datasets`` writer: a ``datasets.Dataset`` with the images and labels.

Columns: ``image`` (Image feature holding the file's bytes, its path the file name relative
to ``root``), ``file_name``, ``width``, ``height``, ``objects`` ({``bbox``: [x, y, w, h] pixels,
``category``: ClassLabel id, ``iscrowd``, ``mask``} per box or instance mask, the Hub's
COCO-style layout; ``mask`` is a 1-bit PNG of the whole image for an instance mask, None for a
box), ``semantic_mask`` (a PNG of class ids over the image: the ClassLabel id + 1 per pixel, 0
where no semantic mask is; None when the sample has none) and ``label`` (ClassLabel of the
sample's first classification, -1 when none). ``add_samples_from_hf_dataset`` reads it back
(masks pixel-exact; polygons are not kept, their masks are); ``push_to_hub`` /
``save_to_disk`` take it as it is.
"""

from __future__ import annotations

import io
import os
from typing import Any

import numpy as np
import pyarrow as pa

from lightly_studio.errors import ExportError
from lightly_studio.export._labelset import export_data
from lightly_studio.shapes import rle
from lightly_studio.store.annotations import BOXED, AnnotationType


def to_hf_dataset(
    con,
    dataset: Any,
    query: Any,
    *,
    root: str | os.PathLike | None = None,
    annotation_source: str | None = None,
) -> Any:
    import datasets

    data = export_data(
        con, dataset, query, root=root, annotation_source=annotation_source, types=None
    )
    s = data.samples
    if any("://" in p for p in s["file_path_abs"].head(1)):
        raise ExportError("to_hf_dataset reads the image files: cloud images are not supported")
    names = data.label_names
    class_id = {n: i for i, n in enumerate(names)}
    objects: dict[str, dict[str, list]] = {}
    label: dict[str, int] = {}
    semantic: dict[str, list[tuple[int, list[int]]]] = {}
    size = dict(
        zip(s["sample_id"].to_list(), zip(s["width"], s["height"], strict=True), strict=True)
    )
    a = data.annotations
    for sid, kind, name, x, y, w, h, crowd, runs in zip(
        a["sample_id"].to_list(),
        a["annotation_type"].to_list(),
        a["label"].to_list(),
        a["x"].to_list(),
        a["y"].to_list(),
        a["width"].to_list(),
        a["height"].to_list(),
        a["iscrowd"].to_list(),
        a["segmentation_mask"].to_list(),
        strict=True,
    ):
        if kind == AnnotationType.CLASSIFICATION.value:
            label.setdefault(sid, class_id[name])
        elif kind == AnnotationType.SEMANTIC_SEGMENTATION.value:
            semantic.setdefault(sid, []).append((class_id[name] + 1, runs))
        elif kind in BOXED:
            o = objects.setdefault(sid, {"bbox": [], "category": [], "iscrowd": [], "mask": []})
            o["bbox"].append([x, y, w, h])
            o["category"].append(class_id[name])
            o["iscrowd"].append(bool(crowd))
            o["mask"].append(None if runs is None else _mask_png(runs, *size[sid]))
    rels = s["rel"].to_list()
    images = _read_files(s["file_path_abs"].to_list())
    ids = s["sample_id"].to_list()
    features = datasets.Features(
        {
            "image": datasets.Image(),
            "file_name": datasets.Value("string"),
            "width": datasets.Value("int32"),
            "height": datasets.Value("int32"),
            "objects": {
                "bbox": datasets.List(datasets.List(datasets.Value("float64"), length=4)),
                "category": datasets.List(datasets.ClassLabel(names=names or ["_"])),
                "iscrowd": datasets.List(datasets.Value("bool")),
                "mask": datasets.List(datasets.Image()),
            },
            "semantic_mask": datasets.Image(),
            "label": datasets.ClassLabel(names=names or ["_"]),
        }
    )
    if len(names) > 65534:
        raise ExportError("semantic_mask holds class ids in a 16-bit PNG: at most 65534 labels")
    empty: dict[str, list] = {"bbox": [], "category": [], "iscrowd": [], "mask": []}
    schema = features.arrow_schema
    # Straight to Arrow: Dataset.from_dict would encode every example in Python.
    table = pa.table(
        {
            "image": pa.StructArray.from_arrays(
                [pa.array(images, pa.binary()), pa.array(rels, pa.string())],
                names=["bytes", "path"],
            ),
            "file_name": pa.array(rels, pa.string()),
            "width": pa.array(s["width"].to_list(), pa.int32()),
            "height": pa.array(s["height"].to_list(), pa.int32()),
            "objects": pa.array([objects.get(i, empty) for i in ids], schema.field("objects").type),
            "semantic_mask": pa.array(
                [_class_png(semantic[i], *size[i]) if i in semantic else None for i in ids],
                schema.field("semantic_mask").type,
            ),
            "label": pa.array([label.get(i, -1) for i in ids], pa.int64()),
        }
    ).cast(schema)
    return datasets.Dataset(table, info=datasets.DatasetInfo(features=features))


def _png(array: Any) -> dict[str, Any]:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return {"bytes": buf.getvalue(), "path": None}


def _mask_png(runs: list[int], width: int, height: int) -> dict[str, Any]:
    """A 1-bit PNG of the whole image (an Image feature value)."""
    return _png(rle.decode(runs, width, height))


def _class_png(masks: list[tuple[int, list[int]]], width: int, height: int) -> dict[str, Any]:
    """Class ids (ClassLabel id + 1; 0 = none) per pixel, 8-bit or 16-bit as they need."""
    dtype = np.uint8 if max(v for v, _ in masks) < 256 else np.uint16
    canvas = np.zeros((height, width), dtype=dtype)
    for value, runs in masks:
        canvas[rle.decode(runs, width, height)] = value
    return _png(canvas)


def _read_files(paths: list[str]) -> list[bytes]:
    from concurrent.futures import ThreadPoolExecutor

    def read(start: int) -> list[bytes]:
        out = []
        for path in paths[start : start + 256]:
            with open(path, "rb") as f:
                out.append(f.read())
        return out

    with ThreadPoolExecutor(max_workers=8) as pool:
        return [b for part in pool.map(read, range(0, len(paths), 256)) for b in part]
