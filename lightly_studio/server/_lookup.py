"""The three reads the HTTP layer makes besides ``api.dispatch``.

- ``sample_file``: which file a sample id stands for (the only way the server picks a file);
- ``thumbnail``: one sample's cached thumbnail, for ``GET /thumbnail/<id>``;
- ``data_version``: a fingerprint of the data, polled to tell open pages that something changed
  (an edit from Python, or from another page): ``store.aggregates.data_fingerprint``, a count
  and xor-hash per table the views show, so any insert, delete, retag or label edit changes it,
  wherever it came from.

They read through ``store/`` rather than ``api/`` methods because ``api/`` methods are scoped to a
dataset and these are not (a URL carries only a sample id). Candidates to move into ``api/``.
"""

from __future__ import annotations

from typing import Any

from lightly_studio import db
from lightly_studio.ingest.thumbnails import thumbnail_for
from lightly_studio.store import aggregates
from lightly_studio.store import samples as samples_store


def sample_file(sample_id: str) -> str | None:
    return samples_store.file_of(db.get_connection(), sample_id)


def thumbnail(sample_id: str) -> tuple[bytes, str] | None:
    found = samples_store.media_of(db.get_connection(), sample_id)
    if found is None:
        return None
    path, kind, timestamp_s = found
    return thumbnail_for(path, kind, timestamp_s=timestamp_s), "image/jpeg"


def data_version() -> Any:
    counter = getattr(db, "data_version", None)
    if counter is not None:  # a write counter kept by the db layer, when it has one
        return counter()
    return aggregates.data_fingerprint(db.get_connection())
