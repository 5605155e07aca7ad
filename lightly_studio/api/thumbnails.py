"""Thumbnails for the views: made on demand in a thread pool, each made once however many
calls ask for it at the same time, and full-resolution pictures for the detail view. The
cache and the rendering are ``lightly_studio.ingest.thumbnails``.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from lightly_studio import _media_access
from lightly_studio.errors import LightlyStudioError
from lightly_studio.ingest.thumbnails import THUMBNAIL_SIZE, cache_dir, thumbnail_for
from lightly_studio.ingest.video import frame_jpeg

_pool: ThreadPoolExecutor | None = None


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
