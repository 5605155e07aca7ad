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


# -- per-annotation label-issue scores ----------------------------------------------------------

ISSUE_SCORE_SCHEMA = {
    "annotation_id": pl.Utf8,
    "issue": pl.Utf8,
    "score": pl.Float64,
    "is_issue": pl.Boolean,
}


def replace_annotation_issue_scores(
    con, dataset_id, issues: list[str], frame: pl.DataFrame
) -> None:
    """Store ``frame`` (ISSUE_SCORE_SCHEMA) as the dataset's scores of ``issues``, replacing
    earlier scores of those issues. The caller owns the transaction."""
    con.execute(
        "DELETE FROM annotation_issue_score WHERE dataset_id = $1 AND list_contains($2, issue)",
        [as_uuid_str(dataset_id), issues],
    )
    if frame.height == 0:
        return
    con.register("_issue_scores", frame.select(list(ISSUE_SCORE_SCHEMA)))
    try:
        con.execute(
            """INSERT INTO annotation_issue_score
               SELECT CAST(annotation_id AS UUID), $1, issue, score, is_issue, now()
               FROM _issue_scores""",
            [as_uuid_str(dataset_id)],
        )
    finally:
        con.unregister("_issue_scores")


def annotation_issue_scores(
    con, dataset_id, issue: str | None = None, flagged_only: bool = False
) -> pl.DataFrame:
    """annotation_id, sample_id, file_name, label, annotation_type, source, issue, score,
    is_issue of the dataset's stored scores, worst (lowest score) first."""
    where = ["i.dataset_id = $1"]
    params: list = [as_uuid_str(dataset_id)]
    if issue is not None:
        params.append(issue)
        where.append(f"i.issue = ${len(params)}")
    if flagged_only:
        where.append("i.is_issue")
    return query_frame(
        f"""SELECT CAST(a.annotation_id AS VARCHAR) AS annotation_id,
                   CAST(a.sample_id AS VARCHAR) AS sample_id, s.file_name, l.name AS label,
                   a.annotation_type, a.source, i.issue, i.score, i.is_issue
            FROM annotation_issue_score i
            JOIN annotation a ON a.annotation_id = i.annotation_id
            JOIN annotation_label l ON l.label_id = a.label_id
            JOIN sample s ON s.sample_id = a.sample_id
            WHERE {" AND ".join(where)}
            ORDER BY i.score, s.sample_idx, a.created_at, a.annotation_id""",
        params,
        con,
    )


def box_geometry_scores(
    con, dataset_id, source: str, tiny_box_px: float, duplicate_iou: float
) -> pl.DataFrame:
    """Geometric checks of the boxes of ``source`` (ISSUE_SCORE_SCHEMA rows), in SQL:

    - box_outside_image: share of the box's area inside the image; issue below 1.
    - tiny_box: sqrt(area) / tiny_box_px, at most 1; issue below 1.
    - duplicate_box: 1 - the highest IoU with another box of the same label on the same
      image; issue when that IoU >= duplicate_iou.
    """
    return query_frame(
        """
        WITH b AS (
            SELECT a.annotation_id, a.sample_id, a.label_id, a.x, a.y, a.width AS w,
                   a.height AS h, s.width AS img_w, s.height AS img_h
            FROM annotation a
            JOIN annotation_label l ON l.label_id = a.label_id
            JOIN sample s ON s.sample_id = a.sample_id
            WHERE l.dataset_id = $1 AND a.source = $2 AND a.x IS NOT NULL
              AND a.annotation_type <> 'classification'),
        pairs AS (
            SELECT b1.annotation_id, b1.w * b1.h + b2.w * b2.h AS areas,
                   greatest(0, least(b1.x + b1.w, b2.x + b2.w) - greatest(b1.x, b2.x))
                   * greatest(0, least(b1.y + b1.h, b2.y + b2.h) - greatest(b1.y, b2.y))
                   AS inter
            FROM b b1 JOIN b b2
              ON b1.sample_id = b2.sample_id AND b1.label_id = b2.label_id
             AND b1.annotation_id <> b2.annotation_id),
        overlap AS (
            SELECT annotation_id, max(inter / nullif(areas - inter, 0)) AS iou
            FROM pairs GROUP BY annotation_id)
        SELECT CAST(b.annotation_id AS VARCHAR) AS annotation_id, c.issue, c.score,
               c.is_issue
        FROM b LEFT JOIN overlap o ON o.annotation_id = b.annotation_id,
        LATERAL (
            SELECT * FROM (VALUES
                ('box_outside_image',
                 CASE WHEN b.w <= 0 OR b.h <= 0 THEN 0.0 ELSE
                   greatest(0, least(b.x + b.w, b.img_w) - greatest(b.x, 0))
                   * greatest(0, least(b.y + b.h, b.img_h) - greatest(b.y, 0)) / (b.w * b.h)
                 END, NULL::BOOLEAN),
                ('tiny_box', least(1.0, sqrt(greatest(b.w * b.h, 0)) / $3), NULL::BOOLEAN),
                ('duplicate_box', 1.0 - coalesce(o.iou, 0.0),
                 coalesce(o.iou, 0.0) >= $4)
            ) v(issue, score, is_issue)
        ) c
        """,
        [as_uuid_str(dataset_id), source, float(tiny_box_px), float(duplicate_iou)],
        con,
    ).with_columns(
        pl.when(pl.col("is_issue").is_null())
        .then(pl.col("score") < 1 - 1e-9)
        .otherwise(pl.col("is_issue"))
        .alias("is_issue")
    )


def flagged_annotation_counts(con, dataset_id, sub: tuple[str, list]) -> pl.DataFrame:
    """issue, count (flagged annotations on samples of the subquery), total (all flagged
    annotations of the dataset), one row per stored label issue, by name."""
    sub_sql, sub_params = sub
    return query_frame(
        f"""
        WITH q AS ({sub_sql})
        SELECT i.issue,
               count(*) FILTER (WHERE i.is_issue AND a.sample_id IN (SELECT sample_id FROM q))
                   AS count,
               count(*) FILTER (WHERE i.is_issue) AS total
        FROM annotation_issue_score i JOIN annotation a ON a.annotation_id = i.annotation_id
        WHERE i.dataset_id = ${len(sub_params) + 1}
        GROUP BY i.issue ORDER BY i.issue""",
        [*sub_params, as_uuid_str(dataset_id)],
        con,
    )
