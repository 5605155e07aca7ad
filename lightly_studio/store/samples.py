"""Sample rows: the one bulk insert (INSERT … SELECT from a polars frame) and the reads of
sample rows (by id, by subquery of ids) that the façade, the API, the server and the services
(ingest, embed, selection, export) make."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

import polars as pl

from lightly_studio.db import query_frame
from lightly_studio.errors import QueryError
from lightly_studio.store._ids import as_uuid_str

# The stored columns of table `sample`, in table order. The table also has one column per
# metadata key (core/metadata.py), which a sample row read does not include.
SAMPLE_COLUMNS = (
    "sample_id",
    "dataset_id",
    "kind",
    "file_path_abs",
    "file_name",
    "width",
    "height",
    "created_at",
    "fps",
    "duration_s",
    "frame_count",
    "codec",
    "parent_sample_id",
    "frame_number",
    "timestamp_s",
    "sample_idx",
    "tag_numbers",
)

# Columns of table `sample` that callers may provide, with their polars types.
_OPTIONAL_COLUMNS: dict[str, pl.DataType | type[pl.DataType]] = {
    "fps": pl.Float64,
    "duration_s": pl.Float64,
    "frame_count": pl.Int32,
    "codec": pl.Utf8,
    "parent_sample_id": pl.Utf8,
    "frame_number": pl.Int32,
    "timestamp_s": pl.Float64,
}
# The columns only videos and their frames fill.
VIDEO_COLUMNS = tuple(_OPTIONAL_COLUMNS)


def insert_samples(con, dataset_id: uuid.UUID, frame: pl.DataFrame) -> pl.DataFrame:
    """Insert the rows of ``frame`` whose file is new to the dataset.

    ``frame`` needs file_path_abs, file_name, width, height; optional ``kind`` (default
    'image') and the video/frame columns of the schema. A frame row is identified by
    (file_path_abs, frame_number). Returns file_path_abs, frame_number, sample_id and is_new
    for every distinct input row. Run it inside a transaction.
    """
    if frame.is_empty():
        return pl.DataFrame(
            schema={
                "file_path_abs": pl.Utf8,
                "frame_number": pl.Int32,
                "sample_id": pl.Utf8,
                "is_new": pl.Boolean,
            }
        )
    incoming = frame
    if "kind" not in incoming.columns:
        incoming = incoming.with_columns(pl.lit("image").alias("kind"))
    for name, dtype in _OPTIONAL_COLUMNS.items():
        if name not in incoming.columns:
            incoming = incoming.with_columns(pl.lit(None, dtype=dtype).alias(name))
        else:
            incoming = incoming.with_columns(pl.col(name).cast(dtype))
    incoming = (
        incoming.select(
            "file_path_abs",
            "file_name",
            pl.col("width").cast(pl.Int32),
            pl.col("height").cast(pl.Int32),
            "kind",
            *_OPTIONAL_COLUMNS,
        )
        .unique(subset=["file_path_abs", "frame_number"], keep="first", maintain_order=True)
        .with_row_index("ordinal")
    )

    key = (
        "s.file_path_abs = i.file_path_abs AND s.kind = i.kind "
        "AND coalesce(s.frame_number, -1) = coalesce(i.frame_number, -1)"
    )
    lookup = f"""SELECT i.file_path_abs, i.frame_number, CAST(s.sample_id AS VARCHAR) AS sample_id
                 FROM _incoming_samples i JOIN sample s ON s.dataset_id = $1 AND {key}"""
    con.register("_incoming_samples", incoming)
    try:
        existing = query_frame(lookup, [as_uuid_str(dataset_id)], con)
        # uuid() in DuckDB: Python's uuid4 is an os.urandom call per row.
        # sample_idx: the new samples follow all stored ones, in the order given.
        con.execute(
            f"""INSERT INTO sample (sample_id, dataset_id, kind, file_path_abs, file_name, width,
                   height, created_at, fps, duration_s, frame_count, codec, parent_sample_id,
                   frame_number, timestamp_s, sample_idx)
               SELECT uuid(), $1, kind, file_path_abs, file_name, width, height,
                   $2, fps, duration_s, frame_count, codec, CAST(parent_sample_id AS UUID),
                   frame_number, timestamp_s,
                   (SELECT coalesce(max(sample_idx) + 1, 0) FROM sample) + i.ordinal
               FROM _incoming_samples i
               WHERE NOT EXISTS (SELECT 1 FROM sample s WHERE s.dataset_id = $1 AND {key})""",
            [as_uuid_str(dataset_id), dt.datetime.now()],
        )
        stored = query_frame(lookup, [as_uuid_str(dataset_id)], con)
    finally:
        con.unregister("_incoming_samples")
    return stored.join(
        existing.select("file_path_abs", "frame_number", pl.lit(False).alias("is_new")),
        on=["file_path_abs", "frame_number"],
        how="left",
        nulls_equal=True,
    ).with_columns(pl.col("is_new").fill_null(True))


def sample_row(con, dataset_id, sample_id) -> dict[str, Any] | None:
    """The stored columns (``SAMPLE_COLUMNS``) of one sample of the dataset, or None."""
    cursor = con.execute(
        f"SELECT {', '.join(SAMPLE_COLUMNS)} FROM sample WHERE sample_id = $1 AND dataset_id = $2",
        [str(sample_id), as_uuid_str(dataset_id)],
    )
    row = cursor.fetchone()
    if row is None:
        return None
    return dict(zip([d[0] for d in cursor.description], row, strict=True))


def sample_media(con, dataset_id, ids: list[str]) -> pl.DataFrame:
    """sample_id, kind, file_path_abs and frame time of samples by id (thumbnails, originals)."""
    return query_frame(
        """
        SELECT CAST(sample_id AS VARCHAR) AS sample_id, kind, file_path_abs, timestamp_s
        FROM sample
        WHERE dataset_id = $1 AND sample_id IN (SELECT unnest($2::UUID[]))""",
        [as_uuid_str(dataset_id), ids],
        con,
    )


def media_of(con, sample_id: str) -> tuple[str, str, float | None] | None:
    """(file_path_abs, kind, timestamp_s) of a sample of any dataset, or None."""
    row = con.execute(
        "SELECT file_path_abs, kind, timestamp_s FROM sample WHERE sample_id = ? LIMIT 1",
        [sample_id],
    ).fetchone()
    return tuple(row) if row else None


def file_of(con, sample_id: str) -> str | None:
    """The registered file of a sample of any dataset, or None."""
    found = media_of(con, sample_id)
    return found[0] if found else None


def file_paths(con, subquery: tuple[str, list]) -> list[str]:
    """The files of the samples of an (sql, params) subquery, by path (frames in order)."""
    sql, params = subquery
    rows = con.execute(
        f"SELECT file_path_abs FROM sample WHERE sample_id IN (SELECT sample_id FROM ({sql})) "
        "ORDER BY file_path_abs, frame_number NULLS FIRST",
        params,
    ).fetchall()
    return [r[0] for r in rows]


def sample_ids_of(con, subquery: tuple[str, list]) -> list[uuid.UUID]:
    """The ids an (sql, params) subquery of sample ids yields, in its order."""
    sql, params = subquery
    return [r[0] for r in con.execute(f"SELECT sample_id FROM ({sql})", params).fetchall()]


def unindexed_paths(con, dataset_id, paths: list[str], kind: str = "image") -> list[str]:
    """The ``paths`` the dataset has no ``kind`` sample of, sorted."""
    if not paths:
        return []
    listed = pl.DataFrame({"file_path_abs": paths})
    con.register("_listed_paths", listed)
    try:
        missing = query_frame(
            """SELECT l.file_path_abs FROM _listed_paths l
               ANTI JOIN (SELECT file_path_abs FROM sample WHERE dataset_id = $1 AND kind = $2) s
               ON s.file_path_abs = l.file_path_abs""",
            [as_uuid_str(dataset_id), kind],
            con,
        )
    finally:
        con.unregister("_listed_paths")
    return sorted(missing["file_path_abs"].to_list())


def image_count(con, dataset_id) -> int:
    """How many images the dataset holds."""
    return con.execute(
        "SELECT count(*) FROM sample WHERE dataset_id = $1 AND kind = 'image'",
        [as_uuid_str(dataset_id)],
    ).fetchall()[0][0]


def image_rows(con, dataset_id, offset: int = 0, limit: int | None = None) -> pl.DataFrame:
    """sample_id (str), file_name, file_path_abs, width, height, created_at of the dataset's
    images in insertion order, rows [offset, offset + limit)."""
    page = "" if limit is None else f"LIMIT {int(limit)}"
    return query_frame(
        f"""SELECT CAST(sample_id AS VARCHAR) AS sample_id, file_name, file_path_abs,
                   width, height, created_at
            FROM sample WHERE dataset_id = $1 AND kind = 'image'
            ORDER BY created_at, file_path_abs {page} OFFSET {int(offset)}""",
        [as_uuid_str(dataset_id)],
        con,
    )


def rows_by_ids(con, sample_ids: list[str]) -> pl.DataFrame:
    """The stored columns (``SAMPLE_COLUMNS``) of the samples by id, in the order given (one
    query; ids of no sample are left out)."""
    columns = ", ".join(f"s.{c}" for c in SAMPLE_COLUMNS)
    return query_frame(
        f"""SELECT {columns} FROM sample s JOIN (
               SELECT unnest($1::UUID[]) AS _sid, unnest($2::BIGINT[]) AS _pos) p
           ON p._sid = s.sample_id ORDER BY p._pos""",
        [sample_ids, list(range(len(sample_ids)))],
        con,
    )


def ids_in_insertion_order(con, subquery: tuple[str, list]) -> list[str]:
    """The ids (str) an (sql, params) subquery of sample ids selects, in insertion order."""
    sub_sql, params = subquery
    frame = query_frame(
        f"SELECT CAST(s.sample_id AS VARCHAR) AS sample_id FROM sample s "
        f"WHERE s.sample_id IN ({sub_sql}) ORDER BY s.sample_idx",
        params,
        con,
    )
    return frame["sample_id"].to_list()


# Tag names that mark a YOLO split, and the split each stands for.
SPLIT_TAGS = {"train": "train", "val": "val", "valid": "val", "validation": "val", "test": "test"}


def export_rows(con, subquery: tuple[str, list], with_split: bool = False) -> pl.DataFrame:
    """sample_id (str), file_path_abs, width, height [, split] of the samples of an (sql,
    params) subquery, by path (frames in order). ``split``: from the samples' split tags
    (``SPLIT_TAGS``; train before val before test), ``train`` where there is none."""
    sub_sql, params = subquery
    frame = query_frame(
        f"""SELECT CAST(s.sample_id AS VARCHAR) AS sample_id, s.file_path_abs, s.width, s.height
            FROM sample s WHERE s.sample_id IN (SELECT sample_id FROM ({sub_sql}))
            ORDER BY s.file_path_abs, s.frame_number NULLS FIRST, s.sample_id""",
        params,
        con,
    )
    if not with_split:
        return frame
    tags = query_frame(
        f"""SELECT CAST(s.sample_id AS VARCHAR) AS sample_id, t.name FROM sample s
            JOIN tag t ON list_contains(s.tag_numbers, t.tag_number)
            WHERE s.sample_id IN (SELECT sample_id FROM ({sub_sql}))
              AND list_contains(${len(params) + 1}::VARCHAR[], t.name)""",
        [*params, list(SPLIT_TAGS)],
        con,
    )
    order = {"train": 0, "val": 1, "test": 2}
    split = (
        tags.with_columns(pl.col("name").replace_strict(SPLIT_TAGS).alias("split"))
        .with_columns(pl.col("split").replace_strict(order, return_dtype=pl.Int32).alias("rank"))
        .sort("rank")
        .unique("sample_id", keep="first")
        .select("sample_id", "split")
    )
    return frame.join(split, on="sample_id", how="left", maintain_order="left").with_columns(
        pl.col("split").fill_null("train")
    )


# -- the sample facts annotation writes check against --------------------------------------------
def annotated_sample(con, sample_id: uuid.UUID | str) -> dict[str, Any]:
    """sample_id, dataset_id (str), file_name, file_path_abs, width, height, kind and
    timestamp_s (of a video frame) of one sample; QueryError when there is none."""
    cur = con.execute(
        """SELECT CAST(sample_id AS VARCHAR) AS sample_id, CAST(dataset_id AS VARCHAR)
                  AS dataset_id, file_name, file_path_abs, width, height, kind, timestamp_s
           FROM sample WHERE sample_id = $1""",
        [str(sample_id)],
    )
    rows = cur.fetchall()
    if not rows:
        raise QueryError(f"No sample with id {sample_id}.")
    return dict(zip([d[0] for d in cur.description], rows[0], strict=True))


def sample_sizes(
    con, dataset_id: uuid.UUID | str, sample_ids: Sequence[uuid.UUID | str]
) -> pl.DataFrame:
    """sample_id (str), file_name, img_width, img_height of those of ``sample_ids`` that are
    the dataset's."""
    return query_frame(
        """SELECT CAST(sample_id AS VARCHAR) AS sample_id, file_name, width AS img_width,
                  height AS img_height
           FROM sample WHERE dataset_id = $1
             AND sample_id IN (SELECT unnest($2::UUID[]))""",
        [str(dataset_id), [str(s) for s in sample_ids]],
        con,
    )


def dataset_sample_sizes(con, dataset_id: uuid.UUID | str, kinds: Sequence[str]) -> pl.DataFrame:
    """sample_id (str), file_path_abs, width, height of the dataset's samples of ``kinds``
    ('image', 'frame', 'video'): what importers match label files against."""
    return query_frame(
        """SELECT CAST(sample_id AS VARCHAR) AS sample_id, file_path_abs, width, height
           FROM sample WHERE dataset_id = $1 AND list_contains($2::VARCHAR[], kind)""",
        [str(dataset_id), list(kinds)],
        con,
    )


def known_sample_ids(con, dataset_id, ids: list[str]) -> set[str]:
    """The ids among ``ids`` that are samples of the dataset."""
    rows = con.execute(
        """SELECT CAST(sample_id AS VARCHAR) FROM sample
           WHERE dataset_id = $1 AND sample_id IN (SELECT unnest($2::UUID[]))""",
        [str(dataset_id), ids],
    ).fetchall()
    return {r[0] for r in rows}


# -- sample-id subqueries (search, the plot, selection) ------------------------------------------
def subquery_ids(con, subquery: tuple[str, list]) -> pl.DataFrame:
    """Frame (sample_id: str) of the ids an (sql, params) subquery of sample ids selects."""
    sql, params = subquery
    return query_frame(f"SELECT CAST(sample_id AS VARCHAR) AS sample_id FROM ({sql})", params, con)


def subquery_count(con, subquery: tuple[str, list]) -> int:
    """How many rows an (sql, params) subquery of sample ids selects."""
    sql, params = subquery
    return con.execute(f"SELECT count(*) FROM ({sql}) _q", params or None).fetchone()[0]


def subquery_ids_among(con, subquery: tuple[str, list], ids: list[str]) -> set[str]:
    """The ids among ``ids`` that an (sql, params) subquery of sample ids selects."""
    sql, params = subquery
    rows = con.execute(
        f"""SELECT CAST(sample_id AS VARCHAR) FROM ({sql}) _q
            WHERE sample_id IN (SELECT unnest(${len(params) + 1}::UUID[]))""",
        [*params, ids],
    ).fetchall()
    return {r[0] for r in rows}
