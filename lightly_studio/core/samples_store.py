"""Bulk insertion of sample rows: one INSERT … SELECT from a polars frame per call."""

from __future__ import annotations

import datetime as dt
import uuid

import polars as pl

from lightly_studio.db._connection import query_frame

# The stored columns of table `sample`, in table order. The table also has one column per
# metadata key (core/metadata.py), which a sample row read does not include.
SAMPLE_COLUMNS = (
    "sample_id", "dataset_id", "kind", "file_path_abs", "file_name", "width", "height",
    "created_at", "fps", "duration_s", "frame_count", "codec", "parent_sample_id",
    "frame_number", "timestamp_s", "sample_idx", "tag_numbers",
)

# Columns of table `sample` that callers may provide, with their polars types.
_OPTIONAL_COLUMNS: dict[str, pl.DataType] = {
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
            schema={"file_path_abs": pl.Utf8, "frame_number": pl.Int32,
                    "sample_id": pl.Utf8, "is_new": pl.Boolean}
        )
    incoming = frame
    if "kind" not in incoming.columns:
        incoming = incoming.with_columns(pl.lit("image").alias("kind"))
    for name, dtype in _OPTIONAL_COLUMNS.items():
        if name not in incoming.columns:
            incoming = incoming.with_columns(pl.lit(None, dtype=dtype).alias(name))
        else:
            incoming = incoming.with_columns(pl.col(name).cast(dtype))
    incoming = incoming.select(
        "file_path_abs", "file_name", pl.col("width").cast(pl.Int32),
        pl.col("height").cast(pl.Int32), "kind", *_OPTIONAL_COLUMNS,
    ).unique(subset=["file_path_abs", "frame_number"], keep="first", maintain_order=True
    ).with_row_index("ordinal")

    key = ("s.file_path_abs = i.file_path_abs AND s.kind = i.kind "
           "AND coalesce(s.frame_number, -1) = coalesce(i.frame_number, -1)")
    lookup = f"""SELECT i.file_path_abs, i.frame_number, CAST(s.sample_id AS VARCHAR) AS sample_id
                 FROM _incoming_samples i JOIN sample s ON s.dataset_id = $1 AND {key}"""
    con.register("_incoming_samples", incoming)
    try:
        existing = query_frame(lookup, [str(dataset_id)], con)
        # uuid() in DuckDB: Python's uuid4 costs ~30 µs each here (an os.urandom call).
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
            [str(dataset_id), dt.datetime.now()],
        )
        stored = query_frame(lookup, [str(dataset_id)], con)
    finally:
        con.unregister("_incoming_samples")
    return stored.join(
        existing.select("file_path_abs", "frame_number", pl.lit(False).alias("is_new")),
        on=["file_path_abs", "frame_number"], how="left", nulls_equal=True,
    ).with_columns(pl.col("is_new").fill_null(True))
