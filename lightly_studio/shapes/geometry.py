"""The minimum-size rule for boxes and polygons, shared by the annotator API and the importers.

A box or polygon that clips to (almost) nothing inside its image is refused wherever it
comes from: drawn in the annotator or read from a label file.
"""

from __future__ import annotations

import math
from typing import Any

from lightly_studio.errors import AnnotationError

# Smallest accepted side of a box, in pixels (after clipping to the image); polygons need at
# least this area in px².
MIN_SIDE = 1.0


def clip_box(box: Any, width: int, height: int, where: str) -> tuple[float, float, float, float]:
    """``[x, y, w, h]`` clipped to the image; AnnotationError if under MIN_SIDE after."""
    if not isinstance(box, (list, tuple)) or len(box) != 4:
        raise AnnotationError(f"{where}a box is [x, y, width, height], got {box!r}")
    x, y, w, h = (finite(v, "box", where) for v in box)
    if w < 0:  # drawn right-to-left
        x, w = x + w, -w
    if h < 0:
        y, h = y + h, -h
    x0, y0 = min(max(x, 0.0), width), min(max(y, 0.0), height)
    x1, y1 = min(max(x + w, 0.0), width), min(max(y + h, 0.0), height)
    if x1 - x0 < MIN_SIDE or y1 - y0 < MIN_SIDE:
        raise AnnotationError(
            f"{where}the box is degenerate: {x1 - x0:g}x{y1 - y0:g} px inside the "
            f"{width}x{height} image (each side needs at least {MIN_SIDE:g} px)"
        )
    return x0, y0, x1 - x0, y1 - y0


def clip_polygon(rings: Any, width: int, height: int, where: str) -> list[list[float]]:
    """Polygon rings with every vertex clipped into the image; rejects rings with fewer than
    3 points or (almost) no area."""
    if not isinstance(rings, list) or not rings:
        raise AnnotationError(f"{where}a polygon is a list of rings [x0, y0, x1, y1, ...]")
    out = []
    for ring in rings:
        if not isinstance(ring, (list, tuple)) or len(ring) % 2:
            raise AnnotationError(f"{where}a polygon ring needs an even number of coordinates")
        xs = [min(max(finite(v, "polygon", where), 0.0), float(width)) for v in ring[0::2]]
        ys = [min(max(finite(v, "polygon", where), 0.0), float(height)) for v in ring[1::2]]
        if len(xs) < 3:
            raise AnnotationError(
                f"{where}the polygon is degenerate: a ring has {len(xs)} "
                "points, it needs at least 3"
            )
        area = 0.5 * abs(sum(xs[i] * ys[i - 1] - xs[i - 1] * ys[i] for i in range(len(xs))))
        if area < MIN_SIDE:
            raise AnnotationError(f"{where}the polygon is degenerate: its area is {area:g} px²")
        out.append([v for xy in zip(xs, ys, strict=True) for v in xy])
    return out


def finite(value: Any, name: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise AnnotationError(f"{where}{name} values must be finite numbers, got {value!r}")
    return float(value)
