"""Few-shot classifiers trained on the stored embeddings: ``dataset.few_shot_classifier()``."""

from lightly_studio.classifier._few_shot import ClassifierError, FewShotClassifier

__all__ = ["ClassifierError", "FewShotClassifier"]
