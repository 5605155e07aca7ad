"""What an operator can learn about the run it is part of, and how it reports back.

``execute(session=..., collection_id=..., parameters=...)`` is the documented signature. Besides
those, every run has an ``OperatorContext``, reachable as ``session.context`` (or as a
``context`` keyword argument when ``execute`` declares one):

- ``context.dataset``: the ``Dataset`` (``ImageDataset`` / ``VideoDataset``) being shown.
- ``context.scope``: what the person had in view when they ran the operator: the whole
  dataset, the samples they selected, or the active filter. ``context.query()`` turns it into
  a ``DatasetQuery``; ``context.sample_ids()`` into a list of ids;
  ``context.sample_ids_subquery()`` into SQL for bulk work.
- ``context.report_progress(done, total, message)`` updates the progress bar, and
  ``context.track(iterable)`` does it for a loop. Both raise ``OperatorCancelledError`` once
  the person pressed "Cancel"; ``context.cancelled`` lets an operator check without raising.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lightly_studio.db import get_connection
from lightly_studio.errors import LightlyStudioError
from lightly_studio.plugins._scope_query import restrict_to_sample_ids
from lightly_studio.store import labels as labels_store
from lightly_studio.store import samples as samples_store
from lightly_studio.store import tags as tags_store
from lightly_studio.store._ids import as_uuid, ids_subquery

if TYPE_CHECKING:
    import duckdb

__all__ = ["OperatorCancelledError", "OperatorContext", "OperatorScope", "Session"]


class OperatorCancelledError(LightlyStudioError):
    """The run was cancelled from the GUI (raised inside the operator, caught by the runner)."""


@dataclass(frozen=True)
class OperatorScope:
    """The samples an operator run is about.

    ``kind`` is ``"dataset"`` (everything), ``"selection"`` (``sample_ids`` picked in the GUI)
    or ``"filter"`` (``query``, the GUI's active filter as a ``DatasetQuery``).
    """

    kind: str = "dataset"
    sample_ids: tuple[uuid.UUID, ...] | None = None
    query: Any = None  # DatasetQuery; typed loosely so this module imports nothing from core

    @classmethod
    def whole_dataset(cls) -> OperatorScope:
        return cls()

    @classmethod
    def from_sample_ids(cls, sample_ids: Iterable[uuid.UUID | str]) -> OperatorScope:
        return cls(kind="selection", sample_ids=tuple(as_uuid(s) for s in sample_ids))

    @classmethod
    def from_query(cls, query: Any) -> OperatorScope:
        return cls(kind="filter", query=query)

    def describe(self) -> str:
        if self.kind == "selection":
            return f"{len(self.sample_ids or ())} selected samples"
        if self.kind == "filter":
            return "the filtered samples"
        return "all samples"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        if self.sample_ids is not None:
            out["sample_ids"] = [str(s) for s in self.sample_ids]
        return out


@dataclass
class _Progress:
    """Shared between the running operator (writes) and the API poller (reads)."""

    done: float | None = None
    total: float | None = None
    message: str = ""
    cancel: threading.Event = field(default_factory=threading.Event)

    @property
    def fraction(self) -> float | None:
        if self.done is None or not self.total:
            return None
        return max(0.0, min(1.0, self.done / self.total))


class OperatorContext:
    """The dataset, the scope and the progress/cancel channel of one operator run."""

    def __init__(
        self, dataset: Any, scope: OperatorScope | None = None, progress: _Progress | None = None
    ) -> None:
        self.dataset = dataset
        self.scope = scope or OperatorScope()
        self._progress = progress or _Progress()

    # -- what the run is about ---------------------------------------------------------------
    @property
    def collection_id(self) -> uuid.UUID:
        """The dataset id (the docs' examples call it ``collection_id``)."""
        return self.dataset.dataset_id

    dataset_id = collection_id

    def query(self) -> Any:
        """The scope as a ``DatasetQuery`` (whole dataset, selection or active filter)."""
        if self.scope.kind == "filter" and self.scope.query is not None:
            return self.scope.query
        query = self.dataset.query()
        if self.scope.kind == "selection":
            query = restrict_to_sample_ids(query, self.scope.sample_ids or ())
        return query

    def sample_ids_subquery(self) -> tuple[str, list[Any]]:
        """SQL whose rows (column ``sample_id``) are the samples in scope, with its params."""
        if self.scope.kind == "selection":
            return ids_subquery(list(self.scope.sample_ids or ()))
        return self.query().sample_ids_subquery()

    def sample_ids(self) -> list[uuid.UUID]:
        """The ids of the samples in scope."""
        if self.scope.kind == "selection":
            return list(self.scope.sample_ids or ())
        return samples_store.sample_ids_of(get_connection(), self.sample_ids_subquery())

    def tag_names(self) -> list[str]:
        """The sample tags of the dataset, sorted (choices of ``TagParameter``)."""
        return tags_store.tag_names(get_connection(), self.collection_id)

    def label_names(self) -> list[str]:
        """The annotation labels of the dataset, sorted (choices of ``LabelParameter``)."""
        return sorted(labels_store.label_names(get_connection(), self.collection_id))

    # -- progress and cancellation -----------------------------------------------------------
    @property
    def cancelled(self) -> bool:
        """True once cancellation was requested; the operator should stop soon."""
        return self._progress.cancel.is_set()

    def raise_if_cancelled(self) -> None:
        if self.cancelled:
            raise OperatorCancelledError("The operator run was cancelled.")

    def report_progress(
        self, done: float | None = None, total: float | None = None, message: str | None = None
    ) -> None:
        """Update the progress bar (``done`` of ``total`` units, optional status text).

        Raises ``OperatorCancelledError`` when the run was cancelled, so a loop that reports
        progress stops by itself.
        """
        if done is not None:
            self._progress.done = float(done)
        if total is not None:
            self._progress.total = float(total)
        if message is not None:
            self._progress.message = str(message)
        self.raise_if_cancelled()

    def track(
        self, items: Iterable[Any], total: int | None = None, message: str | None = None
    ) -> Iterator[Any]:
        """Iterate ``items`` while reporting progress (and stopping on cancel)."""
        if total is None and isinstance(items, Sequence):
            total = len(items)
        self.report_progress(0, total, message)
        for i, item in enumerate(items):
            yield item
            self.report_progress(i + 1)


class Session:
    """What the ``session`` argument of ``execute`` is: a handle on this process's database.

    There is no ORM session in lightly_studio: each resolver function opens its own
    transaction (or joins the run's transaction). ``commit``/``rollback``/``close`` exist so
    plugin code written against an ORM session keeps working; they do nothing.
    """

    def __init__(self, dataset: Any = None, context: OperatorContext | None = None) -> None:
        self.dataset = dataset if dataset is not None else getattr(context, "dataset", None)
        self.context = context

    @property
    def dataset_id(self) -> uuid.UUID | None:
        return None if self.dataset is None else self.dataset.dataset_id

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """This thread's DuckDB cursor."""
        return get_connection()

    def execute(self, sql: str, params: Any = None) -> duckdb.DuckDBPyConnection:
        """Run a plugin's own SQL on this thread's cursor (``session.execute(...)``)."""
        # The one place outside store/ that executes SQL: a documented plugin API that passes
        # SQL written by the plugin's author straight through, as an ORM session's execute
        # does. Nothing in lightly_studio itself calls it; our own reads and writes go
        # through store/.
        return self.connection.execute(sql, params)

    def commit(self) -> None:
        """No-op: writes are committed by the resolvers / at the end of the run."""

    def rollback(self) -> None:
        """No-op (see ``commit``)."""

    def close(self) -> None:
        """No-op (see ``commit``)."""

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        return None
