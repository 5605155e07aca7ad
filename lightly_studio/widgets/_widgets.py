"""Notebook views: Explorer (filters, grid, sample detail, plot panel) and EmbeddingPlot."""

from __future__ import annotations

from typing import Any

import anywidget
import traitlets

from lightly_studio import embed as _embed  # a lazy package: torch loads on first use
from lightly_studio.api import dispatch, query_from_spec, register_ids, register_query
from lightly_studio.api.plot import selected_ids
from lightly_studio.core.dataset import Dataset
from lightly_studio.core.dataset_query import DatasetQuery
from lightly_studio.core.image_dataset import ImageDataset
from lightly_studio.export.view_exports import set_export_dir
from lightly_studio.widgets._loader import loader_esm, serve_bundle
from lightly_studio.widgets._rpc import RpcServer
from lightly_studio.widgets._snapshot import (
    STRIP_THUMBNAILS,
    Snapshot,
    thumbnail_strip,
    with_snapshot,
)


def dataset_and_query(source: Any):
    """Accept a Dataset, a DatasetQuery, or a dataset name."""
    if isinstance(source, DatasetQuery):
        return source.dataset, source
    if isinstance(source, Dataset):
        return source, None
    if isinstance(source, str):
        return ImageDataset.load(source), None
    raise TypeError(f"Expected a dataset or a query, got {type(source).__name__}.")


def _has_embeddings(dataset) -> bool:
    try:
        embedding_model_names = _embed.embedding_model_names
    except ImportError:
        return False
    try:
        return bool(embedding_model_names(dataset))
    except Exception:  # noqa: BLE001 - a view must open even if embeddings are broken
        return False


class _View(anywidget.AnyWidget):
    # The small loader, not the bundle: see _loader.py (the saved notebook's size).
    _esm = traitlets.Unicode().tag(sync=True)
    _snapshot = traitlets.Dict().tag(sync=True)
    _view = traitlets.Unicode("explorer").tag(sync=True)
    dataset_id = traitlets.Unicode("").tag(sync=True)
    height = traitlets.Int(640).tag(sync=True)

    def __init__(self, source: Any, *, export_dir: Any = None, **kwargs: Any) -> None:
        dataset, query = dataset_and_query(source)
        esm = loader_esm("widget.js")  # a clear error when the front end was not built
        if export_dir is not None:
            # The only folder the view's Export may write to (one setting per process).
            set_export_dir(export_dir)
        super().__init__(_esm=esm, dataset_id=str(dataset.dataset_id), **kwargs)
        self._dataset = dataset
        self._initial_query = query
        self._rpc = RpcServer(self, {"ready": self._ready})
        serve_bundle(self, "widget.js")
        self._shown_by_show: int | None = None

    @property
    def dataset(self):
        return self._dataset

    def _ready(self, params: dict) -> dict:
        return {
            "dataset_id": str(self._dataset.dataset_id),
            "dataset_name": self._dataset.name,
            "total": len(self._dataset),
            "has_embeddings": _has_embeddings(self._dataset),
            "kind": self._dataset.kind,  # the count says "groups" for a group dataset
        }

    def refresh(self) -> None:
        """Reload rows and counts in the view (after editing data from Python)."""
        self._rpc.event("data_changed")

    def _shown(self):
        """The query whose samples the view shows."""
        return self._dataset.query()

    def _selected_count(self) -> int:
        return 0

    def _repr_fields(self) -> str:
        shown = len(self._shown())
        return (
            f"dataset={self._dataset.name!r}, samples={len(self._dataset)}, shown={shown}, "
            f"selected={self._selected_count()}"
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._repr_fields()})"

    def snapshot(self) -> Snapshot:
        """The counts and first thumbnails, for hosts without a kernel (see _snapshot.py)."""
        shown = self._shown()
        lines = [f"{len(self._dataset)} samples", f"{len(shown)} shown"]
        if self._selected_count():
            lines.append(f"{self._selected_count()} selected")
        # The first samples within the query's own slice (slice() replaces a slice).
        first = min(STRIP_THUMBNAILS, STRIP_THUMBNAILS if shown.limit is None else shown.limit)
        ids = [str(i) for i in shown.copy().slice(shown.offset, first).sample_ids()]
        return {
            "title": f"{type(self).__name__}: {self._dataset.name}",
            "lines": lines,
            "thumbnails": thumbnail_strip(self.dataset_id, ids),
        }

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        text = repr(self)
        if _consume_show_mark(self):
            # show() displayed the view in this cell already: the cell's value adds its text.
            return {"text/plain": text}
        snapshot = self.snapshot()
        self._snapshot = dict(snapshot)  # what the loader shows when no kernel answers
        return with_snapshot(super()._repr_mimebundle_(**kwargs), snapshot, text)


class Explorer(_View):
    """Browse, filter, select and tag a dataset or query in the notebook.

    ``explorer.query`` is the current filter as a DatasetQuery; assign a query (e.g.
    ``dataset.match(...)``) to show it, or a text query (``explorer.query = 'width >= 640'``),
    which the view's query box then shows. ``explorer.selected`` holds the selected sample ids.
    """

    _view = traitlets.Unicode("explorer").tag(sync=True)
    spec = traitlets.Dict().tag(sync=True)
    selected = traitlets.List(traitlets.Unicode()).tag(sync=True)
    cell_size = traitlets.Int(180).tag(sync=True)
    overlays = traitlets.Dict(
        {
            "boxes": True,
            "masks": True,
            "labels": False,
            "captions": False,
            "names": False,
            "issues": True,
        }
    ).tag(sync=True)
    show_plot = traitlets.Bool(False).tag(sync=True)
    color_by = traitlets.Unicode("").tag(sync=True)
    detail_id = traitlets.Unicode("").tag(sync=True)

    def __init__(self, source: Any, **kwargs: Any) -> None:
        super().__init__(source, **kwargs)
        if self._initial_query is not None:
            self.query = self._initial_query
        elif not self.spec:
            self.spec = {"dataset_id": self.dataset_id}

    @property
    def query(self):
        """The samples the view shows, as a DatasetQuery (filters, search and sort applied)."""
        return query_from_spec({**self.spec, "dataset_id": self.dataset_id})

    @query.setter
    def query(self, value: Any) -> None:
        if value is None:
            self.spec = {"dataset_id": self.dataset_id}
        elif isinstance(value, dict):
            self.spec = {**value, "dataset_id": self.dataset_id}
        elif isinstance(value, str):
            self._dataset.match_text(
                value
            )  # a text that is not a query fails here, not in the view
            self.spec = {"dataset_id": self.dataset_id, "query": value}
        elif isinstance(value, DatasetQuery):
            if value.dataset.dataset_id != self._dataset.dataset_id:
                raise ValueError("The query belongs to another dataset than this explorer's.")
            self.spec = {"dataset_id": self.dataset_id, "base": register_query(value.copy())}
        else:
            raise TypeError(
                f"Assign a DatasetQuery, a text query or a spec dict, got {type(value).__name__}."
            )

    @property
    def selection(self):
        """The selected samples as a DatasetQuery."""
        return query_from_spec({"dataset_id": self.dataset_id, "ids": register_ids(self.selected)})

    def _shown(self):
        return self.query

    def _selected_count(self) -> int:
        return len(self.selected)


Grid = Explorer


class EmbeddingPlot(_View):
    """WebGL scatter of the dataset's embedding projection; lasso or click to select.

    ``plot.selected_ids`` are the selected sample ids, ``plot.selection`` the same as a
    DatasetQuery. ``plot.link(explorer)`` filters an explorer to the selection.
    """

    _view = traitlets.Unicode("plot").tag(sync=True)
    height = traitlets.Int(480).tag(sync=True)
    # Not synced: a lasso over 1,000,000 points selects hundreds of thousands of ids, which
    # must not travel to the view and back as JSON (18 MB for 468k ids, over the websocket
    # limit). The view sends point indices as a Uint32 buffer (``plot_select``); this
    # widget resolves them to ids with numpy and sets the trait, so observers still fire.
    # List() without an item trait: validating 468k strings one by one costs ~0.5 s.
    selected_ids: traitlets.List[str] = traitlets.List()
    color_by = traitlets.Unicode("").tag(sync=True)
    highlight_spec = traitlets.Dict().tag(sync=True)

    def __init__(self, source: Any, **kwargs: Any) -> None:
        super().__init__(source, **kwargs)
        self._rpc.local["plot_select"] = self._plot_select

    def _plot_select(self, params: dict, buffers: list[bytes]) -> dict:
        result, _ = dispatch("plot_select", params, buffers)
        # Set before the reply goes out: when the view shows "N selected", Python has them.
        self.selected_ids = selected_ids(result["ids"])
        return result

    @property
    def selection(self):
        return query_from_spec(
            {"dataset_id": self.dataset_id, "ids": register_ids(self.selected_ids)}
        )

    def _selected_count(self) -> int:
        return len(self.selected_ids)

    def highlight(self, query: Any) -> None:
        """Select the points of a query (e.g. ``dataset.match(...)``) in the plot."""
        self.highlight_spec = (
            {}
            if query is None
            else {"dataset_id": self.dataset_id, "base": register_query(query.copy())}
        )

    def link(self, explorer: Explorer) -> None:
        """Filter ``explorer`` to this plot's selection whenever it changes."""

        def follow(change: dict) -> None:
            spec = {k: v for k, v in explorer.spec.items() if k != "ids"}
            if change["new"]:
                spec["ids"] = register_ids(change["new"])
            explorer.spec = spec

        self.observe(follow, names="selected_ids")


def _execution_count() -> int | None:
    """The running cell's number in IPython, else None (a script, marimo)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    return None if shell is None else shell.execution_count


def show(widget: Any) -> Any:
    """Display ``widget`` in the running notebook cell and return it, so that
    ``explorer = dataset.show()`` shows the view and keeps a handle on it.

    When the same call is also the cell's last expression, its value is not drawn a second
    time: the cell adds only the widget's text repr. Outside IPython (a script; marimo, which
    shows a cell's last value itself) nothing is displayed here."""
    count = _execution_count()
    if count is not None:
        from IPython.display import display

        display(widget)
        widget._shown_by_show = count
    return widget


def _consume_show_mark(widget: Any) -> bool:
    """Whether show() displayed ``widget`` in the running cell (asked once)."""
    mark = getattr(widget, "_shown_by_show", None)
    widget._shown_by_show = None
    return mark is not None and mark == _execution_count()
