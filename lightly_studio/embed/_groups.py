"""Group embeddings: each group's vector is the mean of its members' (L2-normalised), per
embedding model, so text search, "find similar" and similarity selection work on groups as
on images (the members are embedded first, images and videos as in their own datasets)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl

from lightly_studio.db import get_connection
from lightly_studio.embed._api import add_embeddings, embedding_model_names, get_embeddings
from lightly_studio.store import groups as groups_store


def compute_group_embeddings(
    dataset: Any, group_ids: Sequence | None = None, model_names: Sequence[str] | None = None
) -> int:
    """Store each group's mean member vector for every embedding model of the dataset (or
    ``model_names``). Groups without an embedded member get none. Returns how many vectors
    were stored (groups × models)."""
    members = groups_store.member_links(
        get_connection(), dataset.dataset_id, None if group_ids is None else list(group_ids)
    )
    if members.is_empty():
        return 0
    subquery = groups_store.members_subquery(
        dataset.dataset_id, None if group_ids is None else list(group_ids)
    )
    stored = 0
    for model_name in model_names or embedding_model_names(dataset):
        ids, vectors = get_embeddings(dataset, sample_ids_subquery=subquery, model_name=model_name)
        if len(ids) == 0:
            continue
        rows = pl.DataFrame({"sample_id": [str(i) for i in ids], "row": np.arange(len(ids))})
        grouped = (
            rows.join(members, left_on="sample_id", right_on="member_sample_id", how="inner")
            .group_by("group_sample_id", maintain_order=True)
            .agg(pl.col("row"))
        )
        matrix = np.asarray(vectors, dtype=np.float32)
        means = np.stack([matrix[r].mean(axis=0) for r in grouped["row"].to_list()])
        norms = np.linalg.norm(means, axis=1, keepdims=True)
        means = means / np.where(norms > 0, norms, 1.0)
        add_embeddings(
            dataset,
            model_name,
            [uuid.UUID(g) for g in grouped["group_sample_id"]],
            means.astype(np.float32),
        )
        stored += len(grouped)
    return stored
