"""File names as exports write them: relative to a root folder."""

from __future__ import annotations

import os
import posixpath

import polars as pl

from lightly_studio.errors import ExportError


def relative_names(paths: list[str], root: str | os.PathLike | None) -> tuple[str, list[str]]:
    """(root, each path relative to it). Default root: the images' common folder."""
    if not paths:
        return (str(root) if root is not None else ""), []
    series = pl.Series("path", paths, dtype=pl.Utf8)
    remote = bool(series.str.contains("://", literal=True).any())
    if root is None:
        # commonpath over the distinct folders only: a few instead of one per image.
        folders = series.str.replace(r"[/\\][^/\\]*$", "").unique().to_list()
        if remote:
            scheme = paths[0].split("://", 1)[0]
            root_s = f"{scheme}://" + posixpath.commonpath([f.split("://", 1)[1] for f in folders])
        else:
            root_s = os.path.commonpath(folders)
    else:
        root_s = str(root) if remote else os.path.abspath(os.path.expanduser(str(root)))
    sep = "/" if remote else os.sep
    prefix = root_s.rstrip(sep) + sep
    inside = series.str.starts_with(prefix)
    if not inside.all():
        outside = series.filter(~inside)
        raise ExportError(
            f"Cannot write file names relative to {root_s}: {outside.len()} images are outside "
            f"it (first: {outside[0]}). Pass another root, or root=None for the images' common "
            "folder."
        )
    rel = series.str.slice(len(prefix))
    if sep != "/":
        rel = rel.str.replace_all(sep, "/", literal=True)
    return root_s, rel.to_list()
