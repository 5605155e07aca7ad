"""Storage: one DuckDB file per process, schema migrations, transactions, SQL fragments."""

from lightly_studio.db._connection import (
    close,
    connect,
    db_file,
    get_connection,
    query_frame,
    schema_version,
    snapshot,
    transaction,
)
from lightly_studio.db._sql import Fragment, param, register_frames, sql

__all__ = [
    "Fragment",
    "close",
    "connect",
    "db_file",
    "get_connection",
    "param",
    "query_frame",
    "register_frames",
    "schema_version",
    "snapshot",
    "sql",
    "transaction",
]
