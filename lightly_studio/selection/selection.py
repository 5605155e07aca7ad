"""Selection: pick a subset of a query's samples and tag it. Open, readable, numpy/torch.

``dataset.query().selection()`` (or ``dataset.match(...).selection()``) returns a
``Selection`` over exactly the samples of that query. Every method

- writes its result as the tag ``selection_result_tag_name`` (an existing tag of that name is
  an error unless ``overwrite=True``, which replaces the tag's samples),
- returns the selected samples as a list, in pick order,
- is deterministic: ``seed`` only decides between candidates that score exactly equal,
- selects every candidate (with a warning) when ``n_samples_to_select`` exceeds them,
- takes ``preselected_tag_name``: samples with that tag (anywhere in the dataset) count as
  already selected — diversity keeps away from them, balancing counts their classes — and
  are never selected again; the result tag holds only the new picks.

The algorithms are in ``_algorithms.py`` (pure numpy/torch on arrays).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from lightly_studio.errors import SelectionError
from lightly_studio.query import DatasetRef, SampleQuery
from lightly_studio.selection import _algorithms as alg
from lightly_studio.selection import _inputs
from lightly_studio.selection.selection_config import (
    AnnotationClassBalancingStrategy,
    EmbeddingDiversityStrategy,
    EmbeddingSimilarityStrategy,
    MetadataWeightingStrategy,
    SelectionStrategy,
    TargetDistribution,
)

# The selected samples come back as the query's own Sample objects (``query.samples_of``):
# this package reads ids and rows, the façade builds the objects.
_Sample = Any


def _check_count(n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise SelectionError(f"n_samples_to_select must be a non-negative integer, got {n!r}.")
    return int(n)


class Selection:
    """Selection strategies over the samples of one query (see the module docstring)."""

    def __init__(self, query: SampleQuery) -> None:
        self.query = query
        self.dataset: DatasetRef = query.dataset

    # -- single strategies --------------------------------------------------------------------
    def diverse(
        self,
        n_samples_to_select: int,
        selection_result_tag_name: str,
        embedding_model_name: str | None = None,
        preselected_tag_name: str | None = None,
        overwrite: bool = False,
        seed: int = 0,
    ) -> list[_Sample]:
        """Select samples that cover the embedding space: greedy farthest-point (k-center).

        Each pick is the sample whose cosine distance to its nearest already-selected sample
        (preselected ones included) is largest. Without preselected samples the first pick is
        the sample farthest from the mean embedding. ``embedding_model_name=None`` uses the
        dataset's default embedding model.
        """
        return self.multi_strategies(
            n_samples_to_select,
            selection_result_tag_name,
            [EmbeddingDiversityStrategy(embedding_model_name=embedding_model_name)],
            preselected_tag_name=preselected_tag_name,
            overwrite=overwrite,
            seed=seed,
        )

    def metadata_weighting(
        self,
        n_samples_to_select: int,
        selection_result_tag_name: str,
        metadata_key: str,
        strength: float = 1.0,
        preselected_tag_name: str | None = None,
        overwrite: bool = False,
        seed: int = 0,
    ) -> list[_Sample]:
        """Select the samples with the highest values of a numeric metadata key.

        ``strength < 0`` selects the lowest values instead. Samples without a value for the
        key are never selected; a key holding non-numeric values is an error.
        """
        return self.multi_strategies(
            n_samples_to_select,
            selection_result_tag_name,
            [MetadataWeightingStrategy(metadata_key=metadata_key, strength=strength)],
            preselected_tag_name=preselected_tag_name,
            overwrite=overwrite,
            seed=seed,
        )

    def similarity(
        self,
        n_samples_to_select: int,
        selection_result_tag_name: str,
        query_tag_name: str,
        strength: float = 1.0,
        embedding_model_name: str | None = None,
        preselected_tag_name: str | None = None,
        overwrite: bool = False,
        seed: int = 0,
    ) -> list[_Sample]:
        """Select the samples most similar to those tagged ``query_tag_name``.

        Similarity is a sample's largest cosine similarity to any tagged sample;
        ``strength < 0`` selects the least similar samples instead.
        """
        return self.multi_strategies(
            n_samples_to_select,
            selection_result_tag_name,
            [
                EmbeddingSimilarityStrategy(
                    query_tag_name=query_tag_name,
                    strength=strength,
                    embedding_model_name=embedding_model_name,
                )
            ],
            preselected_tag_name=preselected_tag_name,
            overwrite=overwrite,
            seed=seed,
        )

    def annotation_balancing(
        self,
        n_samples_to_select: int,
        selection_result_tag_name: str,
        target_distribution: TargetDistribution = "uniform",
        annotation_source: str | None = None,
        preselected_tag_name: str | None = None,
        overwrite: bool = False,
        seed: int = 0,
    ) -> list[_Sample]:
        """Select samples so that the selection's class histogram approaches a target.

        Objective: with ``c_k`` the number of annotations of class ``k`` in the selection
        (preselected samples included) and ``p_k`` the target share, minimise
        ``L = sum_k (c_k / sum(c) - p_k) ** 2``. Samples are added greedily, each time the one
        that lowers ``L`` most (ties: by seed). Targets: ``"uniform"`` (every class of the
        query's samples equally), ``"input"`` (the class shares of the query's samples) or a
        dict of class name -> share (normalised; unnamed classes share the rest as one
        bucket; an unknown class name is an error). ``annotation_source`` counts only
        annotations of that source (``None``: all).
        """
        return self.multi_strategies(
            n_samples_to_select,
            selection_result_tag_name,
            [
                AnnotationClassBalancingStrategy(
                    target_distribution=target_distribution, annotation_source=annotation_source
                )
            ],
            preselected_tag_name=preselected_tag_name,
            overwrite=overwrite,
            seed=seed,
        )

    # -- combined -----------------------------------------------------------------------------
    def multi_strategies(
        self,
        n_samples_to_select: int,
        selection_result_tag_name: str,
        selection_strategies: Sequence[SelectionStrategy],
        preselected_tag_name: str | None = None,
        overwrite: bool = False,
        seed: int = 0,
    ) -> list[_Sample]:
        """Select with several strategies at once, weighted by their ``strength``.

        Samples are picked one at a time; each pick maximises

            score(i) = sum_s strength_s * (v_s(i) - min_s) / (max_s - min_s)

        over the candidates not picked yet, where ``v_s(i)`` is strategy ``s``'s value for
        sample ``i`` and min/max run over those candidates (a term whose values are all equal
        contributes 0):

        - ``EmbeddingDiversityStrategy``: cosine distance to the nearest selected sample
          (before the first pick: distance to the mean embedding); recomputed after each pick.
        - ``MetadataWeightingStrategy``: the metadata value (fixed).
        - ``EmbeddingSimilarityStrategy``: largest cosine similarity to the query-tag samples
          (fixed).
        - ``AnnotationClassBalancingStrategy``: how much adding the sample lowers the balancing
          loss ``sum_k (c_k / sum(c) - p_k) ** 2`` (recomputed after each pick).

        Each term spans [0, 1] over the candidates, so strengths mean what they say: a
        strength-2 term can move a sample's score twice as far as a strength-1 term, and a
        negative strength prefers low values. Fixed terms are rescaled once, recomputed ones
        before every pick. A sample a strategy cannot score (no embedding, no metadata value)
        is not a candidate.
        """
        n = _check_count(n_samples_to_select)
        strategies = list(selection_strategies)
        if not strategies:
            raise SelectionError("multi_strategies needs at least one selection strategy.")
        for strategy in strategies:
            if not isinstance(strategy, SelectionStrategy):
                raise SelectionError(
                    f"Unknown selection strategy {strategy!r}: use the classes of "
                    f"lightly_studio.selection.selection_config."
                )
        _inputs.check_result_tag(
            self.dataset, selection_result_tag_name, overwrite, preselected_tag_name
        )
        run = _Run(self, seed, preselected_tag_name)
        if run.pool_size == 0:
            return run.finish(selection_result_tag_name, [], n)
        terms = [(float(s.strength), run.term(s, n)) for s in strategies]
        picks = _combine(terms, run, n)
        return run.finish(selection_result_tag_name, picks, n)

    # -- deduplication ------------------------------------------------------------------------
    def deduplicate(
        self,
        selection_result_tag_name: str,
        stopping_condition_minimum_distance: float,
        embedding_model_name: str | None = None,
        n_samples_to_select: int | None = None,
        preselected_tag_name: str | None = None,
        overwrite: bool = False,
        seed: int = 0,
    ) -> list[_Sample]:
        """Keep one sample per group of near-duplicates: diverse selection that stops early.

        Farthest-point selection (as in ``diverse``) runs until the next pick would be closer
        than ``stopping_condition_minimum_distance`` (cosine distance, 0..2) to a sample
        already selected. Every two selected samples are then at least that far apart, and
        every sample left out is closer than that to a selected one. ``n_samples_to_select``
        optionally caps the number kept.
        """
        threshold = _check_distance(
            stopping_condition_minimum_distance, "stopping_condition_minimum_distance"
        )
        cap = None if n_samples_to_select is None else _check_count(n_samples_to_select)
        _inputs.check_result_tag(
            self.dataset, selection_result_tag_name, overwrite, preselected_tag_name
        )

        run = _Run(self, seed, preselected_tag_name)
        if run.pool_size == 0:
            return run.finish(selection_result_tag_name, [], cap or 0)
        vectors, has = run.embeddings(embedding_model_name)
        pre = run.preselected_vectors(embedding_model_name)
        limit = run.pool_size if cap is None else cap
        result = alg.farthest_point_sampling(
            vectors, limit, preselected=pre, exclude=~(has & run.available), min_distance=threshold
        )
        return run.finish(selection_result_tag_name, result.indices.tolist(), cap or 0)


def _check_distance(value: Any, name: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or not 0 <= value <= 2
    ):
        raise SelectionError(f"{name} is a cosine distance between 0 and 2, got {value!r}.")
    return float(value)


class _Run:
    """State of one selection run: the pool, which candidates remain, cached inputs."""

    def __init__(
        self, selection: Selection, seed: int | None, preselected_tag_name: str | None
    ) -> None:
        self.dataset = selection.dataset
        self.query = selection.query
        self.pool = _inputs.load_pool(selection.query, seed)
        self.pool_size = len(self.pool)
        self.available = np.ones(self.pool_size, dtype=bool)
        self.preselected: _inputs.Subquery | None = None
        if preselected_tag_name is not None:
            self.preselected = _inputs.tag_subquery(
                self.dataset, preselected_tag_name, "preselected_tag_name"
            )
            taken = _inputs.tagged_ids(self.preselected)
            self.available &= np.array(
                [sid not in taken for sid in self.pool.sample_ids], dtype=bool
            )
        self._embeddings: dict[str | None, tuple[np.ndarray, np.ndarray]] = {}

    def embeddings(self, model_name: str | None) -> tuple[np.ndarray, np.ndarray]:
        if model_name not in self._embeddings:
            vectors, has = _inputs.pool_embeddings(self.pool, model_name)
            missing = int((~has & self.available).sum())
            if missing:
                label = "the default model" if model_name is None else repr(model_name)
                _inputs.warn(
                    f"{missing} of the {self.pool_size} samples have no embedding for {label} "
                    f"and are left out of the selection; dataset.compute_embeddings() fills "
                    f"them in."
                )
            self._embeddings[model_name] = (vectors, has)
        return self._embeddings[model_name]

    def preselected_vectors(self, model_name: str | None) -> np.ndarray | None:
        if self.preselected is None:
            return None
        return _inputs.embeddings_of(
            self.dataset, self.preselected, model_name, "preselected_tag_name"
        )

    def term(self, strategy: SelectionStrategy, n: int):

        if isinstance(strategy, EmbeddingDiversityStrategy):
            vectors, has = self.embeddings(strategy.embedding_model_name)
            self.available &= has
            return alg.DiversityTerm(
                vectors,
                capacity=n + 1,
                preselected=self.preselected_vectors(strategy.embedding_model_name),
            )
        if isinstance(strategy, MetadataWeightingStrategy):
            values, has = _inputs.pool_metadata(self.pool, strategy.metadata_key)
            self.available &= has
            return alg.StaticTerm(np.where(has, values, 0.0))
        if isinstance(strategy, EmbeddingSimilarityStrategy):
            vectors, has = self.embeddings(strategy.embedding_model_name)
            self.available &= has
            query_sub = _inputs.tag_subquery(
                self.dataset, strategy.query_tag_name, "EmbeddingSimilarityStrategy.query_tag_name"
            )
            queries = _inputs.embeddings_of(
                self.dataset, query_sub, strategy.embedding_model_name, "query tag"
            )
            if len(queries) == 0:
                raise SelectionError(
                    f"Similarity selection: none of the samples tagged "
                    f"{strategy.query_tag_name!r} has an embedding; compute embeddings first."
                )
            sims = alg.max_similarity(alg.as_unit_rows(vectors), alg.as_unit_rows(queries))
            return alg.StaticTerm(sims)
        if isinstance(strategy, AnnotationClassBalancingStrategy):
            inputs = _inputs.balance_inputs(
                self.pool,
                strategy.target_distribution,
                strategy.annotation_source,
                self.preselected,
            )
            return alg.BalanceTerm(
                alg.ClassBalance(inputs.counts, inputs.target, initial=inputs.initial)
            )
        raise SelectionError(f"Unknown selection strategy {strategy!r}.")

    def finish(self, tag_name: str, picks: list[int], n: int) -> list[_Sample]:
        candidates = int(self.available.sum()) if self.pool_size else 0
        if n > len(picks) and len(picks) == candidates:
            _inputs.warn(
                f"n_samples_to_select={n} but only {candidates} samples can be selected; "
                f"selected all of them."
            )
        ids = [self.pool.sample_ids[i] for i in picks]
        _inputs.write_result(self.dataset, tag_name, ids)
        return _inputs.load_samples(self.query, ids)


def _combine(terms: list, run: _Run, n: int) -> list[int]:
    """Run the combined greedy objective; a lone fixed term is a plain sort (same result)."""

    if len(terms) == 1:
        strength, term = terms[0]
        if isinstance(term, alg.StaticTerm):
            values = term.values(None)
            return alg.top_k(values, n, descending=strength >= 0, available=run.available).tolist()
        if isinstance(term, alg.DiversityTerm) and strength > 0:
            result = alg.farthest_point_sampling(
                term.x, n, exclude=~run.available, preselected=term.preselected
            )
            return result.indices.tolist()
    return alg.greedy_combined(terms, run.pool_size, n, available=run.available).tolist()


def find_duplicates(
    dataset: Any, threshold: float, embedding_model_name: str | None = None
) -> list[list[_Sample]]:
    """Groups of near-duplicate samples of ``dataset``.

    Two samples are near-duplicates when the cosine distance of their embeddings is below
    ``threshold`` (0..2; e.g. 0.01 for almost identical images). Groups are the connected
    components of that relation (so a chain a~b~c is one group), largest first; each group
    lists its samples in insertion order. Samples without duplicates are not returned.
    Exact: all pairs are compared in blocked matrix products (O(N^2) work).
    """

    threshold = _check_distance(threshold, "threshold")
    query = dataset.query()
    pool = _inputs.load_pool(query, seed=None)
    if len(pool) == 0:
        return []
    vectors, has = _inputs.pool_embeddings(pool, embedding_model_name)
    rows = np.nonzero(has)[0]
    pairs = alg.duplicate_pairs(vectors[rows] if len(rows) < len(pool) else vectors, threshold)
    groups = alg.connected_groups(len(rows), pairs)
    flat = [pool.sample_ids[rows[i]] for group in groups for i in group]
    samples = _inputs.load_samples(query, flat)
    out, start = [], 0
    for group in groups:
        out.append(samples[start : start + len(group)])
        start += len(group)
    return out
