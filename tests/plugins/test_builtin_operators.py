"""Built-in operators: listed by default, and wired to the dataset / selection / export APIs."""

from __future__ import annotations

import json

import polars as pl
import pytest

from lightly_studio.api import operators as api


def _run(dataset, operator, scope=None, **parameters):
    reply, _ = api.operator_run(
        {
            "dataset_id": str(dataset.dataset_id),
            "operator": operator,
            "parameters": parameters,
            "scope": scope,
            "wait": True,
        }
    )
    return reply


def _ids(dataset):
    return {s.file_name: s.sample_id for s in dataset.query().to_list()}


@pytest.fixture
def export_dir(tmp_path, monkeypatch):
    """The export folder; the operator names files inside it only (tests/security/)."""
    from lightly_studio.dataset import env

    monkeypatch.setattr(env, "LIGHTLY_STUDIO_EXPORT_DIR", str(tmp_path))
    return tmp_path


def test_export_writes_the_file_paths_of_the_selection(image_dataset, export_dir):
    ids = _ids(image_dataset)
    out = export_dir / "out" / "paths.txt"
    reply = _run(
        image_dataset,
        "Export",
        output_path="out/paths.txt",
        format="file_list",
        scope={"kind": "selection", "sample_ids": [str(ids["c.png"]), str(ids["a.png"])]},
    )
    assert reply["status"] == "succeeded", reply["message"]
    assert reply["result"]["data_changed"] is False
    lines = out.read_text().splitlines()
    assert [line.rsplit("/", 1)[-1] for line in lines] == ["a.png", "c.png"]


def test_export_offers_the_formats_of_dataset_export(image_dataset):
    reply, _ = api.operators_list({})
    export = next(o for o in reply["operators"] if o["name"] == "Export")
    choices = export["schema"]["properties"]["format"]["enum"]
    assert choices[0] == "file_list" and "coco_object_detections" in choices


def test_export_to_coco_goes_through_dataset_export(image_dataset, export_dir):
    out = export_dir / "coco.json"
    reply = _run(image_dataset, "Export", output_path="coco.json", format="coco_object_detections")
    assert reply["status"] == "succeeded", reply["message"]
    coco = json.loads(out.read_text())
    assert sorted(i["file_name"].rsplit("/", 1)[-1] for i in coco["images"]) == [
        "a.png",
        "b.png",
        "c.png",
    ]


@pytest.fixture
def recorded(monkeypatch, image_dataset):
    """Replace the embedding-based dataset methods by recorders (no model in unit tests)."""
    calls = []
    cls = type(image_dataset)
    monkeypatch.setattr(
        cls,
        "compute_typicality_metadata",
        lambda self, metadata_name="typicality", **kw: (
            calls.append(("typicality", metadata_name)) or metadata_name
        ),
    )
    monkeypatch.setattr(
        cls,
        "compute_similarity_metadata",
        lambda self, query_tag_name, metadata_name=None, **kw: (
            calls.append(("similarity", query_tag_name, metadata_name)) or "similarity_to_q"
        ),
    )
    ids = _ids(image_dataset)
    monkeypatch.setattr(
        cls,
        "find_duplicates",
        lambda self, threshold, **kw: (
            calls.append(("dup", threshold)) or [[ids["a.png"], ids["b.png"]]]
        ),
    )
    return calls


def test_typicality_and_similarity_call_the_dataset_methods(image_dataset, recorded):
    from lightly_studio.db import transaction
    from lightly_studio.store.tags import tag_sample_ids

    assert _run(image_dataset, "Compute typicality")["message"] == (
        "Stored typicality as metadata 'typicality'."
    )
    with transaction() as con:
        tag_sample_ids(con, image_dataset.dataset_id, "q", list(_ids(image_dataset).values())[:1])
    reply = _run(image_dataset, "Compute similarity to a tag", query_tag="q")
    assert reply["message"] == "Stored similarity to tag 'q' as metadata 'similarity_to_q'."
    assert recorded == [("typicality", "typicality"), ("similarity", "q", None)]


def test_near_duplicates_are_tagged(image_dataset, recorded):
    reply = _run(image_dataset, "Find near-duplicates", threshold=0.1)
    assert reply["message"] == (
        "Found 1 groups of near-duplicates (2 samples), tagged 'near_duplicates'."
    )
    tagged = (
        image_dataset.query().to_polars().filter(pl.col("tags").list.contains("near_duplicates"))
    )
    assert sorted(tagged["file_name"].to_list()) == ["a.png", "b.png"]
    assert recorded == [("dup", 0.1)]


def test_select_diverse_runs_the_selection_on_the_scope(image_dataset, monkeypatch):
    from lightly_studio.core.dataset_query import query as query_module

    seen = {}

    class FakeSelection:
        def __init__(self, query):
            seen["files"] = sorted(s.file_name for s in query.to_list())

        def diverse(self, n_samples_to_select, selection_result_tag_name):
            seen["args"] = (n_samples_to_select, selection_result_tag_name)

    monkeypatch.setattr(query_module, "Selection", FakeSelection)
    ids = _ids(image_dataset)
    reply = _run(
        image_dataset,
        "Select diverse samples",
        n_samples=1,
        result_tag="div",
        scope={"kind": "selection", "sample_ids": [str(ids["b.png"]), str(ids["c.png"])]},
    )
    assert reply["status"] == "succeeded", reply["message"]
    assert seen == {"files": ["b.png", "c.png"], "args": (1, "div")}


def test_select_diverse_refuses_zero_samples(image_dataset):
    reply = _run(image_dataset, "Select diverse samples", n_samples=0)
    assert reply["status"] == "invalid" and "minimum 1" in reply["errors"]["n_samples"]
