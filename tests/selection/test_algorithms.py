"""Selection algorithms on hand-made arrays: exact picks, pruning exactness, balancing."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lightly_studio.selection import _algorithms as alg


def arc(degrees: list[float]) -> np.ndarray:
    """Unit vectors in the plane at the given angles: points on a line, bent onto the circle."""
    rad = np.radians(degrees)
    return np.stack([np.cos(rad), np.sin(rad)], axis=1).astype(np.float32)


def naive_fps(x: np.ndarray, n: int, first: int) -> list[int]:
    """Textbook farthest-point sampling, one full distance pass per pick (the reference)."""
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    dist = np.full(len(x), np.inf)
    picks = [first]
    for _ in range(n - 1):
        dist = np.minimum(dist, np.linalg.norm(x - x[picks[-1]], axis=1))
        dist[picks] = -1
        picks.append(int(np.argmax(dist)))
    return picks


def clusters(n_clusters: int, per_cluster: int, dim: int, spread: float, seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((n_clusters, dim))
    labels = np.repeat(np.arange(n_clusters), per_cluster)
    x = centres[labels] + spread * rng.standard_normal((len(labels), dim))
    return x.astype(np.float32), labels


def test_points_on_a_line_first_takes_the_outermost_then_the_other_end_then_the_middle():
    # 0..80 degrees in steps of 10, then 95: the mean points at ~45.5 degrees, so 95 is the
    # farthest from it; then the other end; then 50, the point farthest from both ends.
    x = arc([0, 10, 20, 30, 40, 50, 60, 70, 80, 95])
    result = alg.farthest_point_sampling(x, 3)
    assert result.indices.tolist() == [9, 0, 5]
    # cosine distance of each pick to those picked before it
    assert math.isinf(result.distances[0])
    assert result.distances[1] == pytest.approx(1 - math.cos(math.radians(95)), abs=1e-5)
    assert result.distances[2] == pytest.approx(1 - math.cos(math.radians(45)), abs=1e-5)


def test_asymmetric_line_starts_at_the_end_far_from_the_bulk():
    x = arc([0, 1, 2, 3, 4, 5, 60])  # the mean sits near 0..5, so 60 degrees is the outlier
    assert alg.farthest_point_sampling(x, 2).indices.tolist() == [6, 0]


def test_one_pick_per_cluster_before_any_second_pick_in_a_cluster():
    x, labels = clusters(n_clusters=6, per_cluster=20, dim=16, spread=0.05)
    picks = alg.farthest_point_sampling(x, 6).indices
    assert sorted(labels[picks].tolist()) == [0, 1, 2, 3, 4, 5]


@pytest.mark.parametrize("spread", [0.05, 0.6, 5.0])
@pytest.mark.parametrize("active_size", [16, 128, 5000])
def test_lazy_updates_pick_exactly_what_the_naive_algorithm_picks(spread, active_size):
    x, _ = clusters(n_clusters=20, per_cluster=50, dim=32, spread=spread, seed=3)
    result = alg.farthest_point_sampling(x, 120, active_size=active_size)
    assert result.indices.tolist() == naive_fps(x, 120, first=int(result.indices[0]))


def test_lazy_updates_read_the_full_matrix_a_few_times_instead_of_once_per_pick():
    x, _ = clusters(n_clusters=20, per_cluster=100, dim=32, spread=0.5, seed=1)
    result = alg.farthest_point_sampling(x, 200, active_size=128)
    # textbook: 200 passes over all 2000 rows; here a pass happens once per epoch, and the
    # distances it computes (matrix-matrix, several centres at once) are no more in total.
    assert result.epochs < 20
    assert result.rows_updated < 1.2 * len(x) * 200


@pytest.mark.parametrize("strengths", [(1.0, 0.0), (2.0, 1.0), (1.0, 3.0), (0.5, -1.0)])
def test_lazy_combined_objective_equals_exact_updates(strengths):
    x, _labels = clusters(n_clusters=10, per_cluster=60, dim=16, spread=0.5, seed=4)
    value = np.random.default_rng(0).random(len(x))
    w_div, w_meta = strengths

    def run(active_size):
        return alg.greedy_combined(
            [
                (w_div, alg.DiversityTerm(x, active_size=active_size)),
                (w_meta, alg.StaticTerm(value)),
            ],
            len(x),
            60,
        ).tolist()

    assert run(8) == run(32) == run(10_000)  # 10_000: every candidate updated every pick


def test_preselected_points_are_continued_from_and_not_picked_again():
    x = arc([0, 10, 20, 30, 40, 50, 60, 70, 80, 95])
    result = alg.farthest_point_sampling(x, 2, preselected=x[[0]], exclude=np.eye(10)[0] > 0)
    assert result.indices.tolist() == [9, 5]


def test_excluded_candidates_are_never_picked():
    x = arc([0, 10, 20, 30, 40, 50, 60, 70, 80, 90])
    exclude = np.zeros(10, dtype=bool)
    exclude[[0, 9]] = True
    assert alg.farthest_point_sampling(x, 2, exclude=exclude).indices.tolist() == [1, 8]


def test_n_larger_than_the_pool_selects_every_candidate_once():
    x = arc([0, 30, 60])
    assert sorted(alg.farthest_point_sampling(x, 10).indices.tolist()) == [0, 1, 2]


def test_min_distance_stops_before_near_duplicates():
    # three groups of near-identical vectors (within 1 degree) far apart from each other
    x = arc([0, 0.5, 1, 45, 45.5, 90, 90.2, 90.4])
    result = alg.farthest_point_sampling(x, 100, min_distance=0.01)
    assert sorted(result.indices.tolist()) == [0, 3, 5] or len(result.indices) == 3
    assert sorted(
        np.round(np.degrees(np.arctan2(x[result.indices, 1], x[result.indices, 0])) / 45).tolist()
    ) == [0, 1, 2]
    assert (result.distances[1:] >= 0.01).all()


def test_balancing_loss_is_zero_on_target_and_sum_of_squares_when_empty():
    assert alg.balancing_loss([5, 5], [1, 1]) == 0
    assert alg.balancing_loss([0, 0], [0.2, 0.8]) == pytest.approx(0.04 + 0.64)
    assert alg.balancing_loss([10, 0], [0.5, 0.5]) == pytest.approx(0.5)


def test_class_balance_gains_match_the_loss_definition():
    rng = np.random.default_rng(0)
    counts = rng.integers(0, 3, size=(30, 4))
    target = np.array([0.1, 0.2, 0.3, 0.4])
    balance = alg.ClassBalance(counts, target, initial=[2, 0, 1, 0])
    gains = balance.gains()
    c = np.array([2, 0, 1, 0])
    expected = [alg.balancing_loss(c, target) - alg.balancing_loss(c + a, target) for a in counts]
    np.testing.assert_allclose(gains, expected, atol=1e-12)
    balance.add(5)
    c = c + counts[5]
    expected = [alg.balancing_loss(c, target) - alg.balancing_loss(c + a, target) for a in counts]
    np.testing.assert_allclose(balance.gains(), expected, atol=1e-12)


def test_greedy_balancing_evens_out_a_skewed_pool():
    # 90 samples with one "cat", 10 with one "dog": a uniform selection of 20 takes every dog
    counts = np.array([[1, 0]] * 90 + [[0, 1]] * 10)
    picks = alg.greedy_combined(
        [(1.0, alg.BalanceTerm(alg.ClassBalance(counts, [1, 1])))], len(counts), 20
    )
    histogram = counts[picks].sum(axis=0)
    assert histogram.tolist() == [10, 10]


def test_greedy_balancing_hits_a_custom_target():
    counts = np.array([[1, 0, 0]] * 50 + [[0, 1, 0]] * 50 + [[0, 0, 1]] * 50)
    balance = alg.ClassBalance(counts, [0.2, 0.3, 0.5])
    picks = alg.greedy_combined([(1.0, alg.BalanceTerm(balance))], len(counts), 20)
    assert counts[picks].sum(axis=0).tolist() == [4, 6, 10]


def test_combined_diversity_alone_equals_plain_farthest_point_sampling():
    x, _ = clusters(n_clusters=8, per_cluster=30, dim=12, spread=0.4, seed=5)
    combined = alg.greedy_combined([(2.0, alg.DiversityTerm(x, 40))], len(x), 40)
    assert combined.tolist() == alg.farthest_point_sampling(x, 40).indices.tolist()


def test_metadata_strength_pulls_the_combined_selection_towards_high_values():
    x, labels = clusters(n_clusters=10, per_cluster=30, dim=12, spread=0.3, seed=2)
    value = labels.astype(float)  # cluster 9 has the highest metadata value

    def mean_value(metadata_strength: float) -> float:
        picks = alg.greedy_combined(
            [(1.0, alg.DiversityTerm(x, 20)), (metadata_strength, alg.StaticTerm(value))],
            len(x),
            20,
        )
        return float(value[picks].mean())

    weak, equal, strong = mean_value(0.1), mean_value(1.0), mean_value(5.0)
    assert weak < equal < strong
    # Normalised, neighbouring clusters differ by 1/9 in metadata and at most 1 in diversity:
    # a strength above 9 makes metadata win every pick.
    assert mean_value(10.0) == 9.0
    assert mean_value(-10.0) == 0.0


def test_diversity_strength_spreads_the_combined_selection_over_more_clusters():
    x, labels = clusters(n_clusters=10, per_cluster=30, dim=12, spread=0.3, seed=2)
    value = labels.astype(float)

    def n_clusters_hit(diversity_strength: float) -> int:
        picks = alg.greedy_combined(
            [(diversity_strength, alg.DiversityTerm(x, 10)), (1.0, alg.StaticTerm(value))],
            len(x),
            10,
        )
        return len(set(labels[picks].tolist()))

    assert n_clusters_hit(0.0) == 1
    assert n_clusters_hit(0.0) < n_clusters_hit(1.0) <= n_clusters_hit(10.0)
    assert n_clusters_hit(10.0) == 10


def test_top_k_prefers_high_values_skips_missing_and_breaks_ties_by_index():
    values = [0.5, np.nan, 0.9, 0.5, 0.1]
    assert alg.top_k(values, 3).tolist() == [2, 0, 3]
    assert alg.top_k(values, 2, descending=False).tolist() == [4, 0]
    assert alg.top_k(values, 10).tolist() == [2, 0, 3, 4]


def test_max_similarity_takes_the_nearest_query_vector():
    x = arc([0, 45, 90])
    sims = alg.max_similarity(alg.as_unit_rows(x), alg.as_unit_rows(arc([80, 10])))
    np.testing.assert_allclose(sims, np.cos(np.radians([10, 35, 10])), atol=1e-6)


def test_duplicate_pairs_and_groups():
    x = arc([0, 0.1, 0.2, 40, 80, 80.1, 120])
    pairs = alg.duplicate_pairs(x, threshold=1e-4)
    assert sorted(map(tuple, pairs.tolist())) == [(0, 1), (0, 2), (1, 2), (4, 5)]
    groups = alg.connected_groups(len(x), pairs)
    assert [g.tolist() for g in groups] == [[0, 1, 2], [4, 5]]


def test_groups_follow_chains_of_near_pairs():
    pairs = np.array([[5, 6], [0, 1], [1, 2], [2, 3], [8, 9]])
    assert [g.tolist() for g in alg.connected_groups(10, pairs)] == [[0, 1, 2, 3], [5, 6], [8, 9]]
