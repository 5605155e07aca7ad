"""Thumbnails: 256 px on the long side, JPEG, cached on disk beside the database file.

The cache key is (path, mtime, size, thumbnail size), so editing or replacing an image makes
a new thumbnail. JPEG sources decode with PIL's ``draft`` (DCT scaling): a 4000 px photo
decodes at 1/8 resolution, which is what makes cold thumbnails cheap. The views make them on
demand (``api/thumbnails.py``); ``ImageDataset.render_thumbnails`` makes them ahead of time,
also on a Ray cluster, through ``cached_path``, ``render_file`` and ``store``.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from pathlib import Path

from lightly_studio import _media_access
from lightly_studio.db import db_file
from lightly_studio.ingest.video import frame_jpeg

THUMBNAIL_SIZE = 256
JPEG_QUALITY = 80


def cache_dir() -> Path:
    """``<db folder>/.lightly_studio_cache/thumbnails`` (a temp folder for in-memory DBs)."""
    path = db_file()
    base = (
        Path(tempfile.gettempdir()) / "lightly_studio" if path == ":memory:" else Path(path).parent
    )
    return base / ".lightly_studio_cache" / "thumbnails"


def checked_source(path: str) -> tuple[tuple[float, int], object]:
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


def read_source(source: object) -> bytes:
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
    cached, source = _cache_entry(path, size, folder)
    try:
        return cached.read_bytes()
    except FileNotFoundError:
        pass
    data = render_thumbnail(read_source(source), size)
    store(cached, data)
    return data


def cached_path(path: str, size: int = THUMBNAIL_SIZE, folder: Path | None = None) -> Path:
    """Where the thumbnail of an image file is (or will be) cached; raises ``MediaRefused``
    for a file that may not be sent to the client."""
    return _cache_entry(path, size, folder)[0]


def _cache_entry(path: str, size: int, folder: Path | None) -> tuple[Path, object]:
    folder = folder or cache_dir()
    # Checked before the cache is looked at: a file that may not be sent gets no thumbnail,
    # not even one cached while it was still a plain image.
    (mtime, nbytes), source = checked_source(path)
    key = hashlib.sha1(f"{path}\0{mtime}\0{nbytes}\0{size}".encode()).hexdigest()
    return folder / key[:2] / f"{key}.jpg", source


def store(cached: Path, data: bytes) -> None:
    """Put a thumbnail into the cache; written then renamed, so a concurrent reader never
    sees half a file."""
    cached.parent.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(f".{os.getpid()}.{id(data)}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, cached)


def render_file(path: str, size: int = THUMBNAIL_SIZE) -> bytes:
    """The thumbnail of the image at ``path`` (local path or fsspec URL), uncached: what a
    Ray worker runs. The caller has checked that the file may be read."""
    import fsspec

    with fsspec.open(path, "rb") as f:
        return render_thumbnail(f.read(), size)
