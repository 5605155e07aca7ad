"""Datasets: the ``dataset`` rows (name, kind) and the list the views show."""

from __future__ import annotations

import datetime as dt
import uuid

import polars as pl

from lightly_studio.db import query_frame
from lightly_studio.store._ids import as_uuid_str


def insert_dataset(con, name: str, kind: str) -> uuid.UUID:
    """Store a new dataset row; returns its id. The caller checks the name is free."""
    dataset_id = uuid.uuid4()
    con.execute(
        "INSERT INTO dataset VALUES ($1, $2, $3, $4)",
        [str(dataset_id), name, kind, dt.datetime.now()],
    )
    return dataset_id


def find_by_name(con, name: str) -> tuple | None:
    """(dataset_id, name, kind) of the dataset called ``name``, or None."""
    return con.execute(
        "SELECT dataset_id, name, kind FROM dataset WHERE name = $1", [name]
    ).fetchone()


def find_by_id(con, dataset_id) -> tuple[str, str] | None:
    """(name, kind) of the dataset with this id, or None."""
    return con.execute(
        "SELECT name, kind FROM dataset WHERE dataset_id = $1", [as_uuid_str(dataset_id)]
    ).fetchone()


def of_kind(con, kind: str) -> list[tuple]:
    """(dataset_id, name, kind) of every dataset of ``kind``."""
    return con.execute(
        "SELECT dataset_id, name, kind FROM dataset WHERE kind = $1", [kind]
    ).fetchall()


def names(con) -> list[str]:
    """Names of all datasets, sorted."""
    return [r[0] for r in con.execute("SELECT name FROM dataset ORDER BY name").fetchall()]


def datasets_with_counts(con) -> pl.DataFrame:
    """dataset_id (str), name, kind, sample count (videos for a video dataset, groups for a group dataset) and
    has_embeddings (a model with stored vectors exists) of every dataset, oldest first."""
    # Count per (dataset, kind) first, then join the few groups to the datasets: joining every
    # sample row to its dataset before counting is several times slower at 1,000,000 samples,
    # and the page waits for this list.
    return query_frame(
        """
        WITH n AS (SELECT dataset_id, kind, count(*) AS count FROM sample GROUP BY ALL)
        SELECT CAST(d.dataset_id AS VARCHAR) AS dataset_id, d.name, d.kind,
               coalesce(n.count, 0) AS count,
               EXISTS (SELECT 1 FROM embedding_model m WHERE m.dataset_id = d.dataset_id)
                   AS has_embeddings
        FROM dataset d LEFT JOIN n ON n.dataset_id = d.dataset_id
             AND n.kind = CASE WHEN d.kind IN ('video', 'group') THEN d.kind ELSE 'image' END
        ORDER BY d.created_at, d.name""",
        [],
        con,
    )
