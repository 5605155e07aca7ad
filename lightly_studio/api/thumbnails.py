"""Thumbnails: 256 px on the long side, JPEG, cached on disk beside the database file.

The cache key is (path, mtime, size, thumbnail size), so editing or replacing an image makes
a new thumbnail. JPEG sources decode with PIL's ``draft`` (DCT scaling): a 4000 px photo
decodes at 1/8 resolution, which is what makes cold thumbnails cheap.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from lightly_studio import _media_access
from lightly_studio.db import db_file
from lightly_studio.errors import LightlyStudioError
from lightly_studio.ingest.video import frame_jpeg

THUMBNAIL_SIZE = 256
JPEG_QUALITY = 80
_pool: ThreadPoolExecutor | None = None


def cache_dir() -> Path:
    """``<db folder>/.lightly_studio_cache/thumbnails`` (a temp folder for in-memory DBs)."""
    path = db_file()
    base = (
        Path(tempfile.gettempdir()) / "lightly_studio" if path == ":memory:" else Path(path).parent
    )
    return base / ".lightly_studio_cache" / "thumbnails"


def _checked_source(path: str) -> tuple[tuple[float, int], object]:
    """((mtime, size), what to read) of a sample file that passed the media checks."""
    if not _media_access.is_remote(path):
        info = _media_access.resolve_local(path)
        return (info.mtime_ns, info.size), info
    _media_access.check_remote(path)
    import fsspec

    fs, inner = fsspec.core.url_to_fs(path)
    meta = fs.info(inner)
    mtime = meta.get("mtime") or meta.get("LastModified") or meta.get("last_modified") or 0
    mtime = mtime.timestamp() if hasattr(mtime, "timestamp") else float(mtime)
    return (mtime, int(meta.get("size") or 0)), path


def _read(source: object) -> bytes:
    if isinstance(source, _media_access.LocalFile):
        with _media_access.open_local(source) as f:
            return f.read()
    import fsspec

    with fsspec.open(source, "rb") as f:
        return f.read()


def render_thumbnail(data: bytes, size: int = THUMBNAIL_SIZE) -> bytes:
    """Downscale encoded image bytes to a JPEG whose long side is at most ``size``."""
    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(data)) as im:
        if im.format == "JPEG":
            # Decode at the smallest DCT scale whose long side is still >= size (up to 8x
            # less work). Asking for (size, size) would keep a 640x480 photo at full scale,
            # since its short side halved (240) is below size: 2x slower, measured.
            w, h = im.size
            scale = size / max(w, h)
            im.draft("RGB", (max(1, int(w * scale)), max(1, int(h * scale))))
        im = ImageOps.exif_transpose(im)
        im.thumbnail((size, size), Image.Resampling.BILINEAR, reducing_gap=2.0)
        if im.mode != "RGB":
            im = im.convert("RGB")
        out = io.BytesIO()
        im.save(out, "JPEG", quality=JPEG_QUALITY)
        return out.getvalue()


def thumbnail_for(
    path: str,
    kind: str = "image",
    size: int = THUMBNAIL_SIZE,
    folder: Path | None = None,
    timestamp_s: float | None = None,
) -> bytes:
    """The thumbnail of one file, from the cache or freshly made (and then cached).

    Videos show their first frame (the poster), frames the frame at ``timestamp_s``; both
    come from the video module's frame cache, which embedding fills as it goes. A file that
    may not be sent to the client (see ``lightly_studio._media_access``) raises
    ``MediaRefused``.
    """
    if kind in ("video", "frame"):
        return frame_jpeg(path, timestamp_s or 0.0, max_size=size)
    folder = folder or cache_dir()
    # Checked before the cache is looked at: a file that may not be sent gets no thumbnail,
    # not even one cached while it was still a plain image.
    (mtime, nbytes), source = _checked_source(path)
    key = hashlib.sha1(f"{path}\0{mtime}\0{nbytes}\0{size}".encode()).hexdigest()
    cached = folder / key[:2] / f"{key}.jpg"
    try:
        return cached.read_bytes()
    except FileNotFoundError:
        pass
    data = render_thumbnail(_read(source), size)
    cached.parent.mkdir(parents=True, exist_ok=True)
    # Write then rename, so a concurrent reader never sees half a file.
    tmp = cached.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, cached)
    return data


def thumbnails_for(
    items: list[tuple], size: int = THUMBNAIL_SIZE
) -> tuple[list[bytes], list[str | None]]:
    """Thumbnails for (path, kind[, timestamp_s]) items in order; a failed one is b"" with
    its error text. An item already being made for another call (e.g. the page's prefetch of
    the first screen, see ``prefetch``) is waited for, not made twice."""
    folder = cache_dir()
    results = [f.result() for f in [_submit(item, size, folder) for item in items]]
    return [r[0] for r in results], [r[1] for r in results]


_inflight: dict[tuple, Future] = {}
_inflight_lock = threading.Lock()


def _submit(item: tuple, size: int, folder: Path) -> Future:
    """The future of one item's (bytes, error), shared with any call making it right now."""
    global _pool
    key = (*item, size, folder)
    with _inflight_lock:
        future = _inflight.get(key)
        if future is not None:
            return future
        if _pool is None:
            # PIL releases the GIL while decoding, so threads scale with cores.
            _pool = ThreadPoolExecutor(
                max_workers=max(2, os.cpu_count() or 2), thread_name_prefix="ls-thumbs"
            )
        future = _pool.submit(_one, item, size, folder)
        _inflight[key] = future
    # Outside the lock: a future already done runs the callback right here.
    future.add_done_callback(lambda f: _forget(key, f))
    return future


def _forget(key: tuple, future: Future) -> None:
    with _inflight_lock:
        if _inflight.get(key) is future:
            del _inflight[key]


def _one(item: tuple, size: int, folder: Path) -> tuple[bytes, str | None]:
    try:
        timestamp = item[2] if len(item) > 2 else None
        return thumbnail_for(item[0], item[1], size, folder, timestamp), None
    except LightlyStudioError as exc:  # its message names the file already
        return b"", f"{type(exc).__name__}: {exc}"
    except Exception as exc:  # noqa: BLE001 - one broken file must not fail the page
        return b"", f"{item[0]}: {type(exc).__name__}: {exc}"


#: Longest side of a video frame shown at full resolution (larger than any video we index).
FULL_FRAME_SIZE = 16384
FULL_FRAME_QUALITY = 92


def picture_of(path: str, kind: str, timestamp_s: float | None = None) -> tuple[bytes, str]:
    """The full-resolution picture of a sample for the detail view and the annotator: an
    image's own file; for a video frame its frame, for a video its first frame, decoded
    server-side once and then read from the frame cache (JPEG) — never the video file."""
    if kind in ("video", "frame"):
        data = frame_jpeg(
            path, timestamp_s or 0.0, max_size=FULL_FRAME_SIZE, quality=FULL_FRAME_QUALITY
        )
        return data, "image/jpeg"
    return _media_access.read_media(path)
