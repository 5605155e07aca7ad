"""The query box's api: a spec's text query filters like dataset.match_text, query_check reports
the equivalent Python or the error's place, query_completions offers the dataset's names."""

from __future__ import annotations

import pytest

from lightly_studio.api import dispatch
from lightly_studio.errors import QueryTextError


def spec(ds, **kw):
    return {"dataset_id": str(ds.dataset_id), **kw}


def names(ds, **kw):
    result, _ = dispatch("samples_page", {"spec": spec(ds, **kw), "offset": 0, "limit": 100})
    return [r["file_name"] for r in result["rows"]]


def test_a_specs_text_query_filters_with_the_other_filters(small_ds):
    assert names(small_ds, query="width >= 400") == ["a.jpg", "c.png", "e.jpg"]
    assert names(small_ds, query="width >= 400", tags=["good"]) == ["a.jpg"]
    assert names(small_ds, query='object_detection(class_name = "car" AND source = "model")') == [
        "b.jpg"
    ]
    assert names(small_ds, query='NOT "good" IN tags AND metadata["speed"] > 5') == ["c.png"]
    assert set(names(small_ds, query='NOT "good" IN tags')) == {
        r.file_name for r in small_ds.match_text('NOT "good" IN tags')
    }


def test_a_bad_text_query_in_a_spec_is_a_positioned_error(small_ds):
    with pytest.raises(QueryTextError) as info:
        dispatch("count", {"spec": spec(small_ds, query="width >")})
    assert info.value.column == 8


def test_query_check_gives_python_and_count_or_the_error_place(small_ds):
    ok, _ = dispatch("query_check", {"dataset_id": str(small_ds.dataset_id), "text": "width < 100"})
    assert ok == {"python": "ImageSampleField.width < 100", "error": None, "count": 1}
    bad, _ = dispatch(
        "query_check",
        {"dataset_id": str(small_ds.dataset_id), "text": 'width < 100 AND\n"x" IN tag'},
    )
    assert bad["python"] is None and bad["count"] is None
    assert bad["error"]["offset"] == 23
    assert (bad["error"]["line"], bad["error"]["column"]) == (2, 8)
    assert "IN looks in tags" in bad["error"]["message"]


def complete(ds, text, offset=None):
    result, _ = dispatch(
        "query_completions",
        {
            "dataset_id": str(ds.dataset_id),
            "text": text,
            "offset": len(text) if offset is None else offset,
        },
    )
    return result


def test_completion_at_the_start_offers_fields_functions_metadata_and_tags(small_ds):
    result = complete(small_ds, "")
    labels = [c["label"] for c in result["candidates"]]
    for expected in [
        "width",
        "height",
        "file_name",
        "created_at",
        "captions",
        "object_detection",
        'metadata["speed"]',
        'metadata["weather"]',
        '"good" IN tags',
        "NOT",
    ]:
        assert expected in labels
    assert (result["start"], result["end"]) == (0, 0)


def test_completion_filters_by_the_word_being_typed_and_replaces_it(small_ds):
    result = complete(small_ds, "width > 3 AND hei")
    assert [c["label"] for c in result["candidates"]] == ["height"]
    assert (result["start"], result["end"]) == (14, 17)
    assert [c["label"] for c in complete(small_ds, "width > 3 a")["candidates"]] == ["AND"]


def test_completion_inside_a_function_offers_annotation_fields_then_class_names(small_ds):
    inside = {c["label"] for c in complete(small_ds, "object_detection(")["candidates"]}
    assert {"class_name", "confidence", "source", "x", "y", "width", "height", "NOT"} == inside
    classes = complete(small_ds, 'object_detection(class_name = "')
    assert [c["label"] for c in classes["candidates"]] == ['"car"', '"person"']
    assert classes["start"] == len("object_detection(class_name = ")
    sources = complete(small_ds, "object_detection(source = ")
    assert [c["label"] for c in sources["candidates"]] == ['"ground_truth"', '"model"']


def test_completion_of_metadata_keys_and_operators(small_ds):
    keys = complete(small_ds, "metadata[")["candidates"]
    assert [(c["label"], c["insert"]) for c in keys] == [
        ('"speed"', '"speed"]'),
        ('"weather"', '"weather"]'),
    ]
    ops = [c["label"] for c in complete(small_ds, "width ")["candidates"]]
    assert ops[:6] == ["=", "!=", "<", "<=", ">", ">="]


def test_completion_after_an_unparseable_prefix_is_empty_not_an_error(small_ds):
    assert complete(small_ds, "width > > ")["candidates"] == []
