"""Few-shot classifiers from the views: create, mark examples, train, show the least sure
samples or a class's predicted members in the grid, apply as an annotation source.

The classifiers are the ones of ``lightly_studio.classifier`` (``dataset_classifiers``): one
made in Python shows in the views and the other way round, and those stored in the database by
an earlier session show too.
"""

from __future__ import annotations

import time
from typing import Any

from lightly_studio.api import _contracts as c
from lightly_studio.api._methods import method
from lightly_studio.api._spec import (
    dataset_of,
    int_param,
    register_ids,
    set_query_from_spec,
    show,
    text_list,
    uuid_list,
)
from lightly_studio.classifier import FewShotClassifier, dataset_classifiers, find_classifier
from lightly_studio.errors import ClassifierError, QueryError

MAX_SHOWN = 10_000  # the most samples "show least sure" puts in the grid


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise QueryError(f"{name} must be a non-empty string, got {show(value)}.")
    return value


def _state(classifier: FewShotClassifier) -> dict[str, Any]:
    counts = classifier.examples["class"].value_counts()
    per_class = dict(zip(counts["class"].to_list(), counts["count"].to_list(), strict=True))
    return {
        "name": classifier.name,
        "classes": classifier.classes,
        "examples": {cls: int(per_class.get(cls, 0)) for cls in classifier.classes},
        "trained": classifier.is_trained,
        "embedding_model": classifier.embedding_model_name,
    }


def _classifier(params: dict) -> FewShotClassifier:
    dataset = dataset_of(params.get("dataset_id"))
    return find_classifier(dataset, _text(params.get("name"), "name"))


def _scope(dataset: Any, params: dict) -> Any:
    """The samples ``sample_ids`` names, else those of ``spec``."""
    if params.get("sample_ids") is not None:
        return [str(i) for i in uuid_list(params.get("sample_ids"))]
    return set_query_from_spec(
        {**(params.get("spec") or {}), "dataset_id": str(dataset.dataset_id)}
    )


@method("classifier_list", c.DatasetIdParams, c.ClassifierListResult)
def classifier_list(params: dict) -> tuple[Any, list[bytes]]:
    """The dataset's classifiers: made in this process or stored by an earlier one."""
    dataset = dataset_of(params.get("dataset_id"))
    return {"classifiers": [_state(x) for x in dataset_classifiers(dataset)]}, []


@method("classifier_create", c.ClassifierCreateParams, c.ClassifierState)
def classifier_create(params: dict) -> tuple[Any, list[bytes]]:
    """A new classifier (replacing one of the same name) on the dataset's default embeddings."""
    dataset = dataset_of(params.get("dataset_id"))
    name = _text(params.get("name"), "name").strip()
    classes = [x.strip() for x in text_list(params.get("classes"), "classes")]
    return _state(dataset.few_shot_classifier(name, classes)), []


@method("classifier_add_examples", c.ClassifierExamplesParams, c.ClassifierState)
def classifier_add_examples(params: dict) -> tuple[Any, list[bytes]]:
    """Mark ``sample_ids`` (or the samples of ``spec``) as examples of ``class_name``; with
    ``class_name`` null, unmark them."""
    classifier = _classifier(params)
    samples = _scope(classifier.dataset, params)
    if params.get("class_name") is None:
        classifier.remove_examples(samples)
    else:
        classifier.add_examples(_text(params.get("class_name"), "class_name"), samples)
    return _state(classifier), []


@method("classifier_train", c.ClassifierParams, c.ClassifierTrainResult)
def classifier_train(params: dict) -> tuple[Any, list[bytes]]:
    """Fit on the examples; answers the state and the seconds training took."""
    classifier = _classifier(params)
    start = time.perf_counter()
    classifier.train()
    return {**_state(classifier), "seconds": time.perf_counter() - start}, []


@method("classifier_show", c.ClassifierShowParams, c.ClassifierShowResult)
def classifier_show(params: dict) -> tuple[Any, list[bytes]]:
    """An ids token for the grid: the ``n`` least sure non-examples (``which: "uncertain"``)
    or the samples predicted as ``class_name`` (``which: "class"``)."""
    classifier = _classifier(params)
    which = params.get("which")
    if which == "uncertain":
        n = int_param(params.get("n", 50), "n", minimum=1, maximum=MAX_SHOWN)
        frame = classifier.uncertain(n)
    elif which == "class":
        class_name = _text(params.get("class_name"), "class_name")
        if class_name not in classifier.classes:
            raise ClassifierError(f"{class_name!r} is not a class of {classifier.name!r}.")
        predictions = classifier.predict()
        frame = predictions.filter(predictions["prediction"] == class_name)
    else:
        raise ClassifierError(f'which must be "uncertain" or "class", got {which!r}.')
    ids = frame["sample_id"]
    return {"ids": register_ids(ids) if len(ids) else None, "count": len(ids)}, []


@method("classifier_apply", c.ClassifierParams, c.ClassifierApplyResult)
def classifier_apply(params: dict) -> tuple[Any, list[bytes]]:
    """Write the predictions of every embedded sample into the source named after it."""
    classifier = _classifier(params)
    return {"count": classifier.apply(), "source": classifier.name}, []
