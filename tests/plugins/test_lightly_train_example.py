"""The reference docs' LightlyTrain auto-labelling operator, run unchanged against a stand-in
``lightly_train`` module that returns fixed predictions; the boxes must land in the DB."""

from __future__ import annotations

import sys
import textwrap
import uuid

import pytest

from lightly_studio.api import operators as api

from .conftest import import_from_source

# lightly_train_auto_label_od_operator.py from the reference docs, verbatim.
AUTO_LABEL_OPERATOR = '''from dataclasses import dataclass

import lightly_train
from PIL import Image
from lightly_train._commands.predict_task_helpers import prepare_coco_entries as prepare_entries

from lightly_studio.models.annotation.annotation_base import AnnotationCreate, AnnotationType
from lightly_studio.models.annotation_label import AnnotationLabelCreate
from lightly_studio.plugins.base_operator import BaseOperator, OperatorResult
from lightly_studio.plugins.parameter import FloatParameter, StringParameter
from lightly_studio.resolvers import annotation_label_resolver, annotation_resolver, image_resolver


def _preload_label_map(session, dataset_id, class_names):
    """Pre-creates all necessary labels in the DB and returns a lookup map.

    Args:
        session: Database session.
        class_names: List of class names the model supports (e.g. ['car', 'person']).

    Returns:
        A dictionary mapping label names to their DB UUIDs.
    """
    label_map = {}

    for name in class_names:
        # Check if label exists in db
        label = annotation_label_resolver.get_by_label_name(session=session, label_name=name)

        # Create if missing
        if label is None:
            label_create = AnnotationLabelCreate(dataset_id=dataset_id, annotation_label_name=name)
            label = annotation_label_resolver.create(session=session, label=label_create)

        label_map[name] = label.annotation_label_id

    return label_map

@dataclass
class LightlyTrainAutoLabelingODOperator(BaseOperator):
    name: str = "LightlyTrain: OD auto-labeling"
    description: str = "This plugin allows to use pre-trained LightlyTrain models to perform auto-labeling for Object Detection."

    @property
    def parameters(self):
        return [
            StringParameter(
                name="Model",
                required=True,
                description="The name of the pre-trained model to be used.",
                default="dinov3/convnext-tiny-ltdetr-coco"
            ),
            FloatParameter(
                name="Threshold",
                default=0.4,
                description="The confidence threshold to be applied to the predictions."
            ),
        ]

    def execute(self, *, session, collection_id, parameters):
        try:
            model = lightly_train.load_model(parameters["Model"])
        except ValueError as e:
            return OperatorResult(success=False, message=f"Model load failed: {str(e)}")
        
        if (parameters["Threshold"] > 1.0) or (parameters["Threshold"] < 0.0):
            return OperatorResult(success=False, message="Threshold must be in range 0.0 to 1.0")

        raw_classes = getattr(model, "classes", {})
        label_map = _preload_label_map(session, collection_id, list(raw_classes.values()))

        # Running inference
        annotations_buffer = []
        samples = image_resolver.get_all_by_collection_id(session=session, collection_id=collection_id)
        for sample in samples.samples:
            image = Image.open(sample.file_path_abs).convert("RGB")

            preds = model.predict(image, threshold=parameters["Threshold"])
            entries = prepare_entries(predictions=preds, image_size=(sample.width, sample.height))

            for entry in entries:
                annotations_buffer.append(
                    AnnotationCreate(
                        parent_sample_id=sample.sample_id,
                        annotation_label_id=label_map[raw_classes[entry["category_id"]]],
                        annotation_type=AnnotationType.OBJECT_DETECTION,
                        x=int(entry["bbox"][0]),
                        y=int(entry["bbox"][1]),
                        width=int(entry["bbox"][2]),
                        height=int(entry["bbox"][3]),
                        confidence=entry["score"],
                    )
                )

        annotation_resolver.create_many(
            session=session,
            parent_collection_id=collection_id,
            annotations=annotations_buffer,
        )
        total_created = len(annotations_buffer)

        return OperatorResult(
            success=True, message=f"Auto-labeling complete. Added {total_created} annotations."
        )

'''

# A stand-in for the parts of lightly_train the example uses. Predictions are fixed per image
# width, boxes as xyxy pixels like LightlyTrain's; prepare_coco_entries turns them into COCO
# entries (xywh) as the real helper does.
FAKE_LIGHTLY_TRAIN = """
    class FakeModel:
        classes = {0: "car", 1: "person"}

        def __init__(self):
            self.thresholds = []

        def predict(self, image, threshold):
            self.thresholds.append(threshold)
            w, h = image.size
            preds = [  # (label, xyxy, score)
                (0, [1.0, 2.0, 11.0, 22.0], 0.9),
                (1, [0.0, 0.0, float(w), float(h)], 0.5),
                (1, [3.0, 3.0, 5.0, 5.0], 0.2),
            ]
            kept = [p for p in preds if p[2] >= threshold]
            return {"labels": [p[0] for p in kept], "bboxes": [p[1] for p in kept],
                    "scores": [p[2] for p in kept]}

    MODELS = {}

    def load_model(name):
        if not name.startswith("dinov3/"):
            raise ValueError(f"Unknown model {name}")
        MODELS[name] = FakeModel()
        return MODELS[name]
"""

FAKE_HELPERS = """
    def prepare_coco_entries(predictions, image_size):
        entries = []
        for label, (x0, y0, x1, y1), score in zip(
                predictions["labels"], predictions["bboxes"], predictions["scores"]):
            entries.append({"category_id": int(label), "bbox": [x0, y0, x1 - x0, y1 - y0],
                            "score": float(score)})
        return entries
"""


@pytest.fixture
def auto_label(tmp_path, monkeypatch, clean_registry):
    pkg = tmp_path / "lightly_train"
    (pkg / "_commands").mkdir(parents=True)
    (pkg / "__init__.py").write_text(textwrap.dedent(FAKE_LIGHTLY_TRAIN))
    (pkg / "_commands" / "__init__.py").write_text("")
    (pkg / "_commands" / "predict_task_helpers.py").write_text(textwrap.dedent(FAKE_HELPERS))
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in (
        "lightly_train",
        "lightly_train._commands",
        "lightly_train._commands.predict_task_helpers",
    ):
        monkeypatch.delitem(sys.modules, name, raising=False)
    module = import_from_source(
        tmp_path, "lightly_train_auto_label_od_operator", AUTO_LABEL_OPERATOR
    )
    yield clean_registry.register(module.LightlyTrainAutoLabelingODOperator())
    sys.modules.pop("lightly_train_auto_label_od_operator", None)


def _run(dataset, **parameters):
    reply, _ = api.operator_run(
        {
            "dataset_id": str(dataset.dataset_id),
            "operator": "LightlyTrain: OD auto-labeling",
            "parameters": parameters,
            "wait": True,
        }
    )
    return reply


def _boxes(dataset):
    from lightly_studio.db import get_connection
    from lightly_studio.store.annotations import annotations_frame

    frame = annotations_frame(get_connection(), dataset.dataset_id)
    names = {s.sample_id: s.file_name for s in dataset.query().to_list()}
    return sorted(
        (
            names[uuid.UUID(r["sample_id"])],
            r["label"],
            r["annotation_type"],
            r["x"],
            r["y"],
            r["width"],
            r["height"],
            r["confidence"],
        )
        for r in frame.iter_rows(named=True)
    )


def test_the_docs_example_is_listed_with_its_two_inputs(image_dataset, auto_label):
    reply, _ = api.operators_list({"dataset_id": str(image_dataset.dataset_id)})
    op = next(o for o in reply["operators"] if o["name"] == "LightlyTrain: OD auto-labeling")
    assert [(p["name"], p["type"], p["default"]) for p in op["parameters"]] == [
        ("Model", "string", "dinov3/convnext-tiny-ltdetr-coco"),
        ("Threshold", "number", 0.4),
    ]


def test_auto_labelling_stores_the_predicted_boxes(image_dataset, auto_label):
    reply = _run(image_dataset, Threshold=0.4)
    assert reply["status"] == "succeeded", reply["message"]
    assert reply["message"] == "Auto-labeling complete. Added 6 annotations."
    assert _boxes(image_dataset) == [
        ("a.png", "car", "object_detection", 1.0, 2.0, 10.0, 20.0, 0.9),
        ("a.png", "person", "object_detection", 0.0, 0.0, 64.0, 48.0, 0.5),
        ("b.png", "car", "object_detection", 1.0, 2.0, 10.0, 20.0, 0.9),
        ("b.png", "person", "object_detection", 0.0, 0.0, 32.0, 32.0, 0.5),
        ("c.png", "car", "object_detection", 1.0, 2.0, 10.0, 20.0, 0.9),
        ("c.png", "person", "object_detection", 0.0, 0.0, 100.0, 50.0, 0.5),
    ]
    from lightly_studio.db import get_connection
    from lightly_studio.store.labels import list_labels

    labels = list_labels(get_connection(), image_dataset.dataset_id)
    assert labels["name"].to_list() == ["car", "person"]
    assert labels["count"].to_list() == [3, 3]


def test_running_twice_reuses_the_labels(image_dataset, auto_label):
    assert _run(image_dataset, Threshold=0.1)["success"] is True
    assert _run(image_dataset, Threshold=0.8)["success"] is True
    from lightly_studio.db import get_connection
    from lightly_studio.store.labels import list_labels

    labels = list_labels(get_connection(), image_dataset.dataset_id)
    assert labels["name"].to_list() == ["car", "person"]
    # 3 boxes per image at 0.1, then only the car at 0.8.
    assert labels["count"].to_list() == [3 + 3, 6]


def test_a_model_that_fails_to_load_gives_the_examples_message(image_dataset, auto_label):
    reply = _run(image_dataset, Model="yolo/unknown")
    assert reply["status"] == "failed"
    assert reply["message"] == "Model load failed: Unknown model yolo/unknown"
    assert _boxes(image_dataset) == []


def test_the_examples_own_threshold_check_answers_with_its_message(image_dataset, auto_label):
    reply = _run(image_dataset, Threshold=1.5)
    assert reply["status"] == "failed"
    assert reply["message"] == "Threshold must be in range 0.0 to 1.0"


def test_a_threshold_that_is_not_a_number_is_refused_before_execute(image_dataset, auto_label):
    reply = _run(image_dataset, Threshold="high")
    assert reply["status"] == "invalid"
    assert reply["errors"] == {"Threshold": "expected a number, got str 'high'"}
