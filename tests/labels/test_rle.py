"""Our row-wise RLE (the docs' "Binary Mask Format") and the COCO conversions."""

from __future__ import annotations

import numpy as np
import pytest

from lightly_studio.core import rle
from lightly_studio.errors import AnnotationError


def test_docs_example_encodes_row_by_row_starting_with_background():
    mask = np.array([[0, 1, 1, 0], [1, 1, 1, 1]])
    assert rle.encode(mask) == [1, 2, 1, 4]
    assert rle.decode([1, 2, 1, 4], width=4, height=2).astype(int).tolist() == mask.tolist()


def test_mask_starting_with_foreground_gets_a_zero_first_run():
    assert rle.encode(np.array([[1, 1], [0, 1]])) == [0, 2, 1, 1]
    assert rle.encode(np.zeros((2, 3))) == [6]
    assert rle.encode(np.ones((2, 3))) == [0, 6]


def test_random_masks_survive_every_conversion_pixel_exact():
    rng = np.random.default_rng(7)
    for _ in range(100):
        h, w = (int(v) for v in rng.integers(1, 30, 2))
        mask = rng.random((h, w)) < rng.random()
        runs = rle.encode(mask)
        assert sum(runs) == w * h
        assert np.array_equal(rle.decode(runs, w, h), mask)
        assert rle.bbox_from_rle(runs, w) == rle.bbox_from_mask(mask)
        assert rle.area(runs) == int(mask.sum())
        for compressed in (False, True):
            coco = rle.mask_to_coco_rle(mask, compressed=compressed)
            assert np.array_equal(rle.coco_segmentation_to_mask(coco, w, h), mask)


def test_bbox_of_a_run_wrapping_onto_the_next_row_spans_all_columns_it_touches():
    # Row 0: foreground in columns 3..4, row 1: columns 0..1 — one run across the row end.
    runs = [3, 4, 3]
    assert rle.bbox_from_rle(runs, 5) == rle.bbox_from_mask(rle.decode(runs, 5, 2)) == (0, 0, 5, 2)
    assert rle.bbox_from_rle([10], 5) is None


def test_runs_must_cover_the_whole_image():
    with pytest.raises(AnnotationError, match=r"sum to 24.*5x5 = 25"):
        rle.validate([17, 2, 3, 1, 1], width=5, height=5)
    with pytest.raises(AnnotationError, match="negative"):
        rle.validate([30, -5], width=5, height=5)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_coco_polygon_is_rasterised_by_pycocotools():
    from pycocotools import mask as mask_utils

    polygon = [[1.0, 1.0, 8.5, 1.0, 8.5, 6.2, 1.0, 6.2]]
    expected = mask_utils.decode(mask_utils.merge(mask_utils.frPyObjects(polygon, 8, 10)))
    got = rle.coco_segmentation_to_mask(polygon, width=10, height=8)
    assert np.array_equal(got, expected.astype(bool))
    assert got.sum() > 0


def test_coco_rle_of_another_size_is_rejected():
    with pytest.raises(ValueError, match="size"):
        rle.coco_segmentation_to_mask({"size": [4, 4], "counts": [16]}, width=5, height=4)
