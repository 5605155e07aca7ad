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


def validate(
    runs: Sequence[int] | np.ndarray, width: int, height: int, where: str = ""
) -> np.ndarray:
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


# pycocotools walks a polygon's outline in 1/5 px steps and allocates ~80 bytes per pixel of
# outline at once, without a bound: an outline of 1e9 px (a broken or hostile file) takes tens
# of GB, a NaN coordinate is undefined behaviour in C. So coordinates must be finite, rings
# reaching far outside the image are clipped to a margin around it first (the mask inside the
# image is unchanged), and the outline may wrap around the image at most MAX_OUTLINE_LAPS
# times and be at most MAX_OUTLINE_PX long (160 MB). Real outlines stay under 3 laps.
MAX_OUTLINE_LAPS = 100
MAX_OUTLINE_PX = 2_000_000


def coco_segmentation_to_mask(segmentation: Any, width: int, height: int) -> np.ndarray:
    """Rasterise a COCO ``segmentation`` (polygon list, compressed or uncompressed RLE).

    ``width`` and ``height`` are the image's: nothing larger is ever allocated. Raises
    ValueError saying what is wrong with the segmentation.
    """
    from pycocotools import mask as mask_utils

    if isinstance(segmentation, list):
        return rings_to_mask(coco_polygon_rings(segmentation, width, height), width, height)
    if isinstance(segmentation, dict):
        if "counts" not in segmentation or "size" not in segmentation:
            raise ValueError("an RLE segmentation needs 'counts' and 'size'")
        size = segmentation["size"]
        if not isinstance(size, list) or len(size) != 2 or not all(type(v) is int for v in size):
            raise ValueError(f"an RLE 'size' is [height, width] in pixels, got {size!r}")
        h, w = size
        if (h, w) != (height, width):
            raise ValueError(f"RLE size {[h, w]} differs from the image size {[height, width]}")
        counts = segmentation["counts"]
        if isinstance(counts, list):
            runs = _checked_runs(counts, h, w)
        elif isinstance(counts, (str, bytes)):
            try:
                raw = counts.encode("ascii") if isinstance(counts, str) else counts
            except UnicodeEncodeError:
                raise ValueError("the compressed RLE string has non-ASCII characters") from None
            runs = _checked_runs(_coco_string_runs(raw, h * w), h, w)
        else:
            raise ValueError(
                "RLE 'counts' must be a list of run lengths or a compressed string, "
                f"got {type(counts).__name__}"
            )
        # pycocotools decodes without bounds checks: it only ever sees runs checked here.
        rle = mask_utils.frPyObjects({"size": [h, w], "counts": runs.tolist()}, h, w)
        return _decode_coco(rle)
    raise ValueError(f"unsupported segmentation of type {type(segmentation).__name__}")


def rings_to_mask(rings: list[list[float]], width: int, height: int) -> np.ndarray:
    """Rasterise polygon rings as COCO does (pycocotools). ``rings`` come from
    coco_polygon_rings (checked and clipped); an empty list is an empty mask."""
    if not rings:  # every ring lies outside the image
        return np.zeros((height, width), dtype=bool)
    from pycocotools import mask as mask_utils

    return _decode_coco(mask_utils.merge(mask_utils.frPyObjects(rings, height, width)))


def _decode_coco(rle: Any) -> np.ndarray:
    from pycocotools import mask as mask_utils

    with warnings.catch_warnings():
        # pycocotools 2.0.x under numpy 2 warns about __array__(copy=...) on every decode.
        warnings.simplefilter("ignore", DeprecationWarning)
        return mask_utils.decode(rle).astype(bool)


def coco_polygon_rings(polygon: Any, width: int, height: int) -> list[list[float]]:
    """A COCO polygon's rings, checked and, where they reach far outside the image, clipped
    to a margin around it (see MAX_OUTLINE_LAPS); rings wholly outside are dropped."""
    if not isinstance(polygon, list) or not polygon:
        raise ValueError("a polygon needs at least one ring")
    rings = [_polygon_ring(ring, width, height) for ring in polygon]
    _check_outline(rings, width, height)
    return [r.ravel().tolist() for r in rings if len(r) >= 3]


def _polygon_ring(ring: Any, width: int, height: int) -> np.ndarray:
    """One ring as an (n, 2) array of finite points, clipped to a margin around the image."""
    try:
        # No dtype: strings, None and nested lists stay recognisable instead of converted.
        arr = np.asarray(ring) if isinstance(ring, (list, tuple, np.ndarray)) else None
    except (TypeError, ValueError):
        arr = None
    if arr is None or arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iuf"):
        raise ValueError("a polygon ring is a flat list of numbers [x0, y0, x1, y1, ...]")
    arr = arr.astype(np.float64)
    if arr.size < 6 or arr.size % 2:
        raise ValueError("a polygon needs an even number of coordinates, at least 3 points")
    if not np.isfinite(arr).all():
        bad = arr[~np.isfinite(arr)][0]
        raise ValueError(f"polygon coordinates must be finite numbers, got {bad}")
    pts = arr.reshape(-1, 2)
    # A margin of one image size keeps real polygons (at most a little outside) untouched.
    lo, hi = (-float(width), -float(height)), (2.0 * width, 2.0 * height)
    if (pts < lo).any() or (pts > hi).any():
        pts = _clip_ring(pts, lo, hi)
    return pts


def _clip_ring(pts: np.ndarray, lo: tuple[float, float], hi: tuple[float, float]) -> np.ndarray:
    """Sutherland–Hodgman: the ring clipped to the rectangle lo..hi (same area inside it)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        for axis, bound, keep_above in (
            (0, lo[0], True),
            (0, hi[0], False),
            (1, lo[1], True),
            (1, hi[1], False),
        ):
            if not len(pts):
                break
            nxt = np.roll(pts, -1, axis=0)
            inside = pts[:, axis] >= bound if keep_above else pts[:, axis] <= bound
            crosses = inside != np.roll(inside, -1)
            t = (bound - pts[:, axis]) / (nxt[:, axis] - pts[:, axis])
            cut = pts + t[:, None] * (nxt - pts)
            cut[:, axis] = bound
            # Edge i emits its start point when inside, then its crossing point if any.
            out = np.empty((2 * len(pts), 2))
            out[0::2], out[1::2] = pts, cut
            keep = np.empty(2 * len(pts), dtype=bool)
            keep[0::2], keep[1::2] = inside, crosses
            pts = out[keep]
    return pts


def _check_outline(rings: list[np.ndarray], width: int, height: int) -> None:
    length = sum(
        float(np.abs(np.roll(r, -1, axis=0) - r).max(axis=1).sum()) for r in rings if len(r)
    )
    limit = min(MAX_OUTLINE_LAPS * 2 * (width + height), MAX_OUTLINE_PX)
    if length > limit:
        raise ValueError(
            f"the polygon's outline is {length:.3g} px long, more than {limit} px (at most "
            f"{MAX_OUTLINE_LAPS} times around the {width}x{height} image); it is not a drawing "
            "of an object: fix or remove it"
        )


def _checked_runs(counts: Any, h: int, w: int) -> np.ndarray:
    """COCO RLE ``counts`` as an int64 array, after checking they are a mask of h x w."""
    try:
        arr = np.asarray(counts)
    except (TypeError, ValueError, OverflowError):
        arr = None
    if arr is None or arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
        raise ValueError("RLE 'counts' must be a flat list of non-negative integers")
    arr = arr.astype(np.int64)
    if arr.size and arr.min() < 0:
        raise ValueError(f"RLE 'counts' has a negative run length ({arr.min()})")
    if arr.size > h * w + 1 or (arr.size and arr.max() > h * w) or int(arr.sum()) != h * w:
        total = sum(int(c) for c in counts) if arr.size <= h * w + 1 else "more than that"
        raise ValueError(
            f"RLE 'counts' do not sum to {h}*{w} = {h * w} pixels (they sum to {total})"
        )
    return arr


def _coco_string_runs(raw: bytes, pixels: int) -> list[int]:
    """Run lengths of COCO's compressed RLE string (pycocotools' rleFrString, in Python, so
    that a broken string is an error instead of an over-read in C)."""
    runs: list[int] = []
    total, p, n = 0, 0, len(raw)
    while p < n:
        x, k, more = 0, 0, True
        while more:
            if p >= n:
                raise ValueError("the compressed RLE string ends in the middle of a value")
            c = raw[p] - 48
            if not 0 <= c < 64 or k >= 7:
                raise ValueError(f"the compressed RLE string is invalid at character {p}")
            x |= (c & 0x1F) << (5 * k)
            more = bool(c & 0x20)
            p += 1
            k += 1
            if not more and c & 0x10:
                x |= -1 << (5 * k)
        if len(runs) > 2:
            x += runs[-2]
        if x < 0:
            raise ValueError(f"RLE 'counts' has a negative run length ({x})")
        runs.append(x)
        total += x
        if total > pixels or len(runs) > pixels + 1:
            raise ValueError(f"RLE 'counts' sum to more than the {pixels} pixels of the image")
    return runs


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
