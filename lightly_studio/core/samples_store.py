"""Bulk insertion of sample rows: one INSERT … SELECT from a polars frame per call."""

from __future__ import annotations

import datetime as dt
import uuid

import polars as pl

from lightly_studio.db._connection import query_frame

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
    ).unique(subset=["file_path_abs", "frame_number"], keep="first", maintain_order=True)

    con.register("_incoming_samples", incoming)
    try:
        key = ("s.file_path_abs = i.file_path_abs AND s.kind = i.kind "
               "AND coalesce(s.frame_number, -1) = coalesce(i.frame_number, -1)")
        existing = query_frame(
            f"""SELECT i.file_path_abs, i.frame_number, CAST(s.sample_id AS VARCHAR) AS sample_id
                FROM _incoming_samples i
                JOIN sample s ON s.dataset_id = $1 AND {key}""",
            [str(dataset_id)], con=con,
        )
        new_rows = incoming.join(
            existing.select("file_path_abs", "frame_number"),
            on=["file_path_abs", "frame_number"], how="anti", nulls_equal=True,
        )
        new_rows = new_rows.with_columns(
            pl.Series("sample_id", [str(uuid.uuid4()) for _ in range(new_rows.height)],
                      dtype=pl.Utf8)
        )
        con.unregister("_incoming_samples")
        con.register("_new_samples", new_rows)
        con.execute(
            """INSERT INTO sample (sample_id, dataset_id, kind, file_path_abs, file_name, width,
                   height, created_at, fps, duration_s, frame_count, codec, parent_sample_id,
                   frame_number, timestamp_s)
               SELECT CAST(sample_id AS UUID), $1, kind, file_path_abs, file_name, width, height,
                   $2, fps, duration_s, frame_count, codec, CAST(parent_sample_id AS UUID),
                   frame_number, timestamp_s
               FROM _new_samples""",
            [str(dataset_id), dt.datetime.now()],
        )
    finally:
        con.unregister("_incoming_samples")
        con.unregister("_new_samples")
    return pl.concat([
        existing.with_columns(pl.lit(False).alias("is_new")),
        new_rows.select("file_path_abs", "frame_number", "sample_id").with_columns(
            pl.lit(True).alias("is_new")),
    ], how="vertical_relaxed")
