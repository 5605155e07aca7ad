"""COCO import: object detection, instance segmentation (polygons, RLE) and captions.

The JSON is parsed into polars frames (images, annotations, captions) with vectorised checks;
masks are rasterised by pycocotools and stored as our row-wise RLE, polygons are kept as
given. The frames are then inserted in one transaction: a failed import stores nothing.

Label files may be careless or hostile, so before anything is drawn or stored: ``file_name``
must stay inside ``images_path``; declared sizes must be whole, positive, under the pixel cap
of image headers and equal to the file's header size (missing or unreadable files are skipped
and reported, like ``add_images_from_path`` does); polygon coordinates must be finite and RLE
runs must cover exactly the image (see :mod:`lightly_studio.shapes.rle`). Masks are never larger
than the real image.
"""

from __future__ import annotations

import dataclasses
import json
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from lightly_studio.db import transaction
from lightly_studio.errors import AnnotationError, IngestError
from lightly_studio.ingest.files import _check_pixels, is_remote, read_sizes
from lightly_studio.shapes import rle
from lightly_studio.store._ids import as_uuid
from lightly_studio.store.annotations import (
    FRAME_SCHEMA,
    GROUND_TRUTH,
    AnnotationType,
    insert_annotation_frame,
)
from lightly_studio.store.captions import insert_caption_frame
from lightly_studio.store.labels import get_or_create_label_ids
from lightly_studio.store.samples import dataset_sample_sizes, insert_samples


@dataclasses.dataclass
class CocoData:
    """A parsed COCO file."""

    path: str
    #: coco_image_id, file_name (as in the JSON), file_path_abs, width, height
    images: pl.DataFrame
    #: category names in file order (every category, used or not)
    category_names: list[str]
    #: FRAME_SCHEMA columns without sample_id, plus coco_image_id and coco_id
    annotations: pl.DataFrame
    #: coco_image_id, text
    captions: pl.DataFrame
    warnings: list[str]


@dataclasses.dataclass
class ImportResult:
    """What an import did; ``warnings`` lists what was skipped and why."""

    samples_added: int = 0
    samples_existing: int = 0
    annotations_added: int = 0
    captions_added: int = 0
    warnings: list[str] = dataclasses.field(default_factory=list)


# --- parsing -----------------------------------------------------------------------------------


def load_json(path: str | os.PathLike) -> Any:
    """Read a JSON file (local or fsspec URL); IngestError naming the file and line on failure."""
    path = str(path)
    try:
        if "://" in path:
            import fsspec

            with fsspec.open(path, "rb") as f:
                raw = f.read()
        else:
            raw = Path(path).expanduser().read_bytes()
    except FileNotFoundError as exc:
        raise IngestError(f"{path}: file not found") from exc
    except OSError as exc:
        raise IngestError(f"{path}: cannot read the file ({exc})") from exc
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise IngestError(
            f"{path}: malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from exc
    except UnicodeDecodeError as exc:
        raise IngestError(f"{path}: not UTF-8 text ({exc})") from exc


def parse_coco(
    annotations_json: str | os.PathLike,
    images_path: str | os.PathLike | None,
    annotation_type: AnnotationType | str = AnnotationType.OBJECT_DETECTION,
    *,
    captions: bool = False,
    check_files: bool = True,
    annotation_source: str = GROUND_TRUTH,
    restrict: Callable[[pl.DataFrame], pl.DataFrame] | None = None,
    images_json: str | os.PathLike | None = None,
) -> CocoData:
    """Parse a COCO instances (or captions) file into frames. Raises IngestError on bad input.

    With ``check_files`` each image file's header is read: missing or unreadable files are
    skipped (reported in ``warnings``), a size other than the declared one is an error.
    ``restrict`` may narrow (or check) the images before their annotations are rasterised.
    """
    path = str(annotations_json)
    data = load_json(path)
    if isinstance(data, list):
        data = _results_with_images(path, data, images_json)
    if not isinstance(data, dict):
        raise IngestError(
            f"{path}: expected a JSON object with 'images' and 'annotations', "
            f"got a {type(data).__name__}"
        )
    required = ("images", "annotations") if captions else ("images", "annotations", "categories")
    for key in required:
        if key not in data:
            raise IngestError(f"{path}: missing top-level key {key!r}")
        if not isinstance(data[key], list):
            raise IngestError(f"{path}: {key!r} must be a list")
    notes: list[str] = []
    images = _parse_images(path, data["images"], images_path, check_files, notes)
    if restrict is not None:
        images = restrict(images)
    known_images = set(images["coco_image_id"].to_list())
    if captions:
        caption_frame = _parse_captions(path, data["annotations"], known_images, notes)
        return CocoData(path, images, [], pl.DataFrame(schema=_ANN_SCHEMA), caption_frame, notes)
    categories = _parse_categories(path, data["categories"])
    annotation_type = AnnotationType(annotation_type)
    annotations = _parse_annotations(
        path, data["annotations"], images, categories, annotation_type, annotation_source, notes
    )
    return CocoData(
        path,
        images,
        list(dict.fromkeys(categories.values())),
        annotations,
        pl.DataFrame(schema={"coco_image_id": pl.Int64, "text": pl.Utf8}),
        notes,
    )


def _results_with_images(path: str, results: list, images_json: Any) -> dict:
    """A COCO *results* file (a bare list of ``{image_id, category_id, bbox, score}``) with the
    images and categories of the COCO file its ids refer to."""
    if images_json is None:
        raise IngestError(
            f"{path}: a bare list of results (COCO results format) names images and categories "
            "by id only; pass images_json= the COCO file those ids refer to (the ground truth)"
        )
    reference = load_json(str(images_json))
    if not isinstance(reference, dict) or not isinstance(reference.get("images"), list):
        raise IngestError(f"{images_json}: expected a COCO file with 'images' and 'categories'")
    return {
        "images": reference["images"],
        "categories": reference.get("categories", []),
        "annotations": results,
    }


def _clip_boxes(path: str, frame: pl.DataFrame, notes: list[str]) -> pl.DataFrame:
    """Boxes reaching past their image clipped to it, with one note (models' boxes routinely
    do; float noise below 1e-6 px is left alone, so exact files round-trip unchanged)."""
    x, y = pl.col("bbox").list.get(0), pl.col("bbox").list.get(1)
    w, h = pl.col("bbox").list.get(2), pl.col("bbox").list.get(3)
    W, H = pl.col("img_width"), pl.col("img_height")
    tolerance = 1e-6
    over = (x < -tolerance) | (y < -tolerance) | (x + w > W + tolerance) | (y + h > H + tolerance)
    flagged = frame.select(over.fill_null(False).alias("over"))["over"]
    if not flagged.any():
        return frame
    first = frame.filter(flagged)["coco_id"][0]
    notes.append(
        f"{path}: {int(flagged.sum())} boxes reach outside their image and were clipped to it "
        f"(first: annotation id {first})"
    )
    x0, y0 = x.clip(0, W), y.clip(0, H)
    x1, y1 = (x + w).clip(0, W), (y + h).clip(0, H)
    outside = frame.filter(flagged & frame.select(((x1 <= x0) | (y1 <= y0)).alias("o"))["o"])
    if outside.height:
        raise IngestError(
            f"{path}: annotation id {outside['coco_id'][0]}: the box "
            f"{outside['bbox'][0].to_list()} lies wholly outside its "
            f"{outside['img_width'][0]}x{outside['img_height'][0]} image"
        )
    clipped = pl.concat_list(x0, y0, x1 - x0, y1 - y0)
    return frame.with_columns(
        pl.when(over.fill_null(False)).then(clipped).otherwise(pl.col("bbox")).alias("bbox")
    )


_ANN_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    **{k: v for k, v in FRAME_SCHEMA.items() if k != "sample_id"},
    "coco_image_id": pl.Int64,
    "coco_id": pl.Int64,
}


def _ensure_objects(path: str, what: str, records: list) -> None:
    bad = next((i for i, r in enumerate(records) if type(r) is not dict), None)
    if bad is not None:
        raise IngestError(f"{path}: {what} #{bad} is not a JSON object")


def _column(
    path: str,
    what: str,
    records: list,
    key: str,
    dtype: pl.DataType | type[pl.DataType],
    required: bool = True,
) -> pl.Series:
    """One field of every record as a typed Series; IngestError names the first bad record.

    ``records`` must hold dicts only (see _ensure_objects).
    """
    values = [r.get(key) for r in records]
    if dtype == pl.List(pl.Float64):
        series = _float_lists(values)
    else:
        try:
            series = pl.Series(key, values, dtype=dtype, strict=True)  # the fast path
        except (TypeError, ValueError, OverflowError, pl.exceptions.PolarsError):
            # Mixed types: convert what converts; what doesn't becomes null, reported below.
            series = pl.Series(key, values, dtype=dtype, strict=False)
    if required:
        invalid = series.is_null()
        if invalid.any():
            i = int(invalid.arg_true()[0])
            rec = records[i]
            ident = f" (id {rec.get('id')})" if rec.get("id") is not None else ""
            problem = "has no" if rec.get(key) is None else "has an invalid"
            raise IngestError(f"{path}: {what} #{i}{ident} {problem} {key!r}: {rec.get(key)!r}")
    return series.alias(key)


def _float_lists(values: list) -> pl.Series:
    """List[f64] Series; numpy builds a rectangular one (all boxes of 4) much faster."""
    if values and all(v is not None for v in values):
        try:
            array = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError):
            array = None
        if array is not None and array.ndim == 2:
            return pl.Series(array).cast(pl.List(pl.Float64))
    return pl.Series(values, dtype=pl.List(pl.Float64), strict=False)


def _parse_images(
    path: str, records: list, images_path, check_files: bool, notes: list[str]
) -> pl.DataFrame:
    _ensure_objects(path, "image", records)
    ids = _column(path, "image", records, "id", pl.Int64)
    names = _column(path, "image", records, "file_name", pl.Utf8)
    widths = _column(path, "image", records, "width", pl.Int64)
    heights = _column(path, "image", records, "height", pl.Int64)
    frame = pl.DataFrame(
        [
            ids.alias("coco_image_id"),
            names.alias("file_name"),
            widths.alias("width"),
            heights.alias("height"),
        ]
    )
    dup = frame["coco_image_id"].is_duplicated()
    if dup.any():
        raise IngestError(
            f"{path}: image id {frame['coco_image_id'][int(dup.arg_true()[0])]} "
            "appears more than once"
        )
    _check_declared_sizes(path, records, frame)
    if images_path is None:
        return frame.with_columns(pl.lit(None, dtype=pl.Utf8).alias("file_path_abs"))
    root = str(images_path)
    remote = is_remote(root)
    if not remote:
        # Same normalisation as add_images_from_path, so both find the same samples.
        root = os.path.abspath(os.path.expanduser(root.removeprefix("file://")))
    paths = [
        _join(path, root, image_id, name, remote)
        for image_id, name in zip(
            frame["coco_image_id"].to_list(), frame["file_name"].to_list(), strict=True
        )
    ]
    frame = frame.with_columns(pl.Series("file_path_abs", paths, dtype=pl.Utf8))
    if check_files and frame.height:
        frame = _check_image_files(path, root, remote, frame, notes)
    return frame


def _check_declared_sizes(path: str, records: list, frame: pl.DataFrame) -> None:
    """Width and height must be whole, positive and below the pixel cap of image headers (a
    declared 60000x60000 would make every mask of that image a 3.6 GB array)."""
    for key in ("width", "height"):
        bad = next((i for i, r in enumerate(records) if not _whole(r.get(key))), None)
        if bad is not None:
            raise IngestError(
                f"{path}: image id {records[bad].get('id')} has an invalid {key!r} "
                f"{records[bad].get(key)!r} (a whole number of pixels)"
            )
    bad_size = (frame["width"] <= 0) | (frame["height"] <= 0)
    if bad_size.any():
        i = int(bad_size.arg_true()[0])
        raise IngestError(
            f"{path}: image id {frame['coco_image_id'][i]} has a non-positive width or height"
        )
    largest = frame.select((pl.col("width").cast(pl.Float64) * pl.col("height")).arg_max()).item()
    if largest is not None:
        row = frame.row(largest, named=True)
        try:
            _check_pixels(row["width"], row["height"])
        except ValueError as exc:
            raise IngestError(
                f"{path}: image id {row['coco_image_id']} ({row['file_name']!r}) "
                f"declares a size of {row['width']}x{row['height']}: {exc}"
            ) from None


def _whole(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _join(path: str, root: str, image_id: int, name: str, remote: bool) -> str:
    """The image's path below ``root``; IngestError if ``name`` points outside it."""
    if remote:
        if ".." not in name.replace("\\", "/").split("/"):
            return root.rstrip("/") + "/" + name.lstrip("/")
    else:
        full = os.path.normpath(os.path.join(root, name))
        if full == root or full.startswith(root.rstrip(os.sep) + os.sep):
            return full
    raise IngestError(
        f"{path}: image id {image_id} has file_name {name!r}, which points "
        f"outside the images folder {root}; file names must be paths relative "
        "to images_path, inside it"
    )


def _check_image_files(
    path: str, root: str, remote: bool, frame: pl.DataFrame, notes: list[str]
) -> pl.DataFrame:
    """Read every image's size from its header: skip (and report) missing and unreadable
    files, like add_images_from_path; a size other than the declared one is an error."""
    fs = None
    if remote:
        import fsspec

        fs = fsspec.core.url_to_fs(root)[0]
    sizes = read_sizes(frame["file_path_abs"].to_list(), fs)
    ok = pl.Series([isinstance(s, tuple) for s in sizes], dtype=pl.Boolean)
    if not ok.any():
        raise IngestError(
            f"{path}: none of the {frame.height} images under {root} could be read (first: "
            f"{frame['file_path_abs'][0]}: {sizes[0]}); check images_path"
        )
    if not ok.all():
        failed = [
            (p, s) for p, s in zip(frame["file_path_abs"], sizes, strict=True) if isinstance(s, str)
        ]
        examples = "; ".join(f"{p} ({reason})" for p, reason in failed[:5])
        more = f" and {len(failed) - 5} more" if len(failed) > 5 else ""
        notes.append(
            f"{path}: {len(failed)} image files are missing or unreadable and were "
            f"skipped with their annotations (of {frame.height}): {examples}{more}"
        )
    frame = frame.with_columns(
        pl.Series(
            "real_width", [s[0] if isinstance(s, tuple) else None for s in sizes], dtype=pl.Int64
        ),
        pl.Series(
            "real_height", [s[1] if isinstance(s, tuple) else None for s in sizes], dtype=pl.Int64
        ),
    ).filter(ok)
    mismatch = frame.filter(
        (pl.col("width") != pl.col("real_width")) | (pl.col("height") != pl.col("real_height"))
    )
    if mismatch.height:
        row = mismatch.row(0, named=True)
        more = f" ({mismatch.height - 1} more images differ)" if mismatch.height > 1 else ""
        raise IngestError(
            f"{path}: image id {row['coco_image_id']} ({row['file_name']!r}) is "
            f"{row['width']}x{row['height']} in the JSON but the file {row['file_path_abs']} is "
            f"{row['real_width']}x{row['real_height']}{more}; the annotations would not fit "
            "the image: fix width/height in the JSON or point images_path at the right files"
        )
    return frame.drop("real_width", "real_height")


def _parse_categories(path: str, records: list) -> dict[int, str]:
    _ensure_objects(path, "category", records)
    ids = _column(path, "category", records, "id", pl.Int64)
    names = _column(path, "category", records, "name", pl.Utf8)
    categories: dict[int, str] = {}
    for cid, name in zip(ids.to_list(), names.to_list(), strict=True):
        if not name.strip():
            raise IngestError(f"{path}: category id {cid} has an empty name")
        if cid in categories and categories[cid] != name:
            raise IngestError(f"{path}: category id {cid} is defined twice")
        categories[cid] = name
    return categories


def _parse_captions(path: str, records: list, known_images: set, notes: list[str]) -> pl.DataFrame:
    _ensure_objects(path, "annotation", records)
    image_ids = _column(path, "annotation", records, "image_id", pl.Int64)
    # polars would turn {"a": 1} into the string "{1}": only strings are captions.
    bad = next(
        (
            i
            for i, r in enumerate(records)
            if "caption" in r and not isinstance(r["caption"], str | None)
        ),
        None,
    )
    if bad is not None:
        raise IngestError(
            f"{path}: annotation #{bad} (id {records[bad].get('id')}) has a "
            f"'caption' that is not a string: {records[bad]['caption']!r}"
        )
    texts = _column(path, "annotation", records, "caption", pl.Utf8)
    frame = pl.DataFrame([image_ids.alias("coco_image_id"), texts.alias("text")])
    known = frame["coco_image_id"].is_in(list(known_images))
    if not known.all():
        unknown = frame.filter(~known)["coco_image_id"].unique(maintain_order=True)
        notes.append(
            f"{path}: {int((~known).sum())} captions point at images not imported "
            f"(unknown or missing image ids, e.g. {unknown.head(5).to_list()}) and "
            "were skipped"
        )
        frame = frame.filter(known)
    return frame


def _parse_annotations(
    path: str,
    records: list,
    images: pl.DataFrame,
    categories: dict[int, str],
    annotation_type: AnnotationType,
    source: str,
    notes: list[str],
) -> pl.DataFrame:
    if annotation_type == AnnotationType.CLASSIFICATION:
        raise IngestError(
            "COCO files hold boxes and masks: use OBJECT_DETECTION, "
            "INSTANCE_SEGMENTATION or SEMANTIC_SEGMENTATION"
        )
    if not records:
        return pl.DataFrame(schema=_ANN_SCHEMA)
    with_masks = annotation_type != AnnotationType.OBJECT_DETECTION
    _ensure_objects(path, "annotation", records)
    image_ids = _column(path, "annotation", records, "image_id", pl.Int64)
    category_ids = _column(path, "annotation", records, "category_id", pl.Int64)
    coco_ids = _column(path, "annotation", records, "id", pl.Int64, required=False)
    if coco_ids.null_count():
        coco_ids = pl.Series("id", range(len(records)), dtype=pl.Int64)
    bbox = _column(
        path, "annotation", records, "bbox", pl.List(pl.Float64), required=not with_masks
    )
    score = _column(path, "annotation", records, "score", pl.Float64, required=False)
    iscrowd = _column(path, "annotation", records, "iscrowd", pl.Int64, required=False)
    frame = pl.DataFrame(
        [
            coco_ids.alias("coco_id"),
            image_ids.alias("coco_image_id"),
            category_ids.alias("category_id"),
            bbox.alias("bbox"),
            score.alias("confidence"),
            (iscrowd.fill_null(0) != 0).alias("iscrowd"),
        ]
    ).with_row_index("idx")

    bad_bbox = frame["bbox"].is_not_null() & (
        (frame["bbox"].list.len() != 4) | frame["bbox"].list.eval(pl.element().is_null()).list.any()
    )
    if bad_bbox.any():
        i = int(bad_bbox.arg_true()[0])
        raise IngestError(
            f"{path}: annotation id {frame['coco_id'][i]} has an invalid 'bbox' "
            f"{records[i].get('bbox')!r} (expected [x, y, width, height])"
        )
    unknown_cat = ~frame["category_id"].is_in(list(categories))
    if unknown_cat.any():
        i = int(unknown_cat.arg_true()[0])
        raise IngestError(
            f"{path}: annotation id {frame['coco_id'][i]} has category_id "
            f"{frame['category_id'][i]}, which is not in 'categories' "
            f"({int(unknown_cat.sum())} annotations are affected)"
        )
    # Join the image sizes; annotations of unknown or skipped images are dropped with a note.
    frame = frame.join(
        images.select(
            "coco_image_id",
            pl.col("width").alias("img_width"),
            pl.col("height").alias("img_height"),
        ),
        on="coco_image_id",
        how="left",
        maintain_order="left",
    )
    unknown_img = frame["img_width"].is_null()
    if unknown_img.any():
        ids = frame.filter(unknown_img)["coco_id"].head(5).to_list()
        notes.append(
            f"{path}: {int(unknown_img.sum())} annotations point at images not imported "
            f"(unknown image_id or missing file) and were skipped (annotation ids "
            f"{ids}{', …' if unknown_img.sum() > 5 else ''})"
        )
        frame = frame.filter(~unknown_img)
    frame = _clip_boxes(path, frame, notes)

    masks: list[list[int] | None] = [None] * frame.height
    polygons: list[list[list[float]] | None] = [None] * frame.height
    if with_masks:
        masks, polygons, boxes = _rasterise(path, records, frame)
        frame = frame.with_columns(pl.Series("bbox", boxes, dtype=pl.List(pl.Float64)))
        no_mask = sum(m is None for m in masks)
        if no_mask:
            notes.append(
                f"{path}: {no_mask} annotations have no 'segmentation' and were "
                "imported as boxes (object_detection)"
            )
    kind = (
        pl.when(pl.Series([m is not None for m in masks], dtype=pl.Boolean))
        .then(pl.lit(annotation_type.value))
        .otherwise(pl.lit(AnnotationType.OBJECT_DETECTION.value))
    )
    out = frame.with_columns(
        pl.col("category_id").replace_strict(categories, return_dtype=pl.Utf8).alias("label"),
        kind.alias("annotation_type"),
        pl.lit(source).alias("source"),
        pl.col("bbox").list.get(0).alias("x"),
        pl.col("bbox").list.get(1).alias("y"),
        pl.col("bbox").list.get(2).alias("width"),
        pl.col("bbox").list.get(3).alias("height"),
        pl.Series("segmentation_mask", masks, dtype=pl.List(pl.Int32)),
        pl.Series("polygon", polygons, dtype=pl.List(pl.List(pl.Float64))),
        pl.format("{}: annotation id {}: ", pl.lit(path), pl.col("coco_id")).alias("where"),
    )
    return out.select(list(_ANN_SCHEMA))


def _rasterise(path: str, records: list, frame: pl.DataFrame):
    """Our RLE and polygon rings for each annotation, plus a box where the file has none."""
    masks: list[list[int] | None] = []
    polygons: list[list[list[float]] | None] = []
    boxes: list[list[float] | None] = []
    for idx, bbox, w, h, cid in zip(
        frame["idx"].to_list(),
        frame["bbox"].to_list(),
        frame["img_width"].to_list(),
        frame["img_height"].to_list(),
        frame["coco_id"].to_list(),
        strict=True,
    ):
        seg = records[idx].get("segmentation")
        if seg is None or (isinstance(seg, list) and len(seg) == 0):
            if bbox is None:
                raise IngestError(
                    f"{path}: annotation id {cid} has neither 'segmentation' nor 'bbox'"
                )
            masks.append(None)
            polygons.append(None)
            boxes.append(bbox)
            continue
        try:
            # Rings reaching far outside the image are clipped (the mask is the same): the
            # stored polygon then matches the mask and is safe to draw again.
            if isinstance(seg, list):
                rings = rle.coco_polygon_rings(seg, w, h)
                mask = rle.rings_to_mask(rings, w, h)
            else:
                rings = None
                mask = rle.coco_segmentation_to_mask(seg, w, h)
        except (ValueError, TypeError, AnnotationError) as exc:
            raise IngestError(
                f"{path}: annotation id {cid} has an invalid 'segmentation': {exc}"
            ) from exc
        masks.append(rle.encode(mask))
        polygons.append(rings or None)
        if bbox is None:
            box = rle.bbox_from_mask(mask)
            bbox = [0.0, 0.0, 0.0, 0.0] if box is None else [float(v) for v in box]
        boxes.append(bbox)
    return masks, polygons, boxes


# --- into the database -------------------------------------------------------------------------


def _annotation_type_arg(annotation_type: Any) -> AnnotationType:
    try:
        return AnnotationType(annotation_type)
    except ValueError as exc:
        raise IngestError(
            f"Unknown annotation_type {annotation_type!r}; use one of "
            f"{[t.value for t in AnnotationType]}"
        ) from exc


def _warn(notes: list[str]) -> None:
    for note in notes:
        warnings.warn(note, stacklevel=3)


def add_samples_from_coco(
    dataset: Any,
    annotations_json: str | os.PathLike,
    images_path: str | os.PathLike,
    annotation_type: AnnotationType | str = AnnotationType.OBJECT_DETECTION,
    embed: bool = True,
    annotation_source: str = GROUND_TRUTH,
) -> ImportResult:
    """Index the images of a COCO file with their boxes or masks (one transaction).

    Images already in the dataset are kept as they are: their annotations are not added a
    second time (use ``add_annotations_from_coco`` to attach another annotation source).
    """
    annotation_type = _annotation_type_arg(annotation_type)
    data = parse_coco(
        annotations_json, images_path, annotation_type, annotation_source=annotation_source
    )
    return _store(dataset, data, embed=embed)


def add_samples_from_coco_caption(
    dataset: Any,
    annotations_json: str | os.PathLike,
    images_path: str | os.PathLike,
    embed: bool = True,
) -> ImportResult:
    """Index the images of a COCO captions file with their captions (one transaction)."""
    data = parse_coco(annotations_json, images_path, captions=True)
    return _store(dataset, data, embed=embed)


def _store(dataset: Any, data: CocoData, embed: bool) -> ImportResult:
    result = ImportResult(warnings=list(data.warnings))
    frame = data.images.with_columns(
        pl.col("file_name")
        .str.replace_all("\\", "/", literal=True)
        .str.split("/")
        .list.last()
        .alias("base_name")
    )
    with transaction() as con:
        stored = insert_samples(
            con,
            dataset.dataset_id,
            frame.select(
                "file_path_abs", pl.col("base_name").alias("file_name"), "width", "height"
            ),
        )
        ids = frame.join(
            stored.select("file_path_abs", "sample_id", "is_new"), on="file_path_abs", how="inner"
        )
        result.samples_added = int(ids["is_new"].sum())
        result.samples_existing = ids.height - result.samples_added
        new_ids = ids.filter(pl.col("is_new")).select("coco_image_id", "sample_id")
        if result.samples_existing:
            result.warnings.append(
                f"{data.path}: {result.samples_existing} images were already in the dataset; "
                "their annotations were not added again (add_annotations_from_coco attaches "
                "annotations to existing images)"
            )
        if data.category_names:
            get_or_create_label_ids(con, dataset.dataset_id, data.category_names)
        anns = data.annotations.join(
            new_ids, on="coco_image_id", how="inner", maintain_order="left"
        )
        result.annotations_added = insert_ingested(con, dataset.dataset_id, anns)
        caps = data.captions.join(new_ids, on="coco_image_id", how="inner", maintain_order="left")
        result.captions_added = insert_caption_frame(con, caps.select("sample_id", "text"))
    _warn(result.warnings)
    dataset._after_ingest([as_uuid(s) for s in new_ids["sample_id"].to_list()], embed)
    return result


def add_annotations_from_coco(
    dataset: Any,
    annotations_json: str | os.PathLike,
    images_path: str | os.PathLike | None = None,
    annotation_type: AnnotationType | str = AnnotationType.OBJECT_DETECTION,
    annotation_source: str = GROUND_TRUTH,
    images_json: str | os.PathLike | None = None,
) -> ImportResult:
    """Attach the annotations of a COCO file to images already in the dataset.

    Predictions: a COCO file whose annotations carry ``score`` (stored as the confidence), or
    a bare results list ``[{image_id, category_id, bbox, score}, …]`` with ``images_json``
    the COCO file its ids refer to. Boxes reaching past the image are clipped (one warning).

    Images are matched by absolute path under ``images_path`` when given, else by their
    ``file_name`` as the tail of a sample's path. Use ``annotation_source="my_model"`` to keep
    predictions beside the ground truth. One transaction; unmatched images are reported.
    """
    annotation_type = _annotation_type_arg(annotation_type)
    path = str(annotations_json)
    notes: list[str] = []
    matched = pl.DataFrame()

    def to_samples(images: pl.DataFrame) -> pl.DataFrame:
        """Only images that are samples, and of their size: checked before any mask is drawn
        (masks are image-sized arrays)."""
        nonlocal matched
        matched = match_existing_samples(con, dataset.dataset_id, images, path).join(
            images.select("coco_image_id", "file_name", "width", "height"),
            on="coco_image_id",
            how="inner",
        )
        unmatched = images.height - matched.height
        if unmatched:
            first = images.join(matched, on="coco_image_id", how="anti")["file_name"][0]
            notes.append(
                f"{path}: {unmatched} images are not in the dataset and their "
                f"annotations were skipped (first: {first!r})"
            )
        mismatch = matched.filter(
            (pl.col("width") != pl.col("s_width")) | (pl.col("height") != pl.col("s_height"))
        )
        if mismatch.height:
            row = mismatch.row(0, named=True)
            raise IngestError(
                f"{path}: image id {row['coco_image_id']} ({row['file_name']!r}) is "
                f"{row['width']}x{row['height']} in the JSON but the matching sample is "
                f"{row['s_width']}x{row['s_height']}"
            )
        return images.join(matched.select("coco_image_id"), on="coco_image_id", how="semi")

    with transaction() as con:
        data = parse_coco(
            annotations_json,
            images_path,
            annotation_type,
            check_files=False,
            annotation_source=annotation_source,
            restrict=to_samples,
            images_json=images_json,
        )
        result = ImportResult(warnings=notes + data.warnings)
        get_or_create_label_ids(con, dataset.dataset_id, data.category_names)
        anns = data.annotations.join(
            matched.select("coco_image_id", "sample_id"),
            on="coco_image_id",
            how="inner",
            maintain_order="left",
        )
        result.annotations_added = insert_ingested(con, dataset.dataset_id, anns)
    _warn(result.warnings)
    return result


def insert_ingested(con, dataset_id: Any, frame: pl.DataFrame) -> int:
    """insert_annotation_frame for importers: an invalid value is an IngestError (its message
    names file and annotation id / line), like every other problem with the input."""
    try:
        return insert_annotation_frame(con, dataset_id, frame)
    except AnnotationError as exc:
        raise IngestError(str(exc)) from exc


def match_existing_samples(con, dataset_id: Any, images: pl.DataFrame, path: str) -> pl.DataFrame:
    """coco_image_id → sample_id, s_width, s_height of the dataset's samples for ``images``.

    With file_path_abs set: exact path match. Without: a sample matches when its path ends
    with '/' + file_name; a file_name matching several samples is an error.
    """
    samples = dataset_sample_sizes(con, dataset_id, ("image", "frame")).rename(
        {"width": "s_width", "height": "s_height"}
    )
    if images["file_path_abs"].null_count() == 0:
        return (
            images.select("coco_image_id", "file_path_abs")
            .join(samples, on="file_path_abs", how="inner")
            .select("coco_image_id", "sample_id", "s_width", "s_height")
        )
    # Match on the base name first (an equi-join), then keep path-suffix matches.
    wanted = images.select(
        "coco_image_id",
        pl.col("file_name").str.replace_all(r"\\", "/").str.strip_chars_start("./").alias("rel"),
    ).with_columns(pl.col("rel").str.split("/").list.last().alias("base"))
    have = samples.with_columns(
        pl.col("file_path_abs").str.replace_all(r"\\", "/").alias("norm"),
    ).with_columns(pl.col("norm").str.split("/").list.last().alias("base"))
    pairs = wanted.join(have, on="base", how="inner").filter(
        pl.col("norm").str.ends_with(pl.lit("/") + pl.col("rel"))
        | (pl.col("norm") == pl.col("rel"))
    )
    dup = pairs["coco_image_id"].is_duplicated()
    if dup.any():
        row = pairs.filter(dup).row(0, named=True)
        raise IngestError(
            f"{path}: file_name {row['rel']!r} matches several samples of the "
            "dataset; pass images_path to match by full path"
        )
    return pairs.select("coco_image_id", "sample_id", "s_width", "s_height")


__all__ = [
    "CocoData",
    "ImportResult",
    "add_annotations_from_coco",
    "add_samples_from_coco",
    "add_samples_from_coco_caption",
    "match_existing_samples",
    "parse_coco",
]
