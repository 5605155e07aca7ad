"""``Annotator``: the annotation editor as a notebook view, stepping through a query's samples.

The view (js/src/views/annotator/, bundle ``static/annotator.js``) calls the methods of
``lightly_studio.api.annotator`` through the same rpc plumbing as the other widgets. Edits
made from Python while it is open reach it two ways: the view polls the shown sample's
``revision`` (a cheap fingerprint query) every ``poll_ms``, and ``annotator.refresh()`` pushes
a reload at once.
"""

from __future__ import annotations

from typing import Any

import anywidget
import traitlets

from lightly_studio.api import query_from_spec, register_query
from lightly_studio.widgets._loader import loader_esm, serve_bundle
from lightly_studio.widgets._rpc import RpcServer
from lightly_studio.widgets._snapshot import Snapshot, thumbnail_strip, with_snapshot
from lightly_studio.widgets._widgets import _consume_show_mark, dataset_and_query


class Annotator(anywidget.AnyWidget):
    """Create, edit and delete labels of a dataset's or query's samples, one sample at a time.

    ``Annotator(dataset_or_query, labels=["car", "person"])`` — ``labels`` are the class
    names offered first (new ones can be typed in the view). ``annotator.index`` is the
    position in the query (settable), ``annotator.sample`` the sample shown;
    ``next()`` / ``previous()`` step. Every edit is saved at once, one transaction each.
    """

    # The small loader, not the bundle: see _loader.py (the saved notebook's size).
    _esm = traitlets.Unicode().tag(sync=True)
    _snapshot = traitlets.Dict().tag(sync=True)
    _view = traitlets.Unicode("annotator").tag(sync=True)
    dataset_id = traitlets.Unicode("").tag(sync=True)
    spec = traitlets.Dict().tag(sync=True)
    index = traitlets.Int(0).tag(sync=True)
    sample_id = traitlets.Unicode("").tag(sync=True)
    labels = traitlets.List(traitlets.Unicode()).tag(sync=True)
    height = traitlets.Int(640).tag(sync=True)
    poll_ms = traitlets.Int(1500).tag(sync=True)

    def __init__(
        self,
        source: Any,
        labels: list[str] | None = None,
        *,
        sample_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        dataset, query = dataset_and_query(source)
        spec: dict[str, Any] = {"dataset_id": str(dataset.dataset_id)}
        if query is not None:
            if query.dataset.dataset_id != dataset.dataset_id:
                raise ValueError("The query belongs to another dataset.")
            spec["base"] = register_query(query.copy())
        esm = loader_esm("annotator.js")  # a clear error when the front end was not built
        super().__init__(
            _esm=esm,
            dataset_id=str(dataset.dataset_id),
            spec=spec,
            labels=[str(n) for n in labels or []],
            sample_id=str(sample_id or ""),
            **kwargs,
        )
        self._dataset = dataset
        self._rpc = RpcServer(self, {"ready": self._ready})
        serve_bundle(self, "annotator.js")

    @property
    def dataset(self):
        return self._dataset

    @property
    def query(self):
        """The samples the annotator steps through, as a DatasetQuery."""
        return query_from_spec(self.spec)

    @property
    def sample(self):
        """The sample shown now (None before the view loaded one)."""
        return self._dataset.get_sample(self.sample_id) if self.sample_id else None

    def next(self) -> None:
        self.index = self.index + 1

    def previous(self) -> None:
        self.index = max(0, self.index - 1)

    def refresh(self) -> None:
        """Reload the shown sample in the view now (it also notices Python edits by itself
        within ``poll_ms``)."""
        self._rpc.event("data_changed")

    def _ready(self, params: dict) -> dict:
        return {"dataset_id": str(self._dataset.dataset_id), "dataset_name": self._dataset.name}

    def __repr__(self) -> str:
        return (
            f"Annotator(dataset={self._dataset.name!r}, samples={len(self.query)}, "
            f"index={self.index})"
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        text = repr(self)
        if _consume_show_mark(self):
            return {"text/plain": text}
        query = self.query
        total = len(query)
        ids = [self.sample_id] if self.sample_id else []
        if not ids and total:
            position = query.offset + min(self.index, total - 1)
            ids = [str(i) for i in query.copy().slice(position, 1).sample_ids()]
        snapshot: Snapshot = {
            "title": f"Annotator: {self._dataset.name}",
            "lines": [f"sample {min(self.index, max(total - 1, 0)) + 1} of {total}"],
            "thumbnails": thumbnail_strip(self.dataset_id, ids),
        }
        self._snapshot = dict(snapshot)  # what the loader shows when no kernel answers
        return with_snapshot(super()._repr_mimebundle_(**kwargs), snapshot, text)
