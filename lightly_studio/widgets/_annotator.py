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
from lightly_studio.widgets._rpc import RpcServer
from lightly_studio.widgets._widgets import STATIC_DIR, bundle_path, dataset_and_query


class Annotator(anywidget.AnyWidget):
    """Create, edit and delete labels of a dataset's or query's samples, one sample at a time.

    ``Annotator(dataset_or_query, labels=["car", "person"])`` — ``labels`` are the class
    names offered first (new ones can be typed in the view). ``annotator.index`` is the
    position in the query (settable), ``annotator.sample`` the sample shown;
    ``next()`` / ``previous()`` step. Every edit is saved at once, one transaction each.
    """

    # anywidget reads the class attribute (a Path) when the widget is created.
    _esm = STATIC_DIR / "annotator.js"
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
        bundle_path("annotator.js")  # a clear error when the front end was not built
        super().__init__(
            dataset_id=str(dataset.dataset_id),
            spec=spec,
            labels=[str(n) for n in labels or []],
            sample_id=str(sample_id or ""),
            **kwargs,
        )
        self._dataset = dataset
        self._rpc = RpcServer(self, {"ready": self._ready})

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
