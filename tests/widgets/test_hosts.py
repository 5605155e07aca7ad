"""Every host a notebook runs in: reprs, display semantics, the kernel-less snapshot and the
small loader each widget carries instead of the bundle (no browser, no kernel)."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

import lightly_studio.widgets._widgets as widgets_module
from lightly_studio.widgets import Annotator, Explorer
from lightly_studio.widgets._loader import STATIC_DIR, bundle_bytes


def test_explorer_repr_names_dataset_filter_and_selection(small_ds):
    explorer = Explorer(small_ds)
    assert repr(explorer) == "Explorer(dataset='small', samples=5, shown=5, selected=0)"
    explorer.query = small_ds.query().slice(0, 2)
    explorer.selected = [str(small_ds.by_name["a.jpg"].sample_id)]
    assert repr(explorer) == "Explorer(dataset='small', samples=5, shown=2, selected=1)"


def test_annotator_repr_names_dataset_and_position(small_ds):
    assert (
        repr(Annotator(small_ds, labels=["car"]))
        == "Annotator(dataset='small', samples=5, index=0)"
    )


def test_a_dataset_or_query_as_cell_value_keeps_its_own_text(small_ds):
    data, _ = small_ds._repr_mimebundle_()
    assert data["text/plain"] == "ImageDataset(name='small', samples=5)"
    assert "application/vnd.jupyter.widget-view+json" in data
    query = small_ds.query()
    data, _ = query._repr_mimebundle_()
    assert data["text/plain"] == repr(query)


def test_the_bundle_has_a_static_snapshot_with_counts_and_thumbnails(small_ds):
    explorer = Explorer(small_ds)
    explorer.query = small_ds.query().slice(0, 3)
    data, _ = explorer._repr_mimebundle_()
    html = data["text/html"]
    assert "5 samples" in html and "3 shown" in html
    uris = [part.split('"')[0] for part in html.split('src="')[1:]]
    assert len(uris) == 3
    jpeg = base64.b64decode(uris[0].removeprefix("data:image/jpeg;base64,"))
    assert jpeg[:2] == b"\xff\xd8"
    # The same snapshot travels in the widget state for the loader's no-kernel notice.
    assert explorer._snapshot["thumbnails"] == uris
    assert explorer._snapshot["lines"] == ["5 samples", "3 shown"]


def test_snapshot_text_is_escaped(small_ds):
    small_ds_name = "<img src=x onerror=alert(1)>"
    explorer = Explorer(small_ds)
    explorer._dataset.name = small_ds_name  # an odd name reaches the HTML only escaped
    html = explorer._repr_mimebundle_()[0]["text/html"]
    assert "<img src=x" not in html and "&lt;img src=x" in html


def test_widget_state_carries_the_small_loader_not_the_bundle(small_ds):
    for widget, bundle in (
        (Explorer(small_ds), "widget.js"),
        (Annotator(small_ds), "annotator.js"),
    ):
        data, sha256 = bundle_bytes(bundle)
        assert len(widget._esm) < 8_000 < len(data)
        assert json.dumps(sha256) in widget._esm
        assert sha256 == hashlib.sha256((STATIC_DIR / bundle).read_bytes()).hexdigest()


def test_the_kernel_sends_the_bundle_when_the_loader_asks(small_ds):
    explorer = Explorer(small_ds)
    sent = []
    explorer.send = lambda content, buffers=None: sent.append((content, buffers))
    explorer._handle_custom_msg({"type": "bundle", "name": "widget.js"}, [])
    ((content, buffers),) = sent
    data, sha256 = bundle_bytes("widget.js")
    assert content == {"type": "bundle", "name": "widget.js", "sha256": sha256}
    assert buffers == [data]


@pytest.fixture
def fake_ipython(monkeypatch):
    """An IPython cell numbered 7 whose display() calls are recorded."""
    import IPython.display

    shown = []
    monkeypatch.setattr(widgets_module, "_execution_count", lambda: 7)
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    return shown


def test_show_displays_and_returns_the_explorer(small_ds, fake_ipython):
    explorer = small_ds.show()
    assert fake_ipython == [explorer] and isinstance(explorer, Explorer)
    # As the same cell's value it adds only its text, not a second view...
    assert explorer._repr_mimebundle_() == {"text/plain": repr(explorer)}
    # ...and shown again later it is the live view.
    assert "application/vnd.jupyter.widget-view+json" in explorer._repr_mimebundle_()[0]


def test_show_outside_ipython_only_returns(small_ds, monkeypatch):
    monkeypatch.setattr(widgets_module, "_execution_count", lambda: None)
    explorer = small_ds.query().show()
    assert isinstance(explorer, Explorer)
    assert "application/vnd.jupyter.widget-view+json" in explorer._repr_mimebundle_()[0]
