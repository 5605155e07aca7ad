"""The video player's data: a video's frame samples, every frame annotation (with its track
id) and the video's time-span classifications, in one call when the player opens.

Why everything at once: the overlays follow playback frame by frame; a call per frame would
put a network round trip between each frame and its boxes, whereas a video's annotations are
a few hundred kilobytes at most (masks included) and then cost nothing to look up.

Posters (``video_poster``): a seek in the browser decodes from the key frame before the
target, which takes about a second on a 1080p clip with a long key-frame interval. The
player therefore also asks the server for the target frame as a JPEG and shows it over the
video until the video catches up. A server decode costs the same as the browser's, so the
server decodes a *window* of frames around each requested one in one sequential pass and
caches them (the frame cache the grid and the annotator use, at a poster size): the next
steps, holding →, and seeks near recent ones are then answered from disk in milliseconds.
The requested frame is answered as soon as it is decoded; the rest of its window is decoded
in a background thread, and a newer window on the same video stops an older one.

Seek strips (``quick``): a cold seek still waits for a decode from the key frame — seconds
on 1080p with x264's default 250-frame key-frame interval, on the server as in the browser.
When the video has a seek strip (ingest/video_strip.py: every frame at a small size, built
in the background when the player opens the video — ``video_frames`` — or at ingest with
``seek_strips=True``), a ``quick`` request for a frame that is not cached at
poster size is answered from the strip at once (``low_res``: the exact frame, at low
resolution), and nothing is decoded: the browser's own seek gets both cores.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from PIL import Image

from lightly_studio._media_access import MediaRefused, is_remote, read_media_range, resolve_local
from lightly_studio._wire import CHUNK_BYTES
from lightly_studio.api import _contracts as c
from lightly_studio.api._methods import method
from lightly_studio.api._spec import dataset_of, int_param, show, uuid_param
from lightly_studio.api.samples import _annotation_json as annotation_json
from lightly_studio.db import get_connection
from lightly_studio.errors import IngestError, QueryError
from lightly_studio.ingest.video import cache_frame_jpeg, cached_frame_jpeg, iter_frames
from lightly_studio.ingest.video_strip import build_in_background, strip_frame_jpeg
from lightly_studio.store import videos as videos_store
from lightly_studio.store.annotations import annotations_frame


def _video(params: dict) -> tuple[Any, str, dict[str, Any]]:
    """``(dataset, video id, the video's fields)`` of a request naming a video sample."""
    dataset = dataset_of(params.get("dataset_id"))
    video_id = str(uuid_param(params.get("sample_id"), "sample"))
    try:
        fields = dataset.get_sample(video_id).fields
    except KeyError as exc:
        raise QueryError(str(exc.args[0])) from None
    if fields.get("kind") != "video":
        raise QueryError(f"Sample {video_id} is not a video.")
    return dataset, video_id, fields


@method("video_frames", c.SampleRef, c.VideoFramesResult)
def video_frames(params: dict) -> tuple[Any, list[bytes]]:
    """A video's frame samples (columns), their annotations (each with ``frame_number`` and
    ``track_id``) and the video's time spans (classifications with ``start_s``/``end_s``)."""
    dataset, video_id, fields = _video(params)
    con = get_connection()
    frames = videos_store.frames_of_video(con, video_id)
    number_of = dict(zip(frames["sample_id"], frames["frame_number"], strict=True))
    annotations = []
    if not frames.is_empty():
        rows = annotations_frame(
            con, dataset.dataset_id, sample_ids_subquery=videos_store.frame_subquery(video_id)
        )
        for row in rows.iter_rows(named=True):
            out = annotation_json(row)
            out["frame_number"] = number_of[row["sample_id"]]
            annotations.append(out)
    own = annotations_frame(con, dataset.dataset_id, sample_ids=[video_id])
    spans = [
        {
            "annotation_id": r["annotation_id"],
            "label": r["label"],
            "source": r["source"],
            "confidence": r["confidence"],
            "start_s": r["start_s"],
            "end_s": r["end_s"],
        }
        for r in own.iter_rows(named=True)
        if r["start_s"] is not None
    ]
    video = {
        k: fields.get(k)
        for k in ("file_name", "width", "height", "fps", "duration_s", "frame_count", "codec")
    }
    video["sample_id"] = video_id
    # The player is opening: decode a long video's seek strip now, in the background, so
    # that seeks soon show the exact frame at once (ingest/video_strip.py). A short one is
    # decoded whole into the poster cache on opening (video_poster): a strip would decode
    # it a second time, on the same cores.
    path = str(fields["file_path_abs"])
    if int(fields.get("frame_count") or 0) > WHOLE_VIDEO_FRAMES and not is_remote(path):
        try:
            resolve_local(path)  # the checks /media makes: the strip's frames go to the client
        except MediaRefused:
            pass  # the player's own requests report it
        else:
            build_in_background(path, fields.get("frame_count"))
    return {
        "video": video,
        "frames": {
            "sample_id": frames["sample_id"].to_list(),
            "frame_number": frames["frame_number"].to_list(),
            "timestamp_s": frames["timestamp_s"].to_list(),
            "tags": frames["has_tags"].to_list(),
            "captions": frames["has_captions"].to_list(),
        },
        "annotations": annotations,
        "spans": spans,
    }, []


@method("video_media", c.VideoMediaParams, c.VideoMediaResult, buffers_out=True)
def video_media(params: dict) -> tuple[Any, list[bytes]]:
    """Bytes ``offset`` to ``offset + length`` of a video's file. For the notebook widget,
    which has no media route to point a ``<video>`` element at: it loads the file in parts
    over the kernel's messages into a Blob. (The full-page app uses ``/media/<id>``.)"""
    fields = _video(params)[2]
    offset = int_param(params.get("offset", 0), "offset", 0)
    length = int_param(params.get("length", CHUNK_BYTES), "length", 1, CHUNK_BYTES)
    data, size, mime, etag = read_media_range(str(fields["file_path_abs"]), offset, length)
    return {"mime": mime, "size": size, "offset": offset, "etag": etag}, [data]


# --- posters: frames decoded on the server while the browser seeks ----------------------------

POSTER_SIZE = 960  # px, longest side: sharp enough under a seeking player, ~80 KB a frame
POSTER_QUALITY = 80
WINDOW_BEHIND = 10  # frames before a requested one decoded in the same pass (stepping ←)
WINDOW_AHEAD = 60  # and after it (stepping →, holding →: two seconds at 30 fps)
WHOLE_VIDEO_FRAMES = 900  # a video this short (30 s at 30 fps, ~70 MB) is cached whole
WAIT_S = 5.0  # at most this long for a running window to reach a requested frame
PARK_S = 10.0  # a window at its end waits this long to be extended before it closes the file


class _Window:
    """One sequential decoding pass from frame ``lo``; it stores frames up to ``hi``, which
    requests move forward while it runs (no new seek from the key frame), then waits
    ``PARK_S`` for more. A newer window (on any video: the user moved on) stops it."""

    def __init__(self, lo: int, hi: int) -> None:
        self.lo, self.hi, self.done = lo, hi, False


_changed = threading.Condition()  # notified when a window stores a frame, grows or ends
_windows: dict[str, _Window] = {}  # video path -> its newest window
_newest: _Window | None = None  # the one window that may decode in the background
_window_pool: ThreadPoolExecutor | None = None


@method("video_poster", c.VideoPosterParams, c.VideoPosterResult, buffers_out=True)
def video_poster(params: dict) -> tuple[Any, list[bytes]]:
    """Frame ``frame_number`` of a video as a JPEG (longest side ``POSTER_SIZE``), from the
    frame cache, from the running window, or decoded with a new window; with ``quick``, from
    the video's seek strip when the frame is not cached (see the module's docstring)."""
    fields = _video(params)[2]
    fps = float(fields.get("fps") or 0) or 30.0
    last = max(0, int(fields.get("frame_count") or 1) - 1)
    n = int_param(params.get("frame_number"), "frame_number", 0, last)
    quick = params.get("quick", False)
    if not isinstance(quick, bool):
        raise QueryError(f"quick must be true or false, got {show(quick)}.")
    path = str(fields["file_path_abs"])
    resolve_local(path)  # the same checks as /media: these bytes go to the client
    hi = last if last < WHOLE_VIDEO_FRAMES else min(last, n + WINDOW_AHEAD)
    data = _cached(path, n / fps)
    if data is None and quick:
        low = strip_frame_jpeg(path, n / fps)
        if low is not None:
            return _answer(n, low, low_res=True)
    if data is None and _extend(path, n, hi):
        data = _wait_for(path, n / fps)
    if data is None:
        return _answer(n, _decode_window(path, fps, n, hi, last))
    ahead = min(last, n + WINDOW_AHEAD // 2)
    if _cached(path, ahead / fps) is None and not _extend(path, n, hi):
        # Half way through a cached stretch: decode the next one before the user gets there.
        window = _start(path, n, hi)
        _background(path, fps, window, _frames(path, fps, window.lo, last))
    return _answer(n, data)


def _answer(n: int, data: bytes, low_res: bool = False) -> tuple[Any, list[bytes]]:
    return {"mime": "image/jpeg", "size": len(data), "frame_number": n, "low_res": low_res}, [data]


def _cached(path: str, timestamp_s: float) -> bytes | None:
    return cached_frame_jpeg(path, timestamp_s, max_size=POSTER_SIZE, quality=POSTER_QUALITY)


def _extend(path: str, n: int, hi: int) -> bool:
    """Let the running window of this video go on to ``hi`` when frame n is ahead of its
    start and not far past its end; False when there is no such window."""
    with _changed:
        window = _windows.get(path)
        if window is None or window.done or not window.lo <= n <= window.hi + WINDOW_AHEAD:
            return False
        window.hi = max(window.hi, hi)
        _changed.notify_all()
        return True


def _wait_for(path: str, timestamp_s: float) -> bytes | None:
    """The frame from the running window once it gets there (it decodes it anyway; a second
    pass would start again from the key frame)."""
    window = _windows.get(path)
    with _changed:
        _changed.wait_for(
            lambda: (
                _windows.get(path) is not window
                or window is None
                or window.done
                or _cached(path, timestamp_s) is not None
            ),
            timeout=WAIT_S,
        )
    return _cached(path, timestamp_s)


def _start(path: str, n: int, hi: int) -> _Window:
    global _newest
    window = _Window(max(0, n - WINDOW_BEHIND), hi)
    with _changed:
        _windows[path] = _newest = window
        _changed.notify_all()
    return window


def _frames(path: str, fps: float, lo: int, last: int) -> Iterator[tuple[float, Image.Image]]:
    """Frames lo.. of the video not cached yet, in one pass from the key frame before lo."""
    times = [k / fps for k in range(lo, last + 1) if _cached(path, k / fps) is None]
    return iter_frames(path, times, max_size=POSTER_SIZE)


def _store(path: str, timestamp_s: float, image: Image.Image) -> None:
    cache_frame_jpeg(path, timestamp_s, image, max_size=POSTER_SIZE, quality=POSTER_QUALITY)
    with _changed:
        _changed.notify_all()


def _decode_window(path: str, fps: float, n: int, hi: int, last: int) -> bytes:
    """Start a window at n: decode up to frame n here, and leave the rest to the background
    thread."""
    window = _start(path, n, hi)
    frames = _frames(path, fps, window.lo, last)
    target = n / fps
    try:
        for timestamp_s, image in frames:
            _store(path, timestamp_s, image)
            if timestamp_s >= target:
                break
    except BaseException:
        _end(window)
        raise
    _background(path, fps, window, frames)
    data = _cached(path, target)
    if data is None:
        raise IngestError(f"{path}: frame {n} does not decode")
    return data


def _end(window: _Window) -> None:
    with _changed:
        window.done = True
        _changed.notify_all()


def _background(
    path: str, fps: float, window: _Window, frames: Iterator[tuple[float, Image.Image]]
) -> None:
    global _window_pool
    with _changed:
        if _window_pool is None:
            # One thread: windows are a convenience and must not take the CPU from the
            # browser's own decoder or from the requests being answered.
            _window_pool = ThreadPoolExecutor(1, thread_name_prefix="lightly-studio-posters")
        pool = _window_pool

    def current() -> bool:
        return _newest is window

    def wanted(k: int) -> bool:
        return current() and k <= window.hi

    def decided(k: int) -> bool:
        return wanted(k) or not current()

    def finish() -> None:
        try:
            for timestamp_s, image in frames:
                k = round(timestamp_s * fps)
                with _changed:
                    # At the end of the window: park until a request extends it.
                    _changed.wait_for(functools.partial(decided, k), PARK_S)
                    if not wanted(k):
                        return  # replaced by a newer window, or nobody came back
                _store(path, timestamp_s, image)
        except (IngestError, OSError):
            pass  # a request for one of these frames decodes it again and reports the error
        finally:
            getattr(frames, "close", lambda: None)()
            _end(window)

    pool.submit(finish)
