"""Table ``projection``: the embedding plot's stored 2-D points, per model.

A row is (sample_id, model_id, x, y, fitted): ``fitted`` points came from a PaCMAP fit,
the others were placed next to their nearest fitted neighbours later.
"""

from __future__ import annotations

import polars as pl

from lightly_studio.db import query_frame


def freshness(con, model_id: str) -> tuple[int, int, int]:
    """(fitted points, vectors without a point, points without a vector) of the model.

    Read from the two tables alone: no vector is loaded to tell that nothing changed.
    """
    return con.execute(
        """SELECT (SELECT count(*) FROM projection WHERE model_id = $1 AND fitted),
                  (SELECT count(*) FROM embedding e WHERE e.model_id = $1 AND NOT EXISTS
                     (SELECT 1 FROM projection p WHERE p.model_id = $1
                      AND p.sample_id = e.sample_id)),
                  (SELECT count(*) FROM projection p WHERE p.model_id = $1 AND NOT EXISTS
                     (SELECT 1 FROM embedding e WHERE e.model_id = $1
                      AND e.sample_id = p.sample_id))""",
        [model_id],
    ).fetchone()


def points(con, model_id: str) -> pl.DataFrame:
    """sample_id (str), x, y of the model's stored points, in insertion order."""
    return query_frame(
        """SELECT CAST(sample_id AS VARCHAR) AS sample_id, x, y FROM projection
           WHERE model_id = $1 ORDER BY rowid""",
        [model_id],
        con,
    )


def points_with_fitted(con, model_id: str) -> pl.DataFrame:
    """sample_id (str), x, y, fitted of the model's stored points (unordered)."""
    return query_frame(
        """SELECT CAST(sample_id AS VARCHAR) AS sample_id, x, y, fitted FROM projection
           WHERE model_id = $1""",
        [model_id],
        con,
    )


def delete_all(con, model_id: str) -> None:
    con.execute("DELETE FROM projection WHERE model_id = $1", [model_id])


def delete_points(con, model_id: str, sample_ids: pl.DataFrame) -> None:
    """Drop the points of the samples in a frame with a ``sample_id`` (str) column."""
    if sample_ids.is_empty():
        return
    con.register("_ls_projection_gone", sample_ids.select("sample_id"))
    try:
        con.execute(
            """DELETE FROM projection WHERE model_id = $1 AND sample_id IN
               (SELECT CAST(sample_id AS UUID) FROM _ls_projection_gone)""",
            [model_id],
        )
    finally:
        con.unregister("_ls_projection_gone")


def insert_points(con, model_id: str, frame: pl.DataFrame) -> None:
    """Insert a frame (sample_id, x, y, fitted) in one statement."""
    if frame.is_empty():
        return
    df = frame.select(
        "sample_id",
        pl.col("x").cast(pl.Float32),
        pl.col("y").cast(pl.Float32),
        pl.col("fitted").cast(pl.Boolean),
    )
    con.register("_ls_projection_rows", df)
    try:
        con.execute(
            """INSERT INTO projection (sample_id, model_id, x, y, fitted)
               SELECT CAST(sample_id AS UUID), $1, x, y, fitted FROM _ls_projection_rows""",
            [model_id],
        )
    finally:
        con.unregister("_ls_projection_rows")


def fingerprint(con, dataset_id) -> tuple:
    """Changes whenever the dataset's samples, embeddings or stored points change (one
    statement: the plot checks it on every open)."""
    return con.execute(
        """SELECT (SELECT count(*) FROM sample WHERE dataset_id = $1),
                  (SELECT count(*) FROM embedding e JOIN embedding_model m USING (model_id)
                   WHERE m.dataset_id = $1),
                  (SELECT (count(*), sum(p.x), sum(p.y), bit_xor(hash(p.sample_id, p.fitted)))
                   FROM projection p JOIN embedding_model m USING (model_id)
                   WHERE m.dataset_id = $1)""",
        [str(dataset_id)],
    ).fetchone()
