"""Predictions into the store: COCO results lists, scores as confidence, boxes clipped."""

from __future__ import annotations

import json
import warnings

import pytest

from lightly_studio.db import get_connection
from lightly_studio.errors import IngestError
from lightly_studio.store.annotations import annotations_frame
from tests.evaluation.helpers import COCO, coco_dataset, perturbed_predictions

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_bare_results_list_loads_with_scores_and_overshooting_boxes_clipped(db, tmp_path, examples):
    ds = coco_dataset(examples)
    gt_json = examples / COCO / "instances_train2017.json"
    sizes = {i["id"]: (i["width"], i["height"]) for i in json.loads(gt_json.read_text())["images"]}
    results = [
        {k: p[k] for k in ("image_id", "category_id", "bbox", "score")}
        for p in perturbed_predictions(examples)["annotations"]
    ]
    for p in results[:47]:  # a pixel past the right edge, as models do
        w_img, _ = sizes[p["image_id"]]
        p["bbox"][2] = w_img - p["bbox"][0] + 1
    path = tmp_path / "results.json"
    path.write_text(json.dumps(results))
    with pytest.raises(IngestError, match="images_json"):
        ds.add_annotations_from_coco(str(path), annotation_source="model")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds.add_annotations_from_coco(str(path), annotation_source="model", images_json=str(gt_json))
    clip_notes = [w for w in caught if "clipped" in str(w.message)]
    assert len(clip_notes) == 1 and "47 boxes" in str(clip_notes[0].message)
    stored = annotations_frame(get_connection(), ds.dataset_id, source="model")
    assert stored.height == len(results)
    assert sorted(stored["confidence"].to_list()) == sorted(p["score"] for p in results)
    result = ds.evaluate().object_detection("det", "ground_truth", "model")
    assert result.pred_annotation_count == len(results)


def test_yolo_predictions_with_a_confidence_column(db, tmp_path, examples):
    import shutil

    import lightly_studio as ls

    source = examples / "road_signs_yolo"
    root = tmp_path / "yolo"
    shutil.copytree(source / "valid", root / "valid")
    names = next(ln for ln in (source / "data.yaml").read_text().splitlines() if "names" in ln)
    (root / "data.yaml").write_text(f"val: valid/images\n{names}\n")
    ds = ls.ImageDataset.create()
    ds.add_samples_from_yolo(str(root / "data.yaml"), embed=False)
    # Predictions: the same boxes with a sixth (confidence) column, for the same images.
    for label_file in (root / "valid" / "labels").glob("*.txt"):
        lines = [ln for ln in label_file.read_text().splitlines() if ln.strip()]
        label_file.write_text("".join(f"{ln} 0.75\n" for ln in lines))
    ds.add_annotations_from_yolo(str(root / "data.yaml"), annotation_source="yolo_model")
    stored = annotations_frame(get_connection(), ds.dataset_id, source="yolo_model")
    assert stored.height > 0 and set(stored["confidence"].to_list()) == {0.75}
    result = ds.evaluate().object_detection("yolo", "ground_truth", "yolo_model")
    assert result.metrics["mAP"] == pytest.approx(1.0)  # identical boxes
    assert result.metrics["fp"] == result.metrics["fn"] == 0
