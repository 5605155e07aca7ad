"""Image samples of a dataset as plain records, for plugins."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from lightly_studio.resolvers._common import connection, dataset_id_for
from lightly_studio.store import samples as samples_store

__all__ = ["ImageRecord", "ImagesResult", "get_all_by_collection_id"]


@dataclass(frozen=True)
class ImageRecord:
    """One image: where it is and its size in pixels."""

    sample_id: uuid.UUID
    dataset_id: uuid.UUID
    file_name: str
    file_path_abs: str
    width: int
    height: int
    created_at: dt.datetime | None = None


@dataclass(frozen=True)
class ImagesResult:
    """``samples``: the page of images asked for; ``total_count``: images in the dataset."""

    samples: list[ImageRecord] = field(default_factory=list)
    total_count: int = 0


def get_all_by_collection_id(
    *,
    session: Any,
    collection_id: uuid.UUID | str | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> ImagesResult:
    """The images of the dataset ``collection_id`` in insertion order (``offset``/``limit``
    page through large datasets)."""
    dataset_uuid = dataset_id_for(session, collection_id)
    con = connection(session)
    total = samples_store.image_count(con, dataset_uuid)
    frame = samples_store.image_rows(con, dataset_uuid, offset=offset, limit=limit)
    samples = [
        ImageRecord(
            sample_id=uuid.UUID(r["sample_id"]),
            dataset_id=dataset_uuid,
            file_name=r["file_name"],
            file_path_abs=r["file_path_abs"],
            width=r["width"],
            height=r["height"],
            created_at=r["created_at"],
        )
        for r in frame.iter_rows(named=True)
    ]
    return ImagesResult(samples=samples, total_count=total)
