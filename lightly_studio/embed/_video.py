"""Video embeddings: frames embedded with the image model, each video the mean of its frames'.

``compute_embeddings`` embeds kind='image' rows by reading their files; frames need their
video decoded, so ``embed_decoded_images`` gets them from ``iter_frame_samples`` (same model
resolution and vector store, so search and plots see one model).
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl

from lightly_studio.db import get_connection
from lightly_studio.embed._api import (
    add_embeddings,
    embed_decoded_images,
    embedding_model_names,
    get_embeddings,
)
from lightly_studio.ingest.video import iter_frame_samples
from lightly_studio.store import videos

#: Frames per model batch; decoding runs ahead in threads, one video per thread.
FRAME_BATCH = 64


def compute_frame_embeddings(
    dataset: Any,
    sample_ids: Sequence | None = None,
    embedding_model: Any = None,
    *,
    progress: bool = True,
) -> int:
    """Embed the dataset's frames that have no vector of the model yet (default: the
    dataset's image model, as for images). Returns how many vectors were stored.

    Each video is decoded in one sequential pass (``iter_frame_samples``); batches are
    committed as they finish, so an interrupted run resumes. Offline without weights: warns
    once and returns 0, like image datasets.
    """
    frames = videos.frames_to_decode(get_connection(), dataset.dataset_id, sample_ids)
    if frames.is_empty():
        return 0
    paths = dict(zip(frames["sample_id"], frames["file_path_abs"], strict=True))
    unreadable: list[str] = []

    def read_frames(todo: list[str], side: int):
        # Decode at about twice the model's input size: swscale downsizes while converting.
        wanted = frames.filter(pl.col("sample_id").is_in(todo))
        for sample_id, image in iter_frame_samples(
            wanted, max_size=2 * side, cache_thumbnails=True
        ):
            if image is None:
                unreadable.append(paths[sample_id])
            yield sample_id, image

    stored = embed_decoded_images(
        dataset,
        frames["sample_id"],
        read_frames,
        embedding_model,
        batch_size=FRAME_BATCH,
        progress=progress and frames.height >= 200,
    )
    if unreadable:
        files = sorted(set(unreadable))
        warnings.warn(
            f"{len(unreadable)} frame(s) of {len(files)} video(s) could not be "
            f"decoded and have no embedding: {', '.join(files[:3])}"
            f"{' …' if len(files) > 3 else ''}",
            UserWarning,
            stacklevel=2,
        )
    return stored


def compute_video_embeddings(dataset: Any, video_ids: Sequence | None = None) -> int:
    """Store, for every embedding model of the dataset, each video's mean frame embedding
    (L2-normalised). Videos without embedded frames get none. Returns how many were stored."""
    parents = videos.frame_videos(get_connection(), dataset.dataset_id, video_ids)
    if parents.is_empty():
        return 0
    frames_sql, frames_params = videos.frames_of_videos_subquery(dataset.dataset_id, video_ids)
    stored = 0
    for model_name in embedding_model_names(dataset):
        ids, vectors = get_embeddings(
            dataset,
            sample_ids_subquery=(f"SELECT sample_id FROM ({frames_sql})", frames_params),
            model_name=model_name,
        )
        if len(ids) == 0:
            continue
        order = pl.DataFrame({"sample_id": [str(i) for i in ids], "row": np.arange(len(ids))})
        grouped = (
            order.join(parents, on="sample_id", how="inner")
            .group_by("video_id", maintain_order=True)
            .agg(pl.col("row"))
        )
        means = np.stack(
            [np.asarray(vectors)[rows].mean(axis=0) for rows in grouped["row"].to_list()]
        )
        norms = np.linalg.norm(means, axis=1, keepdims=True)
        means = means / np.where(norms > 0, norms, 1.0)
        add_embeddings(
            dataset,
            model_name,
            [uuid.UUID(v) for v in grouped["video_id"]],
            means.astype(np.float32),
        )
        stored += len(grouped)
    return stored
