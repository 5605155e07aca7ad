"""Annotations across a dataset, many at a time: the crops listing of the Annotations view, and
bulk relabel / delete with the rows an undo needs to put them back.

The caller owns the transaction (core/annotation_edits.py runs each bulk edit and its undo
record in one).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from lightly_studio.db import query_frame
from lightly_studio.errors import QueryError
from lightly_studio.store._ids import as_uuid_str

#: Annotation types that have a box to crop (a mask's box is its bounding box).
CROP_TYPES = ("object_detection", "instance_segmentation")

#: Crop sort keys besides an issue score ("issue:<name>").
CROP_SORTS = ("added", "confidence", "size", "label")


def crops_frame(
    con,
    dataset_id: Any,
    *,
    labels: Sequence[str] | None = None,
    sources: Sequence[str] | None = None,
    confidence: tuple[float | None, float | None] = (None, None),
    size: tuple[float | None, float | None] = (None, None),
    tags: Sequence[str] | None = None,
    sort: str = "added",
    descending: bool = False,
    offset: int = 0,
    limit: int = 100,
) -> tuple[pl.DataFrame, int]:
    """One page of the dataset's boxes and masks with the file of their sample, and the total.

    ``size`` bounds the box's longer side in pixels; ``confidence`` bounds leave out
    annotations without one; ``tags`` keeps annotations whose sample carries any of them.
    ``sort`` is one of CROP_SORTS or ``issue:<name>`` (the annotation_issue_score of that
    issue; unscored crops last). Ties keep the insertion order."""
    params: list[Any] = [as_uuid_str(dataset_id), list(CROP_TYPES)]
    where = [
        "s.dataset_id = $1",
        "list_contains($2::VARCHAR[], a.annotation_type)",
        "a.x IS NOT NULL",
    ]

    def bind(value: Any) -> str:
        params.append(value)
        return f"${len(params)}"

    if labels:
        where.append(f"list_contains({bind(list(labels))}::VARCHAR[], l.name)")
    if sources:
        where.append(f"list_contains({bind(list(sources))}::VARCHAR[], a.source)")
    low, high = confidence
    if low is not None:
        where.append(f"a.confidence >= {bind(float(low))}")
    if high is not None:
        where.append(f"a.confidence <= {bind(float(high))}")
    low, high = size
    if low is not None:
        where.append(f"greatest(a.width, a.height) >= {bind(float(low))}")
    if high is not None:
        where.append(f"greatest(a.width, a.height) <= {bind(float(high))}")
    if tags:
        where.append(
            f"""list_has_any(s.tag_numbers, (SELECT list(tag_number) FROM tag
                WHERE dataset_id = $1 AND kind = 'sample'
                  AND list_contains({bind(list(tags))}::VARCHAR[], name)))"""
        )
    score_join, score_col = "", "NULL::DOUBLE"
    if sort.startswith("issue:"):
        issue = bind(sort.removeprefix("issue:"))
        score_join = (
            "LEFT JOIN annotation_issue_score i ON i.annotation_id = a.annotation_id "
            f"AND i.issue = {issue}"
        )
        score_col, key = "i.score", "i.score"
    elif sort in CROP_SORTS:
        key = {
            "added": "a.created_at",
            "confidence": "a.confidence",
            "size": "greatest(a.width, a.height)",
            "label": "l.name",
        }[sort]
    else:
        raise QueryError(
            f"Unknown crop sort {sort!r}; use one of {', '.join(CROP_SORTS)} or 'issue:<name>'."
        )
    direction = "DESC" if descending else "ASC"
    base = f"""FROM annotation a
               JOIN annotation_label l ON l.label_id = a.label_id
               JOIN sample s ON s.sample_id = a.sample_id
               {score_join}
               WHERE {" AND ".join(where)}"""
    total = con.execute(f"SELECT count(*) {base}", params).fetchone()[0]
    frame = query_frame(
        f"""SELECT CAST(a.annotation_id AS VARCHAR) AS annotation_id,
                   CAST(a.sample_id AS VARCHAR) AS sample_id, l.name AS label,
                   a.annotation_type, a.source, a.confidence, a.x, a.y, a.width, a.height,
                   a.segmentation_mask, a.version, s.file_path_abs, s.kind,
                   s.width AS img_width, s.height AS img_height, s.timestamp_s,
                   {score_col} AS score
            {base}
            ORDER BY {key} {direction} NULLS LAST, a.created_at, a.annotation_id
            LIMIT {bind(int(limit))} OFFSET {bind(int(offset))}""",
        params,
        con,
    )
    return frame, int(total)


def crop_rows(con, dataset_id: Any, ids: Sequence[str]) -> pl.DataFrame:
    """The crops_frame columns of the annotations ``ids`` that belong to the dataset."""
    _register_ids(con, "_crop_ids", ids)
    try:
        return query_frame(
            """SELECT CAST(a.annotation_id AS VARCHAR) AS annotation_id, a.x, a.y, a.width,
                      a.height, a.segmentation_mask, a.version, s.file_path_abs, s.kind,
                      s.width AS img_width, s.height AS img_height, s.timestamp_s
               FROM annotation a JOIN sample s ON s.sample_id = a.sample_id
               WHERE s.dataset_id = $1 AND a.x IS NOT NULL
                 AND a.annotation_id IN (SELECT CAST(annotation_id AS UUID) FROM _crop_ids)""",
            [as_uuid_str(dataset_id)],
            con,
        )
    finally:
        con.unregister("_crop_ids")


def crop_filter_options(con, dataset_id: Any) -> dict[str, list[str]]:
    """What the crop filters can offer: labels and sources that have a box or mask, issue
    names that have scores."""
    ds = as_uuid_str(dataset_id)
    rows = con.execute(
        """SELECT DISTINCT l.name, a.source FROM annotation a
           JOIN annotation_label l ON l.label_id = a.label_id
           JOIN sample s ON s.sample_id = a.sample_id
           WHERE s.dataset_id = $1 AND list_contains($2::VARCHAR[], a.annotation_type)
             AND a.x IS NOT NULL""",
        [ds, list(CROP_TYPES)],
    ).fetchall()
    issues = con.execute(
        "SELECT DISTINCT issue FROM annotation_issue_score WHERE dataset_id = $1 ORDER BY 1",
        [ds],
    ).fetchall()
    return {
        "labels": sorted({r[0] for r in rows}),
        "sources": sorted({r[1] for r in rows}),
        "issues": [r[0] for r in issues],
    }


# -- bulk edits and their undo -------------------------------------------------------------------


def _register_ids(con, name: str, ids: Sequence[str]) -> None:
    con.register(name, pl.DataFrame({"annotation_id": [as_uuid_str(i) for i in ids]}))


def annotations_of_dataset(con, dataset_id: Any, ids: Sequence[str]) -> pl.DataFrame:
    """annotation_id, sample_id (str) of those ``ids`` that are annotations of the dataset."""
    _register_ids(con, "_batch_ids", ids)
    try:
        return query_frame(
            """SELECT CAST(a.annotation_id AS VARCHAR) AS annotation_id,
                      CAST(a.sample_id AS VARCHAR) AS sample_id
               FROM annotation a JOIN sample s ON s.sample_id = a.sample_id
               WHERE s.dataset_id = $1
                 AND a.annotation_id IN (SELECT CAST(annotation_id AS UUID) FROM _batch_ids)""",
            [as_uuid_str(dataset_id)],
            con,
        )
    finally:
        con.unregister("_batch_ids")


def relabel_annotations(con, ids: Sequence[str], label_id: Any) -> pl.DataFrame:
    """Give the annotations ``ids`` the label ``label_id`` (bumping their version); returns
    annotation_id, old label_id and the new one of each changed annotation (what an undo
    needs)."""
    _register_ids(con, "_batch_ids", ids)
    try:
        before = query_frame(
            """SELECT CAST(annotation_id AS VARCHAR) AS annotation_id,
                      CAST(label_id AS VARCHAR) AS label_id,
                      CAST($1 AS VARCHAR) AS new_label_id
               FROM annotation
               WHERE annotation_id IN (SELECT CAST(annotation_id AS UUID) FROM _batch_ids)
                 AND label_id <> CAST($1 AS UUID)""",
            [as_uuid_str(label_id)],
            con,
        )
        con.execute(
            """UPDATE annotation SET label_id = CAST($1 AS UUID), version = version + 1,
                   updated_at = now()::TIMESTAMP
               WHERE annotation_id IN (SELECT CAST(annotation_id AS UUID) FROM _batch_ids)
                 AND label_id <> CAST($1 AS UUID)""",
            [as_uuid_str(label_id)],
        )
    finally:
        con.unregister("_batch_ids")
    return before


def restore_labels(con, before: pl.DataFrame) -> int:
    """Undo of ``relabel_annotations``: put the old labels back on those annotations that
    still have the label the relabel gave them (a class change made since wins; the version
    is bumped, so an editor open on one sees the change). Returns how many."""
    con.register("_old_labels", before)
    try:
        row = con.execute(
            """UPDATE annotation SET label_id = CAST(o.label_id AS UUID),
                   version = annotation.version + 1, updated_at = now()::TIMESTAMP
               FROM _old_labels o
               WHERE annotation.annotation_id = CAST(o.annotation_id AS UUID)
                 AND annotation.label_id = CAST(o.new_label_id AS UUID)"""
        ).fetchone()
    finally:
        con.unregister("_old_labels")
    return int(row[0]) if row else 0


def _uuid_columns(con) -> tuple[list[str], set[str]]:
    rows = con.execute(
        """SELECT column_name, data_type FROM information_schema.columns
           WHERE table_name = 'annotation' ORDER BY ordinal_position"""
    ).fetchall()
    return [r[0] for r in rows], {r[0] for r in rows if r[1] == "UUID"}


def delete_annotations(con, ids: Sequence[str]) -> pl.DataFrame:
    """Remove the annotations ``ids``; returns their whole rows (UUIDs as strings), which
    ``restore_annotation_rows`` puts back exactly."""
    columns, uuids = _uuid_columns(con)
    select = ", ".join(f"CAST({c} AS VARCHAR) AS {c}" if c in uuids else c for c in columns)
    _register_ids(con, "_batch_ids", ids)
    try:
        rows = query_frame(
            f"""SELECT {select} FROM annotation
                WHERE annotation_id IN (SELECT CAST(annotation_id AS UUID) FROM _batch_ids)""",
            [],
            con,
        )
        con.execute(
            """DELETE FROM annotation
               WHERE annotation_id IN (SELECT CAST(annotation_id AS UUID) FROM _batch_ids)"""
        )
    finally:
        con.unregister("_batch_ids")
    return rows


def restore_annotation_rows(con, rows: pl.DataFrame) -> int:
    """Undo of ``delete_annotations``: insert the rows back as they were (same ids, versions
    and times), skipping any id that exists again. Returns how many came back."""
    if rows.is_empty():
        return 0
    columns, uuids = _uuid_columns(con)
    columns = [c for c in columns if c in rows.columns]
    select = ", ".join(f"CAST({c} AS UUID)" if c in uuids else c for c in columns)
    con.register("_restored", rows)
    try:
        row = con.execute(
            f"""INSERT INTO annotation ({", ".join(columns)})
                SELECT {select} FROM _restored
                WHERE CAST(annotation_id AS UUID) NOT IN (SELECT annotation_id FROM annotation)
                  AND CAST(sample_id AS UUID) IN (SELECT sample_id FROM sample)"""
        ).fetchone()
    finally:
        con.unregister("_restored")
    return int(row[0]) if row else 0
