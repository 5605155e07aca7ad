"""Mask encodings: our row-wise RLE, and COCO's polygons / RLE (through pycocotools).

Our format (the one the docs define for ``segmentation_mask``): the mask of the whole image is
flattened row by row; the runs alternate background, foreground, background, …, starting
with background, so a mask that starts with foreground starts with a 0 run. The runs sum to
``width * height``. Everything here is vectorised numpy: no Python loop over pixels or runs.

COCO's own formats (polygons, compressed and uncompressed RLE, column-major) go through
pycocotools, the reference implementation, rather than a codec of our own.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from lightly_studio.errors import AnnotationError


def encode(mask: np.ndarray) -> list[int]:
    """Row-wise RLE of a 2-D binary mask (non-zero = foreground)."""
    flat = _as_2d(mask).ravel()
    if flat.size == 0:
        return []
    changes = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    bounds = np.concatenate(([0], changes, [flat.size]))
    runs = np.diff(bounds)
    if flat[0]:
        runs = np.concatenate(([0], runs))
    return runs.tolist()


def validate(runs: Sequence[int] | np.ndarray, width: int, height: int, where: str = "") -> np.ndarray:
    """Check ``runs`` is an RLE of a ``height x width`` mask; returns it as an int64 array."""
    try:
        arr = np.asarray(runs, dtype=np.int64)
    except (TypeError, ValueError) as exc:
        raise AnnotationError(f"{where}segmentation_mask must be a list of integers") from exc
    if arr.ndim != 1:
        raise AnnotationError(f"{where}segmentation_mask must be a flat list of integers")
    if np.any(arr < 0):
        raise AnnotationError(f"{where}segmentation_mask has a negative run length")
    total = int(arr.sum())
    if total != width * height:
        raise AnnotationError(
            f"{where}segmentation_mask runs sum to {total}, but the image has "
            f"{width}x{height} = {width * height} pixels (the RLE covers the whole image, "
            "row by row, starting with background)"
        )
    return arr


def decode(runs: Sequence[int] | np.ndarray, width: int, height: int) -> np.ndarray:
    """The ``height x width`` boolean mask of a row-wise RLE."""
    arr = validate(runs, width, height)
    values = (np.arange(arr.size) % 2).astype(bool)
    return np.repeat(values, arr).reshape(height, width)


def bbox_from_mask(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """Tight box (x, y, width, height) around the foreground in pixels; None if empty."""
    m = _as_2d(mask).astype(bool)
    rows = np.flatnonzero(m.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(m.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)


def bbox_from_rle(runs: Sequence[int] | np.ndarray, width: int) -> tuple[int, int, int, int] | None:
    """Tight box (x, y, width, height) of a row-wise RLE without decoding the mask."""
    arr = np.asarray(runs, dtype=np.int64)
    ends = np.cumsum(arr)
    starts = ends - arr
    fg = (np.arange(arr.size) % 2 == 1) & (arr > 0)
    if not fg.any():
        return None
    s, e = starts[fg], ends[fg] - 1  # first and last pixel of each foreground run
    row_s, row_e = s // width, e // width
    # A run that wraps onto the next row touches every column between its two ends.
    wraps = row_s != row_e
    x0 = np.where(wraps, 0, s % width).min()
    x1 = np.where(wraps, width - 1, e % width).max()
    return int(x0), int(row_s.min()), int(x1 - x0 + 1), int(row_e.max() - row_s.min() + 1)


def area(runs: Sequence[int] | np.ndarray) -> int:
    """Foreground pixel count of a row-wise RLE."""
    return int(np.asarray(runs, dtype=np.int64)[1::2].sum())


# --- COCO (pycocotools) ------------------------------------------------------------------------


def coco_segmentation_to_mask(segmentation: Any, width: int, height: int) -> np.ndarray:
    """Rasterise a COCO ``segmentation`` (polygon list, compressed or uncompressed RLE)."""
    from pycocotools import mask as mask_utils

    if isinstance(segmentation, list):
        rings = [list(map(float, ring)) for ring in segmentation]
        if not rings or any(len(r) < 6 or len(r) % 2 for r in rings):
            raise ValueError("a polygon needs an even number of coordinates, at least 3 points")
        rles = mask_utils.frPyObjects(rings, height, width)
        rle = mask_utils.merge(rles)
    elif isinstance(segmentation, dict):
        if "counts" not in segmentation or "size" not in segmentation:
            raise ValueError("an RLE segmentation needs 'counts' and 'size'")
        h, w = (int(v) for v in segmentation["size"])
        if (h, w) != (height, width):
            raise ValueError(f"RLE size {[h, w]} differs from the image size {[height, width]}")
        counts = segmentation["counts"]
        if isinstance(counts, list):
            if sum(int(c) for c in counts) != h * w:
                raise ValueError(f"uncompressed RLE counts do not sum to {h}*{w}")
            rle = mask_utils.frPyObjects(segmentation, h, w)
        else:
            rle = {"size": [h, w], "counts": counts.encode() if isinstance(counts, str) else counts}
    else:
        raise ValueError(f"unsupported segmentation of type {type(segmentation).__name__}")
    with warnings.catch_warnings():
        # pycocotools 2.0.x under numpy 2 warns about __array__(copy=...) on every decode.
        warnings.simplefilter("ignore", DeprecationWarning)
        return mask_utils.decode(rle).astype(bool)


def mask_to_coco_rle(mask: np.ndarray, compressed: bool = False) -> dict[str, Any]:
    """COCO RLE (column-major) of a boolean mask: uncompressed ``counts`` list by default."""
    m = _as_2d(mask).astype(bool)
    h, w = m.shape
    if compressed:
        from pycocotools import mask as mask_utils

        rle = mask_utils.encode(np.asfortranarray(m.astype(np.uint8)))
        return {"size": [h, w], "counts": rle["counts"].decode("ascii")}
    # COCO's uncompressed counts are the same alternating runs as ours, over the transposed
    # (column-major) image.
    return {"size": [h, w], "counts": encode(m.T)}


def rle_to_coco_rle(runs: Sequence[int], width: int, height: int, compressed: bool = False) -> dict:
    """Our row-wise RLE → COCO RLE of the same mask."""
    return mask_to_coco_rle(decode(runs, width, height), compressed=compressed)


def _as_2d(mask: np.ndarray) -> np.ndarray:
    arr = np.asarray(mask)
    if arr.ndim != 2:
        raise AnnotationError(f"a binary mask must be 2-D (height x width), got shape {arr.shape}")
    return arr != 0 if arr.dtype != bool else arr
