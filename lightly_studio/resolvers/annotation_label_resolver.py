"""Annotation labels (class names) of a dataset, for plugins.

``get_by_label_name`` looks a label up by name; ``create`` adds one (returning the existing
label when the name is taken, so labels stay unique per dataset).
"""

from __future__ import annotations

import uuid
from typing import Any

from lightly_studio.models.annotation_label import AnnotationLabel, AnnotationLabelCreate
from lightly_studio.resolvers._common import connection, dataset_id_for

__all__ = ["create", "get_all", "get_by_id", "get_by_label_name"]

_COLUMNS = "label_id, name, dataset_id, created_at"


def get_by_label_name(*, session: Any, label_name: str,
                      dataset_id: uuid.UUID | str | None = None) -> AnnotationLabel | None:
    """The label ``label_name`` of the session's dataset (or ``dataset_id``), or None."""
    ds = dataset_id_for(session, dataset_id)
    row = connection(session).execute(
        f"SELECT {_COLUMNS} FROM annotation_label WHERE dataset_id = $1 AND name = $2 "
        "ORDER BY created_at LIMIT 1", [str(ds), label_name]).fetchall()
    return _record(row[0] if row else None)


def get_by_id(*, session: Any, label_id: uuid.UUID | str) -> AnnotationLabel | None:
    row = connection(session).execute(
        f"SELECT {_COLUMNS} FROM annotation_label WHERE label_id = $1",
        [str(label_id)]).fetchall()
    return _record(row[0] if row else None)


def get_all(*, session: Any, dataset_id: uuid.UUID | str | None = None) -> list[AnnotationLabel]:
    """Every label of the dataset in creation order."""
    ds = dataset_id_for(session, dataset_id)
    rows = connection(session).execute(
        f"SELECT {_COLUMNS} FROM annotation_label WHERE dataset_id = $1 "
        "ORDER BY created_at, name", [str(ds)]).fetchall()
    return [_record(r) for r in rows]


def create(*, session: Any, label: AnnotationLabelCreate) -> AnnotationLabel:
    """Store ``label`` in its dataset (``label.dataset_id``, else the session's)."""
    from lightly_studio.core.labels import get_or_create_label_ids
    from lightly_studio.db import transaction

    ds = dataset_id_for(session, label.dataset_id)
    with transaction() as con:
        label_id = get_or_create_label_ids(con, ds, [label.annotation_label_name])[
            label.annotation_label_name]
    found = get_by_id(session=session, label_id=label_id)
    assert found is not None
    return found


def _record(row: Any) -> AnnotationLabel | None:
    if row is None:
        return None
    label_id, name, dataset_id, created_at = row
    return AnnotationLabel(annotation_label_id=_uuid(label_id), annotation_label_name=name,
                           dataset_id=_uuid(dataset_id), created_at=created_at)


def _uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
