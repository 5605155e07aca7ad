"""Original files for the browser: which ones may be served, and byte ranges of them.

Only files registered as samples are served, and they are addressed by sample id, never by a
path from the URL — so ``..``, ``%2e%2e`` and absolute paths in a URL cannot name a file at all.
The registered path is then resolved (symlinks followed) and must be a regular file with an
image or video suffix *after* resolution: a sample whose file was swapped for a link to
``/etc/passwd`` or ``~/.ssh/id_rsa`` is refused.
"""

from __future__ import annotations

import mimetypes
import os
import re
from dataclasses import dataclass

MEDIA_SUFFIXES = {
    ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp",
    ".gif": "image/gif", ".bmp": "image/bmp", ".tif": "image/tiff", ".tiff": "image/tiff",
    ".avif": "image/avif",
    ".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime", ".webm": "video/webm",
    ".mkv": "video/x-matroska", ".avi": "video/x-msvideo", ".mpg": "video/mpeg",
    ".mpeg": "video/mpeg",
}


class MediaRefused(Exception):
    """The file exists in the DB but is not something we serve (status says why)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


@dataclass(frozen=True)
class LocalFile:
    path: str
    size: int
    mtime_ns: int
    content_type: str

    @property
    def etag(self) -> str:
        # Changes whenever the file is rewritten; cheap (no hashing of the content).
        return f'"{self.size:x}-{self.mtime_ns:x}"'


def media_type(path: str) -> str | None:
    suffix = os.path.splitext(path)[1].lower()
    return MEDIA_SUFFIXES.get(suffix)


def resolve_local(registered_path: str) -> LocalFile:
    """Check a registered sample path and describe the file to serve."""
    real = os.path.realpath(registered_path)
    content_type = media_type(real)
    if content_type is None:
        raise MediaRefused(403, "only image and video files are served")
    try:
        st = os.stat(real)
    except FileNotFoundError:
        raise MediaRefused(404, "the sample's file is missing") from None
    except OSError:
        raise MediaRefused(403, "the sample's file cannot be read") from None
    import stat as _stat

    if not _stat.S_ISREG(st.st_mode):
        raise MediaRefused(403, "only regular files are served")
    return LocalFile(real, st.st_size, st.st_mtime_ns, content_type)


def remote_type(url: str) -> str:
    return media_type(url.split("?", 1)[0]) or mimetypes.guess_type(url)[0] or "application/octet-stream"


_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_range(header: str | None, size: int) -> tuple[int, int] | None | str:
    """``(start, end_inclusive)``, ``None`` for the whole file, or ``"unsatisfiable"``.

    One range only (what ``<video>`` seeking sends); multipart ranges get the whole file, which
    RFC 9110 allows.
    """
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if not match:
        return None
    first, last = match.groups()
    if first == "" and last == "":
        return None
    if first == "":
        length = int(last)
        if length == 0:
            return "unsatisfiable"
        return max(size - length, 0), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if start >= size or end < start:
        return "unsatisfiable"
    return start, min(end, size - 1)
