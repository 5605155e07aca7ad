"""Few-shot classifiers trained on the stored embeddings: ``dataset.few_shot_classifier()``."""

from lightly_studio.classifier._few_shot import (
    FewShotClassifier,
    dataset_classifiers,
    find_classifier,
    open_classifiers,
)
from lightly_studio.errors import ClassifierError

__all__ = [
    "ClassifierError",
    "FewShotClassifier",
    "dataset_classifiers",
    "find_classifier",
    "open_classifiers",
]
