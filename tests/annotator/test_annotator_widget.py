"""ls.widgets Annotator answers its view over custom messages, without a browser."""

from __future__ import annotations

from pathlib import Path

import pytest

from lightly_studio.widgets._annotator import Annotator


class Recorder:
    def __init__(self, widget):
        self.sent: list[tuple[dict, list]] = []
        widget._rpc.threaded = False
        widget.send = lambda content, buffers=None: self.sent.append((content, list(buffers or [])))
        self.widget = widget

    def request(self, method, params=None, id="1"):
        self.widget._rpc._on_msg(
            self.widget, {"type": "request", "id": id, "method": method, "params": params or {}}, []
        )
        return self.sent[-1]


def test_view_gets_ready_then_steps_through_the_query_and_saves_edits(ann_ds):
    from lightly_studio.core.dataset_query import ImageSampleField as F

    query = ann_ds.match(F.file_name.contains("a") | F.file_name.contains("b"))
    widget = Annotator(query, labels=["car", "person"])
    assert widget.labels == ["car", "person"] and widget.spec["base"].startswith("query-")
    rec = Recorder(widget)
    msg, _ = rec.request("ready")
    assert msg["result"]["dataset_id"] == str(ann_ds.dataset_id)
    msg, _ = rec.request("annotator_sample", {"spec": widget.spec, "index": 0}, id="2")
    assert msg["ok"] and msg["result"]["total"] == 2
    sid = msg["result"]["sample"]["sample_id"]
    msg, _ = rec.request(
        "annotation_create",
        {
            "sample_id": sid,
            "annotation": {"type": "object_detection", "label": "person", "box": [1, 1, 4, 4]},
        },
        id="3",
    )
    assert msg["ok"], msg
    assert "person" in [a.label for a in ann_ds.get_sample(sid).annotations]


def test_the_image_comes_from_the_shared_image_method(ann_ds):
    widget = Annotator(ann_ds)
    rec = Recorder(widget)
    sample = ann_ds.by_name["a.png"]
    msg, bufs = rec.request(
        "image", {"dataset_id": widget.dataset_id, "sample_id": str(sample.sample_id)}
    )
    assert msg["ok"] and bufs[0] == Path(sample.file_path_abs).read_bytes()


def test_a_conflict_reaches_the_view_as_an_error_reply_naming_its_type(ann_ds):
    widget = Annotator(ann_ds)
    rec = Recorder(widget)
    [ann] = ann_ds.by_name["a.png"].annotations
    ann.label = "bus"  # Python edits: version 2
    msg, _ = rec.request(
        "annotation_update",
        {"annotation_id": str(ann.annotation_id), "version": 1, "changes": {"label": "van"}},
    )
    assert msg["ok"] is False
    assert msg["error"]["type"] == "AnnotationConflictError" and msg["error"]["expected"]


def test_python_steps_and_refresh_pushes_an_event(ann_ds):
    widget = Annotator(ann_ds)
    rec = Recorder(widget)
    widget.next()
    widget.next()
    widget.previous()
    assert widget.index == 1
    widget.refresh()
    assert rec.sent[-1][0] == {"type": "event", "name": "data_changed", "payload": None}
    assert widget.sample is None  # the view has not reported a sample yet
    widget.sample_id = str(ann_ds.by_name["b.png"].sample_id)
    assert widget.sample.file_name == "b.png"


def test_a_query_of_another_dataset_or_a_wrong_type_is_refused(ann_ds):
    with pytest.raises(TypeError):
        Annotator(42)
