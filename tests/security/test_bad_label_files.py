"""Hostile and careless label files (issue #26): a clear error or a one-line report naming
the file and the item, never a crash, and never a change to what is already stored."""

from __future__ import annotations

import json
import resource
import shutil
import time
import warnings

import numpy as np
import pytest

import lightly_studio as ls
from lightly_studio.core import rle
from lightly_studio.db import get_connection
from lightly_studio.errors import IngestError
from lightly_studio.store.annotations import annotations_frame
from tests.security.bad_inputs import (
    CASES,
    Case,
    write_captions_dataset,
    write_coco_dataset,
    write_yolo_dataset,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pycocotools, numpy 2


def _db_state() -> dict[str, list]:
    """Every row of every table, in a stable order."""
    con = get_connection()
    tables = [
        t
        for (t,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
            "ORDER BY table_name"
        ).fetchall()
    ]
    return {t: sorted(map(repr, con.execute(f"SELECT * FROM {t}").fetchall())) for t in tables}


def _dataset_with_good_samples(tmp_path):
    """A dataset that already holds samples with masks, boxes, captions and split tags."""
    ds = ls.ImageDataset.create("existing")
    path, images = write_coco_dataset(tmp_path / "good_coco")
    ds.add_samples_from_coco(
        str(path), str(images), annotation_type="instance_segmentation", embed=False
    )
    path, images = write_captions_dataset(tmp_path / "good_captions", lambda coco, images: None)
    ds.add_samples_from_coco_caption(str(path), str(images), embed=False)
    ds.add_samples_from_yolo(str(write_yolo_dataset(tmp_path / "good_yolo")), embed=False)
    return ds


def _run(ds, case: Case, kwargs):
    if case.kind == "coco":
        return ds.add_samples_from_coco(
            **kwargs, annotation_type="instance_segmentation", embed=False
        )
    if case.kind == "coco_captions":
        return ds.add_samples_from_coco_caption(**kwargs, embed=False)
    return ds.add_samples_from_yolo(**kwargs, embed=False)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_label_files_are_refused_or_skipped_and_stored_data_is_untouched(db, tmp_path, case):
    ds = _dataset_with_good_samples(tmp_path)
    before, stored_files = _db_state(), {s.file_path_abs for s in ds}
    assert all(before[t] for t in ("sample", "annotation", "annotation_label", "caption"))
    kwargs = case.build(tmp_path / "bad")
    if case.outcome is IngestError:
        with pytest.raises(IngestError) as info:
            _run(ds, case, kwargs)
        for part in case.must_contain:
            assert part in str(info.value)
        assert _db_state() == before  # one rolled-back transaction: nothing half-written
        return
    with pytest.warns(case.outcome) as record:
        _run(ds, case, kwargs)
    report = [str(w.message) for w in record if all(p in str(w.message) for p in case.must_contain)]
    assert len(report) == 1, [str(w.message) for w in record]
    after = _db_state()
    for table, rows in before.items():  # what was stored is still there, unchanged
        assert set(rows) <= set(after[table]), table
    new_files = {s.file_path_abs for s in ds} - stored_files
    assert new_files and not any(f.endswith(tuple(case.not_stored)) for f in new_files)


def _huge_polygon(coco, images):
    # Vertices a billion pixels away: pycocotools would allocate for the whole outline.
    coco["annotations"][0]["segmentation"] = [[1, 2, 1e9, 2, 1e9, 1e9, 1, 1e9]]
    coco["annotations"][0]["bbox"] = None


@pytest.mark.timeout(60)
def test_a_polygon_reaching_a_billion_pixels_out_is_clipped_fast_and_small(db, tmp_path):
    ds = _dataset_with_good_samples(tmp_path)
    path, images = write_coco_dataset(tmp_path / "bad", _huge_polygon)
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    start = time.perf_counter()
    ds.add_samples_from_coco(
        str(path), str(images), annotation_type="instance_segmentation", embed=False
    )
    assert time.perf_counter() - start < 10
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before) / 1024
    assert grown_mib < 200
    sample = next(s for s in ds if s.file_path_abs == str(images / "a.jpg"))
    (row,) = annotations_frame(
        get_connection(), ds.dataset_id, sample_ids=[sample.sample_id]
    ).iter_rows(named=True)
    mask = rle.decode(row["segmentation_mask"], 40, 30)  # the image's size, not the polygon's
    # The polygon covers the image from (1, 2) to the right and down, clipped at its border.
    assert mask[3:, 2:].all() and not mask[:, 0].any() and not mask[0].any()
    assert max(max(ring) for ring in row["polygon"]) <= 2 * 40  # stored clipped, not 1e9
    assert (row["x"], row["y"]) == (1, 2) and row["x"] + row["width"] <= 40


def test_an_absolute_file_name_inside_the_images_folder_is_fine(db, tmp_path):
    def absolute(coco, images):
        coco["images"][1]["file_name"] = str(images / "sub" / "b.png")

    path, images = write_coco_dataset(tmp_path, absolute)
    ds = ls.ImageDataset.create()
    result = ds.add_samples_from_coco(str(path), str(images), embed=False)
    assert (result.samples_added, result.annotations_added) == (2, 2)


def test_add_annotations_checks_declared_sizes_before_drawing_masks(db, tmp_path):
    ds = ls.ImageDataset.create()
    path, images = write_coco_dataset(tmp_path)
    ds.add_images_from_path(str(images), embed=False)
    before = _db_state()
    coco = json.loads(path.read_text())
    coco["images"][0].update(width=60000, height=60000)
    coco["annotations"][0]["segmentation"] = {"size": [60000, 60000], "counts": [3_600_000_000]}
    path.write_text(json.dumps(coco))
    with pytest.raises(IngestError, match=r"instances.json: image id 1 .*60000x60000"):
        ds.add_annotations_from_coco(str(path), annotation_type="instance_segmentation")
    coco["images"][0].update(width=30, height=40)
    path.write_text(json.dumps(coco))
    with pytest.raises(
        IngestError,
        match=r"image id 1 \('a.jpg'\) is 30x40 in the JSON but "
        r"the matching sample is 40x30",
    ):
        ds.add_annotations_from_coco(str(path), annotation_type="instance_segmentation")
    assert _db_state() == before


def test_yolo_degenerate_box_names_every_line_once(db, tmp_path):
    yaml_path = write_yolo_dataset(tmp_path, {"a": "0 0.5 0.5 0 0\n0 0.1 0.1 0 0.2\n"})
    with pytest.raises(
        IngestError,
        match=r"a.txt, line 1: the box is degenerate: 0x0 px .*"
        r"\(1 more boxes are degenerate\)",
    ):
        ls.ImageDataset.create().add_samples_from_yolo(str(yaml_path), embed=False)


@pytest.mark.parametrize("fmt", ["coco", "yolo"])
def test_the_example_datasets_import_exactly_as_before(db, tmp_path, examples, fmt):
    """The checks add nothing to good data: no warning, the same counts."""
    if fmt == "coco":
        src = examples / "coco_subset_128_images"
        shutil.copytree(src, tmp_path / "coco")
        ds = ls.ImageDataset.create()
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)
            result = ds.add_samples_from_coco(
                str(tmp_path / "coco" / "instances_train2017.json"),
                str(tmp_path / "coco" / "images"),
                annotation_type="instance_segmentation",
                embed=False,
            )
        assert (result.samples_added, result.annotations_added) == (128, 900)
        assert result.warnings == []
    else:
        shutil.copytree(examples / "road_signs_yolo", tmp_path / "yolo")
        ds = ls.ImageDataset.create()
        result = ds.add_samples_from_yolo(str(tmp_path / "yolo" / "data.yaml"), embed=False)
        assert (result.samples_added, result.annotations_added) == (384, 466)
    con = get_connection()
    labels = con.execute("SELECT count(*) FROM annotation_label").fetchone()[0]
    assert labels == (80 if fmt == "coco" else 21)


def test_rle_checks_are_errors_before_pycocotools_sees_the_runs():
    with pytest.raises(ValueError, match="negative run length"):
        rle.coco_segmentation_to_mask({"size": [2, 2], "counts": [-1, 5]}, 2, 2)
    with pytest.raises(ValueError, match="do not sum to 2\\*2"):
        rle.coco_segmentation_to_mask({"size": [2, 2], "counts": [1, 2**40]}, 2, 2)
    with pytest.raises(ValueError, match="sum to more than the 4 pixels"):
        rle.coco_segmentation_to_mask(
            rle.mask_to_coco_rle(np.ones((8, 8), bool), True) | {"size": [2, 2]}, 2, 2
        )
    good = rle.mask_to_coco_rle(np.eye(5, dtype=bool), compressed=True)
    assert np.array_equal(rle.coco_segmentation_to_mask(good, 5, 5), np.eye(5, dtype=bool))
