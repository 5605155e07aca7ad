"""2-D projection for the embedding plot: PCA, PaCMAP, placing new points."""

from __future__ import annotations

import numpy as np

from lightly_studio.embed._projection import fit_2d, pca, place, project
from tests.embed.test_vectors import clustered, on_circle


def test_pacmap_keeps_clusters_apart_and_is_deterministic():
    rng = np.random.default_rng(0)
    a = rng.normal(size=32) * 3
    x = np.concatenate([a + rng.normal(size=(40, 32)), -a + rng.normal(size=(40, 32))])
    x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    xy = fit_2d(x)
    assert xy.shape == (80, 2) and np.isfinite(xy).all()
    gap = np.linalg.norm(xy[:40].mean(axis=0) - xy[40:].mean(axis=0))
    spread = max(xy[:40].std(axis=0).max(), xy[40:].std(axis=0).max())
    assert gap > 3 * spread
    np.testing.assert_array_equal(fit_2d(x), xy)


def test_tiny_sets_are_plotted_by_pca():
    xy = fit_2d(on_circle(0, 90, 180))
    assert xy.shape == (3, 2)
    # Opposite points (0 and 180 degrees) end up opposite around the middle one.
    assert np.allclose(np.linalg.norm(xy[0] - xy[2]), 2.0, atol=1e-5)
    assert fit_2d(on_circle(0)).shape == (1, 2)
    assert fit_2d(np.zeros((0, 4), np.float32)).shape == (0, 2)


def test_pca_signs_are_stable():
    x = np.random.default_rng(1).normal(size=(50, 8)).astype(np.float32)
    np.testing.assert_array_equal(pca(x, 3), pca(x.copy(), 3))


def test_new_points_land_among_their_nearest_fitted_neighbours():
    fitted = on_circle(0, 10, 90, 100)
    xy = np.array([[0, 0], [1, 0], [10, 10], [11, 10]], dtype=np.float32)
    placed = place(on_circle(0, 95), fitted, xy, k=2)
    np.testing.assert_allclose(placed[0], [0, 0], atol=1e-3)  # exact twin of point 0
    np.testing.assert_allclose(placed[1], [10.5, 10], atol=1e-3)  # halfway between 90 and 100


def test_large_sets_fit_a_sample_and_place_the_rest():
    x = clustered(90, dim=16, clusters=3, seed=2)
    xy, fitted = project(x, max_fit=60)
    assert fitted.sum() == 60 and xy.shape == (90, 2) and np.isfinite(xy).all()
