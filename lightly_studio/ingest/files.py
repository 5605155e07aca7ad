"""Listing media files below a folder or fsspec URL, and reading image sizes from headers."""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp")


@dataclass
class Listing:
    """Files found below ``root``: their absolute paths (local) or URLs (remote)."""

    root: str
    paths: list[str]
    fs: object | None  # fsspec filesystem for remote roots, None for local ones
    skipped: list[tuple[str, str]]  # (path, reason) of entries that cannot be indexed


def is_remote(path: str) -> bool:
    return "://" in str(path) and not str(path).startswith("file://")


def normalize_extensions(extensions: Sequence[str] | None, default: Sequence[str]) -> tuple:
    if extensions is None:
        return tuple(default)
    return tuple(e.lower() if e.startswith(".") else f".{e.lower()}" for e in extensions)


def list_files(path: str, extensions: Sequence[str]) -> Listing:
    """Every file below ``path`` whose extension (case-insensitive) is in ``extensions``.

    Local folders are walked without following directory symlinks, so symlink loops end.
    """
    path = str(path)
    if is_remote(path):
        return _list_remote(path, extensions)
    if path.startswith("file://"):
        path = path[len("file://"):]
    root = os.path.abspath(os.path.expanduser(path))
    if not os.path.exists(root):
        from lightly_studio.errors import IngestError

        raise IngestError(f"Path does not exist: {root}")
    if os.path.isfile(root):
        return Listing(os.path.dirname(root), [root], None, [])
    found, skipped = [], []
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs.sort()
        for name in sorted(files):
            if os.path.splitext(name)[1].lower() in extensions:
                full = os.path.join(folder, name)
                try:
                    full.encode("utf-8")
                except UnicodeEncodeError:
                    skipped.append((full.encode("utf-8", "surrogateescape").decode(
                        "utf-8", "replace"), "file name is not valid UTF-8"))
                    continue
                found.append(full)
    return Listing(root, found, None, skipped)


def _list_remote(url: str, extensions: Sequence[str]) -> Listing:
    import fsspec

    fs, root = fsspec.core.url_to_fs(url)
    if not fs.exists(root):
        from lightly_studio.errors import IngestError

        raise IngestError(f"Path does not exist: {url}")
    paths = sorted(p for p in fs.find(root) if os.path.splitext(p)[1].lower() in extensions)
    return Listing(fs.unstrip_protocol(root).rstrip("/"), [fs.unstrip_protocol(p) for p in paths],
                   fs, [])


# JPEG and PNG files end with a marker; a file cut short has none in its last bytes.
_END_MARKERS = {".jpg": b"\xff\xd9", ".jpeg": b"\xff\xd9", ".png": b"IEND"}
_TAIL = 1024


def read_image_size(path: str, fs=None) -> tuple[int, int]:
    """(width, height) from the image header without decoding pixels.

    Raises ValueError (with a reason) for files that cannot be indexed.
    """
    from PIL import Image, UnidentifiedImageError

    ext = os.path.splitext(path)[1].lower()
    try:
        if fs is None:
            with open(path, "rb") as f:
                size = _header_size(f, Image)
                marker = _END_MARKERS.get(ext)
                if marker is not None:
                    f.seek(0, os.SEEK_END)
                    end = f.tell()
                    f.seek(max(0, end - _TAIL))
                    if marker not in f.read():
                        raise ValueError("file is truncated (no end-of-image marker)")
        else:
            head = fs.cat_file(path, start=0, end=65536)
            try:
                size = _header_size(io.BytesIO(head), Image)
            except (UnidentifiedImageError, OSError, SyntaxError):
                size = _header_size(io.BytesIO(fs.cat_file(path)), Image)
    except Image.DecompressionBombError as exc:
        raise ValueError(f"image header claims too many pixels ({exc})") from None
    except UnidentifiedImageError:
        raise ValueError("not a readable image") from None
    except (OSError, SyntaxError) as exc:
        raise ValueError(f"cannot read file: {exc}") from None
    width, height = size
    if width <= 0 or height <= 0:
        raise ValueError(f"image header has an empty size {width}x{height}")
    return int(width), int(height)


def _header_size(f, Image) -> tuple[int, int]:
    with warnings.catch_warnings():
        # Large-but-legal images warn; only the error (2x the limit) rejects a file.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with Image.open(f) as img:
            return img.size
