"""Selection of dataset subsets: diverse, metadata weighting, similarity, class balancing,
combined strategies, deduplication.

Use it from a query: ``dataset.query().selection().diverse(...)``. Strategy classes for
``multi_strategies`` are in ``lightly_studio.selection.selection_config``. Importing this
package is cheap; torch is loaded when a selection runs.
"""

from __future__ import annotations

from lightly_studio.selection.selection import Selection, find_duplicates
from lightly_studio.selection.selection_config import (
    AnnotationClassBalancingStrategy,
    EmbeddingDiversityStrategy,
    EmbeddingSimilarityStrategy,
    MetadataWeightingStrategy,
)

__all__ = [
    "AnnotationClassBalancingStrategy",
    "EmbeddingDiversityStrategy",
    "EmbeddingSimilarityStrategy",
    "MetadataWeightingStrategy",
    "Selection",
    "find_duplicates",
]
