"""Captions: free text attached to a sample (``sample.captions``, ``sample.add_caption``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from lightly_studio.core.labels import sql_frame
from lightly_studio.errors import AnnotationError


def load_captions(sample: Any) -> list[str]:
    """The captions of one sample, in the order they were added."""
    from lightly_studio.db import get_connection

    rows = get_connection().execute(
        "SELECT text FROM caption WHERE sample_id = $1 ORDER BY created_at, caption_id",
        [str(sample.sample_id)],
    ).fetchall()
    return [r[0] for r in rows]


def add_caption(sample: Any, text: str) -> None:
    """Attach one caption to ``sample``."""
    from lightly_studio.db import transaction

    if not isinstance(text, str):
        raise AnnotationError(
            f"Sample {getattr(sample, 'file_name', sample.sample_id)!r}: a caption must be a "
            f"string, got {text!r}")
    with transaction() as con:
        insert_caption_frame(con, pl.DataFrame({"sample_id": [str(sample.sample_id)],
                                                "text": [text]}))


def delete_captions(sample: Any) -> int:
    """Remove every caption of ``sample``; returns how many were removed."""
    from lightly_studio.db import transaction

    with transaction() as con:
        row = con.execute("DELETE FROM caption WHERE sample_id = $1",
                          [str(sample.sample_id)]).fetchone()
    return row[0] if row else 0


def insert_caption_frame(con, frame: pl.DataFrame) -> int:
    """Insert captions from a frame with columns sample_id (str) and text, keeping its order.

    Run it inside a transaction.
    """
    if frame.is_empty():
        return 0
    now = dt.datetime.now()
    rows = frame.select(
        pl.col("sample_id").cast(pl.Utf8), pl.col("text").cast(pl.Utf8),
        # Microsecond steps keep the order readable back through created_at.
        (pl.lit(now) + pl.duration(microseconds=pl.int_range(pl.len()))).alias("created_at"),
    )
    con.register("_new_captions", rows)
    try:
        con.execute(
            """INSERT INTO caption (caption_id, sample_id, text, created_at)
               SELECT uuid(), CAST(sample_id AS UUID), text, created_at
               FROM _new_captions"""
        )
    finally:
        con.unregister("_new_captions")
    return frame.height


def captions_frame(con, sample_ids_subquery: tuple[str, list]) -> pl.DataFrame:
    """sample_id (str), text of every caption of the samples of a subquery, in order."""
    sub_sql, params = sample_ids_subquery
    return sql_frame(con,
        f"""SELECT CAST(c.sample_id AS VARCHAR) AS sample_id, c.text FROM caption c
            WHERE c.sample_id IN (SELECT sample_id FROM ({sub_sql}))
            ORDER BY c.created_at, c.caption_id""",
        params)
