"""What every label-format importer shares: parsed labels → one checked, bulk transaction.

A format module (voc, cvat, labelme, image_folders, hf, ...) only parses its files into a
:class:`LabelSet`: the images it names, the class names, and one annotation record per shape
(box, polygon rings in pixels, or a mask's row-wise RLE). This module then

- reads every image's header: a missing image file or a size other than the one the label file
  declares is an IngestError naming the label file and element;
- rasterises polygons (pycocotools, like the COCO importer), checks masks against the image
  size, clips boxes that reach a little outside the image (reported);
- stores samples, split tags, labels, annotations and attributes in ONE transaction, through
  the same bulk paths as the COCO and YOLO importers (a failed import stores nothing).

Attributes (Pascal VOC difficult/truncated, CVAT attributes, LabelMe shape flags) are kept in
the sample metadata key ``annotation_attributes``: a JSON object {annotation_id: {name:
value}}. Image-level flags (LabelMe) go to the metadata key ``image_flags``. No table change.
"""

from __future__ import annotations

import dataclasses
import json
import os
import uuid
import warnings
from typing import Any

import numpy as np
import polars as pl

from lightly_studio.db import transaction
from lightly_studio.errors import AnnotationError, IngestError
from lightly_studio.ingest.coco import ImportResult, insert_ingested
from lightly_studio.ingest.files import read_sizes
from lightly_studio.shapes import rle
from lightly_studio.shapes.geometry import clip_polygon
from lightly_studio.store._ids import as_uuid
from lightly_studio.store.annotations import FRAME_SCHEMA, GROUND_TRUTH, AnnotationType
from lightly_studio.store.labels import get_or_create_label_ids
from lightly_studio.store.metadata import get_metadata_values, set_metadata_json_values
from lightly_studio.store.samples import dataset_sample_sizes, insert_samples
from lightly_studio.store.tags import tag_sample_ids

ATTRIBUTES_KEY = "annotation_attributes"
IMAGE_FLAGS_KEY = "image_flags"

#: The columns of LabelSet.annotations.
ANNOTATION_SCHEMA: dict[str, Any] = {
    "img_idx": pl.Int64,
    "label": pl.Utf8,
    "annotation_type": pl.Utf8,
    "confidence": pl.Float64,
    "x": pl.Float64,
    "y": pl.Float64,
    "width": pl.Float64,
    "height": pl.Float64,
    # polygon rings in pixels [[x0, y0, x1, y1, ...], ...]: rasterised on import
    "polygon": pl.List(pl.List(pl.Float64)),
    # a ready mask (row-wise RLE over mask_width x mask_height, which must be the image's)
    "segmentation_mask": pl.List(pl.Int32),
    "mask_width": pl.Int64,
    "mask_height": pl.Int64,
    "iscrowd": pl.Boolean,
    "attributes": pl.Utf8,  # JSON object or null
    "where": pl.Utf8,  # "file, element: " for messages
}

#: The columns of LabelSet.images.
IMAGE_SCHEMA: dict[str, Any] = {
    "file_path_abs": pl.Utf8,
    "file_name": pl.Utf8,
    "tags": pl.List(pl.Utf8),
    "declared_width": pl.Int64,
    "declared_height": pl.Int64,
    "flags": pl.Utf8,  # JSON object of image-level flags or null
    "where": pl.Utf8,
}


@dataclasses.dataclass
class LabelSet:
    """A parsed label source. ``img_idx`` of an annotation is its image's row in ``images``."""

    path: str
    images: pl.DataFrame
    label_names: list[str]
    annotations: pl.DataFrame
    warnings: list[str] = dataclasses.field(default_factory=list)


class Records:
    """Collects image and annotation rows while a parser walks its files (column-wise: a
    list per column, and the rarely set ones as {row: value}, so a box costs a few appends)."""

    _DENSE = ("img_idx", "label", "annotation_type", "x", "y", "width", "height", "where")

    def __init__(self) -> None:
        self.images: list[dict] = []
        self._img_idx: dict[str, int] = {}
        self._cols: dict[str, list] = {c: [] for c in self._DENSE}
        self._sparse: dict[str, dict[int, Any]] = {
            c: {} for c in ANNOTATION_SCHEMA if c not in self._DENSE
        }

    def image(
        self,
        file_path_abs: str,
        where: str,
        *,
        width: int | None = None,
        height: int | None = None,
        tags: list[str] | None = None,
        flags: dict | None = None,
    ) -> int:
        """Add an image (once per path; later calls add tags) and return its img_idx."""
        path = os.path.abspath(file_path_abs) if "://" not in file_path_abs else file_path_abs
        idx = self._img_idx.get(path)
        if idx is not None:
            row = self.images[idx]
            row["tags"] = list(dict.fromkeys(row["tags"] + (tags or [])))
            return idx
        self._img_idx[path] = len(self.images)
        self.images.append(
            {
                "file_path_abs": path,
                "file_name": os.path.basename(path),
                "tags": list(tags or []),
                "declared_width": width,
                "declared_height": height,
                "flags": json.dumps(flags, ensure_ascii=False) if flags else None,
                "where": where,
            }
        )
        return len(self.images) - 1

    def box(self, img_idx: int, label: str, x0, y0, x1, y1, where: str, **extra) -> None:
        self._add(img_idx, label, _DETECTION, where, x0, y0, x1 - x0, y1 - y0, extra)

    def boxes(
        self,
        img_idx: list[int],
        labels: list[str],
        xywh: tuple[list[float], list[float], list[float], list[float]],
        where: list[str],
        confidence: list[float | None] | None = None,
    ) -> None:
        """Many boxes (x, y, width, height columns) at once: a few list extends instead of a
        call per box, for parsers that hold their labels column-wise already."""
        c = self._cols
        start = len(c["img_idx"])
        c["img_idx"].extend(img_idx)
        c["label"].extend(labels)
        c["annotation_type"].extend([_DETECTION] * len(img_idx))
        for name, values in zip(("x", "y", "width", "height"), xywh, strict=True):
            c[name].extend(values)
        c["where"].extend(where)
        if confidence is not None:
            self._sparse["confidence"].update(
                (start + i, v) for i, v in enumerate(confidence) if v is not None
            )

    def polygon(self, img_idx: int, label: str, rings: list[list[float]], where: str, **extra):
        kind = extra.pop("annotation_type", _INSTANCE)
        extra["polygon"] = rings
        self._add(img_idx, label, kind, where, None, None, None, None, extra)

    def mask(
        self,
        img_idx: int,
        label: str,
        runs: list[int],
        size: tuple[int, int],
        where: str,
        box: tuple[float, float, float, float] | None = None,
        **extra,
    ) -> None:
        """A mask (row-wise RLE over ``size``) with its box (x, y, width, height), or without
        one: then the box around its pixels."""
        kind = extra.pop("annotation_type", _INSTANCE)
        extra.update(segmentation_mask=runs, mask_width=size[0], mask_height=size[1])
        x, y, w, h = box if box is not None else (None, None, None, None)
        self._add(img_idx, label, kind, where, x, y, w, h, extra)

    def classification(self, img_idx: int, label: str, where: str, **extra) -> None:
        self._add(img_idx, label, _CLASSIFICATION, where, None, None, None, None, extra)

    def _add(self, img_idx, label, kind, where, x, y, w, h, extra: dict) -> None:
        c = self._cols
        row = len(c["img_idx"])
        c["img_idx"].append(img_idx)
        c["label"].append(label)
        c["annotation_type"].append(kind)
        c["x"].append(x)
        c["y"].append(y)
        c["width"].append(w)
        c["height"].append(h)
        c["where"].append(where)
        for key, value in extra.items():
            if value is None:
                continue
            if key == "attributes":
                if not value:
                    continue
                value = json.dumps(value, ensure_ascii=False)
            self._sparse[key][row] = value

    def label_set(self, path: str, label_names: list[str], notes: list[str]) -> LabelSet:
        images = pl.DataFrame(self.images, schema=IMAGE_SCHEMA, orient="row")
        n = len(self._cols["img_idx"])
        columns: dict[str, Any] = {}
        for name, dtype in ANNOTATION_SCHEMA.items():
            if name in self._cols:
                values = self._cols[name]
            else:
                values = [None] * n
                for i, v in self._sparse[name].items():
                    values[i] = v
            columns[name] = pl.Series(name, values, dtype=dtype)
        anns = pl.DataFrame(columns)
        used = anns["label"].unique(maintain_order=True).to_list()
        names = list(dict.fromkeys([*label_names, *used]))
        return LabelSet(path, images, names, anns, notes)


_DETECTION = AnnotationType.OBJECT_DETECTION.value
_INSTANCE = AnnotationType.INSTANCE_SEGMENTATION.value
_CLASSIFICATION = AnnotationType.CLASSIFICATION.value


# --- sizes and shapes --------------------------------------------------------------------------


def _read_image_sizes(labels: LabelSet) -> pl.DataFrame:
    """images + width, height from the files' headers. A missing/unreadable image, or one
    whose size differs from the declared one, is an IngestError."""
    images = labels.images
    sizes = read_sizes(images["file_path_abs"].to_list())
    bad = [i for i, s in enumerate(sizes) if not isinstance(s, tuple)]
    if bad:
        row = images.row(bad[0], named=True)
        more = f" ({len(bad) - 1} more images are missing)" if len(bad) > 1 else ""
        raise IngestError(
            f"{row['where']}the image file {row['file_path_abs']} is missing or unreadable "
            f"({sizes[bad[0]]}){more}"
        )
    images = images.with_columns(
        pl.Series("width", [s[0] for s in sizes], dtype=pl.Int64),
        pl.Series("height", [s[1] for s in sizes], dtype=pl.Int64),
    )
    _check_declared(images)
    return images


def _check_declared(images: pl.DataFrame, width: str = "width", height: str = "height") -> None:
    mismatch = images.filter(
        (pl.col("declared_width").is_not_null() & (pl.col("declared_width") != pl.col(width)))
        | (pl.col("declared_height").is_not_null() & (pl.col("declared_height") != pl.col(height)))
    )
    if mismatch.height:
        row = mismatch.row(0, named=True)
        more = f" ({mismatch.height - 1} more images differ)" if mismatch.height > 1 else ""
        raise IngestError(
            f"{row['where']}the image is {row['declared_width']}x{row['declared_height']} in "
            f"the label file but {row['file_path_abs']} is {row[width]}x{row[height]}{more}; "
            "the labels would not fit the image"
        )


def annotation_frame(
    labels: LabelSet, sized: pl.DataFrame, source: str
) -> tuple[pl.DataFrame, list[str]]:
    """FRAME_SCHEMA rows (plus ``attributes``) for the images in ``sized`` (img_idx,
    sample_id, img_width, img_height): polygons rasterised, masks and boxes checked."""
    notes: list[str] = []
    anns = labels.annotations.join(sized, on="img_idx", how="inner", maintain_order="left")
    if anns.is_empty():
        return _empty_frame(), notes
    anns = anns.with_columns(pl.lit(source).alias("source"))
    # Masks must have the image's size.
    wrong = anns.filter(
        pl.col("segmentation_mask").is_not_null()
        & (
            (pl.col("mask_width") != pl.col("img_width"))
            | (pl.col("mask_height") != pl.col("img_height"))
        )
    )
    if wrong.height:
        row = wrong.row(0, named=True)
        raise IngestError(
            f"{row['where']}the mask is {row['mask_width']}x{row['mask_height']} but the image "
            f"is {row['img_width']}x{row['img_height']}"
        )
    # Boxes a little outside the image are clipped (reported), like the YOLO importer does.
    W, H = pl.col("img_width").cast(pl.Float64), pl.col("img_height").cast(pl.Float64)
    boxed = pl.col("x").is_not_null() & pl.col("polygon").is_null()
    x1, y1 = pl.col("x") + pl.col("width"), pl.col("y") + pl.col("height")
    outside = boxed & (
        (pl.col("x") < -1e-9) | (pl.col("y") < -1e-9) | (x1 > W + 1e-9) | (y1 > H + 1e-9)
    )
    n_out = int(anns.select(outside.fill_null(False).sum()).item())
    if n_out:
        first = anns.filter(outside)["where"][0].rstrip(": ")
        notes.append(f"{n_out} boxes reach outside their image and were clipped (first: {first})")
        anns = anns.with_columns(
            pl.when(boxed).then(pl.col("x").clip(0, W)).otherwise(pl.col("x")).alias("cx0"),
            pl.when(boxed).then(pl.col("y").clip(0, H)).otherwise(pl.col("y")).alias("cy0"),
            pl.when(boxed).then(x1.clip(0, W)).otherwise(x1).alias("cx1"),
            pl.when(boxed).then(y1.clip(0, H)).otherwise(y1).alias("cy1"),
        ).with_columns(
            pl.col("cx0").alias("x"),
            pl.col("cy0").alias("y"),
            (pl.col("cx1") - pl.col("cx0")).alias("width"),
            (pl.col("cy1") - pl.col("cy0")).alias("height"),
        )
    _refuse_degenerate(anns)
    anns = _rasterise_polygons(anns)
    anns = _mask_boxes(anns)
    cols = [*FRAME_SCHEMA, "attributes"]
    return anns.select(cols), notes


def _empty_frame() -> pl.DataFrame:
    return pl.DataFrame(schema={**FRAME_SCHEMA, "attributes": pl.Utf8})


def _refuse_degenerate(anns: pl.DataFrame) -> None:
    small = anns.filter(
        pl.col("x").is_not_null()
        & pl.col("polygon").is_null()
        & ((pl.col("width") < 1.0) | (pl.col("height") < 1.0))
    )
    if small.height:
        row = small.row(0, named=True)
        more = f" ({small.height - 1} more boxes are degenerate)" if small.height > 1 else ""
        raise IngestError(
            f"{row['where']}the box is degenerate: {row['width']:g}x{row['height']:g} px inside "
            f"the {row['img_width']}x{row['img_height']} image (each side needs at least 1 px)"
            f"{more}"
        )


def _rasterise_polygons(anns: pl.DataFrame) -> pl.DataFrame:
    has_poly = anns["polygon"].is_not_null()
    if not has_poly.any():
        return anns
    polys = anns.filter(has_poly)
    masks, rings_out, boxes = [], [], []
    for rings, w, h, where in zip(
        polys["polygon"].to_list(),
        polys["img_width"].to_list(),
        polys["img_height"].to_list(),
        polys["where"].to_list(),
        strict=True,
    ):
        try:
            clip_polygon(rings, w, h, where)  # the annotator's rule: ≥ 3 points, ≥ 1 px²
            kept = rle.coco_polygon_rings(rings, w, h)
            mask = rle.rings_to_mask(kept, w, h)
        except AnnotationError as exc:
            raise IngestError(str(exc)) from exc
        except (ValueError, TypeError) as exc:
            raise IngestError(f"{where}{exc}") from exc
        masks.append(rle.encode(mask))
        rings_out.append(kept)
        pts = np.concatenate([np.asarray(r, dtype=np.float64).reshape(-1, 2) for r in kept])
        lo, hi = np.clip(pts.min(axis=0), 0, (w, h)), np.clip(pts.max(axis=0), 0, (w, h))
        boxes.append((float(lo[0]), float(lo[1]), float(hi[0] - lo[0]), float(hi[1] - lo[1])))
    bb = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    idx = has_poly.arg_true()
    return anns.with_columns(
        _scatter(anns["segmentation_mask"], idx, masks, pl.List(pl.Int32)),
        _scatter(anns["polygon"], idx, rings_out, pl.List(pl.List(pl.Float64))),
        *(
            _scatter(anns[c], idx, bb[:, i].tolist(), pl.Float64)
            for i, c in enumerate(("x", "y", "width", "height"))
        ),
    )


def _scatter(series: pl.Series, idx: pl.Series, values: list, dtype) -> pl.Series:
    """``series`` with the rows at ``idx`` replaced by ``values`` (any dtype, lists too)."""
    out = series.to_list()
    for i, v in zip(idx.to_list(), values, strict=True):
        out[i] = v
    return pl.Series(series.name, out, dtype=dtype)


def _mask_boxes(anns: pl.DataFrame) -> pl.DataFrame:
    """A mask without a box (mask-only formats) gets the box around its pixels."""
    need = anns["segmentation_mask"].is_not_null() & anns["x"].is_null()
    if not need.any():
        return anns
    rows = anns.filter(need)
    boxes = []
    for runs, w in zip(
        rows["segmentation_mask"].to_list(), rows["img_width"].to_list(), strict=True
    ):
        box = rle.bbox_from_rle(runs, w)
        boxes.append([float(v) for v in box] if box is not None else [0.0, 0.0, 0.0, 0.0])
    bb = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    idx = need.arg_true()
    return anns.with_columns(
        *(
            _scatter(anns[c], idx, bb[:, i].tolist(), pl.Float64)
            for i, c in enumerate(("x", "y", "width", "height"))
        )
    )


# --- into the database -------------------------------------------------------------------------


def _insert(con, dataset: Any, frame: pl.DataFrame) -> int:
    """Insert annotations; those with attributes get their id here so the attributes can be
    keyed by it (merged into the sample's ``annotation_attributes`` metadata)."""
    if frame.is_empty():
        return 0
    has_attr = frame["attributes"].is_not_null()
    ids = [str(uuid.uuid4()) if a else None for a in has_attr.to_list()] if has_attr.any() else None
    frame = frame.with_columns(pl.Series("annotation_id", ids, dtype=pl.Utf8)) if ids else frame
    added = insert_ingested(con, dataset.dataset_id, frame.drop("attributes"))
    if ids:
        with_attr = frame.filter(has_attr).select("sample_id", "annotation_id", "attributes")
        merge_json_metadata(
            con,
            dataset.dataset_id,
            ATTRIBUTES_KEY,
            with_attr.group_by("sample_id", maintain_order=True).agg("annotation_id", "attributes"),
            lambda ann_ids, texts: {a: json.loads(t) for a, t in zip(ann_ids, texts, strict=True)},
        )
    return added


_KV = {"sample_id": pl.Utf8, "value": pl.Utf8}


def merge_json_metadata(con, dataset_id: Any, key: str, groups: pl.DataFrame, build) -> None:
    """Merge {k: v} objects into the JSON metadata ``key`` of each sample_id in ``groups``
    (sample_id, then the columns ``build`` turns into the object)."""
    if groups.is_empty():
        return
    existing = get_metadata_values(
        con,
        dataset_id,
        key,
        ("SELECT unnest($1::UUID[]) AS sample_id", [groups["sample_id"].to_list()]),
    )
    before = dict(zip(existing["sample_id"].to_list(), existing["value"].to_list(), strict=True))
    ids, values = [], []
    for row in groups.iter_rows():
        merged = dict(before.get(row[0]) or {})
        merged.update(build(*row[1:]))
        ids.append(row[0])
        values.append(json.dumps(merged, ensure_ascii=False))
    set_metadata_json_values(
        con, dataset_id, key, pl.DataFrame({"sample_id": ids, "value": values}, schema=_KV)
    )


def store_images(
    con, dataset: Any, images: pl.DataFrame, result: ImportResult, path: str, hint: str
) -> pl.DataFrame:
    """Insert the images (file_path_abs, file_name, width, height, tags: list) as samples and
    tag them; returns ``images`` with ``sample_id`` and ``is_new``. Images already in the
    dataset are counted and reported in ``result`` (``hint`` names the method that attaches
    labels to existing images): their labels are not to be added again. Every importer that
    creates samples (the label formats here, YOLO) goes through this."""
    stored = insert_samples(
        con, dataset.dataset_id, images.select("file_path_abs", "file_name", "width", "height")
    )
    images = images.join(
        stored.select("file_path_abs", "sample_id", "is_new"),
        on="file_path_abs",
        how="inner",
        maintain_order="left",
    )
    result.samples_added = int(images["is_new"].sum())
    result.samples_existing = images.height - result.samples_added
    if result.samples_existing:
        result.warnings.append(
            f"{path}: {result.samples_existing} images were already in the dataset; "
            f"their labels were not added again ({hint} attaches labels to existing images)"
        )
    tagged = images.select("sample_id", "tags").explode("tags").drop_nulls("tags")
    for tag, ids in tagged.group_by("tags", maintain_order=True).agg("sample_id").rows():
        tag_sample_ids(con, dataset.dataset_id, tag, ids)
    return images


def new_image_sizes(images: pl.DataFrame) -> pl.DataFrame:
    """img_idx, sample_id, img_width, img_height of the images stored just now."""
    return images.filter(pl.col("is_new")).select(
        "img_idx",
        "sample_id",
        pl.col("width").alias("img_width"),
        pl.col("height").alias("img_height"),
    )


def finish_import(
    dataset: Any, result: ImportResult, images: pl.DataFrame, embed: bool, stacklevel: int = 3
) -> ImportResult:
    """After the transaction: warn the notes, embed (etc.) the new samples."""
    for note in result.warnings:
        warnings.warn(note, stacklevel=stacklevel)
    new_ids = images.filter(pl.col("is_new"))["sample_id"].to_list()
    dataset._after_ingest([as_uuid(s) for s in new_ids], embed)
    return result


def add_samples(
    dataset: Any, labels: LabelSet, embed: bool = True, annotation_source: str | None = None
) -> ImportResult:
    """Store the images of ``labels`` with their annotations (one transaction).

    Images already in the dataset keep what they have: their labels are not added twice.
    """
    source = annotation_source or GROUND_TRUTH
    result = ImportResult(warnings=list(labels.warnings))
    images = (
        _read_image_sizes(labels)
        .with_row_index("img_idx")
        .with_columns(pl.col("img_idx").cast(pl.Int64))
    )
    with transaction() as con:
        images = store_images(
            con, dataset, images, result, labels.path, "the add_annotations_from_* methods"
        )
        if labels.label_names:
            get_or_create_label_ids(con, dataset.dataset_id, labels.label_names)
        frame, notes = annotation_frame(labels, new_image_sizes(images), source)
        result.warnings.extend(notes)
        result.annotations_added = _insert(con, dataset, frame)
        new = images.filter(pl.col("is_new"))
        flagged = new.filter(pl.col("flags").is_not_null()).select("sample_id", "flags")
        merge_json_metadata(con, dataset.dataset_id, IMAGE_FLAGS_KEY, flagged, json.loads)
    return finish_import(dataset, result, images, embed, stacklevel=4)


def add_annotations(
    dataset: Any, labels: LabelSet, annotation_source: str | None = None
) -> ImportResult:
    """Attach the annotations of ``labels`` to images already in the dataset (matched by
    absolute path; sizes from the dataset, so no image is opened). One transaction."""
    source = annotation_source or GROUND_TRUTH
    result = ImportResult(warnings=list(labels.warnings))
    with transaction() as con:
        samples = dataset_sample_sizes(con, dataset.dataset_id, ("image",))
        images = (
            labels.images.with_row_index("img_idx")
            .with_columns(pl.col("img_idx").cast(pl.Int64))
            .join(
                samples.with_columns(
                    pl.col("width").cast(pl.Int64), pl.col("height").cast(pl.Int64)
                ),
                on="file_path_abs",
                how="inner",
                maintain_order="left",
            )
        )
        unmatched = labels.images.height - images.height
        if unmatched:
            first = labels.images.join(images, on="file_path_abs", how="anti")["file_path_abs"][0]
            result.warnings.append(
                f"{labels.path}: {unmatched} images are not in the dataset and their labels "
                f"were skipped (first: {first})"
            )
        _check_declared(images)
        if labels.label_names:
            get_or_create_label_ids(con, dataset.dataset_id, labels.label_names)
        sized = images.select(
            "img_idx",
            "sample_id",
            pl.col("width").alias("img_width"),
            pl.col("height").alias("img_height"),
        )
        frame, notes = annotation_frame(labels, sized, source)
        result.warnings.extend(notes)
        result.annotations_added = _insert(con, dataset, frame)
    for note in result.warnings:
        warnings.warn(note, stacklevel=3)
    return result


__all__ = [
    "ATTRIBUTES_KEY",
    "IMAGE_FLAGS_KEY",
    "LabelSet",
    "Records",
    "add_annotations",
    "add_samples",
    "annotation_frame",
    "finish_import",
    "new_image_sizes",
    "store_images",
]
