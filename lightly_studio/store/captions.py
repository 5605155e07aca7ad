"""Captions: free text attached to a sample. One insert path (:func:`insert_caption_frame`)
for the Python API, the annotator and the importers."""

from __future__ import annotations

import datetime as dt
import uuid

import polars as pl

from lightly_studio.db import query_frame
from lightly_studio.errors import AnnotationError


def check_text(value: object, where: str) -> str:
    """A caption's text: any string (empty included)."""
    if not isinstance(value, str):
        raise AnnotationError(f"{where}a caption must be a string, got {value!r}")
    return value


def insert_caption_frame(con, frame: pl.DataFrame) -> int:
    """Insert captions from a frame with columns sample_id (str) and text, keeping its order.

    Optional columns: caption_id (str; drawn when missing or null) and created_at (now, in
    microsecond steps, when missing or null). Run it inside a transaction.
    """
    if frame.is_empty():
        return 0
    now = dt.datetime.now()
    # Microsecond steps keep the order readable back through created_at.
    steps = pl.lit(now) + pl.duration(microseconds=pl.int_range(pl.len()))
    created = (
        pl.col("created_at").cast(pl.Datetime("us")).fill_null(steps)
        if "created_at" in frame.columns
        else steps
    )
    ids = (
        pl.col("caption_id").cast(pl.Utf8)
        if "caption_id" in frame.columns
        else pl.lit(None, dtype=pl.Utf8)
    )
    rows = frame.select(
        ids.alias("caption_id"),
        pl.col("sample_id").cast(pl.Utf8),
        pl.col("text").cast(pl.Utf8),
        created.alias("created_at"),
    )
    con.register("_new_captions", rows)
    try:
        con.execute(
            """INSERT INTO caption (caption_id, sample_id, text, created_at)
               SELECT coalesce(CAST(caption_id AS UUID), uuid()), CAST(sample_id AS UUID), text,
                   created_at
               FROM _new_captions"""
        )
    finally:
        con.unregister("_new_captions")
    return frame.height


def sample_captions(con, sample_id: uuid.UUID | str) -> list[tuple[str, str]]:
    """(caption_id, text) of one sample's captions, in the order they were added."""
    # One sample's few rows: plain tuples beat an Arrow round trip.
    return con.execute(
        "SELECT CAST(caption_id AS VARCHAR), text FROM caption "
        "WHERE sample_id = $1 ORDER BY created_at, caption_id",
        [str(sample_id)],
    ).fetchall()


def get_caption(con, caption_id: uuid.UUID | str) -> dict | None:
    """sample_id (str), text, created_at of one caption, or None."""
    rows = con.execute(
        "SELECT CAST(sample_id AS VARCHAR), text, created_at FROM caption WHERE caption_id = $1",
        [str(caption_id)],
    ).fetchall()
    return dict(zip(("sample_id", "text", "created_at"), rows[0], strict=True)) if rows else None


def update_caption_text(con, caption_id: uuid.UUID | str, text: str) -> None:
    con.execute(
        "UPDATE caption SET text = $2 WHERE caption_id = $1", [str(caption_id), text]
    ).fetchall()


def delete_caption(con, caption_id: uuid.UUID | str) -> None:
    con.execute("DELETE FROM caption WHERE caption_id = $1", [str(caption_id)]).fetchall()


def delete_sample_captions(con, sample_id: uuid.UUID | str) -> int:
    """Remove every caption of a sample; returns how many were removed."""
    row = con.execute("DELETE FROM caption WHERE sample_id = $1", [str(sample_id)]).fetchone()
    return row[0] if row else 0


def captions_frame(con, sample_ids_subquery: tuple[str, list]) -> pl.DataFrame:
    """sample_id (str), text of every caption of the samples of a subquery, in order."""
    sub_sql, params = sample_ids_subquery
    return query_frame(
        f"""SELECT CAST(c.sample_id AS VARCHAR) AS sample_id, c.text FROM caption c
            WHERE c.sample_id IN (SELECT sample_id FROM ({sub_sql}))
            ORDER BY c.created_at, c.caption_id""",
        params,
        con,
    )
