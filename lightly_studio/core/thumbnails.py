"""Thumbnails made ahead of time, so the first scroll through a large dataset finds them
cached: on this machine in threads, or on a Ray cluster whose workers render and send the
JPEGs back to this process, which alone writes the cache (workers need no access to it)."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import polars as pl

from lightly_studio.db import get_connection
from lightly_studio.errors import LightlyStudioError
from lightly_studio.ingest import thumbnails
from lightly_studio.store import samples as samples_store

_SCHEMA = {"sample_id": pl.Utf8, "file_path_abs": pl.Utf8, "status": pl.Utf8, "error": pl.Utf8}


def _render(path: str) -> tuple[Any, ...]:
    """(jpeg bytes,) or (error text,): a broken file is a finding, not a failed job."""
    try:
        return (thumbnails.render_file(path),)
    except Exception as exc:  # noqa: BLE001 - one broken file must not stop the others
        return (f"{type(exc).__name__}: {exc}", None)


def render_thumbnails(
    query: Any,
    *,
    engine: str = "local",
    ray_address: str | None = None,
    num_workers: int | None = None,
    progress: bool = True,
) -> pl.DataFrame:
    """Make the cached thumbnail of every image of ``query`` that has none yet.

    Returns one row per image: ``status`` is ``rendered``, ``cached`` (it was there already)
    or ``failed`` (with ``error``: a file that cannot be read or decoded, or may not be
    served). A rerun after an interruption renders only what is missing."""
    if engine not in ("local", "ray"):
        raise ValueError(f"engine must be 'local' or 'ray', not {engine!r}.")
    rows = samples_store.export_rows(get_connection(), query.sample_ids_subquery())
    paths = rows["file_path_abs"].to_list()
    status = ["cached"] * len(paths)
    errors: list[str | None] = [None] * len(paths)
    todo: list[tuple[int, Any]] = []
    folder = thumbnails.cache_dir()
    for i, path in enumerate(paths):  # one stat per file: the cost is the file system's
        try:
            cached = thumbnails.cached_path(path, folder=folder)
        except LightlyStudioError as exc:
            status[i], errors[i] = "failed", str(exc)
            continue
        if not cached.exists():
            todo.append((i, cached))
    from tqdm.auto import tqdm

    wanted = [paths[i] for i, _ in todo]
    with (
        ThreadPoolExecutor(
            max_workers=num_workers or max(2, os.cpu_count() or 2), thread_name_prefix="ls-thumbs"
        ) as pool,
        tqdm(total=len(todo), unit="img", desc="Thumbnails", disable=not progress) as bar,
    ):
        if engine == "ray" and wanted:
            from lightly_studio.embed._ray import map_paths

            results: Any = map_paths(
                _render, wanted, ray_address=ray_address, num_workers=num_workers or 2
            )
        else:
            results = pool.map(_render, wanted)
        for (i, cached), result in zip(todo, results, strict=True):
            if len(result) == 1:
                thumbnails.store(cached, result[0])
                status[i] = "rendered"
            else:
                status[i], errors[i] = "failed", f"{paths[i]}: {result[0]}"
            bar.update(1)
    return pl.DataFrame(
        {
            "sample_id": rows["sample_id"],
            "file_path_abs": paths,
            "status": status,
            "error": errors,
        },
        schema=_SCHEMA,
    )
