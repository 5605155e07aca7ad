"""Hugging Face ``datasets`` import: images with COCO-style objects or a class label column.

Accepts a ``datasets.Dataset``, a ``DatasetDict`` (each split becomes a tag), the folder of
``save_to_disk`` or Parquet files (a path, a glob or a list). Images live inside Arrow, so
each is written once to ``images_cache_path`` (``<split>/<name>``; a file already there with
the same bytes size is kept); an Image feature that points at an existing local file is used
where it is, without a copy.

Labels: ``objects_column`` (default ``objects``) holding ``bbox`` (``[x, y, w, h]`` pixels,
or ``bbox_format='xyxy'``) and ``category`` (a ClassLabel id or a name), optionally ``iscrowd``, per object, the
layout of the Hub's detection datasets, and optionally ``mask`` (an image of the whole
picture, non-zero = the object: an instance mask with that box; what ``to_hf_dataset``
writes); ``semantic_mask_column`` (default ``semantic_mask``, when present): an image of class
ids + 1 per pixel (0 = none), each id → a semantic mask of the objects' / label column's
ClassLabel name; and/or ``label_column`` (default: the first ClassLabel column) → a
classification.
"""

from __future__ import annotations

import glob
import io
import os
from pathlib import Path
from typing import Any

import numpy as np

from lightly_studio.errors import IngestError
from lightly_studio.ingest.labelset import LabelSet, Records, add_samples
from lightly_studio.shapes import rle
from lightly_studio.store.annotations import AnnotationType


def _load(dataset_or_path: Any) -> dict[str | None, Any]:
    """{split or None: datasets.Dataset}."""
    import datasets

    obj = dataset_or_path
    if isinstance(obj, (str, os.PathLike, list)):
        paths = [str(p) for p in obj] if isinstance(obj, list) else [str(obj)]
        first = Path(paths[0]).expanduser()
        if len(paths) == 1 and first.is_dir() and not any(first.glob("*.parquet")):
            try:
                obj = datasets.load_from_disk(str(first))
            except FileNotFoundError as exc:
                raise IngestError(f"{first}: not a folder written by save_to_disk ({exc})") from exc
        else:
            files: list[str] = []
            for p in paths:
                q = Path(p).expanduser()
                files += (
                    sorted(str(f) for f in q.glob("*.parquet"))
                    if q.is_dir()
                    else sorted(glob.glob(str(q)))
                )
            if not files:
                raise IngestError(f"{paths[0]}: no Parquet files found")
            obj = datasets.Dataset.from_parquet(files)
    if isinstance(obj, datasets.DatasetDict):
        return dict(obj.items())
    if isinstance(obj, datasets.Dataset):
        return {None: obj}
    raise IngestError(
        "dataset_or_path must be a datasets.Dataset, a DatasetDict, a save_to_disk folder or "
        f"Parquet files, got {type(obj).__name__}"
    )


def _class_names(feature: Any) -> list[str] | None:
    import datasets

    if isinstance(feature, datasets.ClassLabel):
        return list(feature.names)
    return None


def _object_features(features: Any, objects_column: str) -> tuple[Any, Any]:
    """(bbox feature, category feature) of a COCO-style objects column."""
    import datasets

    feature = features[objects_column]
    inner = feature.feature if isinstance(feature, (datasets.Sequence, datasets.List)) else feature
    if not isinstance(inner, dict) or "bbox" not in inner or "category" not in inner:
        raise IngestError(
            f"column {objects_column!r} must hold 'bbox' and 'category' per object (the Hub's "
            "COCO-style detection layout)"
        )
    category = inner["category"]
    if isinstance(category, (datasets.Sequence, datasets.List)):
        category = category.feature
    return inner["bbox"], category


def _image_file(value: dict, cache: Path | None, split: str | None, idx: int, where: str) -> str:
    """A local file for an Image value {'bytes', 'path'}: the path itself when it exists,
    else the bytes written once into the cache folder."""
    data, path = value.get("bytes"), value.get("path")
    if not data:
        if path and os.path.isfile(path):
            return os.path.abspath(path)
        raise IngestError(f"{where}the image has no bytes and its path {path!r} does not exist")
    if cache is None:
        raise IngestError(
            f"{where}the images are stored inside the dataset: pass images_cache_path, a "
            "folder to write them to once"
        )
    name = (path or "").replace("\\", "/").lstrip("/")
    if not name or ".." in name.split("/"):
        name = f"{idx:08d}.{_extension(data)}"
    target = cache / (split or "") / name
    if not (target.is_file() and target.stat().st_size == len(data)):
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return str(target)


def _image_files(values: list, cache: Path | None, split: str | None, label: str) -> list[str]:
    """_image_file for every row; the writes overlap in threads (file creation is latency)."""
    from concurrent.futures import ThreadPoolExecutor

    def chunk(start: int) -> list[str]:
        end = min(start + 256, len(values))
        return [
            _image_file(values[i] or {}, cache, split, i, f"{label}, row {i}: ")
            for i in range(start, end)
        ]

    with ThreadPoolExecutor(max_workers=8) as pool:
        return [p for part in pool.map(chunk, range(0, len(values), 256)) for p in part]


def _extension(data: bytes) -> str:
    if data[:3] == b"\xff\xd8\xff":
        return "jpg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return "img"


def parse_hf_dataset(
    dataset_or_path: Any,
    image_column: str = "image",
    *,
    objects_column: str | None = "objects",
    label_column: str | None = None,
    bbox_format: str = "xywh",
    images_cache_path: str | os.PathLike | None = None,
    semantic_mask_column: str | None = "semantic_mask",
) -> LabelSet:
    import datasets

    if bbox_format not in ("xywh", "xyxy"):
        raise IngestError(f"bbox_format must be 'xywh' or 'xyxy', got {bbox_format!r}")
    splits = _load(dataset_or_path)
    cache = Path(images_cache_path).expanduser().resolve() if images_cache_path else None
    records = Records()
    names: list[str] = []
    for split, ds in splits.items():
        label = f"split {split!r}" if split else "dataset"
        features = ds.features
        if image_column not in features or not isinstance(features[image_column], datasets.Image):
            raise IngestError(
                f"{label}: no Image column {image_column!r} (columns: {list(features)})"
            )
        ds = ds.cast_column(image_column, datasets.Image(decode=False))
        has_objects = objects_column is not None and objects_column in features
        object_names = None
        if has_objects:
            _, category = _object_features(features, objects_column)  # type: ignore[arg-type]
            object_names = _class_names(category)
            names += object_names or []
        class_column = label_column or next(
            (c for c, f in features.items() if _class_names(f) is not None), None
        )
        if label_column is not None and label_column not in features:
            raise IngestError(f"{label}: no column {label_column!r} (columns: {list(features)})")
        class_names = _class_names(features[class_column]) if class_column else None
        names += class_names or []
        columns = [image_column] + ([objects_column] if has_objects else [])
        columns += [class_column] if class_column else []
        semantic_names: list[str] = []
        has_semantic = semantic_mask_column is not None and semantic_mask_column in features
        if semantic_mask_column is not None and has_semantic:
            columns.append(semantic_mask_column)
            semantic_names = object_names or class_names or []
            if not semantic_names:
                raise IngestError(
                    f"{label}: column {semantic_mask_column!r} holds class ids, but neither the "
                    "objects' category nor a label column is a ClassLabel to name them"
                )
        # Whole columns through Arrow: iterating a Dataset builds a Python dict per row.
        table = ds.select_columns(columns).with_format("arrow")[:]
        column = {c: table.column(c).to_pylist() for c in columns}
        paths = _image_files(column[image_column], cache, split, label)
        for idx, path in enumerate(paths):
            where = f"{label}, row {idx}: "
            img = records.image(path, where, tags=[split] if split else None)
            if has_objects:
                _objects(
                    records, img, column[objects_column][idx], object_names, bbox_format, where
                )
            if has_semantic and column[semantic_mask_column][idx] is not None:
                _semantic(records, img, column[semantic_mask_column][idx], semantic_names, where)
            value = column[class_column][idx] if class_column is not None else None
            if value is not None:
                if class_names is not None and isinstance(value, int) and value >= 0:
                    records.classification(img, class_names[value], where)
                elif isinstance(value, str) and value:
                    records.classification(img, value, where)
    return records.label_set("hf dataset", list(dict.fromkeys(names)), [])


def _objects(
    records: Records,
    img: int,
    objects: Any,
    names: list[str] | None,
    bbox_format: str,
    where: str,
) -> None:
    if isinstance(objects, list):  # a list of {bbox, category} instead of columns of lists
        objects = {
            "bbox": [o.get("bbox") for o in objects],
            "category": [o.get("category") for o in objects],
            "iscrowd": [o.get("iscrowd") for o in objects],
            "mask": [o.get("mask") for o in objects],
        }
    boxes, categories = objects.get("bbox") or [], objects.get("category") or []
    crowds = objects.get("iscrowd") or [None] * len(boxes)
    masks = objects.get("mask") or [None] * len(boxes)
    if len(boxes) != len(categories):
        raise IngestError(f"{where}{len(boxes)} boxes but {len(categories)} categories")
    for k, (box, cat) in enumerate(zip(boxes, categories, strict=True)):
        owhere = f"{where}object {k}: "
        if not isinstance(box, (list, tuple)) or len(box) != 4:
            raise IngestError(f"{owhere}a bbox has 4 numbers, got {box!r}")
        if isinstance(cat, int) and not isinstance(cat, bool):
            if names is None or not 0 <= cat < len(names):
                known = f"0..{len(names) - 1}" if names else "none: the column has no ClassLabel"
                raise IngestError(f"{owhere}unknown class id {cat} (known ids: {known})")
            label = names[cat]
        elif isinstance(cat, str) and cat:
            label = cat
        else:
            raise IngestError(f"{owhere}invalid category {cat!r}")
        x0, y0, a, b = (float(v) for v in box)
        x1, y1 = (a, b) if bbox_format == "xyxy" else (x0 + a, y0 + b)
        crowd = bool(crowds[k]) if k < len(crowds) else None
        mask = masks[k] if k < len(masks) else None
        if mask is None:
            records.box(img, label, x0, y0, x1, y1, owhere, iscrowd=crowd)
        else:
            pixels = _decode_png(mask, owhere + "mask: ")
            h, w = pixels.shape[:2]
            box4 = (x0, y0, x1 - x0, y1 - y0)
            records.mask(img, label, rle.encode(pixels > 0), (w, h), owhere, box4, iscrowd=crowd)


def _decode_png(value: Any, where: str) -> np.ndarray:
    """The pixels of an Image value ({'bytes', 'path'}) as a 2-D array."""
    from PIL import Image

    data, path = (
        (value.get("bytes"), value.get("path")) if isinstance(value, dict) else (None, None)
    )
    try:
        with Image.open(io.BytesIO(data) if data else path) as im:  # type: ignore[arg-type]
            pixels = np.asarray(im)
    except Exception as exc:  # PIL raises many types for broken data
        raise IngestError(f"{where}cannot read the mask image ({exc})") from exc
    if pixels.ndim != 2:
        raise IngestError(f"{where}a mask image has one channel, got shape {pixels.shape}")
    return pixels


def _semantic(records: Records, img: int, value: Any, names: list[str], where: str) -> None:
    """One semantic mask per class id (ClassLabel id + 1; 0 = none) in the image."""
    swhere = f"{where}semantic_mask: "
    ids = _decode_png(value, swhere)
    h, w = ids.shape
    for v in np.unique(ids):
        if v == 0:
            continue
        if not 1 <= int(v) <= len(names):
            raise IngestError(f"{swhere}class id {int(v) - 1} is not one of the {len(names)} names")
        records.mask(
            img,
            names[int(v) - 1],
            rle.encode(ids == v),
            (w, h),
            f"{swhere}class {names[int(v) - 1]!r}: ",
            annotation_type=AnnotationType.SEMANTIC_SEGMENTATION.value,
        )


def add_samples_from_hf_dataset(
    dataset: Any,
    dataset_or_path: Any,
    image_column: str = "image",
    *,
    objects_column: str | None = "objects",
    label_column: str | None = None,
    bbox_format: str = "xywh",
    images_cache_path: str | os.PathLike | None = None,
    embed: bool = True,
    annotation_source: str | None = None,
    semantic_mask_column: str | None = "semantic_mask",
):
    """Index a Hugging Face dataset's images with its boxes, masks and/or class labels."""
    labels = parse_hf_dataset(
        dataset_or_path,
        image_column,
        objects_column=objects_column,
        label_column=label_column,
        bbox_format=bbox_format,
        images_cache_path=images_cache_path,
        semantic_mask_column=semantic_mask_column,
    )
    return add_samples(dataset, labels, embed=embed, annotation_source=annotation_source)
