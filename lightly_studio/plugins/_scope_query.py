"""Turn a GUI selection (sample ids) into a ``DatasetQuery`` operators can consume."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from lightly_studio.core.dataset_query import ImageSampleField


def restrict_to_sample_ids(query: Any, sample_ids: Iterable[uuid.UUID]) -> Any:
    """``query`` narrowed to ``sample_ids`` (ids not in the dataset are simply not matched)."""
    return query.match(ImageSampleField.sample_id.is_in(sample_ids))
