"""Seek strips: every frame of a video as a small JPEG, in one file, for instant seeks.

Why: a seek to frame n decodes from the key frame before n — in the browser and on the
server alike. With x264's default key-frame interval (250 frames) that is up to 250 1080p
frames, about 10 ms each on a 2-core machine (measured: 7 ms even when non-reference frames
are skipped), so a seek right after opening a video takes seconds whatever decodes it. The
only way to show an arbitrary frame at once is to have decoded it before: a seek strip holds
each frame at a small size (longest side ``STRIP_MAX_SIZE``), decoded in one sequential pass
(``build_seek_strip``, run at ingest with ``seek_strips=True`` or by
``VideoDataset.build_seek_strips``). The player shows the strip's frame over the video at
once — the exact frame, at low resolution — until the browser's decoder reaches it.

Layout (one file per video, beside the frame cache, keyed by the file's path, size and
modification time like the frame cache): the JPEGs back to back, then the presentation
timestamp of each (int64, decoder output order), the N + 1 byte offsets (uint64), and a
trailer: N, the stream's start pts, time base numerator and denominator, and a magic.
A frame is looked up by timestamp with the rule ``iter_frames`` uses (the first frame whose
pts is at or after the wanted one; past the end, the last), so a strip frame is the same
frame the server's full-size poster of that timestamp shows.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
import threading
from collections import OrderedDict
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import numpy as np

from lightly_studio.errors import IngestError

#: Longest side of a strip frame, px: about 15 KB per 1080p frame at quality 75.
STRIP_MAX_SIZE = 480
STRIP_QUALITY = 75

_MAGIC = b"LSSTRIP1"
_TRAILER = struct.Struct("<qqqq8s")  # frames, start pts, time base num, time base den, magic
_INDEXES_KEPT = 16


def strip_dir() -> Path:
    """``<folder of the DB file>/.lightly_studio_cache/video_strips``."""
    from lightly_studio.ingest.video import thumbnail_cache_dir

    return thumbnail_cache_dir().parent / "video_strips"


def strip_file(path: str, *, max_size: int = STRIP_MAX_SIZE, quality: int = STRIP_QUALITY) -> Path:
    """Where the strip of ``path`` lives (whether or not it exists); a replaced file (size or
    modification time) gets a new name."""
    stat = os.stat(path)
    key = hashlib.sha1(
        f"{os.path.abspath(path)}|{stat.st_size}|{stat.st_mtime_ns}|{max_size}|{quality}".encode()
    ).hexdigest()
    return strip_dir() / key[:2] / f"{key}.strip"


def build_seek_strip(
    path: str, *, max_size: int = STRIP_MAX_SIZE, quality: int = STRIP_QUALITY
) -> Path:
    """Decode every frame of the video once and store the strip; returns its file. An existing
    strip is kept. Raises IngestError when the file cannot be opened or holds no frame."""
    import av

    from lightly_studio.ingest.video import _decode, _reason, _start_pts

    target = strip_file(path, max_size=max_size, quality=quality)
    if target.exists():
        return target
    try:
        container = av.open(path)
    except (av.FFmpegError, OSError) as exc:
        raise IngestError(f"{path}: cannot open as a video ({_reason(exc)})") from exc
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
    pts: list[int] = []
    offsets = [0]
    try:
        with container, open(tmp, "wb") as out:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            time_base = Fraction(stream.time_base or Fraction(1, 1_000_000))
            start = _start_pts(stream)
            width, height = stream.codec_context.width, stream.codec_context.height
            scale = min(1.0, max_size / max(width, height, 1))
            size = (max(2, round(width * scale)), max(2, round(height * scale)))
            for frame in _decode(container, stream):
                if frame.pts is None:
                    continue
                # swscale resizes while converting to RGB: the full-size RGB frame never exists.
                image = frame.reformat(
                    width=size[0], height=size[1], format="rgb24", interpolation="AREA"
                ).to_image()
                buffer = io.BytesIO()
                image.save(buffer, format="JPEG", quality=quality)
                out.write(buffer.getbuffer())
                offsets.append(offsets[-1] + buffer.tell())
                pts.append(int(frame.pts))
            if not pts:
                raise IngestError(f"{path}: no frame decodes")
            out.write(np.asarray(pts, dtype="<i8").tobytes())
            out.write(np.asarray(offsets, dtype="<u8").tobytes())
            out.write(
                _TRAILER.pack(len(pts), start, time_base.numerator, time_base.denominator, _MAGIC)
            )
        os.replace(tmp, target)
    except av.FFmpegError as exc:
        raise IngestError(f"{path}: cannot decode ({_reason(exc)})") from exc
    finally:
        tmp.unlink(missing_ok=True)
    return target


def build_seek_strips(paths: Sequence[str], *, workers: int = 2) -> list[tuple[str, str]]:
    """Build the strips of these videos, ``workers`` at a time; ``(path, reason)`` of each
    that failed (the player then has no strip for it and works as without)."""
    import concurrent.futures

    failed: list[tuple[str, str]] = []

    def one(path: str) -> None:
        try:
            build_seek_strip(path)
        except (IngestError, OSError) as exc:
            failed.append((path, str(exc)))

    with concurrent.futures.ThreadPoolExecutor(max(1, workers)) as pool:
        list(pool.map(one, paths))
    return sorted(failed)


class _Index:
    def __init__(self, pts: np.ndarray, offsets: np.ndarray, start: int, time_base: Fraction):
        self.pts, self.offsets, self.start, self.time_base = pts, offsets, start, time_base


_indexes: OrderedDict[Path, _Index] = OrderedDict()
_indexes_lock = threading.Lock()


def _index(file: Path) -> _Index | None:
    with _indexes_lock:
        index = _indexes.get(file)
        if index is not None:
            _indexes.move_to_end(file)
            return index
    try:
        with open(file, "rb") as f:
            f.seek(-_TRAILER.size, os.SEEK_END)
            n, start, num, den, magic = _TRAILER.unpack(f.read(_TRAILER.size))
            if magic != _MAGIC or n <= 0 or den <= 0:
                return None
            f.seek(-_TRAILER.size - 8 * (2 * n + 1), os.SEEK_END)
            raw = f.read(8 * (2 * n + 1))
    except FileNotFoundError:
        return None
    index = _Index(
        np.frombuffer(raw[: 8 * n], dtype="<i8"),
        np.frombuffer(raw[8 * n :], dtype="<u8"),
        start,
        Fraction(num, den),
    )
    with _indexes_lock:
        _indexes[file] = index
        while len(_indexes) > _INDEXES_KEPT:
            _indexes.popitem(last=False)
    return index


def strip_frame_jpeg(path: str, timestamp_s: float, *, exact: bool = False) -> bytes | None:
    """The strip's JPEG of the frame at ``timestamp_s`` (the frame ``iter_frames`` would yield
    for it), or None when the video has no strip — never decodes. ``exact``: None unless a
    frame starts exactly at that time (where every decoding rule picks the same frame)."""
    try:
        file = strip_file(path)
    except OSError:
        return None
    index = _index(file)
    if index is None:
        return None
    wanted = index.start + round(Fraction(timestamp_s) / index.time_base)
    at_or_after = np.nonzero(index.pts >= wanted)[0]
    k = int(at_or_after[0]) if at_or_after.size else index.pts.size - 1
    if exact and int(index.pts[k]) != wanted:
        return None
    with open(file, "rb") as f:
        f.seek(int(index.offsets[k]))
        return f.read(int(index.offsets[k + 1] - index.offsets[k]))
