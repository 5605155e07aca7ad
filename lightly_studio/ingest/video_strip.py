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

Built when needed: opening a video in the player asks for its strip
(``build_in_background``). One low-priority thread decodes it (a newer video opened stops an
older build), and frames are served while the file is still being written, so a seek behind
the build's front is instant a moment after opening. At nice 19 it takes only CPU time the
browser's decoder and the server's requests leave idle.

Kept and cached: strips asked for (at ingest, ``build_seek_strips``) live in ``video_strips/``
and stay. Strips built on opening live in ``video_strips/opened/``, a cache of at most
``opened_strips_max_bytes()`` (2 GiB unless ``LIGHTLY_STUDIO_OPENED_STRIPS_MB`` says
otherwise; a 10-minute 1080p video's strip is about 300 MB): after each build the least
recently opened ones are removed. Asking for a strip that the cache holds moves it over
instead of decoding the video again.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import logging
import os
import struct
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
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
#: A video with more frames than this gets no strip when opened in the player (10 minutes
#: at 30 fps: ~5 minutes of decoding on 2 cores and ~350 MB); ``build_seek_strips`` builds
#: any. 0: no strip is built on opening.
BUILD_ON_OPEN_MAX_FRAMES = 18_000
_IDLE_S = 30.0  # the background builder's thread ends after this long without a request
_OPENED = "opened"  # the sub-folder of the strips built on opening (a bounded cache)

logger = logging.getLogger("lightly_studio")


def strip_dir() -> Path:
    """``<folder of the DB file>/.lightly_studio_cache/video_strips``."""
    from lightly_studio.ingest.video import thumbnail_cache_dir

    return thumbnail_cache_dir().parent / "video_strips"


def strip_file(
    path: str,
    *,
    opened: bool = False,
    max_size: int = STRIP_MAX_SIZE,
    quality: int = STRIP_QUALITY,
) -> Path:
    """Where the strip of ``path`` lives (whether or not it exists): the kept one, or with
    ``opened`` the cached one built on opening. A replaced file (size or modification time)
    gets a new name."""
    stat = os.stat(path)
    key = hashlib.sha1(
        f"{os.path.abspath(path)}|{stat.st_size}|{stat.st_mtime_ns}|{max_size}|{quality}".encode()
    ).hexdigest()
    folder = strip_dir() / _OPENED if opened else strip_dir()
    return folder / key[:2] / f"{key}.strip"


def opened_strips_max_bytes() -> int:
    """The most disk the strips built on opening may take (``LIGHTLY_STUDIO_OPENED_STRIPS_MB``,
    default 2048)."""
    return int(os.environ.get("LIGHTLY_STUDIO_OPENED_STRIPS_MB", "2048")) * 1024 * 1024


_indexes: OrderedDict[Path, _Index] = OrderedDict()  # complete strips' indexes, newest last
_indexes_lock = threading.Lock()  # guards _indexes and _partials


class _Partial:
    """A strip being written: the frames decoded so far can be read before it is complete."""

    def __init__(self, tmp: Path, start: int, time_base: Fraction) -> None:
        self.tmp, self.start, self.time_base = tmp, start, time_base
        self.pts: list[int] = []
        self.offsets = [0]


_partials: dict[Path, _Partial] = {}  # the strip file -> its build in progress


def build_seek_strip(
    path: str,
    *,
    max_size: int = STRIP_MAX_SIZE,
    quality: int = STRIP_QUALITY,
    should_stop: Callable[[], bool] | None = None,
    opened: bool = False,
) -> Path | None:
    """Decode every frame of the video once and store the strip; returns its file (None when
    ``should_stop`` said so between two frames: nothing is kept). An existing strip is kept;
    one built on opening is moved to the kept strips (unless ``opened``: a build on opening
    goes into that cache). Raises IngestError when the file cannot be opened or holds no
    frame."""
    import av

    from lightly_studio.ingest.video import _decode, _reason, _start_pts

    target = strip_file(path, opened=opened, max_size=max_size, quality=quality)
    if target.exists():
        return target
    if not opened and _keep_opened(
        strip_file(path, opened=True, max_size=max_size, quality=quality), target
    ):
        return target
    try:
        container = av.open(path)
    except (av.FFmpegError, OSError) as exc:
        raise IngestError(f"{path}: cannot open as a video ({_reason(exc)})") from exc
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
    partial: _Partial | None = None
    try:
        with container, open(tmp, "wb") as out:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            time_base = Fraction(stream.time_base or Fraction(1, 1_000_000))
            start = _start_pts(stream)
            partial = _Partial(tmp, start, time_base)
            with _indexes_lock:
                _partials[target] = partial
            width, height = stream.codec_context.width, stream.codec_context.height
            scale = min(1.0, max_size / max(width, height, 1))
            size = (max(2, round(width * scale)), max(2, round(height * scale)))
            for frame in _decode(container, stream):
                if should_stop is not None and should_stop():
                    return None
                if frame.pts is None:
                    continue
                # swscale resizes while converting to RGB: the full-size RGB frame never exists.
                image = frame.reformat(
                    width=size[0], height=size[1], format="rgb24", interpolation="AREA"
                ).to_image()
                buffer = io.BytesIO()
                image.save(buffer, format="JPEG", quality=quality)
                out.write(buffer.getbuffer())
                out.flush()  # readers of the partial strip open the file themselves
                with _indexes_lock:
                    partial.offsets.append(partial.offsets[-1] + buffer.tell())
                    partial.pts.append(int(frame.pts))
            if not partial.pts:
                raise IngestError(f"{path}: no frame decodes")
            out.write(np.asarray(partial.pts, dtype="<i8").tobytes())
            out.write(np.asarray(partial.offsets, dtype="<u8").tobytes())
            out.write(
                _TRAILER.pack(
                    len(partial.pts), start, time_base.numerator, time_base.denominator, _MAGIC
                )
            )
        with _indexes_lock:  # a reader sees the partial strip or the whole one, never neither
            os.replace(tmp, target)
            _drop(target, partial)
    except av.FFmpegError as exc:
        raise IngestError(f"{path}: cannot decode ({_reason(exc)})") from exc
    finally:
        with _indexes_lock:
            _drop(target, partial)
            tmp.unlink(missing_ok=True)
    return target


def _keep_opened(cached: Path, target: Path) -> bool:
    """Move a strip built on opening to the kept ones; False when there is none."""
    with _indexes_lock:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(cached, target)
        except FileNotFoundError:
            return False
        _indexes.pop(cached, None)
    return True


def _touch(file: Path) -> None:
    """Mark a strip as just used: the cache of strips built on opening removes the least
    recently used first (by modification time)."""
    with contextlib.suppress(OSError):
        os.utime(file)


def prune_opened_strips(keep: Path | None = None) -> int:
    """Remove the least recently used strips built on opening until they take at most
    ``opened_strips_max_bytes()``; never ``keep`` (the one just built). Returns the bytes
    freed. Kept strips (ingest, ``build_seek_strips``) are not touched."""
    files: list[tuple[int, int, Path]] = []
    for file in (strip_dir() / _OPENED).glob("*/*.strip"):
        with contextlib.suppress(OSError):
            stat = file.stat()
            files.append((stat.st_mtime_ns, stat.st_size, file))
    total = sum(size for _, size, _ in files)
    limit = opened_strips_max_bytes()
    freed = 0
    for _, size, file in sorted(files):  # least recently used first
        if total <= limit:
            break
        if file == keep:
            continue
        with _indexes_lock, contextlib.suppress(OSError):
            _indexes.pop(file, None)
            file.unlink()
            total -= size
            freed += size
    if freed:
        logger.info("Removed %.0f MB of seek strips built on opening", freed / 2**20)
    return freed


def _drop(target: Path, partial: _Partial | None) -> None:
    """Forget ``partial`` (under ``_indexes_lock``) unless another build replaced it."""
    if partial is not None and _partials.get(target) is partial:
        del _partials[target]


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
    _touch(file)
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
    for it), or None when the video has no strip — never decodes. A strip still being built
    answers once its build has passed that time. ``exact``: None unless a frame starts
    exactly at that time (where every decoding rule picks the same frame)."""
    try:
        kept, cached = strip_file(path), strip_file(path, opened=True)
    except OSError:
        return None
    file, index = kept, _index(kept)
    if index is None:
        file, index = cached, _index(cached)
    if index is None:  # maybe still being built, for keeps or on opening
        partial = _partial_frame_jpeg(kept, timestamp_s, exact)
        return partial if partial is not None else _partial_frame_jpeg(cached, timestamp_s, exact)
    k = _frame_at(index.pts, index.start, index.time_base, timestamp_s, exact, complete=True)
    if k is None:
        return None
    try:
        with open(file, "rb") as f:
            f.seek(int(index.offsets[k]))
            return f.read(int(index.offsets[k + 1] - index.offsets[k]))
    except FileNotFoundError:  # pruned or moved to the kept strips meanwhile: ask again
        with _indexes_lock:
            _indexes.pop(file, None)
        return None


def _frame_at(
    pts: np.ndarray,
    start: int,
    time_base: Fraction,
    timestamp_s: float,
    exact: bool,
    complete: bool,
) -> int | None:
    """The position of the first frame (in decoder output order) whose pts is at or after
    the time; past the end, the last frame — but only once the strip is ``complete`` (until
    then a later frame may still come). More frames never change an answer given."""
    wanted = start + round(Fraction(timestamp_s) / time_base)
    at_or_after = np.nonzero(pts >= wanted)[0]
    if at_or_after.size:
        k = int(at_or_after[0])
    elif complete:
        k = pts.size - 1
    else:
        return None
    if exact and int(pts[k]) != wanted:
        return None
    return k


def _partial_frame_jpeg(file: Path, timestamp_s: float, exact: bool) -> bytes | None:
    with _indexes_lock:  # the build neither appends nor renames the file meanwhile
        partial = _partials.get(file)
        if partial is None or not partial.pts:
            return None
        pts = np.asarray(partial.pts, dtype=np.int64)
        k = _frame_at(pts, partial.start, partial.time_base, timestamp_s, exact, complete=False)
        if k is None:
            return None
        with open(partial.tmp, "rb") as f:
            f.seek(partial.offsets[k])
            return f.read(partial.offsets[k + 1] - partial.offsets[k])


# --- building on opening: one low-priority thread, the newest request first -----------------

_wanted: str | None = None  # the video the background builder should work on next
_building: str | None = None  # the one it works on now
_builder: threading.Thread | None = None
_requests = threading.Condition()


def build_in_background(path: str, frame_count: int | None = None) -> None:
    """Have this video's strip built in the background unless it exists, is too long
    (``BUILD_ON_OPEN_MAX_FRAMES``) or cannot be stat'ed. A build of another video that is
    still running stops: the user has moved on, and a build must not run behind the video
    being looked at."""
    global _wanted, _builder
    if frame_count is not None and frame_count > BUILD_ON_OPEN_MAX_FRAMES:
        return
    try:
        if strip_file(path).exists():
            return
        cached = strip_file(path, opened=True)
    except OSError:
        return
    if cached.exists():
        _touch(cached)  # opened again: the last to be removed from the cache
        return
    with _requests:
        _wanted = path
        _requests.notify_all()
        if _builder is None or not _builder.is_alive():
            _builder = threading.Thread(
                target=_build_requested, name="lightly-studio-strips", daemon=True
            )
            _builder.start()


def _build_requested() -> None:
    global _wanted, _building, _builder
    _lower_this_threads_priority()
    while True:
        with _requests:
            if not _requests.wait_for(_has_request, timeout=_IDLE_S):
                _builder = None
                return
            path, _building, _wanted = _wanted, _wanted, None
        assert path is not None
        try:
            built = build_seek_strip(
                path, should_stop=functools.partial(_superseded, path), opened=True
            )
            if built is not None:
                prune_opened_strips(keep=built)
        except (IngestError, OSError) as exc:
            # The player works without a strip; its own decode reports a broken file.
            logger.info("No seek strip for %s: %s", path, exc)
        finally:
            with _requests:
                _building = None
                _requests.notify_all()


def _has_request() -> bool:
    return _wanted is not None


def _superseded(path: str) -> bool:
    """Another video was opened since this one's build began."""
    return _wanted not in (None, path)


def _lower_this_threads_priority() -> None:
    """Nice 19 for this thread and the decoder threads it starts (Linux keeps a nice value
    per thread, and new threads inherit it): the strip takes only idle CPU time."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)


def wait_for_background_builds(timeout: float | None = None) -> bool:
    """Wait until the background builder has nothing left to do (tests, benchmarks); False
    on timeout."""
    with _requests:
        return _requests.wait_for(lambda: _wanted is None and _building is None, timeout)
