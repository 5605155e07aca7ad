"""The classifier methods the views call (api/classifier.py), through ``api.dispatch``: the
state they answer, the ids token they put in the grid, and the errors a view can cause."""

from __future__ import annotations

import numpy as np
import pytest

from lightly_studio import api
from lightly_studio.errors import ClassifierError, LightlyStudioError
from tests.conftest import make_images


@pytest.fixture
def planted(db, tmp_path):
    import lightly_studio as ls

    make_images(tmp_path / "imgs", {f"{i}.png": (8, 8) for i in range(6)})
    dataset = ls.ImageDataset.create("planted")
    dataset.add_images_from_path(str(tmp_path / "imgs"), embed=False)
    ids = [str(i) for i in dataset.query().to_polars()["sample_id"]]
    vectors = np.array(
        [[1.0, 0.1 * i, 0] for i in range(3)] + [[0.1 * i, 1.0, 0] for i in range(3)]
    )
    dataset.add_embeddings("toy", ids, vectors.astype(np.float32))
    return dataset, ids


def call(method: str, **params):
    return api.dispatch(method, params)[0]


def test_the_views_drive_a_classifier_that_python_sees(planted):
    dataset, ids = planted
    d = str(dataset.dataset_id)
    state = call("classifier_create", dataset_id=d, name="xy", classes=[" x", "y "])
    assert state == {
        "name": "xy",
        "classes": ["x", "y"],
        "examples": {"x": 0, "y": 0},
        "trained": False,
        "embedding_model": "toy",
    }
    call("classifier_add_examples", dataset_id=d, name="xy", class_name="x", sample_ids=ids[:2])
    state = call(
        "classifier_add_examples",
        dataset_id=d,
        name="xy",
        class_name="y",
        spec={"ids": api.register_ids(ids[3:5])},
    )
    assert state["examples"] == {"x": 2, "y": 2}
    trained = call("classifier_train", dataset_id=d, name="xy")
    assert trained["trained"] and trained["seconds"] < 60

    shown = call("classifier_show", dataset_id=d, name="xy", which="class", class_name="y")
    assert shown["count"] == 3
    grid = api.query_from_spec({"dataset_id": d, "ids": shown["ids"]})
    assert sorted(str(i) for i in grid.to_polars()["sample_id"]) == sorted(ids[3:])
    unsure = call("classifier_show", dataset_id=d, name="xy", which="uncertain", n=1)
    assert unsure["count"] == 1

    # Python holds the same classifier: its examples and weights.
    from lightly_studio.classifier import open_classifiers

    (in_python,) = open_classifiers(dataset.dataset_id)
    assert in_python.is_trained and in_python.examples.height == 4
    assert in_python.predict().filter(in_python.predict()["prediction"] == "y").height == 3
    assert call("classifier_apply", dataset_id=d, name="xy") == {"count": 6, "source": "xy"}
    call("classifier_add_examples", dataset_id=d, name="xy", class_name=None, sample_ids=ids[:1])
    assert call("classifier_list", dataset_id=d)["classifiers"][0]["examples"] == {"x": 1, "y": 2}


@pytest.mark.parametrize(
    ("method", "params", "message"),
    [
        ("classifier_train", {"name": "nope"}, "No classifier named 'nope'"),
        ("classifier_create", {"name": "c", "classes": ["only"]}, "two or more distinct"),
        ("classifier_create", {"name": "", "classes": ["a", "b"]}, "name must be a non-empty"),
        ("classifier_show", {"name": "xy", "which": "everything"}, 'which must be "uncertain"'),
        (
            "classifier_show",
            {"name": "xy", "which": "class", "class_name": "z"},
            "'z' is not a class",
        ),
        ("classifier_apply", {"name": "xy"}, "not trained"),
        (
            "classifier_add_examples",
            {"name": "xy", "class_name": "x", "sample_ids": ["no"]},
            "sample_ids",
        ),
    ],
)
def test_errors_name_the_problem(planted, method, params, message):
    dataset, _ = planted
    d = str(dataset.dataset_id)
    call("classifier_create", dataset_id=d, name="xy", classes=["x", "y"])
    with pytest.raises(LightlyStudioError, match=message):
        call(method, dataset_id=d, **params)


def test_a_dataset_without_embeddings_cannot_have_a_classifier(db, tmp_path):
    import lightly_studio as ls

    make_images(tmp_path / "imgs", {"a.png": (8, 8)})
    dataset = ls.ImageDataset.create("bare")
    dataset.add_images_from_path(str(tmp_path / "imgs"), embed=False)
    with pytest.raises(ClassifierError, match="has no embeddings"):
        call("classifier_create", dataset_id=str(dataset.dataset_id), name="c", classes=["a", "b"])
