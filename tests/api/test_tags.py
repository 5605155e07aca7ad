"""Tag management (Python and the views' api), inverted tag and label filters, select all."""

from __future__ import annotations

import pytest

from lightly_studio.api import dispatch
from lightly_studio.api import samples as samples_api
from lightly_studio.core.dataset_query import ImageSampleField as F
from lightly_studio.errors import LightlyStudioError, QueryError


def spec(ds, **kw):
    return {"dataset_id": str(ds.dataset_id), **kw}


def names(ds, **kw):
    result, _ = dispatch("samples_page", {"spec": spec(ds, **kw), "offset": 0, "limit": 100})
    return [r["file_name"] for r in result["rows"]]


def tagged(ds, tag):
    return sorted(s.file_name for s in ds.match(F.tags.contains(tag)))


def test_rename_tag_keeps_its_samples_and_frees_the_old_name(small_ds):
    assert small_ds.rename_tag("good", "keep") == 2
    assert tagged(small_ds, "keep") == ["a.jpg", "b.jpg"]
    assert tagged(small_ds, "good") == []
    assert "good" not in small_ds.tags and "keep" in small_ds.tags
    # A query built before the rename follows the tag by its new name only.
    assert small_ds.match_text('"keep" IN tags').count() == 2


def test_rename_tag_refuses_unknown_and_taken_names_and_changes_nothing(small_ds):
    small_ds.by_name["c.png"].add_tag("other")
    with pytest.raises(LightlyStudioError, match="No tag 'nope'"):
        small_ds.rename_tag("nope", "x")
    with pytest.raises(LightlyStudioError, match="a tag 'other' exists already"):
        small_ds.rename_tag("good", "other")
    with pytest.raises(LightlyStudioError, match="non-empty string"):
        small_ds.rename_tag("good", " ")
    assert tagged(small_ds, "good") == ["a.jpg", "b.jpg"]
    assert tagged(small_ds, "other") == ["c.png"]


def test_delete_tag_takes_it_off_every_sample_and_says_how_many(small_ds):
    small_ds.by_name["c.png"].add_tag("other")
    assert small_ds.delete_tag("good") == 2
    assert "good" not in small_ds.tags
    assert all("good" not in s.tags for s in small_ds)
    assert tagged(small_ds, "other") == ["c.png"]  # other tags untouched
    with pytest.raises(LightlyStudioError, match="No tag 'good'"):
        small_ds.delete_tag("good")
    # The name can be used again, for a new tag with no samples.
    small_ds.by_name["d.jpg"].add_tag("good")
    assert tagged(small_ds, "good") == ["d.jpg"]


def test_tag_api_create_rename_delete(small_ds):
    ds_id = str(small_ds.dataset_id)
    assert dispatch("tag_create", {"dataset_id": ds_id, "name": "todo"})[0] == {
        "name": "todo",
        "count": 0,
    }
    facets, _ = dispatch("facets", {"spec": spec(small_ds)})
    assert {"name": "todo", "count": 0, "total": 0} in facets["tags"]
    dispatch(
        "tag_samples",
        {
            "dataset_id": ds_id,
            "sample_ids": [str(small_ds.by_name["e.jpg"].sample_id)],
            "tag": "todo",
        },
    )
    assert dispatch("tag_rename", {"dataset_id": ds_id, "old": "todo", "new": "done"})[0] == {
        "name": "done",
        "count": 1,
    }
    assert dispatch("tag_delete", {"dataset_id": ds_id, "name": "done"})[0] == {
        "name": "done",
        "count": 1,
    }
    assert "done" not in small_ds.tags
    with pytest.raises(LightlyStudioError):
        dispatch("tag_delete", {"dataset_id": ds_id, "name": "done"})


def test_inverted_tag_and_label_filters(small_ds):
    assert names(small_ds, exclude_tags=["good"]) == ["c.png", "d.jpg", "e.jpg"]
    assert names(small_ds, exclude_labels=["car"]) == ["c.png", "d.jpg", "e.jpg"]
    # Narrowed by source: only the model's cars are excluded.
    assert names(small_ds, exclude_labels=["car"], annotation_source="model") == []
    assert names(small_ds, exclude_labels=["person"], labels=["car"]) == ["b.jpg"]
    assert names(small_ds, tags=["good"], exclude_labels=["person"]) == ["b.jpg"]
    with pytest.raises(QueryError, match=r"spec\.exclude_tags"):
        names(small_ds, exclude_tags="good")


def test_filtered_ids_selects_every_sample_of_the_filter(small_ds, monkeypatch):
    ids, _ = dispatch("filtered_ids", {"spec": spec(small_ds, tags=["good"])})
    assert sorted(ids["sample_ids"]) == sorted(
        str(small_ds.by_name[n].sample_id) for n in ("a.jpg", "b.jpg")
    )
    monkeypatch.setattr(samples_api, "MAX_SELECT_ALL", 3)
    with pytest.raises(QueryError, match="at most 3 samples and the filter matches 5"):
        dispatch("filtered_ids", {"spec": spec(small_ds)})
