"""Publishing a dataset to object storage and opening it read-only (docs/scaling.md).

``dataset.publish(url)`` writes the dataset's rows and embeddings as Parquet plus a manifest
to any fsspec location; ``open_published(url)`` opens that from any number of processes or
machines at once, through DuckDB's Parquet reader on the same fsspec filesystem (no DuckDB
extension is downloaded). Queries, views and exports work as on a database file; writes
raise ``ReadOnlyDatabaseError``. The local database is only read by ``publish``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lightly_studio import db
from lightly_studio.errors import PublishedDatasetError
from lightly_studio.store import published as published_store

if TYPE_CHECKING:
    from lightly_studio.core.dataset import Dataset


def _filesystem(url: str, storage_options: dict | None) -> tuple[Any, str]:
    import fsspec

    fs, path = fsspec.core.url_to_fs(url, **(storage_options or {}))
    return fs, path


def publish(dataset: Dataset, url: str, storage_options: dict | None = None) -> str:
    """Write ``dataset`` to ``url``; returns the URL. Re-publishing replaces what is there."""
    fs, path = _filesystem(url, storage_options)
    try:
        with db.snapshot() as con:  # one consistent state of every table
            published_store.publish(con, dataset.dataset_id, path, fs, db.schema_version())
    except PermissionError as exc:
        raise PublishedDatasetError(f"Cannot write to {url}: {exc}") from exc
    except OSError as exc:
        raise PublishedDatasetError(f"Publishing to {url} failed: {exc}") from exc
    return url


def open_published(url: str, storage_options: dict | None = None) -> Dataset:
    """Open a published dataset read-only; it becomes this process's database (like
    ``db_manager.connect``), so ``start_gui()`` and the widgets show it."""
    from lightly_studio.core.dataset import Dataset

    fs, path = _filesystem(url, storage_options)
    manifest = published_store.read_manifest(path, fs, db.code_schema_version())
    if manifest.schema_version < db.code_schema_version():
        raise PublishedDatasetError(
            f"{url} was published by an older lightly_studio (schema {manifest.schema_version}, "
            f"this one needs {db.code_schema_version()}); publish it again with this version."
        )
    # DuckDB reads Parquet through the fsspec filesystem registered under its protocol;
    # local paths need none.
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    location = path if protocol in ("file", "local") else f"{protocol}://{path}"
    filesystem = None if protocol in ("file", "local") else fs
    db.open_views(
        url,
        lambda con: published_store.create_views(con, location, manifest),
        filesystem=filesystem,
    )
    return Dataset.from_id(_dataset_id(manifest.dataset_name))


def _dataset_id(name: str):
    from lightly_studio.store import datasets as datasets_store

    row = datasets_store.find_by_name(db.get_connection(), name)
    if row is None:
        raise PublishedDatasetError(f"The published tables hold no dataset named {name!r}.")
    return row[0]
