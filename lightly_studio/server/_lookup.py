"""The three reads the HTTP layer makes besides ``api.dispatch``.

- ``sample_file``: which file a sample id stands for (the only way the server picks a file);
- ``thumbnail``: one sample's cached thumbnail, for ``GET /thumbnail/<id>``;
- ``data_version``: a fingerprint of the data, polled to tell open pages that something changed
  (an edit from Python, or from another page). It is a handful of aggregates over the tables the
  views show — count/xor-hash per table, milliseconds at 100k samples — so any insert, delete,
  retag or label edit changes it, wherever it came from.

They are SQL over the schema rather than ``api/`` methods because ``api/`` methods are scoped to a
dataset and these are not (a URL carries only a sample id). Candidates to move into ``api/``.
"""

from __future__ import annotations

from typing import Any

_VERSION_SQL = """
SELECT
  (SELECT count(*) FROM dataset),
  (SELECT count(*) FROM sample),
  (SELECT count(*) FROM tag),
  (SELECT coalesce(bit_xor(hash(sample_id, tag_numbers{metadata_columns})), 0) FROM sample),
  (SELECT coalesce(sum(len(tag_numbers)), 0) FROM sample),
  (SELECT count(*) FROM annotation),
  (SELECT max(updated_at) FROM annotation),
  (SELECT coalesce(bit_xor(hash(annotation_id, version)), 0) FROM annotation),
  (SELECT count(*) FROM annotation_label),
  (SELECT count(*) FROM caption),
  (SELECT coalesce(bit_xor(hash(caption_id, text)), 0) FROM caption),
  (SELECT count(*) FROM embedding),
  (SELECT count(*) FROM projection)
"""


def sample_file(sample_id: str) -> str | None:
    from lightly_studio.db import get_connection

    row = get_connection().execute(
        "SELECT file_path_abs FROM sample WHERE sample_id = ? LIMIT 1", [sample_id]).fetchone()
    return row[0] if row else None


def thumbnail(api: Any, sample_id: str) -> tuple[bytes, str] | None:
    from lightly_studio.api.thumbnails import thumbnail_for
    from lightly_studio.db import get_connection

    row = get_connection().execute(
        "SELECT file_path_abs, kind, timestamp_s FROM sample WHERE sample_id = ? LIMIT 1",
        [sample_id]).fetchone()
    if row is None:
        return None
    path, kind, timestamp_s = row
    return thumbnail_for(path, kind, timestamp_s=timestamp_s), "image/jpeg"


def data_version() -> Any:
    from lightly_studio import db

    counter = getattr(db, "data_version", None)
    if counter is not None:  # a write counter kept by the db layer, when it has one
        return counter()
    from lightly_studio.core.metadata import all_metadata_column_names

    con = db.get_connection()
    # Metadata values are columns of the sample row (one per dataset and key).
    columns = "".join(f", {c}" for c in all_metadata_column_names(con))
    sql = _VERSION_SQL.replace("{metadata_columns}", columns)
    return tuple(str(v) for v in con.execute(sql).fetchone())
