"""The one gate between a sample's registered file and the client: what may be read, and reading it.

Every route and ``api/`` method that sends a sample's file (or something made from it: a
thumbnail, a video frame) to the client goes through here: ``/media``, ``/thumbnail``, the
``image``, ``thumbnails`` and ``annotator_sample`` methods, and video frames. Files are named by
the database, never by the client, but a registered file can change after indexing: a sample
whose file was swapped for a link to ``/etc/passwd`` or ``~/.ssh/id_rsa`` must not return it.

Local paths (and ``file://`` URLs) are resolved (symlinks followed) and must then be a regular
file with an image or video suffix; the file is opened without following a link again and
checked to be the very file that was checked (no swap in between), and never blocks on a pipe.
Remote fsspec URLs have no links to follow: they are only limited to media suffixes.

This module sits below ``api/`` and ``server/`` (both import it; it imports neither).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from typing import BinaryIO

from lightly_studio.errors import LightlyStudioError

# Suffix -> content type of the files we send. Anything else is refused, whatever it contains.
MEDIA_SUFFIXES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
    ".gif": "image/gif",
    ".bmp": "image/bmp",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".avif": "image/avif",
    ".jp2": "image/jp2",
    ".ppm": "image/x-portable-pixmap",
    ".pgm": "image/x-portable-graymap",
    ".pbm": "image/x-portable-bitmap",
    ".pnm": "image/x-portable-anymap",
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".mov": "video/quicktime",
    ".webm": "video/webm",
    ".mkv": "video/x-matroska",
    ".avi": "video/x-msvideo",
    ".mpg": "video/mpeg",
    ".mpeg": "video/mpeg",
    ".m2ts": "video/mp2t",
    ".ogv": "video/ogg",
    ".3gp": "video/3gpp",
    ".flv": "video/x-flv",
    ".wmv": "video/x-ms-wmv",
}


class MediaRefused(LightlyStudioError):
    """A sample's file is not sent to the client: missing, or not a regular image/video file.

    ``status`` is the HTTP status it stands for (404 missing, 403 refused).
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class LocalFile:
    """A checked local media file: its resolved path and what ``stat`` said about it."""

    path: str
    size: int
    mtime_ns: int
    content_type: str
    device: int = 0
    inode: int = 0

    @property
    def etag(self) -> str:
        # Changes whenever the file is rewritten; cheap (no hashing of the content).
        return f'"{self.size:x}-{self.mtime_ns:x}"'


def media_type(path: str) -> str | None:
    """The content type of an image or video path (by suffix), None for anything else."""
    return MEDIA_SUFFIXES.get(os.path.splitext(path)[1].lower())


def is_remote(path: str) -> bool:
    return "://" in path and not path.startswith("file://")


def resolve_local(registered: str) -> LocalFile:
    """Check a registered local path (or ``file://`` URL); raise ``MediaRefused`` if it may
    not be sent. Never opens the file."""
    real = os.path.realpath(registered.removeprefix("file://"))
    content_type = media_type(real)
    if content_type is None:
        raise MediaRefused(
            403,
            f"{registered}: refused: only image and video files are sent, "
            "and this file (after following links) is neither.",
        )
    try:
        st = os.stat(real)
    except FileNotFoundError:
        raise MediaRefused(
            404,
            f"{registered}: the sample's file is missing; restore it or index its new location.",
        ) from None
    except OSError as exc:
        raise MediaRefused(
            403, f"{registered}: the sample's file cannot be read ({exc.strerror or exc})."
        ) from None
    if not stat.S_ISREG(st.st_mode):
        raise MediaRefused(
            403, f"{registered}: refused: not a regular file (a folder, pipe or device)."
        )
    return LocalFile(real, st.st_size, st.st_mtime_ns, content_type, st.st_dev, st.st_ino)


def open_local(info: LocalFile) -> BinaryIO:
    """Open a file checked by ``resolve_local``, refusing it if it was swapped since.

    ``O_NOFOLLOW``: a link put in its place is not followed; ``O_NONBLOCK``: a pipe put in its
    place does not hang the call (regular files ignore the flag).
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(info.path, flags)
    except FileNotFoundError:
        raise MediaRefused(404, f"{info.path}: the sample's file is missing.") from None
    except OSError as exc:  # ELOOP: it became a link
        raise MediaRefused(
            403, f"{info.path}: the sample's file cannot be read ({exc.strerror or exc})."
        ) from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or (st.st_dev, st.st_ino) != (info.device, info.inode):
        os.close(fd)
        raise MediaRefused(403, f"{info.path}: refused: the file changed while it was opened.")
    return os.fdopen(fd, "rb")


def check_remote(url: str) -> str:
    """The content type of a remote (fsspec) media URL; ``MediaRefused`` for other suffixes."""
    content_type = media_type(url.split("?", 1)[0])
    if content_type is None:
        raise MediaRefused(403, f"{url}: refused: only image and video files are sent.")
    return content_type


def read_media(registered: str) -> tuple[bytes, str]:
    """The whole file of a sample and its content type, after the checks above."""
    if is_remote(registered):
        content_type = check_remote(registered)
        import fsspec

        with fsspec.open(registered, "rb") as f:
            return f.read(), content_type
    info = resolve_local(registered)
    with open_local(info) as f:
        return f.read(), info.content_type


def read_media_range(registered: str, offset: int, length: int) -> tuple[bytes, int, str, str]:
    """``(bytes, file size, content type, version tag)`` of ``length`` bytes of a sample's file
    from ``offset`` (fewer at its end), after the checks above. The version tag changes when
    the file is rewritten, so a reader assembling a file from parts notices a change."""
    if is_remote(registered):
        content_type = check_remote(registered)
        import fsspec

        with fsspec.open(registered, "rb") as f:
            size = int(f.size) if getattr(f, "size", None) is not None else f.seek(0, 2)
            f.seek(offset)
            return f.read(length), size, content_type, f'"{size:x}"'
    info = resolve_local(registered)
    with open_local(info) as f:
        f.seek(offset)
        return f.read(length), info.size, info.content_type, info.etag
