"""Few-shot classifiers: every statement over ``few_shot_classifier`` (migration 0007).

A classifier is one row (name unique per dataset): its classes, the embedding model it trains
on, its examples and, once trained, its weights. :func:`save_classifier` replaces the row in
one transaction, so a failed write leaves the earlier state.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import numpy as np

from lightly_studio.db import query_frame, transaction
from lightly_studio.store._ids import as_uuid_str


def save_classifier(
    con,
    dataset_id: uuid.UUID | str,
    *,
    name: str,
    classes: list[str],
    embedding_model: str,
    examples: dict[str, str],
    coef: np.ndarray | None,
    intercept: np.ndarray | None,
) -> None:
    """Store the classifier ``name`` of the dataset, replacing an earlier one of that name.
    ``examples``: sample id → class."""
    dataset = as_uuid_str(dataset_id)
    with transaction():
        con.execute(
            "DELETE FROM few_shot_classifier WHERE dataset_id = $1 AND name = $2", [dataset, name]
        )
        con.execute(
            """INSERT INTO few_shot_classifier VALUES ($1, $2, $3, $4, $5::UUID[], $6, $7, $8,
                   $9)""",
            [
                dataset,
                name,
                list(classes),
                embedding_model,
                list(examples),
                list(examples.values()),
                None if coef is None else coef.tolist(),
                None if intercept is None else intercept.tolist(),
                dt.datetime.now(),
            ],
        )


def load_classifier(con, dataset_id: uuid.UUID | str, name: str) -> dict[str, Any] | None:
    """The stored classifier (name, classes, embedding_model, examples {sample id: class},
    coef and intercept as arrays or None), or None when the dataset has none of that name."""
    frame = query_frame(
        """SELECT name, classes, embedding_model,
                  CAST(example_sample_ids AS VARCHAR[]) AS example_sample_ids, example_classes,
                  coef, intercept
           FROM few_shot_classifier WHERE dataset_id = $1 AND name = $2""",
        [as_uuid_str(dataset_id), name],
        con,
    )
    if not frame.height:
        return None
    row = frame.row(0, named=True)
    return {
        "name": row["name"],
        "classes": list(row["classes"]),
        "embedding_model": row["embedding_model"],
        "examples": dict(zip(row["example_sample_ids"], row["example_classes"], strict=True)),
        "coef": None if row["coef"] is None else np.asarray(row["coef"], dtype=np.float64),
        "intercept": (
            None if row["intercept"] is None else np.asarray(row["intercept"], dtype=np.float64)
        ),
    }


def classifier_names(con, dataset_id: uuid.UUID | str) -> list[str]:
    """The names of the dataset's stored classifiers, sorted."""
    frame = query_frame(
        "SELECT name FROM few_shot_classifier WHERE dataset_id = $1 ORDER BY name",
        [as_uuid_str(dataset_id)],
        con,
    )
    return frame["name"].to_list()


def delete_classifier(con, dataset_id: uuid.UUID | str, name: str) -> bool:
    """Remove the stored classifier ``name``; True when there was one."""
    dataset = as_uuid_str(dataset_id)
    with transaction():
        found = con.execute(
            "SELECT count(*) FROM few_shot_classifier WHERE dataset_id = $1 AND name = $2",
            [dataset, name],
        ).fetchone()[0]
        con.execute(
            "DELETE FROM few_shot_classifier WHERE dataset_id = $1 AND name = $2", [dataset, name]
        )
    return bool(found)
