"""Decode and resize images for the model, in worker threads (PIL releases the GIL)."""

from __future__ import annotations

import io
import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from PIL import Image as PILImage


def read_image(path: str) -> PILImage.Image:
    """Open an image from a local path or any fsspec URL (s3://, gs://, http(s)://, …)."""
    from PIL import Image

    if "://" in path and not path.startswith("file://"):
        import fsspec

        with fsspec.open(path, "rb") as fh:
            data = fh.read()
        return Image.open(io.BytesIO(data))
    if path.startswith("file://"):
        path = path[len("file://") :]
    return Image.open(path)


def fit_image(
    img: PILImage.Image,
    size: tuple[int, int],
    resize_mode: str = "shortest",
    interpolation: str = "bicubic",
) -> np.ndarray:
    """Resize ``img`` like open_clip's eval transform and return ``uint8[h, w, 3]``.

    ``shortest``: scale the short side to the target, centre crop (open_clip default).
    ``squash``: scale both sides independently. ``longest``: scale the long side and pad.
    The crop and the resize are one PIL call (``box=``), and JPEGs are decoded at a reduced
    DCT scale first (``draft``), which is what makes decoding cheap next to the model.
    """
    from PIL import Image

    out_h, out_w = size
    w, h = img.size
    if resize_mode == "shortest":
        scale = max(out_w / w, out_h / h)
    elif resize_mode == "longest":
        scale = min(out_w / w, out_h / h)
    else:
        scale = None
    if img.format == "JPEG" and scale is not None and scale < 1:
        # draft picks the largest 1/2^k reduction that keeps both sides >= the request.
        img.draft("RGB", (math.ceil(w * scale), math.ceil(h * scale)))
    elif img.format == "JPEG" and scale is None:
        img.draft("RGB", (out_w, out_h))
    if img.mode != "RGB":
        img = _to_rgb(img)
    w2, h2 = img.size
    resample = Image.Resampling.BICUBIC if interpolation == "bicubic" else Image.Resampling.BILINEAR
    if resize_mode == "shortest":
        s = max(out_w / w2, out_h / h2)
        # Clamp: float rounding can put the crop a hair outside the image (e.g. 640x428 gives
        # a crop height of 428.00000000000006), which PIL rejects.
        crop_w, crop_h = min(out_w / s, w2), min(out_h / s, h2)
        left, top = max(0.0, (w2 - crop_w) / 2), max(0.0, (h2 - crop_h) / 2)
        img = img.resize((out_w, out_h), resample, box=(left, top, left + crop_w, top + crop_h))
        return np.asarray(img, dtype=np.uint8)
    if resize_mode == "longest":
        s = min(out_w / w2, out_h / h2)
        nw, nh = max(1, round(w2 * s)), max(1, round(h2 * s))
        img = img.resize((nw, nh), resample)
        canvas = np.zeros((out_h, out_w, 3), dtype=np.uint8)
        top, left = (out_h - nh) // 2, (out_w - nw) // 2
        canvas[top : top + nh, left : left + nw] = np.asarray(img, dtype=np.uint8)
        return canvas
    img = img.resize((out_w, out_h), resample)
    return np.asarray(img, dtype=np.uint8)


def _to_rgb(img: PILImage.Image) -> PILImage.Image:
    if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
        # Composite on white: a transparent background would otherwise turn black.
        from PIL import Image

        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(img, dtype=np.float32)
        hi = float(arr.max()) or 1.0
        from PIL import Image

        return Image.fromarray((arr / hi * 255).astype(np.uint8)).convert("RGB")
    return img.convert("RGB")


def load_for_model(
    path: str, size: tuple[int, int], resize_mode: str, interpolation: str
) -> np.ndarray:
    with read_image(path) as img:
        return fit_image(img, size, resize_mode, interpolation)


def load_rgb(path: str) -> PILImage.Image:
    """A fully decoded RGB image (for custom models that take PIL images)."""
    with read_image(path) as img:
        img.load()
        return _to_rgb(img) if img.mode != "RGB" else img.copy()
