"""Sample tags: bulk tag / untag by a list of ids or a SQL subquery."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable

import polars as pl

from lightly_studio.db._connection import query_frame
from lightly_studio.errors import LightlyStudioError

SampleIds = tuple | list | pl.Series | Iterable


def validate_tag_name(name: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise LightlyStudioError(f"A tag name must be a non-empty string, got {name!r}.")
    return name


def get_tag_id(con, dataset_id, name: str, kind: str = "sample") -> uuid.UUID | None:
    row = con.execute(
        "SELECT tag_id FROM tag WHERE dataset_id = $1 AND name = $2 AND kind = $3",
        [str(dataset_id), name, kind],
    ).fetchone()
    return row[0] if row else None


def get_or_create_tag_id(con, dataset_id, name: str, kind: str = "sample") -> uuid.UUID:
    validate_tag_name(name)
    tag_id = get_tag_id(con, dataset_id, name, kind)
    if tag_id is None:
        tag_id = uuid.uuid4()
        con.execute(
            "INSERT INTO tag (tag_id, dataset_id, name, kind, created_at) VALUES ($1,$2,$3,$4,$5)",
            [str(tag_id), str(dataset_id), name, kind, dt.datetime.now()],
        )
    return tag_id


def ids_subquery(sample_ids: SampleIds) -> tuple[str, list]:
    """Turn ids (list, Series) or an (sql, params) subquery into (sql, params)."""
    if isinstance(sample_ids, tuple) and len(sample_ids) == 2 and isinstance(sample_ids[0], str):
        return sample_ids
    if isinstance(sample_ids, pl.Series):
        ids = sample_ids.cast(pl.Utf8).to_list()
    else:
        ids = [str(i) for i in sample_ids]
    return "SELECT unnest($1::UUID[]) AS sample_id", [ids]


def shift_params(sql: str, params: list, offset: int) -> str:
    """Renumber $n placeholders by ``offset`` so a subquery can follow other params."""
    return re.sub(r"\$(\d+)", lambda m: f"${int(m.group(1)) + offset}", sql)


def tag_sample_ids(con, dataset_id, tag_name: str, sample_ids: SampleIds) -> int:
    """Add tag ``tag_name`` to the given samples (idempotent). Returns how many were added."""
    from lightly_studio.db import transaction

    sub_sql, sub_params = ids_subquery(sample_ids)
    with transaction() as tx:
        tag_id = get_or_create_tag_id(tx, dataset_id, tag_name)
        sub_sql = shift_params(sub_sql, sub_params, 1)
        result = tx.execute(
            f"""INSERT INTO sample_tag (sample_id, tag_id)
                SELECT DISTINCT ids.sample_id, $1 FROM ({sub_sql}) ids
                WHERE ids.sample_id NOT IN (SELECT sample_id FROM sample_tag WHERE tag_id = $1)""",
            [str(tag_id), *sub_params],
        ).fetchone()
    return result[0] if result else 0


def untag_sample_ids(con, dataset_id, tag_name: str, sample_ids: SampleIds) -> int:
    """Remove tag ``tag_name`` from the given samples. Returns how many were removed."""
    tag_id = get_tag_id(con, dataset_id, tag_name)
    if tag_id is None:
        return 0
    sub_sql, sub_params = ids_subquery(sample_ids)
    sub_sql = shift_params(sub_sql, sub_params, 1)
    result = con.execute(
        f"DELETE FROM sample_tag WHERE tag_id = $1 AND sample_id IN ({sub_sql})",
        [str(tag_id), *sub_params],
    ).fetchone()
    return result[0] if result else 0


def list_tags(con, dataset_id) -> pl.DataFrame:
    """Tag names of a dataset with their sample counts, by name."""
    return query_frame(
        """SELECT t.name, count(st.sample_id) AS count FROM tag t
           LEFT JOIN sample_tag st ON st.tag_id = t.tag_id
           WHERE t.dataset_id = $1 AND t.kind = 'sample'
           GROUP BY t.name ORDER BY t.name""",
        [str(dataset_id)], con=con,
    )
