"""Per-image statistics for the image checks, from one reduced decode per image.

CleanVision decodes every image at full size twice (once for its image properties, once for
its hashes) and computes brightness percentiles over every pixel. We decode each image once,
the way thumbnails do: JPEGs at a reduced DCT scale (``draft``), other formats reduced by an
integer factor after decoding, to about ``DECODE_SIZE`` px on the long side. Every statistic
CleanVision uses is then computed from that decode, in worker threads (PIL and numpy release
the GIL for the heavy parts). CleanVision's blur statistic already works on a 64 px copy and
its perceptual hash on a 32 px copy, so those are the same from a reduced decode; brightness
percentiles and entropy are distribution statistics that a 1/2 or 1/4 decode keeps to within
a few thousandths (measured in tests/quality/test_image_issues.py against CleanVision).
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from lightly_studio.embed._images import read_image

# Long side, in px, that images are decoded to (at least; JPEG DCT scaling goes in powers of 2).
DECODE_SIZE = 256
# CleanVision: MAX_RESOLUTION_FOR_BLURRY_DETECTION.
BLUR_SIZE = 64
# CleanVision's phash: imagehash.phash(hash_size=8) on a 32x32 grayscale copy.
PHASH_SIZE = 8
PHASH_IMAGE = 32

# Per-channel squares of CleanVision's brightness formula, as lookup tables.
_R2 = 0.241 * np.arange(256, dtype=np.float32) ** 2
_G2 = 0.691 * np.arange(256, dtype=np.float32) ** 2
_B2 = 0.068 * np.arange(256, dtype=np.float32) ** 2


@dataclass
class ImageStats:
    """Statistics of many images, one row per input path (NaN / empty where it failed)."""

    brightness_perc_5: np.ndarray
    brightness_perc_99: np.ndarray
    entropy: np.ndarray
    blurriness: np.ndarray
    blurriness_grayscale_std: np.ndarray
    is_grayscale_mode: np.ndarray  # bool: stored in PIL mode "L" (CleanVision's grayscale)
    pixel_hash: np.ndarray  # int64 hash of size, mode and decoded pixels (exact duplicates)
    phash_image: np.ndarray  # uint8[n, 32, 32]: input of the perceptual hash
    error: list[str | None]  # why an image could not be read, else None


def _one(path: str) -> tuple:
    from PIL import Image, ImageFilter, ImageStat

    with read_image(path) as im:
        mode = im.mode
        w, h = im.size
        if im.format == "JPEG":
            scale = DECODE_SIZE / max(w, h)
            if scale < 1:
                size = (math.ceil(w * scale), math.ceil(h * scale))
                im.draft(mode if mode in ("L", "RGB") else "RGB", size)
        im.load()
        factor = max(1, max(im.size) // DECODE_SIZE)
        img = im.reduce(factor) if factor > 1 else im
        if img.mode not in ("L", "RGB"):
            img = img.convert("RGB")
        arr = np.asarray(img)
    if arr.ndim == 3:
        # Percentiles of the squared brightness, then the root: the root is monotonic, so
        # this is CleanVision's figure without a square root per pixel.
        squared = _R2[arr[..., 0]] + _G2[arr[..., 1]] + _B2[arr[..., 2]]
        p5, p99 = np.sqrt(np.percentile(squared, [5, 99])) / 255
    else:
        p5, p99 = np.percentile(arr, [5, 99]) / 255
    entropy = img.entropy()
    ratio = max(img.width, img.height) / BLUR_SIZE
    small = (
        img.resize((max(int(img.width // ratio), 1), max(int(img.height // ratio), 1)))
        if ratio > 1
        else img
    )
    gray = small.convert("L")
    edges = gray.filter(ImageFilter.FIND_EDGES)
    # PIL leaves a kernel filter's 1 px border unfiltered: CleanVision's statistic counts those
    # raw grey values as edges, so a blurred image with a bright border scores as sharp. We
    # leave the border out (the one change to CleanVision's definitions; see _image_issues).
    inner = edges.crop((1, 1, edges.width - 1, edges.height - 1)) if min(edges.size) > 2 else edges
    blurriness = math.sqrt(ImageStat.Stat(inner).var[0])
    gray_std = float(np.std(gray.histogram()))
    phash_in = np.asarray(
        img.convert("L").resize((PHASH_IMAGE, PHASH_IMAGE), Image.Resampling.LANCZOS)
    )
    return (
        float(p5),
        float(p99),
        float(entropy),
        blurriness,
        gray_std,
        mode == "L",
        _pixel_hash(w, h, mode, arr),
        phash_in,
    )


def _pixel_hash(w: int, h: int, mode: str, arr: np.ndarray) -> int:
    """64 bits of SHA-1 over size, mode and pixels: the same in every process (Python's own
    bytes hash is seeded per process, and with engine="ray" images are read in many), at
    ~0.1 ms for a 256 px decode."""
    digest = hashlib.sha1(f"{w}x{h}:{mode}:".encode(), usedforsecurity=False)
    digest.update(arr.tobytes())
    return int.from_bytes(digest.digest()[:8], "little", signed=True)


def _safe(path: str) -> tuple:
    try:
        return _one(path)
    except Exception as exc:  # noqa: BLE001 - a corrupt or unreadable image is a finding, not a failure
        return (f"{type(exc).__name__}: {exc}",)


def image_stats(
    paths: Sequence[str],
    workers: int | None = None,
    engine: str = "local",
    ray_address: str | None = None,
) -> ImageStats:
    """Statistics of the images at ``paths`` (local paths or fsspec URLs), in order.

    ``engine="ray"`` reads the images in Ray tasks (``ray_address``, or a local cluster);
    the statistics are the same."""
    n = len(paths)
    if engine == "ray":
        from lightly_studio.embed._ray import map_paths

        results = map_paths(_safe, list(paths), ray_address=ray_address, num_workers=workers or 2)
    elif engine == "local":
        workers = workers or min(32, (os.cpu_count() or 1) + 2)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lightly-quality") as pool:
            results = list(pool.map(_safe, paths, chunksize=16))
    else:
        raise ValueError(f"engine must be 'local' or 'ray', not {engine!r}.")
    stats = ImageStats(
        brightness_perc_5=np.full(n, np.nan),
        brightness_perc_99=np.full(n, np.nan),
        entropy=np.full(n, np.nan),
        blurriness=np.full(n, np.nan),
        blurriness_grayscale_std=np.full(n, np.nan),
        is_grayscale_mode=np.zeros(n, dtype=bool),
        pixel_hash=np.zeros(n, dtype=np.int64),
        phash_image=np.zeros((n, PHASH_IMAGE, PHASH_IMAGE), dtype=np.uint8),
        error=[None] * n,
    )
    for i, row in enumerate(results):
        if len(row) == 1:
            stats.error[i] = row[0]
            continue
        (
            stats.brightness_perc_5[i],
            stats.brightness_perc_99[i],
            stats.entropy[i],
            stats.blurriness[i],
            stats.blurriness_grayscale_std[i],
            stats.is_grayscale_mode[i],
            stats.pixel_hash[i],
            stats.phash_image[i],
        ) = row
    return stats


def _dct_matrix(n: int) -> np.ndarray:
    # scipy.fftpack.dct type II without normalisation (what imagehash.phash uses):
    # y[k] = 2 * sum_i x[i] cos(pi * k * (2i + 1) / (2n)).
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    return 2 * np.cos(np.pi * k * (2 * i + 1) / (2 * n))


def perceptual_hashes(phash_images: np.ndarray) -> np.ndarray:
    """imagehash.phash(hash_size=8) of many 32x32 grayscale images at once, as uint64."""
    d = _dct_matrix(PHASH_IMAGE)
    pixels = phash_images.astype(np.float64)
    # dct(dct(pixels, axis=0), axis=1): D @ X @ D.T, batched.
    coefficients = np.einsum("ki,nij,lj->nkl", d, pixels, d, optimize=True)
    low = coefficients[:, :PHASH_SIZE, :PHASH_SIZE].reshape(len(pixels), -1)
    bits = low > np.median(low, axis=1, keepdims=True)
    weights = (1 << np.arange(63, -1, -1, dtype=np.uint64)).astype(np.uint64)
    return (bits.astype(np.uint64) * weights).sum(axis=1, dtype=np.uint64)
