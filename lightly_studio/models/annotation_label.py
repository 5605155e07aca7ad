"""Annotation labels (class names) as records for plugins and ``annotation_label_resolver``."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

__all__ = ["AnnotationLabel", "AnnotationLabelCreate"]


@dataclass(kw_only=True)
class AnnotationLabelCreate:
    """A label to create in the dataset ``dataset_id``."""

    annotation_label_name: str
    dataset_id: uuid.UUID | None = None


@dataclass(frozen=True, kw_only=True)
class AnnotationLabel:
    """A stored label. ``annotation_label_id`` is what ``AnnotationCreate`` refers to."""

    annotation_label_id: uuid.UUID
    annotation_label_name: str
    dataset_id: uuid.UUID
    created_at: dt.datetime | None = None

    @property
    def name(self) -> str:
        return self.annotation_label_name
