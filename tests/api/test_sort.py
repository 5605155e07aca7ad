"""The grid's sort control (spec.sort): any numeric metadata key, and similarity while a
text or "find similar" search is active — a sort given with a search re-sorts its matches."""

from __future__ import annotations

import pytest

from lightly_studio.api import dispatch
from lightly_studio.errors import QueryError
from tests.embed.test_api import circle  # noqa: F401 - the fixture: 6 samples on a circle


def names(spec: dict) -> list[str]:
    page, _ = dispatch("samples_page", {"spec": spec, "limit": 50})
    return [r["file_name"] for r in page["rows"]]


@pytest.fixture
def scored(circle):
    """The circle's samples with metadata 'score' = 5, 3, 4, missing, 1, 2 (by file name)."""
    ds, ids = circle
    for sample_id, score in zip(ids, [5, 3, 4, None, 1, 2], strict=True):
        if score is not None:
            ds.get_sample(sample_id).metadata["score"] = score
    return ds, ids


def test_sort_by_a_numeric_metadata_key_puts_samples_without_it_last(scored):
    ds, _ = scored
    spec = {"dataset_id": str(ds.dataset_id), "sort": {"field": "metadata:score"}}
    assert names(spec) == ["04.png", "05.png", "01.png", "02.png", "00.png", "03.png"]
    spec["sort"]["desc"] = True
    assert names(spec) == ["00.png", "02.png", "01.png", "05.png", "04.png", "03.png"]


def test_a_search_orders_by_similarity_and_a_sort_re_sorts_its_matches(scored):
    ds, ids = scored
    similar = {"dataset_id": str(ds.dataset_id), "similar_to": str(ids[0])}
    # Angles 0, 10, 25, 90, 170, 200 degrees: cosine to sample 0 falls in this order.
    by_similarity = ["00.png", "01.png", "02.png", "03.png", "05.png", "04.png"]
    assert names(similar) == by_similarity
    assert names({**similar, "sort": {"field": "similarity"}}) == by_similarity
    assert names({**similar, "sort": {"field": "metadata:score"}}) == [
        "04.png",
        "05.png",
        "01.png",
        "02.png",
        "00.png",
        "03.png",
    ]
    page, _ = dispatch(
        "samples_page", {"spec": {**similar, "sort": {"field": "width", "desc": True}}}
    )
    assert page["rows"][0]["file_name"] == "05.png"  # the widest image


def test_sort_by_similarity_without_a_search_keeps_the_default_order(scored):
    ds, _ = scored
    spec = {"dataset_id": str(ds.dataset_id)}
    assert names({**spec, "sort": {"field": "similarity"}}) == names(spec)


def test_an_unknown_sort_field_names_the_choices(scored):
    ds, _ = scored
    with pytest.raises(QueryError, match="similarity"):
        names({"dataset_id": str(ds.dataset_id), "sort": {"field": 3}})


def test_a_search_s_count_refuses_the_sort_its_page_refuses(scored):
    """The count of a search orders nothing, yet a sort the page cannot apply (an unknown
    metadata key) fails the count too: the view shows one error, not a count without rows."""
    ds, ids = scored
    spec = {
        "dataset_id": str(ds.dataset_id),
        "similar_to": str(ids[0]),
        "sort": {"field": "metadata:nope"},
    }
    for method in ("samples_page", "count"):
        with pytest.raises(QueryError, match="Unknown metadata key 'nope'"):
            dispatch(method, {"spec": spec})
    assert dispatch("count", {"spec": {**spec, "sort": {"field": "metadata:score"}}})[0] == {
        "count": 6
    }
