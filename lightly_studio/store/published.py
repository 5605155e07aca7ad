"""Published datasets: one dataset's rows as Parquet files plus a manifest, on any fsspec URL.

Layout of ``<url>/``::

    manifest.json           written last: a folder without it is an unfinished publish
    <table>.parquet         one file per table of the schema

Which rows belong to a dataset is read from the catalog, so tables added by later
migrations are published without a change here: a table with a ``dataset_id`` column keeps
the dataset's rows (and those of its frame datasets), one with a ``sample_id`` column the
rows of those datasets' samples, a table with ``run_id`` the rows of their evaluation runs,
and any other table is copied whole (``schema_version``). The manifest records each column's
DuckDB type, so the read-only views cast back to exactly the types the code expects (UUID,
FLOAT[512], JSON), whatever Parquet made of them.
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass
from typing import Any

from lightly_studio.errors import PublishedDatasetError

MANIFEST = "manifest.json"
FORMAT = 1
_BATCH_ROWS = 100_000


@dataclass(frozen=True)
class Manifest:
    dataset_name: str
    dataset_kind: str
    schema_version: int
    tables: dict[str, list[tuple[str, str]]]  # table -> [(column, DuckDB type)]


def _tables(con) -> dict[str, list[tuple[str, str]]]:
    rows = con.execute(
        """SELECT table_name, column_name, data_type FROM information_schema.columns
           WHERE table_schema = 'main' AND table_catalog = current_database()
             AND table_name IN (SELECT table_name FROM information_schema.tables
                                WHERE table_type = 'BASE TABLE' AND table_schema = 'main')
           ORDER BY table_name, ordinal_position"""
    ).fetchall()
    out: dict[str, list[tuple[str, str]]] = {}
    for table, column, dtype in rows:
        out.setdefault(table, []).append((column, dtype))
    return out


def _dataset_ids_sql(dataset_id: str) -> str:
    """The dataset and every dataset holding frames of its videos."""
    return f"""SELECT CAST('{dataset_id}' AS UUID) UNION
               SELECT DISTINCT f.dataset_id FROM sample f JOIN sample v
                 ON f.parent_sample_id = v.sample_id WHERE v.dataset_id = '{dataset_id}'"""


def _row_filter(columns: list[str], dataset_id: str) -> str:
    datasets = _dataset_ids_sql(dataset_id)
    if "dataset_id" in columns:
        return f"WHERE dataset_id IN ({datasets})"
    if "sample_id" in columns:
        return f"WHERE sample_id IN (SELECT sample_id FROM sample WHERE dataset_id IN ({datasets}))"
    if "run_id" in columns:
        return (
            f"WHERE run_id IN (SELECT run_id FROM evaluation_run WHERE dataset_id IN ({datasets}))"
        )
    return ""


def publish(con, dataset_id: Any, url: str, fs: Any, schema_version: int) -> Manifest:
    """Write the dataset's rows under ``url`` through the fsspec filesystem ``fs``.

    Tables first, manifest last; an existing manifest is removed before anything is written,
    so readers never see a manifest that describes half-replaced files.
    """
    import pyarrow.parquet as pq

    dataset_id = str(dataset_id)
    name, kind = con.execute(
        "SELECT name, kind FROM dataset WHERE dataset_id = $1", [dataset_id]
    ).fetchone()
    tables = _tables(con)
    fs.makedirs(url, exist_ok=True)
    manifest_path = posixpath.join(url, MANIFEST)
    if fs.exists(manifest_path):
        fs.rm(manifest_path)
    counts = {}
    for table, columns in tables.items():
        names = [c for c, _ in columns]
        select = ", ".join(f'"{c}"' for c in names)
        reader = con.sql(
            f'SELECT {select} FROM "{table}" {_row_filter(names, dataset_id)}'
        ).to_arrow_reader(_BATCH_ROWS)
        rows = 0
        path = posixpath.join(url, f"{table}.parquet")
        with fs.open(path, "wb") as f, pq.ParquetWriter(f, reader.schema) as writer:
            for batch in reader:
                writer.write_batch(batch)
                rows += batch.num_rows
        counts[table] = rows
    body = {
        "format": FORMAT,
        "dataset": {"name": name, "kind": kind},
        "schema_version": schema_version,
        "tables": {
            t: {"file": f"{t}.parquet", "rows": counts[t], "columns": [list(c) for c in cols]}
            for t, cols in tables.items()
        },
    }
    with fs.open(manifest_path, "w") as f:
        f.write(json.dumps(body, indent=1))
    return Manifest(name, kind, schema_version, tables)


def read_manifest(url: str, fs: Any, schema_version: int) -> Manifest:
    """The manifest at ``url``; a clear error when it is missing, damaged or too new."""
    path = posixpath.join(url, MANIFEST)
    try:
        with fs.open(path, "r") as f:
            body = json.load(f)
    except FileNotFoundError:
        raise PublishedDatasetError(
            f"{url} holds no published dataset: {MANIFEST} is missing (an unfinished publish "
            "leaves none; publish again)."
        ) from None
    except (OSError, ValueError) as exc:
        raise PublishedDatasetError(f"Cannot read {path}: {exc}") from exc
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise PublishedDatasetError(
            f"{path} is not a lightly_studio manifest of format {FORMAT} (got "
            f"{body.get('format') if isinstance(body, dict) else type(body).__name__!r})."
        )
    if int(body["schema_version"]) > schema_version:
        raise PublishedDatasetError(
            f"{url} was published by a newer lightly_studio (schema {body['schema_version']}, "
            f"this one reads up to {schema_version}); upgrade lightly_studio to open it."
        )
    tables = {t: [tuple(c) for c in spec["columns"]] for t, spec in body["tables"].items()}
    return Manifest(
        body["dataset"]["name"], body["dataset"]["kind"], int(body["schema_version"]), tables
    )


def create_views(con, url: str, manifest: Manifest) -> None:
    """One view per table over its Parquet file, cast back to the published column types."""
    for table, columns in manifest.tables.items():
        file = posixpath.join(url, f"{table}.parquet").replace("'", "''")
        select = ", ".join(f'CAST("{c}" AS {dtype}) AS "{c}"' for c, dtype in columns)
        con.execute(f"CREATE VIEW \"{table}\" AS SELECT {select} FROM read_parquet('{file}')")
