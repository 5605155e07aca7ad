"""Tables ``embedding_model`` and ``embedding``: model rows, bulk vector reads and writes, and
an in-memory matrix cache.

Search, typicality and the plot need all vectors of a model as one float32 matrix. Reading
it from DuckDB is the slow part of those calls, so it is cached per model and reused until
the model's embedding count changes or this process writes embeddings (a version counter).
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from lightly_studio.db import query_frame
from lightly_studio.errors import EmbeddingError


@dataclass(frozen=True)
class ModelRow:
    model_id: str
    name: str
    spec: str
    dim: int


def model_rows(con, dataset_id) -> list[ModelRow]:
    rows = con.execute(
        """SELECT CAST(model_id AS VARCHAR), name, spec, dim FROM embedding_model
           WHERE dataset_id = $1 ORDER BY created_at, name""",
        [str(dataset_id)],
    ).fetchall()
    return [ModelRow(*r) for r in rows]


def find_model(con, dataset_id, name: str) -> ModelRow | None:
    for row in model_rows(con, dataset_id):
        if row.name == name:
            return row
    return None


def ensure_model(con, dataset_id, name: str, spec: str, dim: int) -> ModelRow:
    """The model row named ``name``, created when missing; its dimension must match."""
    row = find_model(con, dataset_id, name)
    if row is not None:
        if row.dim != dim:
            raise EmbeddingError(
                f"Embedding model {name!r} stores {row.dim}-d vectors in this dataset; got "
                f"{dim}-d vectors. Use another name for a different model."
            )
        return row
    model_id = str(uuid.uuid4())
    con.execute(
        "INSERT INTO embedding_model VALUES ($1, $2, $3, $4, $5, $6)",
        [model_id, str(dataset_id), name, spec, int(dim), dt.datetime.now()],
    )
    return ModelRow(model_id, name, spec, int(dim))


# -- writes -------------------------------------------------------------------------------------
_versions = itertools.count(1)
_version = {"value": 0}


def bump() -> None:
    """Mark every cached matrix stale (called after any write to `embedding`)."""
    _version["value"] = next(_versions)


def _vector_table(sample_ids: Any, vectors: np.ndarray):
    import pyarrow as pa

    ids = (
        sample_ids
        if isinstance(sample_ids, pa.Array)
        else pa.array([str(s) for s in sample_ids], pa.string())
    )
    flat = pa.array(np.ascontiguousarray(vectors, dtype=np.float32).ravel())
    return pa.table(
        {"sample_id": ids, "vector": pa.FixedSizeListArray.from_arrays(flat, vectors.shape[1])}
    )


_INSERT_ROWS = 50_000


def insert_vectors(con, model_id: str, sample_ids: Any, vectors: np.ndarray) -> None:
    """One INSERT for a whole batch (an Arrow table registered as a view, zero-copy)."""
    if len(vectors) == 0:
        return
    # Large bring-your-own sets go in slices so the Arrow copy stays ~100 MB.
    step = _INSERT_ROWS
    for start in range(0, len(vectors), step):
        chunk_ids = sample_ids[start : start + step]
        con.register("_ls_embedding_batch", _vector_table(chunk_ids, vectors[start : start + step]))
        try:
            con.execute(
                """INSERT INTO embedding (sample_id, model_id, vector)
                   SELECT CAST(sample_id AS UUID), $1, CAST(vector AS FLOAT[])
                   FROM _ls_embedding_batch""",
                [model_id],
            )
        finally:
            con.unregister("_ls_embedding_batch")
    bump()


def delete_vectors(con, model_id: str, sample_ids: Any) -> None:
    import pyarrow as pa

    con.register(
        "_ls_embedding_ids",
        pa.table({"sample_id": pa.array([str(s) for s in sample_ids], pa.string())}),
    )
    try:
        con.execute(
            """DELETE FROM embedding WHERE model_id = $1
               AND sample_id IN (SELECT CAST(sample_id AS UUID) FROM _ls_embedding_ids)""",
            [model_id],
        )
    finally:
        con.unregister("_ls_embedding_ids")
    bump()


# -- reads by sample -----------------------------------------------------------------------------
def embedded_ids(con, model_id: str, ids: list[str]) -> set[str]:
    """The ids among ``ids`` that have a vector of ``model_id``."""
    rows = con.execute(
        """SELECT CAST(sample_id AS VARCHAR) FROM embedding
           WHERE model_id = $1 AND sample_id IN (SELECT unnest($2::UUID[]))""",
        [model_id, ids],
    ).fetchall()
    return {r[0] for r in rows}


def images_without_vector(
    con, dataset_id, model_id: str | None, subquery: tuple[str, list] | None = None
) -> pl.DataFrame:
    """sample_id (str), file_path_abs of the dataset's image samples with no vector of
    ``model_id`` (all of them when None), restricted to an (sql, params) subquery of sample
    ids when given; in insertion order."""
    sub_sql, params = subquery if subquery is not None else ("", [])
    params = list(params)
    params.append(str(dataset_id))
    sql = (
        "SELECT CAST(s.sample_id AS VARCHAR) AS sample_id, s.file_path_abs FROM sample s "
        f"WHERE s.dataset_id = ${len(params)} AND s.kind = 'image'"
    )
    if model_id is not None:
        params.append(model_id)
        sql += (
            " AND NOT EXISTS (SELECT 1 FROM embedding e WHERE e.sample_id = s.sample_id "
            f"AND e.model_id = ${len(params)})"
        )
    if subquery is not None:
        sql += f" AND s.sample_id IN ({sub_sql})"
    return query_frame(sql + " ORDER BY s.sample_idx", params, con)


def with_vector_sql() -> str:
    """A condition on the sample alias ``s`` for a ``RawCondition``: the sample has a vector
    of the model whose id fills ``$p0``. The samples a similarity search scores, selected
    without reading a vector."""
    return (
        "s.sample_id IN (SELECT e.sample_id FROM embedding e WHERE e.model_id = CAST($p0 AS UUID))"
    )


# -- reads for the approximate index (embed/_ann.py): never the whole float matrix at once ----
def vector_count(con, model_id: str) -> int:
    row = con.execute("SELECT count(*) FROM embedding WHERE model_id = $1", [model_id]).fetchone()
    return int(row[0]) if row else 0


def ids_of_hashes_in_query(
    con, model_id: str, hashes: np.ndarray, subquery: tuple[str, list]
) -> tuple[list[str], np.ndarray]:
    """(sample ids, id hashes) of the model's vectors whose id hash is in ``hashes`` and
    whose sample the (sql, params) subquery selects. Reads ids only, never the vectors."""
    sql, params = subquery
    n = len(params)
    table = con.sql(
        f"""SELECT CAST(sample_id AS VARCHAR) AS sample_id, hash(sample_id) AS h
            FROM embedding WHERE model_id = ${n + 1}
            AND hash(sample_id) IN (SELECT unnest(${n + 2}::UBIGINT[]))
            AND sample_id IN (SELECT sample_id FROM ({sql}) _q)""",
        params=[*params, model_id, [int(h) for h in np.unique(hashes)]],
    ).to_arrow_table()
    return table.column("sample_id").to_pylist(), np.asarray(
        table.column("h").to_numpy(), dtype=np.uint64
    )


def vector_fingerprints(con, model_id: str) -> tuple[np.ndarray, np.ndarray]:
    """(hash(sample_id) as uint64, first vector component) of every vector of the model:
    12 bytes a row, enough to tell which vectors arrived, went or changed."""
    got = con.sql(
        "SELECT hash(sample_id) AS h, vector[1] AS f FROM embedding WHERE model_id = $1",
        params=[model_id],
    ).fetchnumpy()
    return np.asarray(got["h"], dtype=np.uint64), np.asarray(got["f"], dtype=np.float32)


def vector_batches(con, model_id: str, dim: int, rows: int = 100_000):
    """Every vector of the model as (hashes uint64, float32[m, dim]) batches."""
    reader = con.sql(
        "SELECT hash(sample_id) AS h, vector FROM embedding WHERE model_id = $1",
        params=[model_id],
    ).to_arrow_reader(rows)
    for batch in reader:
        if batch.num_rows:
            yield (
                np.asarray(batch.column(0).to_numpy(), dtype=np.uint64),
                _flatten_array(batch.column(1), dim),
            )


def vectors_by_hashes(
    con, model_id: str, dim: int, hashes: np.ndarray
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(sample ids, hashes, vectors) of the model's vectors whose id hash is in ``hashes``."""
    table = con.sql(
        """SELECT CAST(sample_id AS VARCHAR) AS sample_id, hash(sample_id) AS h, vector
           FROM embedding WHERE model_id = $1 AND hash(sample_id) IN (SELECT unnest($2::UBIGINT[]))""",
        params=[model_id, [int(h) for h in np.unique(hashes)]],
    ).to_arrow_table()
    return (
        table.column("sample_id").to_pylist(),
        np.asarray(table.column("h").to_numpy(), dtype=np.uint64),
        _flatten(table.column("vector"), dim),
    )


def vectors_of_ids(con, model_id: str, dim: int, ids: list[str]) -> tuple[np.ndarray, list[str]]:
    """Vectors of the given sample ids, in their order, and the ids that have none."""
    table = con.sql(
        """SELECT CAST(sample_id AS VARCHAR) AS sample_id, vector FROM embedding
           WHERE model_id = $1 AND sample_id IN (SELECT unnest($2::UUID[]))""",
        params=[model_id, ids],
    ).to_arrow_table()
    found = dict(
        zip(
            table.column("sample_id").to_pylist(),
            _flatten(table.column("vector"), dim),
            strict=True,
        )
    )
    missing = [i for i in ids if i not in found]
    return np.stack([found[i] for i in ids if i in found]) if found else np.zeros(
        (0, dim), np.float32
    ), missing


# -- the matrix cache ---------------------------------------------------------------------------
@dataclass
class Matrix:
    """All vectors of one model: ``ids[i]`` (uuid text) is the sample of ``vectors[i]``.

    Queries name their samples by a SQL subquery. Fetching a million UUIDs as text and
    joining them is slow, so rows are found by DuckDB's 64-bit ``hash(sample_id)`` instead:
    ``hashes`` holds the hash of each row. That is exact because the cache
    is only used while every sample id of the dataset has a distinct hash (checked when the
    cache is built, and the cache is rebuilt when the dataset gains samples); in the
    practically impossible case of a collision, ``hash_exact`` is False and text ids are used.
    """

    model: ModelRow
    ids: pl.Series
    vectors: np.ndarray
    hashes: np.ndarray
    hash_exact: bool
    key: tuple

    def __post_init__(self) -> None:
        self._order = np.argsort(self.hashes, kind="stable")
        self._sorted = self.hashes[self._order]
        self._index: pl.DataFrame | None = None

    def __len__(self) -> int:
        return len(self.vectors)

    def rows_of(self, con, subquery: tuple[str, list]) -> np.ndarray:
        """Sorted row positions of the embedded samples that a (sql, params) subquery selects."""
        sql, params = subquery
        if not self.hash_exact:
            wanted = query_frame(
                f"SELECT DISTINCT CAST(sample_id AS VARCHAR) AS sample_id FROM ({sql}) _q",
                params,
                con,
            )
            return np.sort(self.index().join(wanted, on="sample_id", how="semi")["row"].to_numpy())
        found = con.sql(
            f"SELECT DISTINCT hash(sample_id) AS h FROM ({sql}) _q", params=params or None
        ).fetchnumpy()["h"]
        return self.rows_of_hashes(np.asarray(found, dtype=np.uint64))

    def rows_of_hashes(self, hashes: np.ndarray) -> np.ndarray:
        if len(self._sorted) == 0 or len(hashes) == 0:
            return np.zeros(0, dtype=np.int64)
        hashes = np.sort(hashes)  # sorted probes make searchsorted cache-friendly
        pos = np.minimum(np.searchsorted(self._sorted, hashes), len(self._sorted) - 1)
        hit = self._sorted[pos] == hashes
        return np.sort(self._order[pos[hit]])

    def index(self) -> pl.DataFrame:
        """Frame (sample_id, row) for joins by id."""
        if self._index is None:
            self._index = pl.DataFrame(
                {"sample_id": self.ids, "row": np.arange(len(self.ids), dtype=np.int64)}
            )
        return self._index

    def rows_of_ids(self, sample_ids: list[str]) -> tuple[np.ndarray, list[str]]:
        """Rows of the given ids, in their order, and the ids that have no vector."""
        wanted = pl.DataFrame({"sample_id": pl.Series(sample_ids, dtype=pl.Utf8)})
        found = wanted.join(self.index(), on="sample_id", how="left", maintain_order="left")
        missing = found.filter(pl.col("row").is_null())["sample_id"].to_list()
        return found["row"].drop_nulls().to_numpy(), missing


_cache: dict[str, Matrix] = {}
_cache_lock = threading.Lock()
_CACHE_MAX = 2


def table_state(con, dataset_id, model: ModelRow) -> tuple:
    """What the cache is valid for: embedding count, sample count, our write counter."""
    row = con.execute(
        """SELECT (SELECT count(*) FROM embedding WHERE model_id = $1),
                  (SELECT count(*) FROM sample WHERE dataset_id = $2)""",
        [model.model_id, str(dataset_id)],
    ).fetchone()
    return (row[0], row[1], _version["value"])


def load_matrix(con, dataset_id, model: ModelRow) -> Matrix:
    """The cached matrix of ``model``, re-read from the DB when it changed."""
    key = table_state(con, dataset_id, model)
    with _cache_lock:
        hit = _cache.get(model.model_id)
        if hit is not None and hit.key == key:
            return hit
    table = con.sql(
        """SELECT CAST(sample_id AS VARCHAR) AS sample_id, hash(sample_id) AS h, vector
           FROM embedding WHERE model_id = $1""",
        params=[model.model_id],
    ).to_arrow_table()
    vectors = _flatten(table.column("vector"), model.dim)
    ids = (
        pl.Series("sample_id", table.column("sample_id").combine_chunks(), dtype=pl.Utf8)
        if table.num_rows
        else pl.Series("sample_id", [], dtype=pl.Utf8)
    )
    hashes = np.asarray(table.column("h").to_numpy(), dtype=np.uint64)
    distinct = con.execute(
        "SELECT count(*) = count(DISTINCT hash(sample_id)) FROM sample WHERE dataset_id = $1",
        [str(dataset_id)],
    ).fetchone()[0]
    matrix = Matrix(model, ids, vectors, hashes, bool(distinct), key)
    with _cache_lock:
        _cache.pop(model.model_id, None)
        while len(_cache) >= _CACHE_MAX:
            _cache.pop(next(iter(_cache)))
        _cache[model.model_id] = matrix
    return matrix


def _flatten_array(array, dim: int) -> np.ndarray:
    flat = array.flatten().to_numpy(zero_copy_only=False)
    return np.ascontiguousarray(flat.reshape(-1, dim), dtype=np.float32)


def _flatten(column, dim: int) -> np.ndarray:
    if column.num_chunks == 0 or len(column) == 0:
        return np.zeros((0, dim), dtype=np.float32)
    parts = [chunk.flatten().to_numpy(zero_copy_only=False) for chunk in column.chunks]
    flat = np.concatenate(parts) if len(parts) > 1 else parts[0]
    return np.ascontiguousarray(flat.reshape(-1, dim), dtype=np.float32)
