"""Indexing image folders: list → header sizes in a thread pool → bulk insert per batch."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

import polars as pl

from lightly_studio.db import get_connection, transaction
from lightly_studio.ingest.files import (
    IMAGE_EXTENSIONS,
    list_files,
    normalize_extensions,
    read_sizes,
    report_skipped,
)
from lightly_studio.store import tags as tags_store
from lightly_studio.store.samples import insert_samples, unindexed_paths

logger = logging.getLogger("lightly_studio")

BATCH_SIZE = 10_000


def add_images_from_path(
    dataset: Any,
    path: str,
    tag_depth: int = 0,
    embed: bool = True,
    allowed_extensions: Sequence[str] | None = None,
) -> int:
    """Index new images below ``path``; see ImageDataset.add_images_from_path.

    ``dataset`` is the façade's Dataset; only its ``dataset_id`` and ``_after_ingest`` hook are
    used, so this service imports nothing from core."""
    if not isinstance(tag_depth, int) or tag_depth < 0:
        raise ValueError(f"tag_depth must be a non-negative integer, got {tag_depth!r}.")
    extensions = normalize_extensions(allowed_extensions, IMAGE_EXTENSIONS)
    listing = list_files(path, extensions)
    new_paths = unindexed_paths(get_connection(), dataset.dataset_id, listing.paths)
    failed = list(listing.skipped)
    new_ids: list = []
    if new_paths:
        new_ids = _index(dataset, listing, new_paths, tag_depth, failed)
    report_skipped(
        failed,
        total=len(listing.paths) + len(listing.skipped),
        root=listing.root,
        kind="image",
        nothing_indexed=not new_ids and len(failed) == len(new_paths) + len(listing.skipped),
    )
    if not listing.paths and not listing.skipped:
        logger.warning(
            "No images with extensions %s found below %s.", ", ".join(extensions), listing.root
        )
    dataset._after_ingest(new_ids, embed=embed)
    return len(new_ids)


def _index(
    dataset: Any, listing, paths: list[str], tag_depth: int, failed: list[tuple[str, str]]
) -> list:
    from tqdm.auto import tqdm

    new_ids: list = []
    with tqdm(
        total=len(paths), unit="img", desc="Indexing images", disable=len(paths) < 2000
    ) as bar:
        for start in range(0, len(paths), BATCH_SIZE):
            batch = paths[start : start + BATCH_SIZE]
            sizes = read_sizes(batch, listing.fs)
            good = [(p, s) for p, s in zip(batch, sizes, strict=True) if isinstance(s, tuple)]
            failed.extend((p, s) for p, s in zip(batch, sizes, strict=True) if isinstance(s, str))
            bar.update(len(batch))
            if not good:
                continue
            frame = pl.DataFrame(
                {
                    "file_path_abs": [p for p, _ in good],
                    "file_name": [_file_name(p) for p, _ in good],
                    "width": [s[0] for _, s in good],
                    "height": [s[1] for _, s in good],
                }
            )
            # One transaction per batch: a crash keeps whole batches; a rerun adds the rest.
            with transaction() as con:
                stored = insert_samples(con, dataset.dataset_id, frame)
                new = stored.filter(pl.col("is_new"))
                if tag_depth:
                    for tag, ids in _folder_tags(listing.root, new, tag_depth).items():
                        tags_store.tag_sample_ids(con, dataset.dataset_id, tag, ids)
            new_ids.extend(new["sample_id"].to_list())
    return new_ids


def _file_name(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1] if "://" in path else os.path.basename(path)


def _folder_tags(root: str, stored: pl.DataFrame, depth: int) -> dict[str, list]:
    """Tag name -> sample ids: each image gets the names of its first ``depth`` folders."""
    tags: dict[str, list] = {}
    prefix = root.rstrip("/" + os.sep)
    for path, sample_id in zip(stored["file_path_abs"], stored["sample_id"], strict=True):
        relative = path[len(prefix) :].lstrip("/" + os.sep)
        folders = relative.replace(os.sep, "/").split("/")[:-1][:depth]
        for folder in folders:
            tags.setdefault(folder, []).append(sample_id)
    return tags
