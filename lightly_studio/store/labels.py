"""Annotation labels (class names) of a dataset: the one get-or-create, and the reads.

A label is unique per dataset by name. Labels are only ever created through
:func:`get_or_create_label_ids` (the Python API, the annotator, plugins and importers alike).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import polars as pl

from lightly_studio.db import query_frame
from lightly_studio.errors import AnnotationError

_COLUMNS = "label_id, name, dataset_id, created_at"


def get_or_create_label_ids(
    con, dataset_id: uuid.UUID | str, names: Iterable[str]
) -> dict[str, uuid.UUID]:
    """Ids of the labels ``names`` in the dataset, creating the missing ones in one INSERT.

    New labels get increasing ``created_at`` in the order given, so class order (YOLO
    ``names``, COCO categories) survives into exports. Run it inside the caller's transaction.
    """
    wanted: list[str] = []
    seen: set[str] = set()
    for name in names:
        if not isinstance(name, str) or not name.strip():
            raise AnnotationError(f"A label must be a non-empty string, got {name!r}.")
        if name not in seen:
            seen.add(name)
            wanted.append(name)
    if not wanted:
        return {}
    existing = label_frame(con, dataset_id)
    found = dict(zip(existing["name"].to_list(), existing["label_id"].to_list(), strict=True))
    missing = [n for n in wanted if n not in found]
    if missing:
        now = dt.datetime.now()
        new = pl.DataFrame(
            {
                "label_id": [str(uuid.uuid4()) for _ in missing],
                "name": missing,
                # Microsecond steps keep the given order when sorting by created_at.
                "created_at": [now + dt.timedelta(microseconds=i) for i in range(len(missing))],
            }
        )
        con.register("_new_labels", new)
        try:
            con.execute(
                """INSERT INTO annotation_label (label_id, dataset_id, name, created_at)
                   SELECT CAST(label_id AS UUID), $1, name, created_at FROM _new_labels""",
                [str(dataset_id)],
            )
        finally:
            con.unregister("_new_labels")
        found.update(zip(new["name"].to_list(), new["label_id"].to_list(), strict=True))
    return {n: uuid.UUID(str(found[n])) for n in wanted}


def list_labels(con, dataset_id: uuid.UUID | str, source: str | None = None) -> pl.DataFrame:
    """Labels of the dataset in creation order: label_id (str), name, count of annotations.

    ``source`` restricts the counts to one annotation source ('ground_truth' or a model).
    """
    params: list = [str(dataset_id)]
    source_sql = ""
    if source is not None:
        source_sql = "AND a.source = $2"
        params.append(source)
    return query_frame(
        f"""SELECT CAST(l.label_id AS VARCHAR) AS label_id, l.name,
                   count(a.annotation_id) AS count
            FROM annotation_label l
            LEFT JOIN annotation a ON a.label_id = l.label_id {source_sql}
            WHERE l.dataset_id = $1
            GROUP BY l.label_id, l.name, l.created_at
            ORDER BY l.created_at, l.name""",
        params,
        con,
    )


def label_frame(con, dataset_id: uuid.UUID | str) -> pl.DataFrame:
    """label_id (str), name of every label of the dataset, in creation order."""
    return query_frame(
        """SELECT CAST(label_id AS VARCHAR) AS label_id, name FROM annotation_label
           WHERE dataset_id = $1 ORDER BY created_at, name""",
        [str(dataset_id)],
        con,
    )


def label_names(con, dataset_id: uuid.UUID | str) -> list[str]:
    """Every label of the dataset in creation order: the class order of exports."""
    return label_frame(con, dataset_id)["name"].to_list()


def labels_by_id(
    con, dataset_id: uuid.UUID | str, label_ids: Sequence[uuid.UUID | str]
) -> pl.DataFrame:
    """label_id (str), label (its name) of those of ``label_ids`` that are the dataset's."""
    return query_frame(
        """SELECT CAST(label_id AS VARCHAR) AS label_id, name AS label
           FROM annotation_label WHERE dataset_id = $1
             AND label_id IN (SELECT unnest($2::UUID[]))""",
        [str(dataset_id), [str(i) for i in label_ids]],
        con,
    )


def label_row_by_name(con, dataset_id: uuid.UUID | str, name: str) -> tuple[Any, ...] | None:
    """(label_id, name, dataset_id, created_at) of the dataset's label ``name``, or None."""
    rows = con.execute(
        f"SELECT {_COLUMNS} FROM annotation_label WHERE dataset_id = $1 AND name = $2 "
        "ORDER BY created_at LIMIT 1",
        [str(dataset_id), name],
    ).fetchall()
    return rows[0] if rows else None


def label_row_by_id(con, label_id: uuid.UUID | str) -> tuple[Any, ...] | None:
    """(label_id, name, dataset_id, created_at) of one label, or None."""
    rows = con.execute(
        f"SELECT {_COLUMNS} FROM annotation_label WHERE label_id = $1", [str(label_id)]
    ).fetchall()
    return rows[0] if rows else None


def label_rows(con, dataset_id: uuid.UUID | str) -> list[tuple[Any, ...]]:
    """(label_id, name, dataset_id, created_at) of every label of the dataset, creation order."""
    return con.execute(
        f"SELECT {_COLUMNS} FROM annotation_label WHERE dataset_id = $1 ORDER BY created_at, name",
        [str(dataset_id)],
    ).fetchall()
