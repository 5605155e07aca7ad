"""The frames every exporter starts from: the query's samples, labels, annotations."""

from __future__ import annotations

import os
import posixpath
from typing import Any

import polars as pl

from lightly_studio.db import query_frame
from lightly_studio.errors import ExportError

# Tag names that mark a YOLO split, and the split each stands for.
SPLIT_TAGS = {"train": "train", "val": "val", "valid": "val", "validation": "val",
              "test": "test"}


def samples_frame(con, query: Any, with_split: bool = False) -> pl.DataFrame:
    """sample_id (str), file_path_abs, width, height [, split] of the query, by path."""
    sub_sql, params = query.sample_ids_subquery()
    frame = query_frame(
        f"""SELECT CAST(s.sample_id AS VARCHAR) AS sample_id, s.file_path_abs, s.width, s.height
            FROM sample s WHERE s.sample_id IN (SELECT sample_id FROM ({sub_sql}))
            ORDER BY s.file_path_abs, s.frame_number NULLS FIRST, s.sample_id""",
        params, con,
    )
    if not with_split:
        return frame
    tags = query_frame(
        f"""SELECT CAST(s.sample_id AS VARCHAR) AS sample_id, t.name FROM sample s
            JOIN tag t ON list_contains(s.tag_numbers, t.tag_number)
            WHERE s.sample_id IN (SELECT sample_id FROM ({sub_sql}))
              AND list_contains($%d::VARCHAR[], t.name)""" % (len(params) + 1),
        [*params, list(SPLIT_TAGS)], con,
    )
    order = {"train": 0, "val": 1, "test": 2}
    split = (tags.with_columns(pl.col("name").replace_strict(SPLIT_TAGS).alias("split"))
             .with_columns(pl.col("split").replace_strict(order, return_dtype=pl.Int32)
                           .alias("rank"))
             .sort("rank").unique("sample_id", keep="first").select("sample_id", "split"))
    return frame.join(split, on="sample_id", how="left", maintain_order="left").with_columns(
        pl.col("split").fill_null("train"))


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
            root_s = f"{scheme}://" + posixpath.commonpath(
                [f.split("://", 1)[1] for f in folders])
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
            "folder.")
    rel = series.str.slice(len(prefix))
    if sep != "/":
        rel = rel.str.replace_all(sep, "/", literal=True)
    return root_s, rel.to_list()
