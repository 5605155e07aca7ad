"""The one DuckDB connection of this process, its schema migrations and transactions.

DuckDB allows one writing process per file, so the process that opens the file owns it.
Threads (the GUI server, the embedding pipeline) each get their own cursor of the one
connection: a cursor is a connection to the same database with its own transaction state.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, cast

from lightly_studio.db._sql import Fragment, register_frames
from lightly_studio.errors import DatabaseLockedError, ReadOnlyDatabaseError

if TYPE_CHECKING:
    import duckdb

DEFAULT_DB_FILE = "lightly_studio.db"

_lock = threading.RLock()
# read_only: the URL of a published dataset opened with open_views(), else None.
_state: dict = {"db_file": None, "connection": None, "generation": 0, "read_only": None}
_local = threading.local()
_one_writer = threading.Lock()  # see transaction()


def connect(
    db_file: str | os.PathLike | None = None,
    *,
    memory_limit: str | None = None,
    threads: int | None = None,
) -> None:
    """Open (or switch to) the database file used by every dataset of this process.

    Call it before creating or loading a dataset to keep the DuckDB file somewhere other than
    ``lightly_studio.db`` in the working directory. ``":memory:"`` gives a throw-away database.
    """
    path = _resolve(db_file)
    with _lock:
        close()
        _state["connection"] = _open(path, memory_limit=memory_limit, threads=threads)
        _state["db_file"] = path
        _state["generation"] += 1


def open_views(
    source: str, create_views: Callable[[duckdb.DuckDBPyConnection], None], filesystem=None
) -> None:
    """Switch to a read-only database of views (a published dataset at ``source``).

    An in-memory DuckDB whose tables are views that ``create_views`` defines (over Parquet
    files, read through the fsspec ``filesystem`` when given); nothing is migrated and every
    ``transaction()`` is refused, so no write can happen by accident.
    """
    import duckdb

    with _lock:
        close()
        con = duckdb.connect(":memory:", config=_config(None, None))
        try:
            if filesystem is not None:
                con.register_filesystem(filesystem)
            create_views(con)
        except BaseException:
            con.close()
            raise
        _state["connection"] = con
        _state["db_file"] = ":memory:"
        _state["read_only"] = source
        _state["generation"] += 1


def read_only_source() -> str | None:
    """The published dataset's URL when the connection is read-only, else None."""
    return _state["read_only"]


def close() -> None:
    """Close the connection; the next use opens the default file (or connect()'s new one)."""
    with _lock:
        con = _state["connection"]
        _state["connection"] = None
        _state["db_file"] = None
        _state["read_only"] = None
        _state["generation"] += 1
        if con is not None:
            con.close()


def db_file() -> str:
    """The path of the database file in use (or that will be opened on first use)."""
    return _state["db_file"] or _resolve(None)


def get_connection() -> duckdb.DuckDBPyConnection:
    """This thread's cursor of the process-wide connection, opened on first use."""
    gen = _state["generation"]
    cur = getattr(_local, "cursor", None)
    if cur is not None and getattr(_local, "generation", None) == gen and _state["connection"]:
        return cur
    with _lock:
        if _state["connection"] is None:
            path = _state["db_file"] or _resolve(None)
            _state["connection"] = _open(path)
            _state["db_file"] = path
        root = _state["connection"]
        gen = _state["generation"]
    cur = Cursor(root.cursor())
    _local.cursor = cur
    _local.generation = gen
    # A Cursor forwards every DuckDBPyConnection method: callers use it as one.
    return cast("duckdb.DuckDBPyConnection", cur)


# Calls that read or continue the current result; every other call first finishes it.
_RESULT_CALLS = frozenset(
    {
        "execute",
        "executemany",
        "fetchone",
        "fetchall",
        "fetchmany",
        "fetchnumpy",
        "fetchdf",
        "fetch_df",
        "fetch_df_chunk",
        "df",
        "to_arrow_table",
        "to_arrow_reader",
        "description",
        "rowcount",
        "complete",
        "abort",
    }
)


class Cursor:
    """A DuckDB cursor that never trips over an unread result.

    DuckDB 2 refuses register/sql/… while a result of execute() (an INSERT's row count, say)
    is still open. Finishing it first is what every caller here wants, so do it in one place.
    """

    __slots__ = ("_con",)

    def __init__(self, con) -> None:
        self._con = con

    def execute(self, *args, **kwargs):
        return self._con.execute(*args, **kwargs)

    def __getattr__(self, name: str):
        attr = getattr(self._con, name)
        if name in _RESULT_CALLS or not callable(attr):
            return attr

        def call(*args, **kwargs):
            self._con.complete()
            return attr(*args, **kwargs)

        return call


@contextlib.contextmanager
def transaction() -> Iterator[duckdb.DuckDBPyConnection]:
    """Run a block in one transaction: all of it is stored, or none of it.

    Nested use joins the outer transaction. One transaction at a time per process: DuckDB
    aborts the second of two open transactions that write the same row ("Conflict on
    tuple deletion"), and tagging rewrites sample rows, so a tag from the app's server
    thread and one from the notebook at the same moment would otherwise fail.
    """
    if _state["read_only"] is not None:
        raise ReadOnlyDatabaseError(
            f"The dataset published at {_state['read_only']} is open read-only; change the "
            "database it was published from, then publish again."
        )
    con = get_connection()
    depth = getattr(_local, "tx_depth", 0)
    if depth:
        _local.tx_depth = depth + 1
        try:
            yield con
        finally:
            _local.tx_depth = depth
        return
    with _one_writer:
        con.execute("BEGIN TRANSACTION")
        _local.tx_depth = 1
        try:
            yield con
        except BaseException:
            _local.tx_depth = 0
            con.execute("ROLLBACK")
            raise
        _local.tx_depth = 0
        con.execute("COMMIT")


@contextlib.contextmanager
def snapshot() -> Iterator[duckdb.DuckDBPyConnection]:
    """Run several reads against one state of the data (a read-only transaction).

    Inside ``transaction()`` the reads already share that transaction. Nothing may be written
    in a snapshot: writes go through ``transaction()``, which takes the one writer lock.
    """
    con = get_connection()
    if getattr(_local, "tx_depth", 0):
        yield con
        return
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")  # a failed statement leaves the transaction aborted
        raise
    con.execute("COMMIT")


def _resolve(db_file: str | os.PathLike | None) -> str:
    if db_file is None:
        db_file = os.environ.get("LIGHTLY_STUDIO_DB_FILE", DEFAULT_DB_FILE)
    if str(db_file) == ":memory:":
        return ":memory:"
    return str(Path(db_file).expanduser().resolve())


def _open(path: str, *, memory_limit: str | None = None, threads: int | None = None):
    import duckdb

    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(path, config=_config(memory_limit, threads))
    except duckdb.IOException as exc:
        message = str(exc)
        if "lock" in message.lower():
            holder = re.search(r"PID (\d+)", message)
            who = f"process {holder.group(1)}" if holder else "another process"
            raise DatabaseLockedError(
                f"The database file {path} is in use by {who}. DuckDB allows one process per "
                "file: stop that process (or its notebook kernel), or call "
                "lightly_studio.db_manager.connect(db_file=...) with another file."
            ) from exc
        raise
    try:
        _migrate(con)
    except BaseException:
        con.close()
        raise
    return con


def _config(memory_limit: str | None, threads: int | None) -> dict:
    config: dict[str, str | bool | int | float | list[str]] = {
        # DuckDB's default lets one process grow to most of the machine's memory.
        "memory_limit": memory_limit or os.environ.get("LIGHTLY_STUDIO_DB_MEMORY_LIMIT", "4GB"),
        "threads": threads or min(os.cpu_count() or 2, 8),
        # Text columns reach polars as Arrow string views, which it takes without a copy
        # (about 5 ms of 80 for a 100,000-row page with paths).
        "produce_arrow_string_view": True,
        "arrow_output_version": "1.4",
    }
    return config


def _migrations() -> list[tuple[int, str, str]]:
    """(version, file name, text) of each migration, oldest first.

    A migration is SQL (``NNNN_name.sql``), or Python (``NNNN_name.py`` with a
    ``migrate(con)`` function) when what it does depends on the stored data.
    """
    folder = resources.files("lightly_studio.db") / "migrations"
    found = []
    for entry in folder.iterdir():
        match = re.fullmatch(r"(\d{4})_.*\.(sql|py)", entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def _apply(con, name: str, text: str) -> None:
    if name.endswith(".sql"):
        con.execute(text)
        return
    namespace: dict = {"__name__": f"lightly_studio.db.migrations.{name[:-3]}"}
    exec(compile(text, name, "exec"), namespace)  # our own packaged migration file
    namespace["migrate"](con)


def _migrate(con) -> None:
    con.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    row = con.execute("SELECT max(version) FROM schema_version").fetchone()
    current = row[0] or 0
    for version, name, text in _migrations():
        if version <= current:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            _apply(con, name, text)
            con.execute("INSERT INTO schema_version VALUES (?)", [version])
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")


def query_frame(sql, params: list | dict | None = None, con=None):
    """Run a SELECT and return its rows as a polars DataFrame (through Arrow, no Python rows).

    ``sql``: text with ``params`` (positional list or named dict), or a ``db.Fragment``
    (its named params, and the frames it reads, registered on the connection first).
    """
    import polars as pl

    con = con or get_connection()
    if isinstance(sql, Fragment):
        register_frames(con, sql.frames)
        sql, params = sql.sql, sql.params
    return pl.from_arrow(con.sql(sql, params=params or None).to_arrow_table())


def schema_version() -> int:
    row = get_connection().execute("SELECT max(version) FROM schema_version").fetchone()
    assert row is not None  # an aggregate always answers one row
    return row[0]


def code_schema_version() -> int:
    """The newest schema this code knows (its last migration), whatever the open file holds."""
    return _migrations()[-1][0]
