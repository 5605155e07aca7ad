"""Read back an export the views wrote, so the browser can download it (Colab, a remote
Jupyter: the export folder is on another machine than the browser).

Only what lies inside the export folder (``view_exports.export_dir()``) is ever read: the
client names a relative path, which goes through the same checks as an export's output name
(no absolute paths, ``~``, ``..`` or control characters), must resolve inside the folder
without passing a symbolic link, and must be a regular file or a folder. A folder is zipped in
memory; links and anything but regular files inside it are left out. Files are opened with
``O_NOFOLLOW``, so a link swapped in after the check is refused, not followed.
"""

from __future__ import annotations

import io
import mimetypes
import os
import stat
import zipfile
from pathlib import Path

from lightly_studio.errors import ExportPathError
from lightly_studio.export import view_exports

#: The most a download may hold (bytes, before zipping): the reply travels in memory.
MAX_DOWNLOAD_BYTES = 1 << 30

__all__ = ["MAX_DOWNLOAD_BYTES", "read_export"]


def read_export(name: object) -> tuple[str, str, bytes]:
    """``(file name, mime type, bytes)`` of the export ``name`` (relative to the export
    folder); a folder comes as ``<folder>.zip``. Raises ``ExportPathError``."""
    relative = view_exports._checked_name(name)
    root = view_exports.export_dir()
    target = root / relative
    _no_links(root, relative)
    resolved = view_exports._inside(root, target, relative)
    if resolved == root:
        raise ExportPathError("Name one export inside the export folder, not the folder itself.")
    try:
        info = os.lstat(resolved)
    except FileNotFoundError:
        raise ExportPathError(f"No export {relative!r} in the export folder {root}.") from None
    if stat.S_ISDIR(info.st_mode):
        return f"{resolved.name}.zip", "application/zip", _zip_folder(resolved)
    if not stat.S_ISREG(info.st_mode):
        raise ExportPathError(f"{relative!r} is not a regular file: only exports are downloadable.")
    if info.st_size > MAX_DOWNLOAD_BYTES:
        raise ExportPathError(_too_large(relative, info.st_size))
    mime = mimetypes.guess_type(resolved.name)[0] or "application/octet-stream"
    return resolved.name, mime, _read_no_follow(resolved)


def _no_links(root: Path, relative: str) -> None:
    """Refuse a path that passes a symbolic link anywhere below the export folder."""
    here = root
    for part in relative.split("/"):
        here = here / part
        if os.path.islink(here):
            raise ExportPathError(
                f"{relative!r} passes the symbolic link {here}: downloads never follow links."
            )


def _read_no_follow(path: Path) -> bytes:
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise ExportPathError(f"Cannot read {path.name!r}: {exc.strerror}.") from None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise ExportPathError(f"{path.name!r} is not a regular file.")
        return fh.read()


def _zip_folder(folder: Path) -> bytes:
    """The folder's regular files (not following links) as a zip, paths relative to it."""
    files: list[tuple[Path, str]] = []
    total = 0
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not os.path.islink(os.path.join(dirpath, d)))
        for fname in sorted(filenames):
            path = Path(dirpath) / fname
            info = os.lstat(path)
            if not stat.S_ISREG(info.st_mode):
                continue  # links, sockets, devices: never part of a download
            total += info.st_size
            if total > MAX_DOWNLOAD_BYTES:
                raise ExportPathError(_too_large(folder.name, total))
            files.append((path, path.relative_to(folder).as_posix()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for path, arcname in files:
            zf.writestr(f"{folder.name}/{arcname}", _read_no_follow(path))
    return buffer.getvalue()


def _too_large(name: str, size: int) -> str:
    return (
        f"Export {name!r} holds {size / 1e6:.0f} MB, more than the {MAX_DOWNLOAD_BYTES / 1e6:.0f} "
        "MB a browser download carries: copy it from the export folder instead."
    )
