"""Annotation labels (class names) of a dataset, for plugins.

``get_by_label_name`` looks a label up by name; ``create`` adds one (returning the existing
label when the name is taken, so labels stay unique per dataset).
"""

from __future__ import annotations

import uuid
from typing import Any, overload

from lightly_studio.db import transaction
from lightly_studio.models.annotation_label import AnnotationLabel, AnnotationLabelCreate
from lightly_studio.resolvers._common import connection, dataset_id_for
from lightly_studio.store._ids import as_uuid
from lightly_studio.store.labels import (
    get_or_create_label_ids,
    label_row_by_id,
    label_row_by_name,
    label_rows,
)

__all__ = ["create", "get_all", "get_by_id", "get_by_label_name"]


def get_by_label_name(
    *, session: Any, label_name: str, dataset_id: uuid.UUID | str | None = None
) -> AnnotationLabel | None:
    """The label ``label_name`` of the session's dataset (or ``dataset_id``), or None."""
    ds = dataset_id_for(session, dataset_id)
    return _record(label_row_by_name(connection(session), ds, label_name))


def get_by_id(*, session: Any, label_id: uuid.UUID | str) -> AnnotationLabel | None:
    return _record(label_row_by_id(connection(session), label_id))


def get_all(*, session: Any, dataset_id: uuid.UUID | str | None = None) -> list[AnnotationLabel]:
    """Every label of the dataset in creation order."""
    ds = dataset_id_for(session, dataset_id)
    return [_record(r) for r in label_rows(connection(session), ds)]


def create(*, session: Any, label: AnnotationLabelCreate) -> AnnotationLabel:
    """Store ``label`` in its dataset (``label.dataset_id``, else the session's)."""
    ds = dataset_id_for(session, label.dataset_id)
    with transaction() as con:
        label_id = get_or_create_label_ids(con, ds, [label.annotation_label_name])[
            label.annotation_label_name
        ]
    found = get_by_id(session=session, label_id=label_id)
    assert found is not None
    return found


@overload
def _record(row: None) -> None: ...
@overload
def _record(row: tuple[Any, ...]) -> AnnotationLabel: ...
def _record(row: tuple[Any, ...] | None) -> AnnotationLabel | None:
    if row is None:
        return None
    label_id, name, dataset_id, created_at = row
    return AnnotationLabel(
        annotation_label_id=as_uuid(label_id),
        annotation_label_name=name,
        dataset_id=as_uuid(dataset_id),
        created_at=created_at,
    )
