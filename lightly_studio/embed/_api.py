"""The public embedding functions that Dataset, DatasetQuery and Sample delegate to."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import polars as pl

from lightly_studio.db import db_file, get_connection, transaction
from lightly_studio.embed import _ann
from lightly_studio.embed._spec import parse_spec, resolve_spec
from lightly_studio.embed._vectors import (
    as_float32_matrix,
    l2_normalise,
    max_scores,
    top_k,
    typicality,
)
from lightly_studio.embed.models import CUSTOM_PREFIX, register_embedding_model, registered_model
from lightly_studio.errors import EmbeddingError, QueryError
from lightly_studio.query import DatasetRef, SampleQuery
from lightly_studio.query.expressions import MatchExpression, RawCondition
from lightly_studio.store import embeddings as _store
from lightly_studio.store import projections
from lightly_studio.store import samples as sample_store
from lightly_studio.store._ids import ids_subquery
from lightly_studio.store.metadata import set_metadata_values
from lightly_studio.store.tags import get_tag_id, tagged_subquery

log = logging.getLogger("lightly_studio")


class EmbeddingsUnavailableWarning(UserWarning):
    """Embeddings were not computed (weights unavailable); samples are indexed without them."""


class UnreadableImagesWarning(UserWarning):
    """Some images could not be decoded; their samples have no embedding."""


def _con():
    return get_connection()


def _ids_subquery(sample_ids: Any) -> tuple[str, list]:
    """An (sql, params) subquery as is; ids (Sample objects, a Series) as one of them."""
    if isinstance(sample_ids, pl.Series) or (
        isinstance(sample_ids, tuple) and len(sample_ids) == 2 and isinstance(sample_ids[0], str)
    ):
        return ids_subquery(sample_ids)
    return ids_subquery([getattr(s, "sample_id", s) for s in sample_ids])


# -- which model ------------------------------------------------------------------------------
# Model specs whose missing weights this process has warned about.
_WARNED_UNAVAILABLE: set[str] = set()


def load_or_warn(model: Any, spec: str) -> Any:
    """``model`` itself, or the open_clip model of ``spec`` loaded now; None after one
    ``EmbeddingsUnavailableWarning`` when its weights cannot be had (offline)."""
    if model is not None:
        return model
    from lightly_studio.embed._open_clip import ModelUnavailableError, load_model

    try:
        return load_model(spec)
    except ModelUnavailableError as exc:
        # One message per process and model, as a warning only (a log record too would print
        # it twice): `make demo` indexes two datasets, and Python's own once-per-location rule
        # forgets what it showed whenever a library touches the warning filters.
        if spec not in _WARNED_UNAVAILABLE:
            _WARNED_UNAVAILABLE.add(spec)
            warnings.warn(str(exc), EmbeddingsUnavailableWarning, stacklevel=3)
        return None


def _model_for_compute(embedding_model: Any) -> tuple[Any | None, str, str]:
    """(loaded or custom model object or None, stored name, stored spec)."""
    if embedding_model is not None and not isinstance(embedding_model, str):
        name = register_embedding_model(embedding_model)
        return embedding_model, name, CUSTOM_PREFIX + name
    if isinstance(embedding_model, str):
        custom = registered_model(embedding_model)
        if custom is not None:
            name = embedding_model.removeprefix(CUSTOM_PREFIX)
            return custom, name, CUSTOM_PREFIX + name
    spec = str(parse_spec(resolve_spec(embedding_model)))
    return None, spec, spec


def _resolve_model(dataset: DatasetRef, model_name: str | None) -> _store.ModelRow:
    rows = _store.model_rows(_con(), dataset.dataset_id)
    if not rows:
        raise EmbeddingError(
            f"Dataset {dataset.name!r} has no embeddings yet. Run dataset.compute_embeddings() "
            "(needs model weights) or dataset.add_embeddings(name, sample_ids, vectors)."
        )
    if model_name is None:
        if len(rows) == 1:
            return rows[0]
        try:
            default = str(parse_spec(resolve_spec(None)))
        except EmbeddingError:
            default = None
        by_name: dict[str | None, _store.ModelRow] = {r.name: r for r in rows}
        return by_name.get(default) or rows[-1]
    for row in rows:
        if row.name == model_name:
            return row
    if model_name.startswith("open_clip:"):
        canonical = str(parse_spec(model_name))
        for row in rows:
            if row.name == canonical:
                return row
    names = ", ".join(repr(r.name) for r in rows)
    raise EmbeddingError(
        f"Dataset {dataset.name!r} has no embeddings of model {model_name!r} (it has: {names})."
    )


def resolve_model_name(dataset: DatasetRef, model_name: str | None = None) -> str:
    """The stored model that ``model_name`` names (None: the one reads use by default)."""
    return _resolve_model(dataset, model_name).name


def embedding_model_names(dataset: DatasetRef) -> list[str]:
    """Names of the models with vectors stored for ``dataset``, oldest first."""
    return [r.name for r in _store.model_rows(_con(), dataset.dataset_id)]


# -- computing and adding -----------------------------------------------------------------------
def compute_embeddings(
    dataset: DatasetRef,
    sample_ids: Any = None,
    embedding_model: Any = None,
    *,
    batch_size: int | None = None,
    num_workers: int | None = None,
    progress: bool = True,
    engine: str = "local",
    ray_address: str | None = None,
    num_gpus_per_worker: float = 0.0,
    shard_dir: str | None = None,
) -> int:
    """Embed the dataset's image samples that have no vector of the model yet.

    ``embedding_model``: a spec ``open_clip:<arch>:<tag | checkpoint path | local-dir:folder |
    random>``, the name of a registered custom model, or a model object (see
    ``lightly_studio.embed.models``); default ``$LIGHTLY_STUDIO_EMBEDDING_MODEL`` or
    ``open_clip:ViT-B-32:laion2b_s34b_b79k``. ``sample_ids`` limits the work to those samples.
    Every finished batch is committed, so an interrupted run resumes where it stopped.
    When the weights cannot be obtained (offline), warns once and returns 0.
    Returns the number of vectors stored.

    ``engine="ray"`` runs the same model on a Ray cluster (``ray_address``, or a local one):
    ``num_workers`` actors with ``num_gpus_per_worker`` GPUs each write Parquet shards to
    ``shard_dir`` (default beside the database; give shared storage for a remote cluster),
    which this process then stores in one step; see ``embed/_ray.py``.
    """
    from lightly_studio.embed._pipeline import Failures, embed_paths

    if engine not in ("local", "ray"):
        raise EmbeddingError(f"engine must be 'local' or 'ray', not {engine!r}.")
    model, name, spec = _model_for_compute(embedding_model)
    con = _con()
    existing = _store.find_model(con, dataset.dataset_id, name)
    todo = _missing_samples(con, dataset, existing, sample_ids)
    if todo.is_empty():
        return 0
    if engine == "ray":
        if model is not None or not spec.startswith("open_clip:"):
            raise EmbeddingError(
                "engine='ray' runs open_clip specs (workers load the model from its spec); "
                f"{name!r} is a model object or a registered custom model."
            )
        return _compute_on_ray(
            dataset, existing, name, spec, todo,
            shard_dir=shard_dir, ray_address=ray_address,
            num_workers=num_workers or 2, num_gpus_per_worker=num_gpus_per_worker,
            batch_size=batch_size or 32, progress=progress,
        )  # fmt: skip
    model = load_or_warn(model, spec)
    if model is None:
        return 0
    ids = todo["sample_id"].to_arrow()
    paths = todo["file_path_abs"].to_list()
    failures = Failures()
    row = existing
    stored = 0
    for positions, vectors in embed_paths(
        model,
        paths,
        batch_size=batch_size,
        num_workers=num_workers,
        progress=progress,
        failures=failures,
    ):
        row = _store_batch(dataset, row, name, spec, ids.take(positions), vectors)
        stored += len(positions)
    if failures.paths:
        warnings.warn(failures.summary(), UnreadableImagesWarning, stacklevel=2)
    return stored


def _compute_on_ray(
    dataset: DatasetRef,
    existing: _store.ModelRow | None,
    name: str,
    spec: str,
    todo: pl.DataFrame,
    *,
    shard_dir: str | None,
    **options: Any,
) -> int:
    import shutil

    from lightly_studio.embed import _ray

    if shard_dir is None:
        folder = uuid.uuid5(uuid.NAMESPACE_URL, f"{dataset.dataset_id}/{name}")
        shard_dir = f"{db_file()}.shards/{folder}"
    ids = [str(i) for i in todo["sample_id"].to_list()]
    outcome = _ray.run(ids, todo["file_path_abs"].to_list(), spec, shard_dir, **options)
    if outcome.failed:
        warnings.warn(
            f"{len(outcome.failed)} image(s) could not be read and have no embedding: "
            + "; ".join(outcome.failed[:3]),
            UnreadableImagesWarning,
            stacklevel=3,
        )
    shard_ids, vectors = _ray.read_shards(shard_dir)
    wanted = set(ids)
    keep = [i for i, s in enumerate(shard_ids) if s in wanted]
    stored = 0
    if keep:
        _store_batch(dataset, existing, name, spec, [shard_ids[i] for i in keep], vectors[keep])
        stored = len(keep)
    if shard_dir.startswith(db_file()):  # our own folder: the vectors are stored now
        shutil.rmtree(shard_dir, ignore_errors=True)
    log.info(
        "Ray: %d vectors computed, %d taken from an earlier run's shards, %d stored",
        outcome.computed, outcome.from_shards, stored,
    )  # fmt: skip
    return stored


def embed_decoded_images(
    dataset: DatasetRef,
    sample_ids: Any,
    read_images: Callable[[list[str], int], Iterable[tuple[str, Any]]],
    embedding_model: Any = None,
    *,
    batch_size: int = 64,
    progress: bool = True,
) -> int:
    """Embed samples whose pixels the caller decodes (video frames, …) and store the vectors
    as ``compute_embeddings`` does: same model names, one commit per batch (resumable).

    ``sample_ids``: the samples to cover; those with a vector of the model already are
    skipped. ``read_images(todo_ids, side)`` is called once with the rest and the model's
    input side in pixels (decoding to about that size is enough); it yields
    ``(sample_id, image)`` with a PIL image, a uint8 ``[h, w, 3]`` RGB array, or None for an
    image that could not be read (it gets no vector). ``embedding_model`` as in
    ``compute_embeddings``. Returns the number of vectors stored; without weights (offline)
    warns once and returns 0.
    """
    from PIL import Image
    from tqdm.auto import tqdm

    model, name, spec = _model_for_compute(embedding_model)
    con = _con()
    row = _store.find_model(con, dataset.dataset_id, name)
    todo = [str(getattr(s, "sample_id", s)) for s in sample_ids]
    if row is not None and todo:
        done = _store.embedded_ids(con, row.model_id, todo)
        todo = [i for i in todo if i not in done]
    if not todo:
        return 0
    model = load_or_warn(model, spec)
    if model is None:
        return 0
    fast = hasattr(model, "forward_uint8") and hasattr(model, "prepare")
    side = max(getattr(model, "image_size", (224, 224)))
    ids: list[str] = []
    items: list = []
    stored = 0
    with tqdm(total=len(todo), unit="img", desc="Embedding", disable=not progress) as bar:
        for sample_id, image in read_images(todo, side):
            bar.update(1)
            if image is None:
                continue
            if isinstance(image, np.ndarray):
                image = Image.fromarray(image)
            ids.append(str(sample_id))
            items.append(model.prepare(image) if fast else image)
            if len(ids) < batch_size:
                continue
            row = _store_batch(dataset, row, name, spec, ids, _forward(model, items, fast))
            stored += len(ids)
            ids, items = [], []
        if ids:
            row = _store_batch(dataset, row, name, spec, ids, _forward(model, items, fast))
            stored += len(ids)
    return stored


def _forward(model: Any, items: list, fast: bool) -> np.ndarray:
    if fast:  # uint8 arrays at the model's input size
        return model.forward_uint8(np.stack(items))
    return l2_normalise(as_float32_matrix(model.embed_images(items)))


def _store_batch(
    dataset: DatasetRef,
    row: _store.ModelRow | None,
    name: str,
    spec: str,
    ids: Any,
    vectors: np.ndarray,
) -> _store.ModelRow:
    """Insert one batch in its own transaction; creates the model row on the first."""
    with transaction() as tx:
        if row is None:
            row = _store.ensure_model(tx, dataset.dataset_id, name, spec, vectors.shape[1])
        elif vectors.shape[1] != row.dim:
            raise EmbeddingError(
                f"Model {name!r} returned {vectors.shape[1]}-d vectors; this dataset stores "
                f"{row.dim}-d vectors under that name."
            )
        _store.insert_vectors(tx, row.model_id, ids, vectors)
    return row


def _missing_samples(
    con, dataset: DatasetRef, model: _store.ModelRow | None, sample_ids: Any
) -> pl.DataFrame:
    return _store.images_without_vector(
        con,
        dataset.dataset_id,
        None if model is None else model.model_id,
        None if sample_ids is None else _ids_subquery(sample_ids),
    )


def add_embeddings(dataset: DatasetRef, name: str, sample_ids: Any, vectors: Any) -> int:
    """Store your own vectors (numpy or torch, one row per sample id) under model ``name``.

    Vectors are L2-normalised. A sample that already has a vector of ``name`` gets the new
    one. Register an encoder with the same name to search these vectors by text.
    """
    if not isinstance(name, str) or not name:
        raise EmbeddingError(f"An embedding model name must be a non-empty string, got {name!r}.")
    ids = [str(getattr(s, "sample_id", s)) for s in sample_ids]
    matrix = l2_normalise(as_float32_matrix(vectors))
    if len(ids) != len(matrix):
        raise EmbeddingError(
            f"add_embeddings({name!r}): {len(ids)} sample ids but {len(matrix)} vectors."
        )
    if len(set(ids)) != len(ids):
        raise EmbeddingError(f"add_embeddings({name!r}): sample ids repeat.")
    if not ids:
        return 0
    con = _con()
    try:
        known = sample_store.known_sample_ids(con, dataset.dataset_id, ids)
    except Exception as exc:  # a malformed id fails the UUID cast
        raise EmbeddingError(f"add_embeddings({name!r}): invalid sample id ({exc}).") from exc
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise EmbeddingError(
            f"add_embeddings({name!r}): {len(unknown)} sample id(s) are not in dataset "
            f"{dataset.name!r}, e.g. {unknown[0]}."
        )
    existing = _store.find_model(con, dataset.dataset_id, name)
    spec = existing.spec if existing else CUSTOM_PREFIX + name
    with transaction() as tx:
        row = _store.ensure_model(tx, dataset.dataset_id, name, spec, matrix.shape[1])
        if existing is not None:
            _store.delete_vectors(tx, row.model_id, ids)
        _store.insert_vectors(tx, row.model_id, ids, matrix)
    return len(ids)


# -- reading ------------------------------------------------------------------------------------
def get_embeddings(
    dataset: DatasetRef, sample_ids_subquery: Any = None, model_name: str | None = None
) -> tuple[list[uuid.UUID], np.ndarray]:
    """Ids and float32 vectors (L2-normalised) of the dataset's embedded samples.

    ``sample_ids_subquery``: an (sql, params) subquery or a list of ids to restrict to.
    Rows follow the stored order, not the subquery's order.
    """
    con = _con()
    matrix = _store.load_matrix(con, dataset.dataset_id, _resolve_model(dataset, model_name))
    if sample_ids_subquery is None:
        rows = None
    else:
        rows = matrix.rows_of(con, _ids_subquery(sample_ids_subquery))
    ids = matrix.ids if rows is None else matrix.ids.gather(rows)
    vectors = matrix.vectors if rows is None else matrix.vectors[rows]
    return [uuid.UUID(s) for s in ids.to_list()], vectors


def _query_vectors(
    dataset: DatasetRef,
    model: _store.ModelRow,
    matrix: _store.Matrix,
    text: str | None,
    samples: Any,
) -> np.ndarray:
    if text is not None:
        return _embed_text(model, text)
    ids = [str(getattr(s, "sample_id", s)) for s in samples]
    if not ids:
        raise QueryError("sort_by_similarity(samples=[]) needs at least one sample.")
    rows, missing = matrix.rows_of_ids(ids)
    if missing:
        _raise_missing(dataset, model, missing)
    return matrix.vectors[rows]


def _raise_missing(dataset: DatasetRef, model: _store.ModelRow, missing: list[str]) -> None:
    raise EmbeddingError(
        f"Sample {missing[0]} has no embedding of model {model.name!r} in dataset "
        f"{dataset.name!r}"
        + (f" ({len(missing)} samples lack one)" if len(missing) > 1 else "")
        + "; run dataset.compute_embeddings() first."
    )


def _embed_text(model: _store.ModelRow, text: str) -> np.ndarray:
    if not isinstance(text, str) or not text.strip():
        raise QueryError(f"sort_by_similarity(text=...) needs a non-empty string, got {text!r}.")
    if model.spec.startswith(CUSTOM_PREFIX):
        encoder = registered_model(model.spec)
        if encoder is None or not callable(getattr(encoder, "embed_texts", None)):
            raise EmbeddingError(
                f"Embedding model {model.name!r} has no text encoder in this process: register "
                "one with lightly_studio.embed.models.register_embedding_model(model, "
                f"name={model.name!r}) (it needs embed_texts)."
            )
        vector = l2_normalise(as_float32_matrix(encoder.embed_texts([text])))
    else:
        from lightly_studio.embed._open_clip import load_model

        vector = load_model(model.spec).embed_texts([text])
    if vector.shape[1] != model.dim:
        raise EmbeddingError(
            f"The text encoder of {model.name!r} returns {vector.shape[1]}-d vectors; the "
            f"stored image vectors are {model.dim}-d."
        )
    return vector


#: Largest query image accepted (encoded bytes) and its largest decoded size (pixels): a
#: search image is a photo, not a reason to decode a decompression bomb.
MAX_QUERY_IMAGE_BYTES = 8 * 1024 * 1024
MAX_QUERY_IMAGE_PIXELS = 50_000_000


def embed_image_bytes(
    dataset: DatasetRef, data: bytes, model_name: str | None = None
) -> tuple[str, np.ndarray]:
    """(model name, its L2-normalised vector [1, dim]) of an encoded image, with the dataset's
    stored embedding model. The image is decoded and embedded in memory and never written
    anywhere. EmbeddingError names what is wrong (too large, not an image, no image encoder)."""
    import io

    from PIL import Image, UnidentifiedImageError

    if not data:
        raise EmbeddingError("The search image is empty.")
    if len(data) > MAX_QUERY_IMAGE_BYTES:
        raise EmbeddingError(
            f"The search image is {len(data) / 2**20:.1f} MB; the limit is "
            f"{MAX_QUERY_IMAGE_BYTES // 2**20} MB."
        )
    model = _resolve_model(dataset, model_name)
    try:
        with Image.open(io.BytesIO(data)) as im:
            if im.width * im.height > MAX_QUERY_IMAGE_PIXELS:
                raise EmbeddingError(
                    f"The search image is {im.width}x{im.height} pixels; the limit is "
                    f"{MAX_QUERY_IMAGE_PIXELS:,} pixels."
                )
            image = im.convert("RGB")
    except (UnidentifiedImageError, OSError) as exc:
        raise EmbeddingError(f"The search image cannot be read as an image: {exc}") from None
    if model.spec.startswith(CUSTOM_PREFIX):
        encoder = registered_model(model.spec)
        if encoder is None or not callable(getattr(encoder, "embed_images", None)):
            raise EmbeddingError(
                f"Embedding model {model.name!r} has no image encoder in this process: "
                "register one with lightly_studio.embed.models.register_embedding_model(model, "
                f"name={model.name!r})."
            )
        vector = l2_normalise(as_float32_matrix(encoder.embed_images([image])))
    else:
        from lightly_studio.embed._open_clip import load_model

        vector = load_model(model.spec).embed_images([image])
    if vector.shape[1] != model.dim:
        raise EmbeddingError(
            f"The image encoder of {model.name!r} returns {vector.shape[1]}-d vectors; the "
            f"stored vectors are {model.dim}-d."
        )
    return model.name, vector


def similarity_scores(
    query: SampleQuery,
    text: str | None = None,
    samples: Any = None,
    model_name: str | None = None,
    *,
    k: int | None = None,
    vectors: np.ndarray | None = None,
    index_in_background: bool = False,
) -> pl.DataFrame:
    """Cosine similarity of each embedded sample of ``query`` to a text, example samples or
    query ``vectors`` (L2-normalised, of the model's dimension: e.g. ``embed_image_bytes``).

    With several example samples a sample's score is its highest similarity to any of them
    (so the examples themselves score 1.0). Samples without a vector are left out.
    Returns a frame (sample_id: str, similarity: f64), best first; ``k`` keeps the k best.
    Past 200k vectors the k best come from an approximate index, built on first use;
    ``index_in_background`` (a view's request) answers by the exact scan until it is built.
    """
    if sum(x is not None for x in (text, samples, vectors)) != 1:
        raise QueryError("sort_by_similarity() needs exactly one of text=... or samples=[...].")
    dataset = query.dataset
    con = _con()
    model = _resolve_model(dataset, model_name)
    if vectors is not None:
        queries = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
        if queries.shape[1] != model.dim:
            raise EmbeddingError(
                f"Query vectors are {queries.shape[1]}-d; model {model.name!r} stores "
                f"{model.dim}-d vectors."
            )
    subquery = query.sample_ids_subquery()
    stored = _store.vector_count(con, model.model_id)
    if k is not None and 0 < k < stored and stored >= _ann.ANN_MIN_VECTORS:
        given = queries if vectors is not None else None
        found = _search_index(
            con, dataset, model, subquery, text, samples, given, k, index_in_background
        )
        if found is not None:
            return found
    matrix = _store.load_matrix(con, dataset.dataset_id, model)
    if vectors is None:
        queries = _query_vectors(dataset, model, matrix, text, samples)
    n = len(matrix)
    if k is not None and 0 < k < n:
        count = sample_store.subquery_count(con, subquery)
        if count * 4 >= n:  # a broad query: rank everything, then keep the best in the query
            rows, scores = _best_rows_in_query(con, matrix, subquery, queries, k)
            return _score_frame(matrix, rows, scores)
    rows = matrix.rows_of(con, subquery)
    if len(rows) == n:
        scores = max_scores(matrix.vectors, queries)
    elif len(rows) * 4 < n or len(queries) > 1:
        scores = max_scores(matrix.vectors[rows], queries)
    else:  # a matvec over everything beats copying most of the matrix
        scores = max_scores(matrix.vectors, queries)[rows]
    order = top_k(scores, k)
    return _score_frame(matrix, rows[order], scores[order])


def with_vector(dataset: DatasetRef, model_name: str | None = None) -> MatchExpression:
    """The condition that keeps the samples ``similarity_scores`` would score: those with a
    vector of the model (None: the default one). Compiled into the query's SQL, so a set,
    a count or a chart over a search never reads a vector."""
    model = _resolve_model(dataset, model_name)
    return RawCondition(_store.with_vector_sql(), model.model_id)


def _score_frame(matrix: _store.Matrix, rows: np.ndarray, scores: np.ndarray) -> pl.DataFrame:
    return pl.DataFrame(
        {"sample_id": matrix.ids.gather(rows), "similarity": scores.astype(np.float64)}
    )


def _best_rows_in_query(
    con, matrix: _store.Matrix, subquery: tuple[str, list], queries: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Top-k rows of the query without listing its (many) samples: take the best candidates
    over all rows and ask DuckDB which of them the query holds, widening until k are found.
    The query holds at least a quarter of the rows, so 4k candidates usually suffice."""
    scores = max_scores(matrix.vectors, queries)
    m = min(len(matrix), max(8 * k, 256))
    while True:
        candidates = top_k(scores, m)
        ids = matrix.ids.gather(candidates).to_list()
        inside = sample_store.subquery_ids_among(con, subquery, ids)
        keep = np.fromiter((i in inside for i in ids), dtype=bool, count=len(ids))
        if keep.sum() >= k or m == len(matrix):
            rows = candidates[keep][:k]
            return rows, scores[rows]
        m = min(len(matrix), m * 8)


# Past this many candidates per query an approximate search buys nothing over the exact scan.
_ANN_MAX_CANDIDATES = 8192


def _search_index(
    con,
    dataset: DatasetRef,
    model: _store.ModelRow,
    subquery,
    text,
    samples,
    vectors: np.ndarray | None,
    k: int,
    in_background: bool = False,
) -> pl.DataFrame | None:
    """Top-k of a broad query from the approximate index, without the float matrix in memory.

    The index holds the float vectors (IVF-Flat, memory-mapped), so the similarities it
    returns are exact; DuckDB only maps the candidates' id hashes to sample ids and keeps
    those the query holds. With several query vectors a sample's score is its best over
    them; the result is final once its k-th score is at least every query's last candidate
    score (nothing outside the candidate lists can beat it), else the lists are widened.
    None (use the exact scan) for narrow queries, id-hash collisions or too few candidates.
    """
    if sample_store.subquery_count(con, subquery) * 4 < _store.vector_count(con, model.model_id):
        return None  # a narrow query: scanning its own vectors is cheap and exact
    key = _store.table_state(con, dataset.dataset_id, model)
    if in_background:
        ready = _ann.index_if_ready(con, db_file(), model, key, connect=get_connection)
        if ready is None:
            return None  # the exact scan answers while the index is built
        ann = ready
    else:
        ann = _ann.index_for(con, db_file(), model, key)
    if not ann.ids_distinct():
        return None  # index ids are id hashes; in the (practically impossible) collision, scan
    if vectors is not None:
        queries = vectors
    elif text is not None:
        queries = _embed_text(model, text)
    else:
        wanted = [str(getattr(s, "sample_id", s)) for s in samples]
        if not wanted:
            raise QueryError("sort_by_similarity(samples=[]) needs at least one sample.")
        queries, missing = _store.vectors_of_ids(con, model.model_id, model.dim, wanted)
        if missing:
            _raise_missing(dataset, model, missing)
    m = max(4 * k, 256)
    while m <= _ANN_MAX_CANDIDATES:
        sims, hashes = ann.search(queries, m)
        candidates, best = _best_per_hash(sims, hashes)
        ids, id_hashes = _store.ids_of_hashes_in_query(con, model.model_id, candidates, subquery)
        scores = best[np.searchsorted(candidates, id_hashes)]
        order = np.argsort(-scores, kind="stable")[:k]
        if len(order) == k and scores[order[-1]] >= sims[:, -1].max():
            return pl.DataFrame(
                {
                    "sample_id": pl.Series([ids[i] for i in order], dtype=pl.Utf8),
                    "similarity": scores[order].astype(np.float64),
                }
            )
        m *= 4
    return None


def _best_per_hash(sims: np.ndarray, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct hashes, each one's best similarity) over all queries' candidates."""
    found = np.isfinite(sims.ravel())
    flat_hashes, flat_sims = hashes.ravel()[found], sims.ravel()[found]
    order = np.lexsort((-flat_sims, flat_hashes))
    flat_hashes, flat_sims = flat_hashes[order], flat_sims[order]
    first = np.ones(len(flat_hashes), dtype=bool)
    first[1:] = flat_hashes[1:] != flat_hashes[:-1]
    return flat_hashes[first], flat_sims[first]


# -- metadata -------------------------------------------------------------------------------------
def compute_typicality_metadata(
    dataset: DatasetRef,
    metadata_name: str = "typicality",
    embedding_model_name: str | None = None,
    k: int = 20,
) -> str:
    """Store each embedded sample's typicality: mean cosine similarity to its k nearest
    neighbours (k=20 by default). Exact up to 20k samples; approximate (inverted-file search)
    above, 100k in seconds. Returns the metadata key."""

    if not isinstance(k, int) or k < 1:
        raise EmbeddingError(
            f"compute_typicality_metadata: k must be a positive integer, got {k!r}."
        )
    con = _con()
    matrix = _store.load_matrix(
        con, dataset.dataset_id, _resolve_model(dataset, embedding_model_name)
    )
    values = typicality(matrix.vectors, k=k)
    set_metadata_values(
        con,
        dataset.dataset_id,
        metadata_name,
        pl.DataFrame({"sample_id": matrix.ids, "value": values.astype(np.float64)}),
    )
    return metadata_name


def compute_similarity_metadata(
    dataset: DatasetRef,
    query_tag_name: str,
    metadata_name: str | None = None,
    embedding_model_name: str | None = None,
) -> str:
    """Store each embedded sample's highest cosine similarity to the samples tagged
    ``query_tag_name`` (tagged samples get 1.0). Default key:
    ``similarity_<tag>_<UTC time to the second>``. Returns the key."""

    con = _con()
    tag_id = get_tag_id(con, dataset.dataset_id, query_tag_name)
    if tag_id is None:
        raise QueryError(f"Dataset {dataset.name!r} has no tag {query_tag_name!r}.")
    model = _resolve_model(dataset, embedding_model_name)
    matrix = _store.load_matrix(con, dataset.dataset_id, model)
    rows = matrix.rows_of(con, tagged_subquery(tag_id))
    if len(rows) == 0:
        raise EmbeddingError(
            f"No sample tagged {query_tag_name!r} has an embedding of model {model.name!r}."
        )
    if metadata_name is None:
        stamp = dt.datetime.now(dt.timezone.utc).isoformat()[:19]
        metadata_name = f"similarity_{query_tag_name}_{stamp}"
    values = max_scores(matrix.vectors, matrix.vectors[rows])
    set_metadata_values(
        con,
        dataset.dataset_id,
        metadata_name,
        pl.DataFrame(
            {"sample_id": matrix.ids, "value": np.clip(values, -1.0, 1.0).astype(np.float64)}
        ),
    )
    return metadata_name


# -- projection -------------------------------------------------------------------------------
def compute_projection(
    dataset: DatasetRef, embedding_model_name: str | None = None, recompute: bool = False
) -> pl.DataFrame:
    """2-D coordinates (sample_id, x, y) of every embedded sample, for the embedding plot.

    The first call fits PaCMAP (after PCA to 50 dims) and stores the result. Later calls
    return the stored coordinates; samples embedded since are placed next to their nearest
    fitted neighbours (stored with fitted=false) and removed ones dropped, until
    ``recompute=True`` fits everything again.
    """
    from lightly_studio.embed._projection import place, project

    con = _con()
    model = _resolve_model(dataset, embedding_model_name)
    if not recompute:
        # The usual call (opening the plot): nothing new to place, nothing to drop. Answered
        # from the projection table alone: the vectors (2 GB at 1,000,000 x 512) are only
        # read when points must be fitted or placed.
        fitted_count, new_count, gone_count = projections.freshness(con, model.model_id)
        if fitted_count and not new_count and not gone_count:
            return projections.points(con, model.model_id)
    matrix = _store.load_matrix(con, dataset.dataset_id, model)
    stored = projections.points_with_fitted(con, model.model_id)
    index = matrix.index()
    known = stored.join(index, on="sample_id", how="inner")
    fitted = known.filter(pl.col("fitted"))
    if recompute or fitted.is_empty():
        xy, mask = project(matrix.vectors)
        frame = pl.DataFrame(
            {"sample_id": matrix.ids, "x": xy[:, 0], "y": xy[:, 1], "fitted": mask}
        )
        with transaction() as tx:
            projections.delete_all(tx, model.model_id)
            projections.insert_points(tx, model.model_id, frame)
        return frame.select("sample_id", "x", "y")
    new = index.join(stored, on="sample_id", how="anti")
    gone = stored.join(index, on="sample_id", how="anti")
    if not new.is_empty() or not gone.is_empty():
        fit_rows = fitted["row"].to_numpy()
        placed = place(
            matrix.vectors[new["row"].to_numpy()],
            matrix.vectors[fit_rows],
            fitted.select("x", "y").to_numpy().astype(np.float32),
        )
        added = pl.DataFrame(
            {"sample_id": new["sample_id"], "x": placed[:, 0], "y": placed[:, 1], "fitted": False}
        )
        with transaction() as tx:
            projections.delete_points(tx, model.model_id, gone)
            projections.insert_points(tx, model.model_id, added)
        known = pl.concat(
            [
                known.select("sample_id", "x", "y", "row"),
                added.select("sample_id", "x", "y").join(index, on="sample_id"),
            ]
        )
    return known.sort("row").select(
        "sample_id", pl.col("x").cast(pl.Float32), pl.col("y").cast(pl.Float32)
    )
