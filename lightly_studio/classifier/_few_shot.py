"""A few-shot classifier: logistic regression on the stored embeddings of a few marked samples.

Training reads the vectors the dataset already has (no image is opened), so it takes
milliseconds; a classifier is bound to the embedding model it was trained on, and loading it
into a dataset without that model's vectors is refused. Every change (creation, examples,
training) is stored in the database (store/classifiers.py), so
``dataset.few_shot_classifier(name)`` finds it again after a restart. Logistic regression (scikit-learn)
over a torch linear probe or a nearest centroid: benchmarks/bench_classifier.py compares them
on a held-out split.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from lightly_studio.db import get_connection, read_only_source, transaction
from lightly_studio.embed import embedding_model_names, get_embeddings, resolve_model_name
from lightly_studio.errors import ClassifierError
from lightly_studio.store.annotations import AnnotationType, insert_annotation_frame
from lightly_studio.store.annotations import delete_source_annotations as _delete_source
from lightly_studio.store.classifiers import classifier_names, load_classifier, save_classifier
from lightly_studio.store.samples import ids_in_insertion_order, known_sample_ids

FILE_FORMAT = "lightly_studio.few_shot_classifier"
FILE_VERSION = 1
# Inverse regularisation strength: embeddings are L2-normalised (|x| = 1), so the default C=1
# keeps the weights small and every probability near 1/k; C=10 gives probabilities that
# separate sure from unsure predictions at the same accuracy (bench_classifier.py).
C = 10.0


class FewShotClassifier:
    """Name it and its classes, mark examples, ``train()``, then ``predict()`` or ``apply()``.

    Made by ``dataset.few_shot_classifier(name, classes)``. ``dataset`` is the façade's
    Dataset (duck-typed: ``dataset_id``, ``name``, ``query()``).
    """

    def __init__(
        self,
        dataset: Any,
        name: str,
        classes: Sequence[str],
        embedding_model_name: str | None = None,
        *,
        _store: bool = True,
    ) -> None:
        if not isinstance(name, str) or not name.strip():
            raise ClassifierError(f"A classifier name must be a non-empty string, got {name!r}.")
        classes = list(classes)
        if len(classes) < 2 or len(set(classes)) != len(classes):
            raise ClassifierError(
                f"A classifier needs two or more distinct class names, got {classes!r}."
            )
        for cls in classes:
            if not isinstance(cls, str) or not cls.strip():
                raise ClassifierError(f"Class names must be non-empty strings, got {cls!r}.")
        self.dataset = dataset
        self.name = name
        self.classes = classes
        self.embedding_model_name = _model_name(dataset, embedding_model_name)
        self._examples: dict[str, str] = {}  # sample id -> class
        self._coef: np.ndarray | None = None  # [k, d] (k = 1 for two classes)
        self._intercept: np.ndarray | None = None
        # The views work on the classifiers Python made, and Python on the views' ones.
        _open[(str(dataset.dataset_id), name)] = self
        if _store:
            self._store()

    def _store(self) -> None:
        """Write the current state to the database (not where the database is a read-only
        published dataset: there the classifier lives in this process only)."""
        if read_only_source() is not None:
            return
        save_classifier(
            get_connection(),
            self.dataset.dataset_id,
            name=self.name,
            classes=self.classes,
            embedding_model=self.embedding_model_name,
            examples=self._examples,
            coef=self._coef,
            intercept=self._intercept,
        )

    # -- examples -------------------------------------------------------------------------------
    def add_examples(self, class_name: str, samples: Any) -> int:
        """Mark ``samples`` (a query, Sample objects or ids) as examples of ``class_name``.

        A sample marked before is moved to this class. Returns how many samples were marked.
        """
        if class_name not in self.classes:
            raise ClassifierError(
                f"{class_name!r} is not a class of classifier {self.name!r} "
                f"(classes: {', '.join(map(repr, self.classes))})."
            )
        ids = _sample_ids(self.dataset, samples)
        for sample_id in ids:
            self._examples[sample_id] = class_name
        self._store()
        return len(ids)

    def remove_examples(self, samples: Any) -> int:
        """Unmark ``samples``; returns how many were examples."""
        removed = sum(
            self._examples.pop(i, None) is not None for i in _sample_ids(self.dataset, samples)
        )
        self._store()
        return removed

    @property
    def examples(self) -> pl.DataFrame:
        """The marked samples: (sample_id, class), in the order they were marked."""
        return pl.DataFrame(
            {"sample_id": list(self._examples), "class": list(self._examples.values())},
            schema={"sample_id": pl.Utf8, "class": pl.Utf8},
        )

    # -- training and predicting ----------------------------------------------------------------
    @property
    def is_trained(self) -> bool:
        return self._coef is not None

    def train(self) -> FewShotClassifier:
        """Fit on the examples' stored embeddings. Every class needs at least one example."""
        from sklearn.linear_model import LogisticRegression

        ids, vectors = get_embeddings(
            self.dataset, list(self._examples), model_name=self.embedding_model_name
        )
        labels = [self._examples[str(i)] for i in ids]
        missing = [c for c in self.classes if c not in labels]
        if missing:
            raise ClassifierError(
                f"Classifier {self.name!r} has no embedded example of "
                f"{', '.join(map(repr, missing))}: mark at least one sample per class."
            )
        y = np.array([self.classes.index(label) for label in labels])
        model = LogisticRegression(C=C, class_weight="balanced", max_iter=1000)
        model.fit(vectors, y)
        self._coef = np.asarray(model.coef_, dtype=np.float64)
        self._intercept = np.asarray(model.intercept_, dtype=np.float64)
        self._store()
        return self

    def predict(self, query: Any = None) -> pl.DataFrame:
        """Predictions for the embedded samples of ``query`` (default: the whole dataset).

        Columns: sample_id, prediction (a class), confidence (its probability), margin (the
        gap to the second most likely class: small is unsure), is_example, and one
        ``p_<class>`` column per class.
        """
        if self._coef is None or self._intercept is None:
            raise ClassifierError(f"Classifier {self.name!r} is not trained: call train().")
        query = query if query is not None else self.dataset.query()
        ids, vectors = get_embeddings(
            self.dataset, query.sample_ids_subquery(), model_name=self.embedding_model_name
        )
        probs = _probabilities(vectors, self._coef, self._intercept)
        ranked = np.sort(probs, axis=1)
        best = probs.argmax(axis=1)
        sample_ids = [str(i) for i in ids]
        frame = pl.DataFrame(
            {
                "sample_id": pl.Series(sample_ids, dtype=pl.Utf8),
                "prediction": pl.Series([self.classes[i] for i in best], dtype=pl.Utf8),
                "confidence": ranked[:, -1],
                "margin": ranked[:, -1] - ranked[:, -2],
                "is_example": [i in self._examples for i in sample_ids],
            }
        )
        return frame.with_columns(
            pl.Series(f"p_{cls}", probs[:, k]) for k, cls in enumerate(self.classes)
        )

    def uncertain(self, n: int = 20, query: Any = None) -> pl.DataFrame:
        """The ``n`` non-example samples it is least sure of (smallest margin first): the ones
        to mark next."""
        frame = self.predict(query).filter(~pl.col("is_example"))
        return frame.sort("margin", "sample_id").head(n)

    def apply(self, query: Any = None) -> int:
        """Write one classification per predicted sample into the annotation source named
        after the classifier (probability as confidence), replacing that source's
        classifications from an earlier apply. One transaction. Returns how many written."""
        query = query if query is not None else self.dataset.query()
        predictions = self.predict(query)
        frame = predictions.select(
            "sample_id",
            pl.col("prediction").alias("label"),
            pl.lit(AnnotationType.CLASSIFICATION.value).alias("annotation_type"),
            pl.lit(self.name).alias("source"),
            pl.col("confidence").cast(pl.Float64),
        )
        with transaction() as con:
            _delete_source(
                con,
                self.name,
                AnnotationType.CLASSIFICATION.value,
                query.sample_ids_subquery(),
            )
            return insert_annotation_frame(con, self.dataset.dataset_id, frame)

    # -- files ----------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Write the classifier (classes, examples, weights, embedding model) as JSON."""
        if self._coef is None or self._intercept is None:
            raise ClassifierError(f"Classifier {self.name!r} is not trained: call train().")
        path = Path(path).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        content = {
            "format": FILE_FORMAT,
            "version": FILE_VERSION,
            "name": self.name,
            "classes": self.classes,
            "embedding_model": self.embedding_model_name,
            "examples": self._examples,
            "coef": self._coef.tolist(),
            "intercept": self._intercept.tolist(),
        }
        path.write_text(json.dumps(content), encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | os.PathLike, dataset: Any) -> FewShotClassifier:
        """Read a saved classifier for ``dataset``, which must have embeddings of the model
        the classifier was trained on."""
        path = Path(path).expanduser()
        try:
            content = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ClassifierError(f"{path}: file not found") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ClassifierError(f"{path}: not a saved classifier ({exc})") from None
        if not isinstance(content, dict) or content.get("format") != FILE_FORMAT:
            raise ClassifierError(f"{path}: not a saved classifier (no {FILE_FORMAT!r} format)")
        if content.get("version") != FILE_VERSION:
            raise ClassifierError(
                f"{path}: classifier file version {content.get('version')!r} is not supported "
                f"(this version reads {FILE_VERSION})"
            )
        try:
            state = {
                "name": str(content["name"]),
                "classes": [str(c) for c in content["classes"]],
                "embedding_model": str(content["embedding_model"]),
                "examples": {str(k): str(v) for k, v in content["examples"].items()},
                "coef": np.asarray(content["coef"], dtype=np.float64),
                "intercept": np.asarray(content["intercept"], dtype=np.float64),
            }
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ClassifierError(f"{path}: not a saved classifier ({exc!r})") from None
        classifier = cls._restore(dataset, state, f"{path}: ")
        classifier._store()  # a loaded classifier is the dataset's from now on
        return classifier

    @classmethod
    def stored(cls, dataset: Any, name: str) -> FewShotClassifier | None:
        """The classifier ``name`` as stored in the database for ``dataset``, or None."""
        state = load_classifier(get_connection(), dataset.dataset_id, name)
        if state is None:
            return None
        return cls._restore(dataset, state, f"stored classifier {name!r}: ")

    @classmethod
    def _restore(cls, dataset: Any, state: dict[str, Any], where: str) -> FewShotClassifier:
        """A classifier from its state (a file's or the database's), checked against the
        dataset's embeddings: the model must be there, with the weights' dimension."""
        model = state["embedding_model"]
        if model not in embedding_model_names(dataset):
            raise ClassifierError(
                f"{where}classifier {state['name']!r} was trained on embeddings of {model!r}, "
                f"which dataset {dataset.name!r} does not have (it has: "
                f"{', '.join(map(repr, embedding_model_names(dataset))) or 'none'}). Compute "
                "them with dataset.compute_embeddings(embedding_model=...) first."
            )
        classifier = cls(dataset, state["name"], state["classes"], model, _store=False)
        coef = state["coef"]
        if coef is not None:
            dim = get_embeddings(dataset, [], model_name=model)[1].shape[1]
            if coef.ndim != 2 or coef.shape[1] != dim:
                raise ClassifierError(
                    f"{where}the weights have shape {coef.shape}, the dataset's {model!r} "
                    f"vectors have {dim} dimensions: it is another model under the same name."
                )
        classifier._examples = dict(state["examples"])
        classifier._coef = coef
        classifier._intercept = state["intercept"]
        return classifier

    def __repr__(self) -> str:
        state = "trained" if self.is_trained else "untrained"
        return (
            f"FewShotClassifier(name={self.name!r}, classes={self.classes!r}, "
            f"examples={len(self._examples)}, {state})"
        )


_open: dict[tuple[str, str], FewShotClassifier] = {}


def open_classifiers(dataset_id: Any) -> list[FewShotClassifier]:
    """The classifiers of the dataset made in this process (by Python or a view), by name;
    a newer one of the same name replaces the older."""
    return sorted((c for (d, _), c in _open.items() if d == str(dataset_id)), key=lambda c: c.name)


def dataset_classifiers(dataset: Any) -> list[FewShotClassifier]:
    """The dataset's classifiers, by name: those open in this process and those stored in the
    database (loaded on first use; one whose embeddings the dataset no longer has is left
    out)."""
    open_names = {c.name for c in open_classifiers(dataset.dataset_id)}
    for name in classifier_names(get_connection(), dataset.dataset_id):
        if name not in open_names:
            try:
                FewShotClassifier.stored(dataset, name)
            except ClassifierError:
                continue
    return open_classifiers(dataset.dataset_id)


def find_classifier(dataset: Any, name: str) -> FewShotClassifier:
    """The classifier ``name`` of the dataset: the one open in this process, else the stored
    one; ClassifierError when there is none."""
    found = _open.get((str(dataset.dataset_id), name)) or FewShotClassifier.stored(dataset, name)
    if found is None:
        raise ClassifierError(
            f"No classifier named {name!r} for dataset {dataset.name!r} (pass classes= to "
            "create one)."
        )
    return found


def _probabilities(vectors: np.ndarray, coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
    """Class probabilities of a fitted LogisticRegression, computed from its weights (so a
    loaded classifier needs no pickled scikit-learn object)."""
    scores = vectors.astype(np.float64) @ coef.T + intercept
    if coef.shape[0] == 1:  # binary: one weight vector for the second class
        p = 1.0 / (1.0 + np.exp(-scores[:, 0]))
        return np.stack([1.0 - p, p], axis=1)
    scores -= scores.max(axis=1, keepdims=True)
    exp = np.exp(scores)
    return exp / exp.sum(axis=1, keepdims=True)


def _model_name(dataset: Any, requested: str | None) -> str:
    if not embedding_model_names(dataset):
        raise ClassifierError(
            f"Dataset {dataset.name!r} has no embeddings: a classifier trains on them. Run "
            "dataset.compute_embeddings() first."
        )
    return resolve_model_name(dataset, requested)


def _sample_ids(dataset: Any, samples: Any) -> list[str]:
    """Sample ids (text) of a query, a Sample, or an iterable of Samples / ids; each must be a
    sample of ``dataset``."""
    con = get_connection()
    if hasattr(samples, "sample_ids_subquery"):
        return ids_in_insertion_order(con, samples.sample_ids_subquery())
    if hasattr(samples, "sample_id") or isinstance(samples, (str, uuid.UUID)):
        samples = [samples]
    if not isinstance(samples, Iterable):
        raise ClassifierError(f"Expected a query, samples or sample ids, got {samples!r}.")
    ids = []
    for sample in samples:
        value = getattr(sample, "sample_id", sample)
        try:
            ids.append(str(uuid.UUID(str(value))))
        except ValueError:
            raise ClassifierError(f"{value!r} is not a sample id.") from None
    unknown = set(ids) - known_sample_ids(con, dataset.dataset_id, ids)
    if unknown:
        raise ClassifierError(
            f"{len(unknown)} of the ids are not samples of dataset {dataset.name!r}, "
            f"e.g. {sorted(unknown)[0]}."
        )
    return ids
