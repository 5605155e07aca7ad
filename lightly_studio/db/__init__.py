"""Storage: one DuckDB file per process, schema migrations, transactions, SQL fragments."""

from lightly_studio.db._connection import (
    close,
    code_schema_version,
    connect,
    db_file,
    get_connection,
    open_views,
    query_frame,
    read_only_source,
    schema_version,
    snapshot,
    transaction,
)
from lightly_studio.db._sql import Fragment, param, register_frames, sql

__all__ = [
    "Fragment",
    "close",
    "code_schema_version",
    "connect",
    "db_file",
    "get_connection",
    "open_views",
    "param",
    "query_frame",
    "read_only_source",
    "register_frames",
    "schema_version",
    "snapshot",
    "sql",
    "transaction",
]
