"""Storage: one DuckDB file per process, schema migrations, transactions."""

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

__all__ = ["close", "connect", "db_file", "get_connection", "query_frame", "schema_version", "snapshot", "transaction"]
