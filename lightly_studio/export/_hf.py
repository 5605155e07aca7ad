"""Hugging Face ``datasets`` writer: a ``datasets.Dataset`` with the images and labels.

Columns: ``image`` (Image feature holding the file's bytes, its path the file name relative
to ``root``), ``file_name``, ``width``, ``height``, ``objects`` ({``bbox``: [x, y, w, h] pixels,
``category``: ClassLabel id, ``iscrowd``} per box, the Hub's COCO-style layout) and ``label`` (ClassLabel
of the sample's first classification, -1 when none). ``add_samples_from_hf_dataset`` reads it
back; ``push_to_hub`` / ``save_to_disk`` take it as it is.
"""

from __future__ import annotations

import os
from typing import Any

import pyarrow as pa

from lightly_studio.errors import ExportError
from lightly_studio.export._labelset import export_data
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
    a = data.annotations
    for sid, kind, name, x, y, w, h, crowd in zip(
        a["sample_id"].to_list(),
        a["annotation_type"].to_list(),
        a["label"].to_list(),
        a["x"].to_list(),
        a["y"].to_list(),
        a["width"].to_list(),
        a["height"].to_list(),
        a["iscrowd"].to_list(),
        strict=True,
    ):
        if kind == AnnotationType.CLASSIFICATION.value:
            label.setdefault(sid, class_id[name])
        elif kind in BOXED:
            o = objects.setdefault(sid, {"bbox": [], "category": [], "iscrowd": []})
            o["bbox"].append([x, y, w, h])
            o["category"].append(class_id[name])
            o["iscrowd"].append(bool(crowd))
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
            },
            "label": datasets.ClassLabel(names=names or ["_"]),
        }
    )
    empty: dict[str, list] = {"bbox": [], "category": [], "iscrowd": []}
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
            "objects": pa.array([objects.get(i, empty) for i in ids]),
            "label": pa.array([label.get(i, -1) for i in ids], pa.int64()),
        }
    ).cast(features.arrow_schema)
    return datasets.Dataset(table, info=datasets.DatasetInfo(features=features))


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
