"""Notebook views: Explorer (filters, grid, sample detail, plot panel) and EmbeddingPlot."""

from __future__ import annotations

from pathlib import Path
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
from lightly_studio.widgets._rpc import RpcServer

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


def bundle_path(bundle: str = "widget.js") -> Path:
    """The built bundle, with a clear error when the front end was not built."""
    path = STATIC_DIR / bundle
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing: the front end is not built. Run `npm ci && npm run build` in "
            "the repository root (pip install builds it automatically)."
        )
    return path


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
    # anywidget reads the class attribute (a Path) when the widget is created.
    _esm = STATIC_DIR / "widget.js"
    _view = traitlets.Unicode("explorer").tag(sync=True)
    dataset_id = traitlets.Unicode("").tag(sync=True)
    height = traitlets.Int(640).tag(sync=True)

    def __init__(self, source: Any, *, export_dir: Any = None, **kwargs: Any) -> None:
        dataset, query = dataset_and_query(source)
        bundle_path()  # a clear error when the front end was not built
        if export_dir is not None:
            # The only folder the view's Export may write to (one setting per process).
            set_export_dir(export_dir)
        super().__init__(dataset_id=str(dataset.dataset_id), **kwargs)
        self._dataset = dataset
        self._initial_query = query
        self._rpc = RpcServer(self, {"ready": self._ready})

    @property
    def dataset(self):
        return self._dataset

    def _ready(self, params: dict) -> dict:
        return {
            "dataset_id": str(self._dataset.dataset_id),
            "dataset_name": self._dataset.name,
            "total": len(self._dataset),
            "has_embeddings": _has_embeddings(self._dataset),
        }

    def refresh(self) -> None:
        """Reload rows and counts in the view (after editing data from Python)."""
        self._rpc.event("data_changed")


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
        {"boxes": True, "masks": True, "labels": False, "captions": False, "names": False}
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
