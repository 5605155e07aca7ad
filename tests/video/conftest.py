"""Tiny videos generated with PyAV, so the tests know every property of the files exactly."""

from __future__ import annotations

import fractions
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest


def write_video(
    path: Path,
    *,
    codec: str = "libx264",
    width: int = 64,
    height: int = 48,
    frames: int = 30,
    fps: int | fractions.Fraction = 30,
    pts_ms: Sequence[int] | None = None,
    pix_fmt: str = "yuv420p",
) -> Path:
    """Write a video whose frame i shows i in binary as 6 black/white stripes (see frame_index_of).

    ``pts_ms`` gives each frame's timestamp in milliseconds (variable frame rate).
    """
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        if pts_ms is not None:
            stream.codec_context.time_base = fractions.Fraction(1, 1000)
        for i in range(frames):
            pixels = _stripes(i % 64, width, height)
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            if pts_ms is not None:
                frame.pts = pts_ms[i]
                frame.time_base = fractions.Fraction(1, 1000)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


_BITS = 6


def _stripes(index: int, width: int, height: int) -> np.ndarray:
    # Wide black/white stripes survive lossy codecs (a flat colour drifts by several levels).
    bits = [(index >> k) & 1 for k in range(_BITS)]
    columns = np.array([bits[min(x * _BITS // width, _BITS - 1)] for x in range(width)])
    return np.repeat((columns * 255).astype(np.uint8)[None, :, None], height, 0).repeat(3, 2)


def frame_index_of(image) -> int:
    """Inverse of write_video's stripes: the frame index (mod 64) shown by a decoded frame."""
    gray = np.asarray(image.convert("L"), dtype=np.float64).mean(axis=0)
    width = gray.size
    centres = [int((k + 0.5) * width / _BITS) for k in range(_BITS)]
    return sum(int(gray[c] > 127) << k for k, c in enumerate(centres))


@pytest.fixture
def make_video() -> Callable[..., Path]:
    return write_video


@pytest.fixture
def frame_index() -> Callable[..., int]:
    return frame_index_of


#: The moving square of write_square_video: side, and its top-left corner on frame i.
SQUARE = 8


def square_at(i: int, width: int = 64, height: int = 48) -> tuple[int, int]:
    """Top-left (x, y) of the square on frame i: 2 px right per frame, wrapping, fixed row."""
    return (2 * i) % (width - SQUARE), height // 2 - SQUARE // 2


def write_square_video(
    path: Path, *, width: int = 64, height: int = 48, frames: int = 30, fps: int = 30
) -> Path:
    """A video of a pure red square (SQUARE px) moving over grey, at square_at(i) on frame i."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(frames):
            pixels = np.full((height, width, 3), 96, dtype=np.uint8)
            x, y = square_at(i, width, height)
            pixels[y : y + SQUARE, x : x + SQUARE] = (255, 0, 0)
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@pytest.fixture
def make_square_video() -> Callable[..., Path]:
    return write_square_video
