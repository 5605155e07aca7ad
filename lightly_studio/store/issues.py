"""Reads and writes of the data-quality results (lightly_studio.quality): the split tags of
duplicate-set members, and per-annotation label-issue scores (table annotation_issue_score)."""

from __future__ import annotations

import polars as pl

from lightly_studio.db import query_frame
from lightly_studio.store._ids import as_uuid_str
from lightly_studio.store.metadata import metadata_key
from lightly_studio.store.samples import SPLIT_TAGS


def duplicate_members_with_splits(con, dataset_id, set_key: str) -> pl.DataFrame:
    """sample_id (str), dup_set (int), split of the samples in a duplicate set (metadata key
    ``set_key``) that carry a split tag (``SPLIT_TAGS``: train / val / test); one row per
    (sample, split tag)."""
    found = metadata_key(con, dataset_id, set_key)
    if found is None:
        return pl.DataFrame(schema={"sample_id": pl.Utf8, "dup_set": pl.Int64, "split": pl.Utf8})
    splits = pl.DataFrame({"tag": list(SPLIT_TAGS), "split": list(SPLIT_TAGS.values())})
    con.register("_split_tags", splits)
    try:
        return query_frame(
            f"""SELECT CAST(s.sample_id AS VARCHAR) AS sample_id, s.{found.column} AS dup_set,
                       st.split
                FROM sample s
                JOIN tag t ON t.dataset_id = s.dataset_id AND t.kind = 'sample'
                           AND list_contains(s.tag_numbers, t.tag_number)
                JOIN _split_tags st ON st.tag = t.name
                WHERE s.dataset_id = $1 AND s.{found.column} IS NOT NULL
                ORDER BY s.sample_idx""",
            [as_uuid_str(dataset_id)],
            con,
        )
    finally:
        con.unregister("_split_tags")
