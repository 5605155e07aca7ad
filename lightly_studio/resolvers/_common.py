"""What the resolvers share: which dataset a call is about."""

from __future__ import annotations

import uuid
from typing import Any

from lightly_studio.db import get_connection
from lightly_studio.errors import DatasetNotFoundError
from lightly_studio.store._ids import as_uuid


def dataset_id_for(session: Any, dataset_id: uuid.UUID | str | None = None) -> uuid.UUID:
    """``dataset_id`` when given, else the dataset of the operator's ``session``."""
    if dataset_id is None:
        dataset_id = getattr(session, "dataset_id", None)
    if dataset_id is None:
        raise DatasetNotFoundError(
            "No dataset given: pass dataset_id=..., or use the session an operator's execute() "
            "receives (it knows the dataset the GUI shows)."
        )
    return as_uuid(dataset_id)


def connection(session: Any):
    """The DuckDB cursor to use (the session's, else this thread's)."""
    con = getattr(session, "connection", None)
    if con is not None:
        return con
    return get_connection()
