"""The quickstart / `make demo` hook: made-up predictions on the COCO example and one
evaluation of them, the same on every run and added only once."""

from __future__ import annotations

import polars as pl

import lightly_studio as ls
from lightly_studio import _demo
from lightly_studio.db import get_connection
from lightly_studio.store.annotations import annotations_frame
from lightly_studio.store.samples import dataset_sample_sizes
from tests.evaluation.helpers import COCO


def coco_dataset(examples, name: str):
    ds = ls.ImageDataset.create(name)
    ds.add_samples_from_coco(
        annotations_json=str(examples / COCO / "instances_train2017.json"),
        images_path=str(examples / COCO / "images"),
        annotation_type=ls.AnnotationType.INSTANCE_SEGMENTATION,
        embed=False,
    )
    return ds


def _predictions(ds) -> pl.DataFrame:
    frame = annotations_frame(get_connection(), ds.dataset_id, source=_demo.PREDICTIONS)
    return frame.select("sample_id", "label", "confidence", "x", "y", "segmentation_mask").sort(
        "sample_id", "x", "y", "label", "confidence"
    )


def test_predictions_and_an_evaluation_are_added_once_and_the_same_every_time(db, examples):
    ds = coco_dataset(examples, "coco")
    added = _demo.add_example_predictions(ds)
    predictions = _predictions(ds)
    # ~85% of the 900 objects kept, plus 0-2 false positives per image, all scored.
    assert 700 < added == predictions.height < 1100
    assert predictions["confidence"].is_between(0, 1).all()
    run = _demo.evaluate_example_predictions(ds)
    assert run.task == "instance_segmentation" and run.pred_annotation_count == added
    assert 0.2 < run.metrics["mAP50"] < 0.95  # a plausible, imperfect model

    # Re-running (a second `make demo`) adds nothing and keeps the run.
    assert _demo.add_example_predictions(ds) == 0
    assert _demo.evaluate_example_predictions(ds).evaluation_run_id == run.evaluation_run_id
    assert [r.name for r in ds.evaluation_runs()] == [_demo.EVALUATION]

    # The same seed on another copy of the data makes the same predictions.
    other = coco_dataset(examples, "other")
    _demo.add_example_predictions(other)
    same = _predictions(other)
    path_of = {
        sid: path
        for d in (ds, other)
        for sid, path in dataset_sample_sizes(get_connection(), d.dataset_id, ("image",))
        .select("sample_id", "file_path_abs")
        .rows()
    }

    def by_path(frame: pl.DataFrame) -> pl.DataFrame:
        path = pl.col("sample_id").replace_strict(path_of)
        return frame.with_columns(path).sort("sample_id", "x", "y", "label", "confidence")

    assert by_path(predictions).equals(by_path(same))
