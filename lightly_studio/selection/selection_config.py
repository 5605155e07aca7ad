"""Strategies for ``Selection.multi_strategies``: what to prefer, and how strongly.

Every strategy has a ``strength``. The selection maximises
``sum(strength * normalised term)`` (see ``Selection.multi_strategies``), so a strategy with
strength 2 weighs twice as much as one with strength 1, and a negative strength reverses
the preference (low metadata values, samples far from a query set, redundant samples).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from lightly_studio.errors import SelectionError

TargetDistribution = Literal["uniform", "input"] | dict[str, float]


def _check_strength(strategy: SelectionStrategy) -> None:
    strength = strategy.strength
    if (
        isinstance(strength, bool)
        or not isinstance(strength, (int, float))
        or not math.isfinite(strength)
    ):
        raise SelectionError(
            f"{type(strategy).__name__}: strength must be a finite number, got {strength!r}."
        )


class SelectionStrategy:
    """Base of the strategies. Each has a ``strength`` (its own dataclass field, declared after
    the strategy's main argument so that the main argument can be passed positionally)."""

    strength: float

    def __post_init__(self) -> None:
        _check_strength(self)


@dataclass
class EmbeddingDiversityStrategy(SelectionStrategy):
    """Prefer samples far (cosine distance) from everything selected so far.

    ``embedding_model_name=None`` uses the dataset's default embedding model.
    """

    embedding_model_name: str | None = None
    strength: float = 1.0


@dataclass
class MetadataWeightingStrategy(SelectionStrategy):
    """Prefer samples with high values of a numeric metadata key (low ones if strength < 0).

    Samples without a value for the key are never selected.
    """

    metadata_key: str
    strength: float = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.metadata_key, str) or not self.metadata_key:
            raise SelectionError(
                f"MetadataWeightingStrategy needs a metadata_key, got {self.metadata_key!r}."
            )


@dataclass
class EmbeddingSimilarityStrategy(SelectionStrategy):
    """Prefer samples similar to those tagged ``query_tag_name`` (dissimilar if strength < 0).

    A sample's similarity is its largest cosine similarity to any tagged sample.
    """

    query_tag_name: str
    strength: float = 1.0
    embedding_model_name: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.query_tag_name, str) or not self.query_tag_name:
            raise SelectionError(
                f"EmbeddingSimilarityStrategy needs a query_tag_name, got {self.query_tag_name!r}."
            )


@dataclass
class AnnotationClassBalancingStrategy(SelectionStrategy):
    """Make the selection's annotation class histogram match a target distribution.

    ``target_distribution``: ``"uniform"`` (every class of the pool equally often),
    ``"input"`` (the class shares of the pool itself) or a dict of class name -> share; shares
    are normalised to sum to 1, and classes not named share what is left (1 - sum of the named
    shares, at least 0) as one "other" bucket. ``annotation_source`` restricts the counted
    annotations to one source (e.g. ``"ground_truth"``); ``None`` counts all.
    """

    target_distribution: TargetDistribution
    strength: float = 1.0
    annotation_source: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        target = self.target_distribution
        if isinstance(target, str):
            if target not in ("uniform", "input"):
                raise SelectionError(
                    f"target_distribution must be 'uniform', 'input' or a dict of class "
                    f"name -> share, got {target!r}."
                )
            return
        if not isinstance(target, dict) or not target:
            raise SelectionError(
                f"target_distribution must be 'uniform', 'input' or a non-empty dict of class "
                f"name -> share, got {target!r}."
            )
        for name, share in target.items():
            if (
                not isinstance(name, str)
                or isinstance(share, bool)
                or not isinstance(share, (int, float))
                or not math.isfinite(share)
                or share < 0
            ):
                raise SelectionError(
                    f"target_distribution entries must be class name -> non-negative share, "
                    f"got {name!r}: {share!r}."
                )
        if sum(target.values()) <= 0:
            raise SelectionError("target_distribution shares are all zero.")


__all__ = [
    "AnnotationClassBalancingStrategy",
    "EmbeddingDiversityStrategy",
    "EmbeddingSimilarityStrategy",
    "MetadataWeightingStrategy",
    "SelectionStrategy",
]
