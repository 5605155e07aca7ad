"""The query DSL: match / order_by / slice, boolean logic, metadata, annotations, consumers."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

import lightly_studio as ls
from lightly_studio.core.dataset_query import (
    AND,
    NOT,
    OR,
    ImageSampleField,
    OrderByField,
)
from lightly_studio.errors import QueryError
from tests.conftest import make_images


@pytest.fixture
def ds(db, tmp_path):
    """Ten images n0..n9 with width 100+10*i, height 50, and a few tags."""
    root = tmp_path / "q"
    make_images(root, {f"n{i}.png": (100 + 10 * i, 50) for i in range(10)})
    dataset = ls.ImageDataset.create("q")
    dataset.add_images_from_path(path=str(root), embed=False)
    for sample in dataset:
        i = int(sample.file_name[1])
        if i % 2 == 0:
            sample.add_tag("even")
        if i in (3, 7):
            sample.add_tag("needs-labeling")
        if i == 2:
            sample.add_tag("reviewed")
    return dataset


def names(query) -> list[str]:
    return [s.file_name for s in query]


def test_the_documented_compound_query(ds):
    query = ds.match(
        OR(
            AND(ImageSampleField.width < 150, NOT(ImageSampleField.tags.contains("reviewed"))),
            ImageSampleField.tags.contains("needs-labeling"),
        )
    )
    query.order_by(OrderByField(ImageSampleField.width).desc())
    assert names(query) == ["n7.png", "n4.png", "n3.png", "n1.png", "n0.png"]
    query[1:3]
    assert names(query) == ["n4.png", "n3.png"]
    query.add_tag("needs-review")
    assert ds.match(ImageSampleField.tags.contains("needs-review")).count() == 2


def test_chained_style_and_second_match_ands(ds):
    query = ds.match(ImageSampleField.width >= 120).match(ImageSampleField.width <= 150)
    assert names(query.order_by(OrderByField(ImageSampleField.file_name).desc())[:2]) == [
        "n5.png",
        "n4.png",
    ]
    assert len(query) == 2  # the slice is part of the query


def test_a_later_slice_or_order_replaces_the_earlier_one(ds):
    query = ds.query()
    query[0:2]
    query.slice(offset=8)
    assert names(query) == ["n8.png", "n9.png"]
    query.order_by(OrderByField(ImageSampleField.width).desc())
    query.order_by(OrderByField(ImageSampleField.width).asc())
    assert names(query) == ["n8.png", "n9.png"]


def test_dataset_query_always_starts_fresh(ds):
    ds.query().match(ImageSampleField.width > 1000)
    assert ds.query().count() == 10


def test_all_slice_forms(ds):
    assert names(ds.query().slice(offset=2, limit=3)) == ["n2.png", "n3.png", "n4.png"]
    assert names(ds.query()[2:5]) == ["n2.png", "n3.png", "n4.png"]
    assert names(ds.query().slice(limit=2)) == ["n0.png", "n1.png"]
    assert names(ds.query()[8:]) == ["n8.png", "n9.png"]
    assert ds.query()[3].file_name == "n3.png"


def test_pages_of_the_default_order_are_exact_slices_of_the_matches(ds):
    """A default-order page is read as a range of the insertion ordinal; tagging rewrites rows
    (they move in the table), filters skip samples, and a page is still exactly its slice."""
    ds.match(ImageSampleField.width >= 150).add_tag("moved")  # n5..n9 now stored last
    ds[1].add_tag("moved")
    odd = ds.match(NOT(ImageSampleField.tags.contains("even")))
    everything = names(odd.copy())
    assert everything == ["n1.png", "n3.png", "n5.png", "n7.png", "n9.png"]
    for start in range(6):
        for stop in [*range(start, 7), None]:
            page = odd.copy()[start:stop]
            assert names(page) == everything[start:stop]
            assert page.to_polars()["file_name"].to_list() == everything[start:stop]
            assert page.rows_frame()["file_name"].to_list() == everything[start:stop]


def test_large_and_deep_default_order_pages_are_found_by_selection(ds, monkeypatch):
    """From _SELECT_FROM rows on, a default-order page's first and last ordinals are picked
    by selection over the matches (not ORDER BY … LIMIT); the pages are the same."""
    from lightly_studio.core.dataset_query import query as query_module
    from lightly_studio.query import query as dsl_module

    ds.match(ImageSampleField.width >= 150).add_tag("moved")
    odd = ds.match(NOT(ImageSampleField.tags.contains("even")))
    expected = {
        (start, stop): names(odd.copy()[start:stop])
        for start in range(6)
        for stop in [*range(start, 7), None]
    }
    monkeypatch.setattr(dsl_module, "_SELECT_FROM", 2)
    chosen = []
    real_bounds = query_module.DatasetQuery._page_bounds
    monkeypatch.setattr(
        query_module.DatasetQuery,
        "_page_bounds",
        lambda self, *a: chosen.append(a) or real_bounds(self, *a),
    )
    for (start, stop), page_names in expected.items():
        page = odd.copy()[start:stop]
        assert names(page) == page_names
        assert page.to_polars()["file_name"].to_list() == page_names
    assert chosen  # the selection path ran
    assert names(ds.query()[1:3]) == ["n1.png", "n2.png"]


def test_string_datetime_and_operator_forms(ds):
    assert names(ds.match(ImageSampleField.file_name == "n3.png")) == ["n3.png"]
    assert ds.match(ImageSampleField.file_path_abs != "other").count() == 10
    assert ds.match(ImageSampleField.file_name.contains("n1")).count() == 1
    past = dt.datetime(2000, 1, 1)
    assert ds.match(ImageSampleField.created_at > past).count() == 10
    assert ds.match(ImageSampleField.height >= 10).count() == 10
    expr = (ImageSampleField.width > 150) & ~ImageSampleField.tags.contains("even")
    assert names(ds.match(expr)) == ["n7.png", "n9.png"]
    assert ds.match(ImageSampleField.width.between(110, 130)).count() == 3


def test_metadata_fields_compare_like_columns_and_missing_keys_never_match(ds):
    samples = ds.query().to_list()
    for s in samples[:6]:
        i = int(s.file_name[1])
        s.metadata["speed"] = i * 1.5
        s.metadata["weather"] = "sunny" if i % 3 == 0 else "rain"
        s.metadata["night"] = i > 3
        s.metadata["when"] = dt.datetime(2024, 1, 1 + i)
    speed = ImageSampleField.metadata["speed"]
    assert names(ds.match(speed > 5)) == ["n4.png", "n5.png"]
    assert ds.match(speed != 3.0).count() == 5  # n6..n9 have no speed: never match
    assert ds.match(NOT(speed > 5)).count() == 8  # ...but NOT of a non-match is a match
    assert names(ds.match(ImageSampleField.metadata["weather"] == "sunny")) == ["n0.png", "n3.png"]
    assert ds.match(ImageSampleField.metadata["night"] == True).count() == 2  # noqa: E712
    assert ds.match(ImageSampleField.metadata["when"] >= dt.datetime(2024, 1, 5)).count() == 2
    ordered = ds.query().order_by(OrderByField(speed).desc())
    assert names(ordered)[:3] == ["n5.png", "n4.png", "n3.png"]
    assert names(ordered)[-1] in {"n6.png", "n7.png", "n8.png", "n9.png"}  # nulls last


def test_a_metadata_range_is_a_predicate_on_the_sample_row_and_mixes_with_other_terms(ds):
    for s in ds.query().to_list()[:6]:
        s.metadata["speed"] = int(s.file_name[1]) * 1.5  # n0..n5: 0, 1.5, ..., 7.5
        s.metadata["lane"] = int(s.file_name[1]) % 2
    speed, lane = ImageSampleField.metadata["speed"], ImageSampleField.metadata["lane"]
    in_range = AND(speed >= 1.5, ImageSampleField.width > 0, speed < 6.0, lane == 1)
    assert names(ds.match(in_range)) == ["n1.png", "n3.png"]
    # Metadata values are columns of the sample row: no join, no side table.
    sql, _ = ds.match(in_range).sample_ids_subquery()
    assert sql.count("FROM") == 1 and "JOIN" not in sql
    # Under OR each term still stands alone.
    assert names(ds.match(OR(speed < 1.0, speed > 7.0))) == ["n0.png", "n5.png"]


def test_user_values_are_parameters_not_sql(ds):
    tricky = ["it's", "100%", "a_b", "ünï😀", "'; DROP TABLE sample; --"]
    first = ds[0]
    for value in tricky:
        first.add_tag(value)
        first.metadata[f"k{tricky.index(value)}"] = value
    for i, value in enumerate(tricky):
        assert ds.match(ImageSampleField.tags.contains(value)).count() == 1
        assert ds.match(ImageSampleField.metadata[f"k{i}"] == value).count() == 1
    assert ds.match(ImageSampleField.file_name.contains("%")).count() == 0
    assert ds.match(ImageSampleField.file_name.contains("_")).count() == 0
    assert len(ds) == 10


def test_annotation_and_caption_predicates(ds):
    from lightly_studio.core.annotation import CreateClassification, CreateObjectDetection

    s0, s1, s2 = ds[0], ds[1], ds[2]
    s0.add_annotations(
        [
            CreateObjectDetection(label="car", x=0, y=0, width=10, height=10),
            CreateObjectDetection(label="car", x=5, y=5, width=30, height=30),
            CreateObjectDetection(label="person", x=1, y=1, width=2, height=2),
        ]
    )
    s1.add_annotation(
        CreateObjectDetection(label="car", confidence=0.4, x=0, y=0, width=5, height=5)
    )
    s2.add_annotation(CreateClassification(label="night"))
    s2.add_caption("A red car parked at night")
    a = ImageSampleField.annotations
    assert names(ds.match(a.contains_label("car"))) == ["n0.png", "n1.png"]
    assert names(ds.match(a.count(label="car") > 1)) == ["n0.png"]
    assert ds.match(a.count() == 0).count() == 7
    assert names(ds.match(a.exists(min_confidence=0.3))) == ["n1.png"]
    assert names(ds.match(a.exists(label="car", min_area=500))) == ["n0.png"]
    assert names(ds.match(a.exists(annotation_type=ls.AnnotationType.CLASSIFICATION))) == ["n2.png"]
    assert names(ds.match(ImageSampleField.captions.contains("RED CAR"))) == ["n2.png"]
    ordered = ds.query().order_by(OrderByField(a.count()).desc())[:2]
    assert names(ordered) == ["n0.png", "n1.png"]


def test_samples_by_id(ds):
    first, second = ds[0], ds[3]
    assert names(
        ds.match(ImageSampleField.sample_id.is_in([first.sample_id, second.sample_id]))
    ) == ["n0.png", "n3.png"]
    assert names(ds.match(ImageSampleField.sample_id == second.sample_id)) == ["n3.png"]
    # A polars Series works too (a plot's lasso), and the same query runs in other threads.
    import threading

    by_series = ds.match(
        ImageSampleField.sample_id.is_in(pl.Series([str(first.sample_id), str(second.sample_id)]))
    )
    seen: list = []
    worker = threading.Thread(target=lambda: seen.append(names(by_series)))
    worker.start()
    worker.join()
    assert seen == [["n0.png", "n3.png"]] and names(by_series) == ["n0.png", "n3.png"]
    with pytest.raises(QueryError, match=r"'n0\.png' is not one"):
        ImageSampleField.sample_id.is_in(["n0.png"])
    assert ds.match(ImageSampleField.file_name.is_in(["n1.png", "it's", "n9.png"])).count() == 2


def test_consumers(ds):
    query = ds.match(ImageSampleField.tags.contains("even"))
    assert len(query) == query.count() == 5
    assert [s.file_name for s in query.to_list()] == names(query)
    assert len(query.sample_ids()) == 5
    query.add_tag("batch")
    assert ds.match(ImageSampleField.tags.contains("batch")).count() == 5
    query.remove_tag("batch")
    assert ds.match(ImageSampleField.tags.contains("batch")).count() == 0


def test_to_polars_has_columns_tags_and_metadata(ds):
    ds[0].metadata["speed"] = 2.5
    frame = ds.query()[:3].to_polars()
    assert frame.height == 3
    assert frame["file_name"].to_list() == ["n0.png", "n1.png", "n2.png"]
    assert frame["tags"].to_list()[0] == ["even"]
    assert frame["tags"].to_list()[1] == []
    assert frame["speed"].to_list() == [2.5, None, None]
    assert frame.schema["width"] == pl.Int32
    widest = ds.query().order_by(OrderByField(ImageSampleField.width).desc())[:3].to_polars()
    assert widest["file_name"].to_list() == ["n9.png", "n8.png", "n7.png"]


def test_to_polars_types_metadata_columns_and_keeps_the_query_order(ds):
    first, second = ds[0], ds[1]
    first.metadata.update(
        {
            "count": 3,
            "night": True,
            "when": dt.datetime(2024, 5, 1),
            "box": {"x": [1, 2]},
            "width": "wide",
        }
    )
    second.metadata["count"] = 7
    first.add_tag("b-tag")
    first.add_tag("a-tag")
    frame = ds.query().order_by(OrderByField(ImageSampleField.metadata["count"]).desc()).to_polars()
    assert frame["file_name"].to_list()[:2] == ["n1.png", "n0.png"]  # then no count: last
    assert frame.columns[:8] == [
        "sample_id",
        "dataset_id",
        "kind",
        "file_path_abs",
        "file_name",
        "width",
        "height",
        "created_at",
    ]
    assert frame.schema["count"] == pl.Int64 and frame.schema["night"] == pl.Boolean
    assert frame.schema["when"] == pl.Datetime("us")
    assert frame["count"].to_list()[:3] == [7, 3, None]
    # A key named like a sample column does not shadow it.
    assert frame["width"].to_list()[1] == 100 and frame["metadata:width"].to_list()[1] == "wide"
    assert frame["tags"].to_list()[1] == ["a-tag", "b-tag", "even"]  # by name
    assert set(frame["dataset_id"]) == {str(ds.dataset_id)} and set(frame["kind"]) == {"image"}
    assert "fps" not in frame.columns and "sample_idx" not in frame.columns


@pytest.mark.parametrize(
    "build",
    [
        lambda: ImageSampleField.width < "wide",
        lambda: ImageSampleField.file_name < "a",
        lambda: ImageSampleField.file_name == 3,
        lambda: ImageSampleField.created_at > 5,
        lambda: ImageSampleField.width == True,  # noqa: E712
    ],
)
def test_wrong_types_fail_when_the_expression_is_built(build):
    with pytest.raises(QueryError):
        build()


def test_bad_queries_fail_at_build_time_with_clear_messages(ds):
    ds[0].metadata["speed"] = 1.0
    ds[0].metadata["weather"] = "sunny"
    with pytest.raises(QueryError, match="Unknown metadata key 'nope'"):
        ds.match(ImageSampleField.metadata["nope"] > 1)
    with pytest.raises(QueryError, match="compared with a number"):
        ds.match(ImageSampleField.metadata["speed"] > "fast")
    with pytest.raises(QueryError, match="holds text"):
        ds.match(ImageSampleField.metadata["weather"] > "a")
    with pytest.raises(QueryError, match="step"):
        ds.query()[0:10:2]
    with pytest.raises(QueryError, match="negative"):
        ds.query()[-5:]
    with pytest.raises(QueryError, match="non-negative"):
        ds.query().slice(offset=-1)
    with pytest.raises(QueryError, match="truth value"):
        ds.match(ImageSampleField.width > 1 and ImageSampleField.width < 5)
    with pytest.raises(QueryError, match="ordered by their tags"):
        OrderByField(ImageSampleField.tags)


def test_to_list_reads_once_and_matches_paged_iteration(ds, monkeypatch):
    """to_list() reads the whole window in one statement; iteration pages. Same samples, same
    order (rows moved by tagging, a descending key with nulls, slices), same stored fields."""
    from lightly_studio.query import query as dsl_module

    ds.match(ImageSampleField.width >= 150).add_tag("moved")  # n5..n9 now stored last
    ds[3].metadata["speed"] = 2.0
    ds[6].metadata["speed"] = 9.0
    speed = ImageSampleField.metadata["speed"]
    monkeypatch.setattr(dsl_module, "_PAGE", 3)
    queries = [
        ds.query(),
        ds.query()[2:9],
        ds.match(NOT(ImageSampleField.tags.contains("even"))),
        ds.query().order_by(OrderByField(speed).desc()),
        ds.query().order_by(OrderByField(ImageSampleField.width).desc())[1:],
    ]
    reads = []
    real_query_frame = dsl_module.query_frame
    monkeypatch.setattr(
        dsl_module, "query_frame", lambda *a, **k: reads.append(a) or real_query_frame(*a, **k)
    )
    for query in queries:
        reads.clear()
        listed = query.copy().to_list()
        assert len(reads) == 1
        assert [s.file_name for s in listed] == names(query.copy())
    assert names(queries[3])[:2] == ["n6.png", "n3.png"]
    for sample in ds.query().to_list():
        stored = ds.get_sample(sample.sample_id).fields
        assert list(sample.fields) == list(stored)
        assert {k: str(v) for k, v in sample.fields.items()} == {
            k: str(v) for k, v in stored.items()
        }
