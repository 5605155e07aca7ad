"""The Annotations view: a page of object crops across a dataset, their JPEGs, bulk relabel /
delete / tag of many annotations, and undo.

A crop is the annotation's box plus some context around it, cut from its sample's picture at
thumbnail resolution (``CROP_SIZE`` on the long side) and cached on disk beside the image
thumbnails; a mask's pixels outside the mask are dimmed. The file is read only through
``_media_access`` (the same checks as thumbnails), and the cache key holds the file's mtime
and size and the annotation's version, so an edited box or a replaced file makes a new crop.
"""

from __future__ import annotations

import hashlib
import io
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from lightly_studio.api import _contracts as c
from lightly_studio.api._methods import method
from lightly_studio.api._spec import dataset_of, int_param, text_list, uuid_list
from lightly_studio.api.thumbnails import picture_of
from lightly_studio.core import annotation_edits, undo
from lightly_studio.db import get_connection
from lightly_studio.errors import LightlyStudioError, QueryError
from lightly_studio.ingest.thumbnails import cache_dir, checked_source, read_source
from lightly_studio.shapes import rle
from lightly_studio.store import annotation_batch as batch
from lightly_studio.store import tags as tags_store

CROP_SIZE = 192
JPEG_QUALITY = 82
MAX_CROPS = 256
MAX_CROP_PAGE = 1000
MAX_EDIT = 100_000
#: Context kept around a box on each side: this fraction of its longer side, plus 4 px.
CONTEXT = 0.15
#: How much of a pixel outside a mask stays visible in a mask's crop.
DIM_OUTSIDE_MASK = 0.35

_pool: ThreadPoolExecutor | None = None


def crop_region(row: dict) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) in image pixels: the box and its context, inside the image."""
    x, y, w, h = row["x"], row["y"], row["width"], row["height"]
    pad = CONTEXT * max(w, h) + 4
    left = max(0, int(np.floor(x - pad)))
    top = max(0, int(np.floor(y - pad)))
    right = min(int(row["img_width"]), int(np.ceil(x + w + pad)))
    bottom = min(int(row["img_height"]), int(np.ceil(y + h + pad)))
    return left, top, max(right, left + 1), max(bottom, top + 1)


def box_in_crop(row: dict) -> list[float]:
    """The box as fractions [x, y, w, h] of its crop, for the view's outline."""
    left, top, right, bottom = crop_region(row)
    cw, ch = right - left, bottom - top
    return [
        round((row["x"] - left) / cw, 4),
        round((row["y"] - top) / ch, 4),
        round(row["width"] / cw, 4),
        round(row["height"] / ch, 4),
    ]


def _region_size(row: dict) -> list[int]:
    left, top, right, bottom = crop_region(row)
    return [right - left, bottom - top]


def render_crop(data: bytes, row: dict, size: int = CROP_SIZE) -> bytes:
    """The JPEG crop of one annotation from its sample's encoded picture."""
    from PIL import Image, ImageOps

    left, top, right, bottom = crop_region(row)
    with Image.open(io.BytesIO(data)) as im:
        full_w, full_h = int(row["img_width"]), int(row["img_height"])
        if im.format == "JPEG":
            # Decode at the smallest DCT scale that still gives the crop `size` pixels.
            scale = min(1.0, size / max(right - left, bottom - top))
            im.draft("RGB", (max(1, int(full_w * scale)), max(1, int(full_h * scale))))
        im = ImageOps.exif_transpose(im).convert("RGB")
        # Coordinates are in the stored image size; the decode may be smaller (draft).
        sx, sy = im.width / full_w, im.height / full_h
        crop = im.crop((int(left * sx), int(top * sy), int(right * sx), int(bottom * sy)))
        crop.thumbnail((size, size), Image.Resampling.BILINEAR)
        if row.get("segmentation_mask") is not None:
            mask = rle.decode(np.asarray(row["segmentation_mask"]), full_w, full_h)
            region = Image.fromarray((mask[top:bottom, left:right] * 255).astype(np.uint8))
            inside = np.asarray(region.resize(crop.size, Image.Resampling.NEAREST)) > 0
            pixels = np.asarray(crop).astype(np.float32)
            pixels[~inside] *= DIM_OUTSIDE_MASK
            crop = Image.fromarray(pixels.astype(np.uint8))
        out = io.BytesIO()
        crop.save(out, "JPEG", quality=JPEG_QUALITY)
        return out.getvalue()


def crop_for(row: dict, folder: Path | None = None) -> bytes:
    """The crop of one annotation row (of ``crops_frame``), from the cache or made now."""
    folder = folder or cache_dir().parent / "crops"
    path, kind = row["file_path_abs"], row["kind"]
    if kind in ("video", "frame"):
        # A frame comes decoded from the video's frame cache, never the video file.
        data, _ = picture_of(path, kind, row.get("timestamp_s"))
        key_parts = f"{path}\0{row.get('timestamp_s')}"
    else:
        (mtime, nbytes), source = checked_source(path)
        data = b""
        key_parts = f"{path}\0{mtime}\0{nbytes}"
    key = hashlib.sha1(
        f"{key_parts}\0{row['annotation_id']}\0{row['version']}\0{CROP_SIZE}".encode()
    ).hexdigest()
    cached = folder / key[:2] / f"{key}.jpg"
    try:
        return cached.read_bytes()
    except FileNotFoundError:
        pass
    if not data:
        data = read_source(source)
    out = render_crop(data, row)
    cached.parent.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(f".{os.getpid()}.tmp")  # write then rename: no half files
    tmp.write_bytes(out)
    os.replace(tmp, cached)
    return out


def _one(row: dict) -> tuple[bytes, str | None]:
    try:
        return crop_for(row), None
    except LightlyStudioError as exc:
        return b"", f"{type(exc).__name__}: {exc}"
    except Exception as exc:  # noqa: BLE001 - one broken file must not fail the page
        return b"", f"{row['file_path_abs']}: {type(exc).__name__}: {exc}"


def _filters(params: dict) -> dict[str, Any]:
    def number(name: str) -> float | None:
        value = params.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise QueryError(f"{name} must be a number, got {value!r}.")
        return float(value)

    def names(name: str) -> list[str] | None:
        return text_list(params[name], name) if params.get(name) else None

    sort = params.get("sort") or "added"
    if not isinstance(sort, str):
        raise QueryError(f"sort must be a string, got {sort!r}.")
    return {
        "labels": names("labels"),
        "sources": names("sources"),
        "tags": names("tags"),
        "confidence": (number("confidence_min"), number("confidence_max")),
        "size": (number("size_min"), number("size_max")),
        "sort": sort,
        "descending": bool(params.get("descending")),
    }


def _crop_rows(params: dict, offset: int, limit: int) -> tuple[list[dict], int]:
    dataset = dataset_of(params.get("dataset_id"))
    frame, total = batch.crops_frame(
        get_connection(), dataset.dataset_id, offset=offset, limit=limit, **_filters(params)
    )
    return frame.to_dicts(), total


@method("crops_page", c.CropsPageParams, c.CropsPageResult)
def crops_page(params: dict) -> tuple[Any, list[bytes]]:
    """One page of crop rows (no pixels: ``crop_images`` sends those) and the filtered total."""
    if params.get("ids_only"):
        # "Select all" / Ctrl+A: every id of the filter, in its order.
        rows, total = _crop_rows(params, 0, MAX_EDIT)
        if total > MAX_EDIT:
            raise QueryError(
                f"Select all takes at most {MAX_EDIT:,} annotations and the filter matches "
                f"{total:,}: narrow the filter."
            )
        return {
            "total": total,
            "offset": 0,
            "rows": [],
            "ids": [r["annotation_id"] for r in rows],
        }, []
    offset = int_param(params.get("offset", 0), "offset")
    limit = int_param(params.get("limit", 200), "limit")
    if not 0 < limit <= MAX_CROP_PAGE or offset < 0:
        raise QueryError(f"limit must be 1..{MAX_CROP_PAGE} and offset >= 0.")
    rows, total = _crop_rows(params, offset, limit)
    return {
        "total": total,
        "offset": offset,
        "rows": [
            {
                "annotation_id": r["annotation_id"],
                "sample_id": r["sample_id"],
                "label": r["label"],
                "type": r["annotation_type"],
                "source": r["source"],
                "confidence": r["confidence"],
                "box": [r["x"], r["y"], r["width"], r["height"]],
                "box_in_crop": box_in_crop(r),
                "crop_size": _region_size(r),
                "score": r["score"],
                "version": r["version"],
            }
            for r in rows
        ],
    }, []


@method("crop_images", c.CropImagesParams, c.CropImagesResult, buffers_out=True)
def crop_images(params: dict) -> tuple[Any, list[bytes]]:
    """JPEG crops of up to MAX_CROPS annotations of the dataset, one buffer each in order; an
    annotation whose file cannot be read gets an empty buffer and an entry in ``errors``."""
    global _pool
    ids = [str(i) for i in uuid_list(params.get("annotation_ids"), "annotation", "annotation_ids")]
    if len(ids) > MAX_CROPS:
        raise QueryError(f"At most {MAX_CROPS} crops per call, got {len(ids)}.")
    dataset = dataset_of(params.get("dataset_id"))
    rows = {
        r["annotation_id"]: r
        for r in batch.crop_rows(get_connection(), dataset.dataset_id, ids).to_dicts()
    }
    missing = [i for i in ids if i not in rows]
    if missing:
        raise QueryError(f"Annotation {missing[0]} is not in dataset {dataset.name!r}.")
    if _pool is None:
        _pool = ThreadPoolExecutor(max(2, os.cpu_count() or 2), thread_name_prefix="ls-crops")
    results = list(_pool.map(_one, [rows[i] for i in ids]))
    return {
        "annotation_ids": ids,
        "errors": [r[1] for r in results],
        "mime": "image/jpeg",
    }, [r[0] for r in results]


@method("crop_options", c.DatasetParams, c.CropOptionsResult)
def crop_options(params: dict) -> tuple[Any, list[bytes]]:
    """Labels and sources that have crops, scored issues, sample tags, and the undo state."""
    dataset = dataset_of(params.get("dataset_id"))
    con = get_connection()
    return {
        **batch.crop_filter_options(con, dataset.dataset_id),
        "tags": tags_store.tag_names(con, dataset.dataset_id),
        "undo": undo.last(dataset.dataset_id),
    }, []


def _edit_ids(params: dict) -> list[str]:
    ids = [str(i) for i in uuid_list(params.get("annotation_ids"), "annotation", "annotation_ids")]
    if len(ids) > MAX_EDIT:
        raise QueryError(f"At most {MAX_EDIT:,} annotations per edit, got {len(ids):,}.")
    return ids


@method("annotations_relabel", c.AnnotationsEditParams, c.AnnotationsEditResult)
def annotations_relabel(params: dict) -> tuple[Any, list[bytes]]:
    dataset = dataset_of(params.get("dataset_id"))
    changed = annotation_edits.relabel(dataset.dataset_id, _edit_ids(params), params.get("label"))
    return {"changed": changed, "undo": undo.last(dataset.dataset_id)}, []


@method("annotations_delete", c.AnnotationsEditParams, c.AnnotationsEditResult)
def annotations_delete(params: dict) -> tuple[Any, list[bytes]]:
    dataset = dataset_of(params.get("dataset_id"))
    changed = annotation_edits.delete(dataset.dataset_id, _edit_ids(params))
    return {"changed": changed, "undo": undo.last(dataset.dataset_id)}, []


@method("annotations_tag", c.AnnotationsEditParams, c.AnnotationsEditResult)
def annotations_tag(params: dict) -> tuple[Any, list[bytes]]:
    dataset = dataset_of(params.get("dataset_id"))
    tag = tags_store.validate_tag_name(params.get("tag"))
    changed = annotation_edits.tag_samples(dataset.dataset_id, _edit_ids(params), tag)
    return {"changed": changed, "undo": undo.last(dataset.dataset_id)}, []


@method("undo", c.DatasetParams, c.UndoResult)
def undo_last(params: dict) -> tuple[Any, list[bytes]]:
    """Revert the dataset's newest undoable edit (see ``core/undo.py``)."""
    dataset = dataset_of(params.get("dataset_id"))
    description, restored = undo.undo(dataset.dataset_id)
    return {"undone": description, "restored": restored, "undo": undo.last(dataset.dataset_id)}, []
