"""Vector math on normalised embeddings: scores, top-k, k-NN and typicality."""

from __future__ import annotations

import numpy as np
import pytest

from lightly_studio.embed._vectors import (
    as_float32_matrix,
    knn,
    l2_normalise,
    max_scores,
    top_k,
    typicality,
)
from lightly_studio.errors import EmbeddingError


def on_circle(*degrees: float, dim: int = 4) -> np.ndarray:
    """Unit vectors in the first plane of R^dim; cosine similarity = cos(angle difference)."""
    rad = np.radians(degrees)
    out = np.zeros((len(degrees), dim), dtype=np.float32)
    out[:, 0], out[:, 1] = np.cos(rad), np.sin(rad)
    return out


def cos(deg: float) -> float:
    return float(np.cos(np.radians(deg)))


def clustered(n: int, dim: int = 64, clusters: int = 20, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim))
    x = centres[rng.integers(0, clusters, n)] + 0.6 * rng.normal(size=(n, dim))
    return l2_normalise(x.astype(np.float32))


def test_vectors_are_normalised_and_zero_rows_rejected():
    v = l2_normalise(as_float32_matrix([[3.0, 4.0], [0.0, 2.0]]))
    np.testing.assert_allclose(v, [[0.6, 0.8], [0.0, 1.0]], rtol=1e-6)
    with pytest.raises(EmbeddingError, match="row 1 is all zeros"):
        l2_normalise(as_float32_matrix([[1.0, 0.0], [0.0, 0.0]]))
    with pytest.raises(EmbeddingError, match="2-D"):
        as_float32_matrix([1.0, 2.0])
    with pytest.raises(EmbeddingError, match="row 0 contains NaN"):
        as_float32_matrix([[np.nan, 1.0]])


def test_torch_tensors_are_accepted_as_vectors():
    torch = pytest.importorskip("torch")
    assert as_float32_matrix(torch.ones(2, 3, dtype=torch.float64)).dtype == np.float32


def test_max_scores_takes_the_best_query_for_each_row():
    base = on_circle(0, 30, 90)
    np.testing.assert_allclose(max_scores(base, on_circle(0)), [1.0, cos(30), 0.0], atol=1e-6)
    np.testing.assert_allclose(
        max_scores(base, on_circle(0, 80)), [1.0, cos(30), cos(10)], atol=1e-6
    )


def test_top_k_is_best_first_and_stable_on_ties():
    scores = np.array([0.1, 0.9, 0.5, 0.9, 0.3], dtype=np.float32)
    assert top_k(scores, 3).tolist() == [1, 3, 2]
    assert top_k(scores, None).tolist() == [1, 3, 2, 4, 0]
    assert top_k(scores, 0).tolist() == []


def test_knn_excludes_each_row_itself():
    sims, idx = knn(on_circle(0, 10, 25, 90), k=2)
    assert idx.tolist() == [[1, 2], [0, 2], [1, 0], [2, 1]]
    np.testing.assert_allclose(sims[0], [cos(10), cos(25)], atol=1e-6)


def test_knn_pads_when_there_are_fewer_candidates_than_k():
    sims, idx = knn(on_circle(0, 10), k=3)
    assert idx.tolist() == [[1, -1, -1], [0, -1, -1]]
    assert np.isneginf(sims[:, 1:]).all()


def test_typicality_is_the_mean_similarity_to_the_k_nearest_others():
    base = on_circle(0, 10, 20, 90)
    np.testing.assert_allclose(
        typicality(base, k=1), [cos(10), cos(10), cos(10), cos(70)], atol=1e-6
    )
    np.testing.assert_allclose(
        typicality(base, k=2),
        [(cos(10) + cos(20)) / 2, cos(10), (cos(10) + cos(20)) / 2, (cos(70) + cos(80)) / 2],
        atol=1e-6,
    )


def test_typicality_of_tiny_sets():
    assert typicality(on_circle(0), k=5).tolist() == [0.0]
    np.testing.assert_allclose(typicality(on_circle(0, 60), k=5), [0.5, 0.5], atol=1e-6)


def test_inverted_file_search_finds_nearly_all_true_neighbours():
    x = clustered(3000)
    exact_sims, exact_idx = knn(x, k=10)
    approx_sims, approx_idx = knn(x, k=10, exact_limit=0)
    recall = np.mean(
        [len(set(a) & set(e)) / 10 for a, e in zip(approx_idx, exact_idx, strict=True)]
    )
    assert recall > 0.95
    # What typicality sees: the mean of the top-10 similarities barely moves.
    assert np.abs(approx_sims.mean(axis=1) - exact_sims.mean(axis=1)).max() < 0.02


def test_inverted_file_search_with_separate_queries():
    x = clustered(2000, seed=1)
    queries = x[:50] + 0.01
    _, exact_idx = knn(x, k=1, queries=l2_normalise(queries))
    _, approx_idx = knn(x, k=1, queries=l2_normalise(queries), exact_limit=0)
    assert exact_idx[:, 0].tolist() == list(range(50))
    assert (approx_idx[:, 0] == exact_idx[:, 0]).mean() > 0.95
