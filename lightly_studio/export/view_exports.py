"""The one folder that exports started from the views may write to, and the check every
client-supplied output name goes through.

A view (notebook widget, full-page app, the Export operator) runs on behalf of whoever can talk
to the server, so it must not choose where files land: writing ``~/.bashrc`` or a ``.pth`` file
runs code later. The Python user chooses the folder instead:

- ``ls.start_gui(export_dir=...)``, ``Explorer(dataset, export_dir=...)``,
- ``env.LIGHTLY_STUDIO_EXPORT_DIR = ...`` or the environment variable
  ``LIGHTLY_STUDIO_EXPORT_DIR``,
- default: ``lightly_studio_exports/`` under the working directory at the time of the export.

One setting for the whole process: the last call that sets it wins. A client names only a file
(or a relative path) inside that folder; absolute paths, ``~``, ``..``, control characters and
anything that resolves outside the folder through a symlink raise ``ExportPathError``. An
existing file is never overwritten: the export gets the next free name, ``name (1).json``.

Python calls (``dataset.export(query).to_coco_object_detections(path)``) do not come through
here: the user chose that path.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath, PureWindowsPath

from lightly_studio.dataset import env
from lightly_studio.errors import ExportPathError
from lightly_studio.export.formats import export_format

DEFAULT_DIR_NAME = "lightly_studio_exports"

__all__ = [
    "DEFAULT_DIR_NAME",
    "ExportPathError",
    "default_name",
    "export_dir",
    "reserved_output",
    "set_export_dir",
    "suffix_for",
]


def export_dir() -> Path:
    """The export folder, absolute with symlinks resolved (it need not exist yet)."""
    configured = env.LIGHTLY_STUDIO_EXPORT_DIR
    folder = Path(configured).expanduser() if configured else Path.cwd() / DEFAULT_DIR_NAME
    return folder.resolve()


def set_export_dir(folder: str | os.PathLike) -> Path:
    """Make ``folder`` the export folder of this process (resolved now, so a later ``chdir``
    does not move it); returns it."""
    if not str(folder).strip():
        raise ExportPathError("export_dir must name a folder, got an empty string.")
    resolved = Path(folder).expanduser().resolve()
    env.LIGHTLY_STUDIO_EXPORT_DIR = str(resolved)
    return resolved


def suffix_for(fmt: str) -> str | None:
    """The file suffix of an export format, or None for formats that write a folder (YOLO)."""
    registered = export_format(fmt)
    if registered is not None:
        return registered.extension if registered.writes == "file" else None
    if "yolo" in fmt:
        return None
    if "csv" in fmt:
        return ".csv"
    if fmt == "file_list":
        return ".txt"
    return ".json"


def default_name(dataset_name: str, fmt: str) -> str:
    """``<dataset>_<format><suffix>`` with the dataset name reduced to safe characters."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{dataset_name}_{fmt}").lstrip(".") or "export"
    return stem + (suffix_for(fmt) or "")


@contextmanager
def reserved_output(requested: object, default: str, *, suffix: str | None) -> Iterator[Path]:
    """A fresh path inside the export folder for a client's ``requested`` output name.

    ``suffix``: the format's file suffix (added when the name lacks it), or None when the
    export is a folder. The path is created (an empty file, or an empty folder) before it is
    handed out, so two exports never pick the same name; it is removed again if the export
    fails. Raises ``ExportPathError`` for any name that would leave the folder.
    """
    path = _reserve(requested, default, suffix)
    try:
        yield path
    except BaseException:
        _discard_if_empty(path)
        raise


def _reserve(requested: object, default: str, suffix: str | None) -> Path:
    name = _checked_name(requested if requested not in (None, "") else default)
    if suffix and not name.lower().endswith(suffix):
        name += suffix  # "x.pth" becomes "x.pth.json": a format's files keep its suffix
    root = export_dir()
    root.mkdir(parents=True, exist_ok=True)
    target = root / name
    parent = _inside(root, target.parent, name)
    parent.mkdir(parents=True, exist_ok=True)
    parent = _inside(root, parent, name)  # again: a folder swapped for a link meanwhile
    stem, ext = (target.name, "") if suffix is None else (target.name[: -len(suffix)], suffix)
    for n in range(10_000):
        candidate = parent / (target.name if n == 0 else f"{stem} ({n}){ext}")
        if os.path.islink(candidate):
            if n == 0:
                raise ExportPathError(
                    f"{candidate} is a symbolic link: exports never write through links. "
                    "Remove it or choose another name."
                )
            continue
        try:
            if suffix is None:
                os.mkdir(candidate)
            else:
                # O_EXCL also refuses a link planted after the check above.
                os.close(os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return candidate
    raise ExportPathError(f"No free name like {target.name!r} in {parent}: clean up the folder.")


def _checked_name(name: object) -> str:
    """Refuse anything but a relative path without ``..``, ``~`` or control characters."""
    if not isinstance(name, str):
        raise ExportPathError(f"The export output must be a file name, got {type(name).__name__}.")
    where = f"Export output {name!r}"
    hint = (
        "give a file name (or a relative path) inside the export folder; the Python user "
        "chooses that folder with ls.start_gui(export_dir=...) or LIGHTLY_STUDIO_EXPORT_DIR."
    )
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise ExportPathError(f"{where} contains a control character (NUL, newline, …): {hint}")
    if name.startswith("~"):
        raise ExportPathError(f"{where} starts with '~' (a home folder): {hint}")
    if (
        PurePosixPath(name).is_absolute()
        or PureWindowsPath(name).is_absolute()
        or PureWindowsPath(name).drive
        or name.startswith(("/", "\\"))
    ):
        raise ExportPathError(f"{where} is an absolute path: {hint}")
    parts = [p for p in re.split(r"[/\\]", name) if p not in ("", ".")]
    if not parts:
        raise ExportPathError(f"{where} names no file: {hint}")
    if ".." in parts:
        raise ExportPathError(f"{where} climbs out with '..': {hint}")
    return "/".join(parts)


def _inside(root: Path, path: Path, name: str) -> Path:
    resolved = path.resolve()
    if not resolved.is_relative_to(root):
        raise ExportPathError(
            f"Export output {name!r} resolves to {resolved}, outside the export folder {root} "
            "(through a symbolic link): choose another name."
        )
    return resolved


def _discard_if_empty(path: Path) -> None:
    try:
        if path.is_dir() and not path.is_symlink():
            path.rmdir()  # only when empty: a half-written export stays for inspection
        elif path.is_file() and path.stat().st_size == 0:
            path.unlink()
    except OSError:
        pass
