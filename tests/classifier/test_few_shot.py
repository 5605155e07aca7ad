"""Few-shot classifiers: mark a few samples per class, train on the stored embeddings, predict,
refine on the least sure samples, apply as an annotation source, save and load.

Most cases use vectors added with ``add_embeddings`` (exact, fast); one case embeds real
images with the test model (random weights, tests/conftest.py), so it shows the classifier
separates visually distinct groups, not that it learns semantic classes.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from lightly_studio.core.dataset_query import ImageSampleField
from lightly_studio.db import get_connection
from lightly_studio.errors import ClassifierError
from lightly_studio.store.annotations import annotations_frame
from tests.conftest import EXAMPLES, make_images

TINTS = {"blue": (0, 40, 255), "red": (255, 40, 0)}
PER_GROUP = 24


def _tinted_images(folder: Path) -> None:
    """Two planted groups of the COCO example images: one half tinted blue, the other red."""
    from PIL import Image

    sources = sorted((EXAMPLES / "coco_subset_128_images" / "images").glob("*.jpg"))
    for i, path in enumerate(sources[: 2 * PER_GROUP]):
        group = "blue" if i % 2 == 0 else "red"
        image = Image.open(path).convert("RGB")
        image.thumbnail((160, 160))
        (folder / group).mkdir(parents=True, exist_ok=True)
        Image.blend(image, Image.new("RGB", image.size, TINTS[group]), 0.5).save(
            folder / group / path.name
        )


@pytest.fixture(scope="module")
def tinted_db(tmp_path_factory) -> Path:
    """A database with the tinted groups indexed (folder name as tag) and embedded, built once."""
    import lightly_studio as ls
    from lightly_studio import db_manager

    folder = tmp_path_factory.mktemp("tinted")
    _tinted_images(folder / "images")
    db_manager.connect(db_file=folder / "tinted.db")
    try:
        ls.ImageDataset.create("tinted").add_images_from_path(str(folder / "images"), tag_depth=1)
    finally:
        db_manager.close()
    return folder / "tinted.db"


@pytest.fixture
def tinted(tinted_db, tmp_path):
    """The tinted dataset in a copy of the database that this test may change."""
    import lightly_studio as ls
    from lightly_studio import db_manager

    shutil.copy(tinted_db, tmp_path / "tinted.db")
    db_manager.connect(db_file=tmp_path / "tinted.db")
    yield ls.ImageDataset.load("tinted")
    db_manager.close()


def _group(dataset, tag):
    return dataset.match(ImageSampleField.tags.contains(tag))


def _truth(dataset) -> dict[str, str]:
    frame = dataset.query().to_polars()
    return {str(s): tags[0] for s, tags in zip(frame["sample_id"], frame["tags"], strict=True)}


def test_ten_examples_per_class_separate_the_tinted_groups(tinted, tmp_path):
    classifier = tinted.few_shot_classifier("tint", classes=["blue", "red"])
    for tag in ("blue", "red"):
        ids = _group(tinted, tag).to_polars()["sample_id"].to_list()
        classifier.add_examples(tag, ids[:10])
    classifier.train()

    held_out = classifier.predict().filter(~pl.col("is_example"))
    assert held_out.height == 2 * PER_GROUP - 20
    truth = _truth(tinted)
    accuracy = np.mean(
        [truth[s] == p for s, p in held_out.select("sample_id", "prediction").rows()]
    )
    assert accuracy >= 0.9

    saved = classifier.save(tmp_path / "tint.json")
    loaded = tinted.load_few_shot_classifier(str(saved))
    assert loaded.classes == ["blue", "red"]
    assert loaded.embedding_model_name == classifier.embedding_model_name
    assert loaded.examples.equals(classifier.examples)
    again = loaded.predict()
    assert again["prediction"].to_list() == classifier.predict()["prediction"].to_list()
    assert np.allclose(again["p_red"].to_numpy(), classifier.predict()["p_red"].to_numpy())


# -- behaviour on planted vectors -----------------------------------------------------------------
@pytest.fixture
def planted(db, tmp_path):
    """12 images with 3-d vectors: 5 near x (class 'x'), 5 near y ('y'), 2 halfway between."""
    import lightly_studio as ls

    make_images(tmp_path / "imgs", {f"{i:02d}.png": (8, 8) for i in range(12)})
    dataset = ls.ImageDataset.create("planted")
    dataset.add_images_from_path(str(tmp_path / "imgs"), embed=False)
    ids = dataset.query().to_polars()["sample_id"].to_list()
    rng = np.random.default_rng(0)
    x, y = np.array([1.0, 0, 0]), np.array([0, 1.0, 0])
    vectors = [x + rng.normal(0, 0.05, 3) for _ in range(5)]
    vectors += [y + rng.normal(0, 0.05, 3) for _ in range(5)]
    vectors += [(x + y) / 2 + np.array([0, 0, 0.02 * k]) for k in (1, 2)]
    dataset.add_embeddings("toy", ids, np.array(vectors, dtype=np.float32))
    return dataset, ids


def test_predictions_come_as_one_row_per_embedded_sample(planted):
    dataset, ids = planted
    classifier = dataset.few_shot_classifier("xy", ["x", "y"])
    assert classifier.embedding_model_name == "toy"
    classifier.add_examples("x", ids[:2])
    classifier.add_examples("y", ids[5:7])
    frame = classifier.train().predict()
    assert frame.columns == [
        "sample_id",
        "prediction",
        "confidence",
        "margin",
        "is_example",
        "p_x",
        "p_y",
    ]
    assert sorted(frame["sample_id"].to_list()) == sorted(ids)
    by_id = dict(frame.select("sample_id", "prediction").rows())
    assert [by_id[i] for i in ids[:10]] == ["x"] * 5 + ["y"] * 5
    assert np.allclose(frame["p_x"] + frame["p_y"], 1.0)
    assert np.allclose(frame["confidence"], frame[["p_x", "p_y"]].max_horizontal())
    assert frame.filter(pl.col("is_example"))["sample_id"].sort().to_list() == sorted(
        ids[:2] + ids[5:7]
    )


def test_uncertain_lists_the_samples_between_the_classes_first(planted):
    dataset, ids = planted
    classifier = dataset.few_shot_classifier("xy", ["x", "y"])
    classifier.add_examples("x", ids[:2])
    classifier.add_examples("y", ids[5:7])
    unsure = classifier.train().uncertain(n=2)
    assert sorted(unsure["sample_id"].to_list()) == sorted(ids[10:])
    assert (unsure["margin"] < 0.2).all()

    # Refining: mark the unsure ones, retrain, and they are examples now, not candidates.
    classifier.add_examples("x", ids[10:])
    assert set(ids[10:]).isdisjoint(classifier.train().uncertain(n=20)["sample_id"].to_list())


def test_examples_by_query_or_ids_and_a_sample_changes_class(planted):
    dataset, ids = planted
    classifier = dataset.few_shot_classifier("xy", ["x", "y"])
    assert classifier.add_examples("x", dataset.query()[:3]) == 3
    assert classifier.add_examples("y", ids[2]) == 1  # moved from x to y
    assert classifier.examples.rows() == [(ids[0], "x"), (ids[1], "x"), (ids[2], "y")]
    assert classifier.remove_examples([ids[0], ids[5]]) == 1
    with pytest.raises(ClassifierError, match="'z' is not a class of classifier 'xy'"):
        classifier.add_examples("z", ids[:1])
    with pytest.raises(ClassifierError, match="not samples of dataset 'planted'"):
        classifier.add_examples("x", ["00000000-0000-0000-0000-000000000000"])


def test_training_needs_an_example_of_every_class(planted):
    dataset, ids = planted
    classifier = dataset.few_shot_classifier("xy", ["x", "y"])
    classifier.add_examples("x", ids[:3])
    with pytest.raises(ClassifierError, match="no embedded example of 'y'"):
        classifier.train()
    with pytest.raises(ClassifierError, match="not trained"):
        classifier.predict()
    with pytest.raises(ClassifierError, match="two or more distinct class names"):
        dataset.few_shot_classifier("one", ["x"])


def test_apply_writes_one_classification_per_sample_and_replaces_the_last_apply(planted):
    dataset, ids = planted
    classifier = dataset.few_shot_classifier("xy", ["x", "y"])
    classifier.add_examples("x", ids[:2])
    classifier.add_examples("y", ids[5:7])
    classifier.train()
    assert classifier.apply() == 12
    assert classifier.apply() == 12  # again: replaces, does not add

    stored = annotations_frame(get_connection(), dataset.dataset_id, source="xy")
    assert stored.height == 12
    assert set(stored["annotation_type"]) == {"classification"}
    predicted = classifier.predict()
    joined = stored.join(predicted, on="sample_id")
    assert (joined["label"] == joined["prediction"]).all()
    assert np.allclose(joined["confidence"], joined["confidence_right"])

    # Applying to a query touches only its samples.
    classifier.add_examples("y", ids[:2])
    classifier.add_examples("x", ids[5:7])
    classifier.train().apply(dataset.query()[:2])
    stored = annotations_frame(get_connection(), dataset.dataset_id, source="xy")
    assert stored.height == 12
    labels = dict(stored.select("sample_id", "label").rows())
    assert [labels[i] for i in ids[:2]] == ["y", "y"]
    assert labels[ids[3]] == "x"


def test_load_refuses_a_dataset_without_the_model(planted, tmp_path):
    import lightly_studio as ls

    dataset, ids = planted
    classifier = dataset.few_shot_classifier("xy", ["x", "y"])
    classifier.add_examples("x", ids[:2])
    classifier.add_examples("y", ids[5:7])
    path = classifier.train().save(tmp_path / "xy.json")

    other = ls.ImageDataset.create("other")
    make_images(tmp_path / "other", {"a.png": (8, 8)})
    other.add_images_from_path(str(tmp_path / "other"), embed=False)
    other.add_embeddings("another_model", other.query().to_polars()["sample_id"], np.eye(1, 3))
    with pytest.raises(ClassifierError, match="trained on embeddings of 'toy'"):
        other.load_few_shot_classifier(str(path))

    other.add_embeddings("toy", other.query().to_polars()["sample_id"], np.eye(1, 4))
    with pytest.raises(ClassifierError, match="another model under the same name"):
        other.load_few_shot_classifier(str(path))

    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(ClassifierError, match="not a saved classifier"):
        dataset.load_few_shot_classifier(str(tmp_path / "bad.json"))


# -- stored in the database -----------------------------------------------------------------------
def _restart(db_file: Path) -> None:
    """What a new process sees: the same database file, no classifier in memory."""
    from lightly_studio import db_manager
    from lightly_studio.classifier import _few_shot

    db_manager.close()
    _few_shot._open.clear()
    db_manager.connect(db_file=db_file)


def test_a_classifier_is_found_again_after_a_restart(planted, db):
    import lightly_studio as ls

    dataset, ids = planted
    classifier = dataset.few_shot_classifier("xy", ["x", "y"])
    classifier.add_examples("x", ids[:3])
    classifier.add_examples("y", ids[5:8])
    classifier.remove_examples(ids[2])
    before = classifier.train().predict()
    untrained = dataset.few_shot_classifier("later", ["a", "b"])
    untrained.add_examples("a", ids[:1])

    _restart(db)
    dataset = ls.ImageDataset.load("planted")
    again = dataset.few_shot_classifier("xy")
    assert again.classes == ["x", "y"] and again.embedding_model_name == "toy"
    assert again.examples.rows() == [(i, "x") for i in ids[:2]] + [(i, "y") for i in ids[5:8]]
    after = again.predict()
    assert after["prediction"].to_list() == before["prediction"].to_list()
    assert np.allclose(after["p_y"].to_numpy(), before["p_y"].to_numpy())
    later = dataset.few_shot_classifier("later")
    assert not later.is_trained and later.examples.height == 1
    with pytest.raises(ClassifierError, match="No classifier named 'nope'"):
        dataset.few_shot_classifier("nope")


def test_the_panel_lists_the_stored_classifiers(planted, db):
    import lightly_studio as ls
    from lightly_studio.api.classifier import classifier_list

    dataset, ids = planted
    dataset.few_shot_classifier("b_first", ["x", "y"]).add_examples("x", ids[:1])
    dataset.few_shot_classifier("a_second", ["x", "y"])
    _restart(db)
    dataset = ls.ImageDataset.load("planted")
    listed, _ = classifier_list({"dataset_id": str(dataset.dataset_id)})
    assert [(c["name"], c["examples"]) for c in listed["classifiers"]] == [
        ("a_second", {"x": 0, "y": 0}),
        ("b_first", {"x": 1, "y": 0}),
    ]


def test_a_new_classifier_of_the_same_name_replaces_the_stored_one(planted, db):
    import lightly_studio as ls

    dataset, ids = planted
    dataset.few_shot_classifier("xy", ["x", "y"]).add_examples("x", ids[:3])
    dataset.few_shot_classifier("xy", ["p", "q", "r"])
    _restart(db)
    again = ls.ImageDataset.load("planted").few_shot_classifier("xy")
    assert again.classes == ["p", "q", "r"] and again.examples.height == 0


def test_a_loaded_file_is_stored_too(planted, db, tmp_path):
    import lightly_studio as ls

    dataset, ids = planted
    classifier = dataset.few_shot_classifier("xy", ["x", "y"])
    classifier.add_examples("x", ids[:2])
    classifier.add_examples("y", ids[5:7])
    path = classifier.train().save(tmp_path / "xy.json")
    from lightly_studio.db import get_connection
    from lightly_studio.store.classifiers import delete_classifier

    assert delete_classifier(get_connection(), dataset.dataset_id, "xy")
    dataset.load_few_shot_classifier(str(path))
    _restart(db)
    again = ls.ImageDataset.load("planted").few_shot_classifier("xy")
    assert again.is_trained
    assert again.predict()["prediction"].to_list() == classifier.predict()["prediction"].to_list()


def test_a_published_dataset_carries_its_classifiers(planted, tmp_path):
    import lightly_studio as ls
    from lightly_studio.classifier import _few_shot

    dataset, ids = planted
    classifier = dataset.few_shot_classifier("xy", ["x", "y"])
    classifier.add_examples("x", ids[:2])
    classifier.add_examples("y", ids[5:7])
    before = classifier.train().predict()
    url = str(tmp_path / "shared" / "planted")
    dataset.publish(url)
    _few_shot._open.clear()
    opened = ls.open_published(url)
    again = opened.few_shot_classifier("xy")
    assert again.predict()["prediction"].to_list() == before["prediction"].to_list()
    again.add_examples("x", ids[2:3])  # kept in memory: the published database is read-only
    assert opened.few_shot_classifier("xy").examples.height == 5
