"""Leaky splits: duplicates (exact or near) whose members carry different split tags."""

from __future__ import annotations

from typing import Any

import polars as pl

from lightly_studio.db import get_connection, transaction
from lightly_studio.quality._image_issues import compute_image_issues, set_key
from lightly_studio.store.issues import duplicate_members_with_splits
from lightly_studio.store.metadata import metadata_key
from lightly_studio.store.tags import tag_sample_ids

DUPLICATE_ISSUES = ("exact_duplicates", "near_duplicates")


def find_leaky_splits(dataset: Any, tag: str | None = None) -> pl.DataFrame:
    """Pairs of duplicate images in different splits (train / val / test tags).

    Uses the duplicate sets that ``compute_image_issues`` stored, and runs the two duplicate
    checks first when they have not run yet. Returns a frame with columns sample_id_a,
    sample_id_b, split_a, split_b, issue (``exact_duplicates`` or ``near_duplicates``), one
    row per pair. With ``tag``, both images of every pair are tagged ``tag``.
    """
    con = get_connection()
    missing = [
        i for i in DUPLICATE_ISSUES if metadata_key(con, dataset.dataset_id, set_key(i)) is None
    ]
    if missing:
        compute_image_issues(dataset, checks=missing)
    parts = []
    for issue in DUPLICATE_ISSUES:
        members = duplicate_members_with_splits(con, dataset.dataset_id, set_key(issue))
        pairs = (
            members.join(members, on="dup_set", suffix="_b")
            .filter(
                (pl.col("sample_id") < pl.col("sample_id_b"))
                & (pl.col("split") != pl.col("split_b"))
            )
            .select(
                pl.col("sample_id").alias("sample_id_a"),
                "sample_id_b",
                pl.col("split").alias("split_a"),
                "split_b",
                pl.lit(issue).alias("issue"),
            )
        )
        parts.append(pairs)
    found = pl.concat(parts).unique(maintain_order=True)
    if tag is not None and found.height:
        ids = pl.concat([found["sample_id_a"], found["sample_id_b"]]).unique().to_list()
        with transaction() as tx:
            tag_sample_ids(tx, dataset.dataset_id, tag, ids)
    return found
