"""Widgets answer the view's requests over custom messages, without a browser."""

from __future__ import annotations

from pathlib import Path

import pytest

from lightly_studio.widgets import EmbeddingPlot, Explorer
from lightly_studio.widgets._chunking import join_parts, split_buffers


class Recorder:
    def __init__(self, widget):
        self.sent: list[tuple[dict, list]] = []
        widget._rpc.threaded = False
        widget.send = lambda content, buffers=None: self.sent.append((content, list(buffers or [])))
        self.widget = widget

    def request(self, method, params=None, id="1", buffers=None):
        self.widget._rpc._on_msg(
            self.widget,
            {"type": "request", "id": id, "method": method, "params": params or {}},
            buffers or [],
        )
        return self.sent[-1] if self.sent else None


def test_the_view_asks_ready_and_gets_the_dataset(small_ds):
    ex = Explorer(small_ds)
    rec = Recorder(ex)
    msg, _ = rec.request("ready")
    assert msg == {
        "type": "response",
        "id": "1",
        "ok": True,
        "result": {
            "dataset_id": str(small_ds.dataset_id),
            "dataset_name": "small",
            "total": 5,
            "has_embeddings": False,
            "kind": "image",
        },
    }


def test_replies_carry_binary_buffers_and_errors_come_back_as_messages(small_ds):
    ex = Explorer(small_ds)
    rec = Recorder(ex)
    sid = str(small_ds.by_name["a.jpg"].sample_id)
    msg, bufs = rec.request("thumbnails", {"dataset_id": ex.dataset_id, "sample_ids": [sid]})
    assert msg["ok"] and bufs[0][:2] == b"\xff\xd8"
    msg, _ = rec.request("count", {"spec": {"dataset_id": ex.dataset_id, "nope": 1}}, id="2")
    assert msg["ok"] is False and msg["id"] == "2"
    assert msg["error"]["type"] == "QueryError" and "nope" in msg["error"]["message"]


def test_large_payloads_are_chunked_below_the_limit(small_ds):
    ex = Explorer(small_ds)
    rec = Recorder(ex)
    ex._rpc.chunk_bytes = 1000
    sid = str(small_ds.by_name["c.png"].sample_id)
    rec.request("image", {"dataset_id": ex.dataset_id, "sample_id": sid}, id="9")
    header = next(m for m, _ in rec.sent if m["type"] == "response")
    parts = [(m, b) for m, b in rec.sent if m["type"] == "part"]
    assert header["parts"] == len(parts) > 1 and all(len(b[0]) <= 1000 for _, b in parts)
    whole = join_parts([b[0] for _, b in parts], header["buffer_sizes"])[0]
    assert whole == Path(small_ds.by_name["c.png"].file_path_abs).read_bytes()


def test_a_cancelled_request_is_not_answered(small_ds):
    ex = Explorer(small_ds)
    rec = Recorder(ex)
    ex._rpc._on_msg(ex, {"type": "cancel", "id": "7"}, [])
    rec.request("count", {"spec": {"dataset_id": ex.dataset_id}}, id="7")
    assert rec.sent == []


def test_explorer_query_is_readable_and_settable(small_ds):
    from lightly_studio.core.dataset_query import ImageSampleField

    ex = Explorer(small_ds)
    assert ex.query.count() == 5
    ex.spec = {**ex.spec, "tags": ["good"]}  # what the view does when a tag box is ticked
    assert sorted(s.file_name for s in ex.query) == ["a.jpg", "b.jpg"]
    ex.query = small_ds.match(ImageSampleField.width > 300)
    assert "base" in ex.spec and ex.query.count() == 3
    shown = Explorer(small_ds.match(ImageSampleField.height < 100))
    assert [s.file_name for s in shown.query] == ["d.jpg"]
    ex.selected = [str(small_ds.by_name["e.jpg"].sample_id)]
    assert [s.file_name for s in ex.selection] == ["e.jpg"]


def test_plot_selection_is_a_query_and_filters_a_linked_explorer(small_ds):
    ex = Explorer(small_ds)
    plot = EmbeddingPlot(small_ds)
    plot.link(ex)
    plot.selected_ids = [str(small_ds.by_name[n].sample_id) for n in ("b.jpg", "d.jpg")]
    assert [s.file_name for s in plot.selection] == ["b.jpg", "d.jpg"]
    assert [s.file_name for s in ex.query] == ["b.jpg", "d.jpg"]
    plot.selected_ids = []
    assert ex.query.count() == 5


def test_a_lasso_sends_indices_and_python_gets_the_ids(fake_projection):
    """The view sends point indices as a Uint32 buffer; selected_ids is set (and observed)
    in the kernel, without the ids travelling to the view."""
    import numpy as np

    small_ds = fake_projection
    plot = EmbeddingPlot(small_ds)
    rec = Recorder(plot)
    seen = []
    plot.observe(lambda change: seen.append(len(change["new"])), names="selected_ids")
    msg, bufs = rec.request("plot_points", {"dataset_id": plot.dataset_id})
    token = msg["result"]["token"]
    xy = np.frombuffer(bufs[0], dtype=np.float32).reshape(-1, 2)
    wide = np.flatnonzero(xy[:, 0] >= 640).astype(np.uint32)
    msg, _ = rec.request(
        "plot_select", {"token": token}, id="2", buffers=[memoryview(wide.tobytes())]
    )
    assert msg["ok"] and msg["result"]["count"] == 2
    assert sorted(s.file_name for s in plot.selection) == ["c.png", "e.jpg"]
    assert sorted(plot.selected_ids) == sorted(
        str(small_ds.by_name[n].sample_id) for n in ("c.png", "e.jpg")
    )
    assert "selected_ids" not in plot.keys  # never synced to the view
    rec.request("plot_select", {"token": token}, id="3", buffers=[b""])  # deselected
    assert plot.selected_ids == [] and seen == [2, 0]


def test_python_can_push_a_refresh_event(small_ds):
    ex = Explorer(small_ds)
    rec = Recorder(ex)
    ex.refresh()
    assert rec.sent == [({"type": "event", "name": "data_changed", "payload": None}, [])]


def test_chunking_round_trips():
    bufs = [b"a" * 10, b"", b"b" * 25]
    parts = split_buffers(bufs, 8)
    assert all(len(p) <= 8 for p in parts)
    assert join_parts(parts, [10, 0, 25]) == bufs
    with pytest.raises(ValueError):
        join_parts(parts, [10])
