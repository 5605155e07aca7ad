"""``AnnotationCreate``: one annotation for ``annotation_resolver.create_many``.

Boxes are in pixels with a top-left origin (``x``, ``y``, ``width``, ``height``), as everywhere
in lightly_studio. ``annotation_label_id`` is the id of a label of the dataset (get or create it
with ``annotation_label_resolver``). ``confidence`` is in [0, 1] or None. ``source`` is
'ground_truth' (default) or the name of the model that predicted the annotation.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

# One enum for the whole package: the same object as ``lightly_studio.AnnotationType``.
from lightly_studio.store.annotations import GROUND_TRUTH, AnnotationType

__all__ = ["AnnotationCreate", "AnnotationType"]


@dataclass(kw_only=True)
class AnnotationCreate:
    """A new annotation of the sample ``parent_sample_id``."""

    parent_sample_id: uuid.UUID
    annotation_label_id: uuid.UUID
    annotation_type: AnnotationType | str = AnnotationType.OBJECT_DETECTION
    x: float | None = None
    y: float | None = None
    width: float | None = None
    height: float | None = None
    confidence: float | None = None
    segmentation_mask: list[int] | None = None
    polygon: list[list[float]] | None = None
    iscrowd: bool = False
    source: str = GROUND_TRUTH

    @property
    def sample_id(self) -> uuid.UUID:
        return self.parent_sample_id
