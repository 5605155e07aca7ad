"""Database side of selection: the candidate pool, and per-candidate arrays for the strategies.

The pool is the query's samples in insertion order, shuffled with the seed: the algorithms
break exact ties by position, so the seed decides ties and nothing else. Each loader returns
an array aligned with the pool plus a mask of candidates it can score; a candidate the
strategy cannot score (no embedding, no metadata value) is never selected.
"""

from __future__ import annotations

import sys
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from lightly_studio.db import get_connection, transaction
from lightly_studio.embed import get_embeddings
from lightly_studio.errors import SelectionError
from lightly_studio.query import DatasetRef, SampleQuery
from lightly_studio.store import annotations as annotations_store
from lightly_studio.store import labels as labels_store
from lightly_studio.store import metadata as metadata_store
from lightly_studio.store import samples as samples_store
from lightly_studio.store import tags as tags_store

if TYPE_CHECKING:
    from types import FrameType

Subquery = tuple[str, list]


@dataclass
class Pool:
    """The candidates of one selection run, in tie-break order."""

    dataset: DatasetRef
    sample_ids: list[str]  # pool position -> sample id
    subquery: Subquery  # SELECT of the pool's sample ids (unordered)

    def __len__(self) -> int:
        return len(self.sample_ids)

    def positions(self, frame: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """For a frame with a ``sample_id`` column: (row in frame, position in pool) pairs."""
        index = pl.DataFrame(
            {"sample_id": self.sample_ids, "_pos": np.arange(len(self.sample_ids), dtype=np.int64)}
        )
        rows = frame.select(pl.col("sample_id").cast(pl.Utf8)).with_row_index("_row")
        joined = rows.join(index, on="sample_id", how="inner")
        return joined["_row"].to_numpy().astype(np.int64), joined["_pos"].to_numpy()


def load_pool(query: SampleQuery, seed: int | None) -> Pool:
    subquery = query.sample_ids_subquery()
    ids = samples_store.ids_in_insertion_order(get_connection(), subquery)
    if seed is not None and len(ids) > 1:
        order = np.random.default_rng(seed).permutation(len(ids))
        ids = [ids[i] for i in order]
    return Pool(query.dataset, ids, subquery)


def tag_subquery(dataset: DatasetRef, tag_name: str, what: str) -> Subquery:
    """SELECT of the ids of the dataset's samples tagged ``tag_name``; error if no such tag."""
    con = get_connection()
    tag_id = tags_store.get_tag_id(con, dataset.dataset_id, tag_name)
    if tag_id is None:
        known = ", ".join(repr(t) for t in tags_store.tag_names(con, dataset.dataset_id)) or "none"
        raise SelectionError(
            f"{what}: dataset {dataset.name!r} has no tag {tag_name!r} (tags: {known})."
        )
    return tags_store.tagged_subquery(tag_id)


def tagged_ids(subquery: Subquery) -> set[str]:
    return set(samples_store.subquery_ids(get_connection(), subquery)["sample_id"].to_list())


# -- embeddings ---------------------------------------------------------------------------------
def _model_label(model_name: str | None) -> str:
    return "the default embedding model" if model_name is None else f"model {model_name!r}"


def pool_embeddings(pool: Pool, model_name: str | None) -> tuple[np.ndarray, np.ndarray]:
    """(N, d) float32 embeddings aligned with the pool (zero rows where missing), has-mask."""
    ids, vectors = get_embeddings(pool.dataset, pool.subquery, model_name)
    vectors = np.asarray(vectors, dtype=np.float32)
    has = np.zeros(len(pool), dtype=bool)
    if len(ids) == 0:
        raise SelectionError(
            f"None of the {len(pool)} samples of this query has an embedding for "
            f"{_model_label(model_name)} in dataset {pool.dataset.name!r}. Compute them with "
            f"dataset.compute_embeddings() (or add your own with dataset.add_embeddings())."
        )
    rows, positions = pool.positions(pl.DataFrame({"sample_id": [str(i) for i in ids]}))
    if len(positions) == len(pool) and np.array_equal(positions, np.arange(len(pool))):
        # Already in pool order: no copy of a possibly large matrix.
        aligned = vectors if np.array_equal(rows, positions) else vectors[rows]
    else:
        aligned = np.zeros((len(pool), vectors.shape[1]), dtype=np.float32)
        aligned[positions] = vectors[rows]
    has[positions] = True
    return aligned, has


def embeddings_of(
    dataset: DatasetRef, subquery: Subquery, model_name: str | None, what: str
) -> np.ndarray:
    """Embeddings of arbitrary samples (a preselected or query tag); may be empty."""
    ids, vectors = get_embeddings(dataset, subquery, model_name)
    vectors = np.asarray(vectors, dtype=np.float32)
    return vectors if len(ids) else np.zeros((0, max(vectors.shape[-1], 1)), np.float32)


# -- metadata -----------------------------------------------------------------------------------
def pool_metadata(pool: Pool, key: str) -> tuple[np.ndarray, np.ndarray]:
    """Float values of a numeric metadata key aligned with the pool (NaN where missing)."""
    con = get_connection()
    dataset = pool.dataset
    found = metadata_store.metadata_key(con, dataset.dataset_id, key)
    if found is None:
        known = ", ".join(
            f"{k!r} ({t})" for k, t in metadata_store.metadata_keys(con, dataset.dataset_id).items()
        )
        raise SelectionError(
            f"Metadata weighting: dataset {dataset.name!r} has no metadata key {key!r} "
            f"(keys: {known or 'none'})."
        )
    if found.value_type not in ("int", "float"):
        raise SelectionError(
            f"Metadata weighting needs a numeric key: {key!r} holds {found.value_type} values in "
            f"dataset {dataset.name!r}. Use an int or float metadata key."
        )
    frame = metadata_store.get_metadata_values(con, dataset.dataset_id, key, pool.subquery)
    values = np.full(len(pool), np.nan)
    rows, positions = pool.positions(frame)
    values[positions] = frame["value"].cast(pl.Float64).to_numpy()[rows]
    return values, ~np.isnan(values)


# -- annotations --------------------------------------------------------------------------------
def class_counts(subquery: Subquery, annotation_source: str | None) -> pl.DataFrame:
    """Annotation counts per (sample_id, label) for the samples of ``subquery``."""
    return annotations_store.label_counts(get_connection(), subquery, annotation_source)


@dataclass
class BalanceInputs:
    counts: np.ndarray  # (N, K) annotation counts per pool candidate and class bucket
    target: np.ndarray  # (K,) target shares, sum 1
    initial: np.ndarray  # (K,) counts of the preselected samples
    classes: list[str]  # bucket names ("<other>" for unnamed classes)


OTHER = "<other>"


def balance_inputs(
    pool: Pool,
    target_distribution: Any,
    annotation_source: str | None,
    preselected: Subquery | None,
) -> BalanceInputs:
    dataset = pool.dataset
    frame = class_counts(pool.subquery, annotation_source)
    pool_classes = sorted(set(frame["label"].to_list()))
    source = "" if annotation_source is None else f" from source {annotation_source!r}"
    if isinstance(target_distribution, dict):
        known = set(labels_store.label_names(get_connection(), dataset.dataset_id))
        unknown = [name for name in target_distribution if name not in known]
        if unknown:
            raise SelectionError(
                f"Annotation balancing: unknown class name(s) {', '.join(map(repr, unknown))} "
                f"in target_distribution; dataset {dataset.name!r} has classes "
                f"{', '.join(map(repr, sorted(known))) or 'none'}."
            )
        classes = list(target_distribution)
        shares = [float(v) for v in target_distribution.values()]
        others = [c for c in pool_classes if c not in target_distribution]
        if others:
            classes.append(OTHER)
            shares.append(max(1.0 - sum(shares), 0.0))
        mapping = {c: i for i, c in enumerate(classes)}
        mapping.update({c: len(classes) - 1 for c in others})
    else:
        if not pool_classes:
            raise SelectionError(
                f"Annotation balancing: the {len(pool)} samples of this query in dataset "
                f"{dataset.name!r} have no annotations{source}. Load labels first (e.g. "
                f"add_samples_from_coco / add_samples_from_yolo)."
            )
        classes = pool_classes
        mapping = {c: i for i, c in enumerate(classes)}
        shares = [1.0] * len(classes)  # "uniform"; "input" is set from the counts below
    counts = _count_matrix(pool, frame, mapping, len(classes))
    if target_distribution == "input":
        shares = counts.sum(axis=0).tolist()
    initial = np.zeros(len(classes))
    if preselected is not None:
        pre = class_counts(preselected, annotation_source)
        for label, n in zip(pre["label"].to_list(), pre["n"].to_list(), strict=True):
            if label in mapping:
                initial[mapping[label]] += n
    target = np.asarray(shares, dtype=np.float64)
    return BalanceInputs(counts, target / target.sum(), initial, classes)


def _count_matrix(
    pool: Pool, frame: pl.DataFrame, mapping: dict[str, int], n_classes: int
) -> np.ndarray:
    counts = np.zeros((len(pool), n_classes))
    if frame.height == 0:
        return counts
    labels = frame["label"].to_list()
    cls = np.array([mapping.get(label, -1) for label in labels], dtype=np.int64)
    rows, positions = pool.positions(frame)
    cls = cls[rows]
    n = frame["n"].to_numpy().astype(np.float64)[rows]
    keep = cls >= 0
    np.add.at(counts, (positions[keep], cls[keep]), n[keep])
    return counts


# -- result -------------------------------------------------------------------------------------
def check_result_tag(
    dataset: DatasetRef, tag_name: str, overwrite: bool, preselected_tag_name: str | None = None
) -> None:
    if not isinstance(tag_name, str) or not tag_name.strip():
        raise SelectionError(
            f"selection_result_tag_name must be a non-empty string, got {tag_name!r}."
        )
    if preselected_tag_name is not None and preselected_tag_name == tag_name:
        raise SelectionError(
            f"The result tag {tag_name!r} cannot also be the preselected tag: pick another "
            f"selection_result_tag_name."
        )
    if (
        not overwrite
        and tags_store.get_tag_id(get_connection(), dataset.dataset_id, tag_name) is not None
    ):
        raise SelectionError(
            f"Tag {tag_name!r} already exists in dataset {dataset.name!r}. Choose another "
            f"selection_result_tag_name, or pass overwrite=True to replace its samples."
        )


def write_result(dataset: DatasetRef, tag_name: str, sample_ids: list[str]) -> None:
    """Make ``tag_name`` hold exactly ``sample_ids`` (one transaction)."""
    with transaction() as con:
        tag_id = tags_store.get_tag_id(con, dataset.dataset_id, tag_name)
        if tag_id is not None:
            tags_store.clear_tag(con, tag_id)
        tags_store.tag_sample_ids(con, dataset.dataset_id, tag_name, sample_ids)


def load_samples(query: SampleQuery, sample_ids: list[str]) -> list:
    """The query's Sample objects (built by the façade, ``query.samples_of``) for the ids, in
    the given order (one query)."""
    if not sample_ids:
        return []
    return query.samples_of(samples_store.rows_by_ids(get_connection(), sample_ids))


def warn(message: str) -> None:
    """A UserWarning attributed to the user's line (the first frame outside this package)."""
    package = __file__.rsplit("/", 1)[0].rsplit("\\", 1)[0]
    level = 1
    frame: FrameType | None = sys._getframe(0)
    while frame is not None and frame.f_code.co_filename.startswith(package):
        frame = frame.f_back
        level += 1
    warnings.warn(message, UserWarning, stacklevel=level)
