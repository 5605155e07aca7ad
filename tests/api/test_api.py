"""Every api method the views call, through the one dispatch table."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lightly_studio.api import METHODS, dispatch, error_payload, register_query
from lightly_studio.errors import LightlyStudioError, QueryError


def spec(ds, **kw):
    return {"dataset_id": str(ds.dataset_id), **kw}


def names(ds, **kw):
    result, _ = dispatch("samples_page", {"spec": spec(ds, **kw), "offset": 0, "limit": 100})
    return [r["file_name"] for r in result["rows"]]


def test_list_datasets_counts_samples(small_ds):
    result, buffers = dispatch("list_datasets", {})
    assert result["datasets"] == [
        {
            "dataset_id": str(small_ds.dataset_id),
            "name": "small",
            "kind": "image",
            "count": 5,
            "has_embeddings": False,
        }
    ]
    assert buffers == []


def test_list_datasets_says_which_datasets_have_embeddings(small_ds):
    ids = [s.sample_id for s in small_ds]
    small_ds.add_embeddings("toy", ids, [[1.0, 0.0]] * len(ids))
    (row,) = dispatch("list_datasets", {})[0]["datasets"]
    assert row["has_embeddings"] is True


def test_count_and_pages_follow_the_query_order(small_ds):
    assert dispatch("count", {"spec": spec(small_ds)})[0] == {"count": 5}
    assert names(small_ds) == ["a.jpg", "b.jpg", "c.png", "d.jpg", "e.jpg"]
    page, _ = dispatch("samples_page", {"spec": spec(small_ds), "offset": 3, "limit": 10})
    assert [r["file_name"] for r in page["rows"]] == ["d.jpg", "e.jpg"]
    assert names(small_ds, sort={"field": "width", "desc": True})[:2] == ["e.jpg", "c.png"]


def test_page_rows_carry_tags_annotations_masks_and_captions(small_ds):
    page, _ = dispatch("samples_page", {"spec": spec(small_ds), "offset": 0, "limit": 1})
    row = page["rows"][0]
    assert row["file_name"] == "a.jpg" and (row["width"], row["height"]) == (400, 300)
    assert row["tags"] == ["good"]
    assert row["captions"] == [
        "a red car <b>next</b> to a person"
    ]  # stored verbatim, escaped by the view
    labels = sorted(a["label"] for a in row["annotations"])
    assert labels == ["car", "car", "person"]
    person = next(a for a in row["annotations"] if a["label"] == "person")
    assert person["box"] == [200, 100, 60, 50]
    # Row-wise RLE: background runs first, then alternating; sums to the pixel count.
    assert sum(person["rle"]) == 400 * 300 and person["rle"][0] == 100 * 400 + 200


def test_filters_by_tag_label_source_confidence_size_metadata_and_text(small_ds):
    assert names(small_ds, tags=["good"]) == ["a.jpg", "b.jpg"]
    assert names(small_ds, labels=["person"]) == ["a.jpg"]
    assert names(small_ds, labels=["car"]) == ["a.jpg", "b.jpg"]
    assert names(small_ds, labels=["car"], annotation_source="model") == ["b.jpg"]
    assert names(small_ds, min_confidence=0.5) == []
    assert names(small_ds, min_confidence=0.3) == ["b.jpg"]
    assert names(small_ds, width=[100, 700]) == ["a.jpg", "b.jpg", "c.png"]
    assert names(small_ds, height=[None, 100]) == ["b.jpg", "d.jpg"]
    assert names(small_ds, metadata={"speed": {"range": [10, None]}}) == ["c.png"]
    assert names(small_ds, metadata={"weather": {"values": ["rain", "snow"]}}) == ["d.jpg"]
    assert names(small_ds, file_name=".png") == ["c.png"]
    assert names(small_ds, caption="RED CAR") == ["a.jpg"]
    assert names(small_ds, tags=["good"], labels=["person"]) == ["a.jpg"]


def test_bad_specs_raise_query_errors(small_ds):
    with pytest.raises(QueryError, match="Unknown query spec keys: colour"):
        dispatch("count", {"spec": spec(small_ds, colour="red")})
    with pytest.raises(QueryError, match="Unknown metadata key 'nope'"):
        dispatch("count", {"spec": spec(small_ds, metadata={"nope": {"range": [1, 2]}})})
    with pytest.raises(QueryError, match="range must be"):
        dispatch("count", {"spec": spec(small_ds, width=[1])})
    with pytest.raises(LightlyStudioError, match="Unknown api method"):
        dispatch("drop_everything", {})
    payload = error_payload(QueryError("bad key"))
    assert payload == {"type": "QueryError", "message": "bad key", "expected": True}


def test_a_python_query_can_be_the_base_of_a_spec(small_ds):
    from lightly_studio.core.dataset_query import ImageSampleField

    token = register_query(small_ds.match(ImageSampleField.width >= 400))
    assert names(small_ds, base=token) == ["a.jpg", "c.png", "e.jpg"]
    assert names(small_ds, base=token, tags=["good"]) == ["a.jpg"]
    sliced = register_query(small_ds.query()[1:3])
    page, _ = dispatch(
        "samples_page", {"spec": spec(small_ds, base=sliced), "offset": 1, "limit": 10}
    )
    assert [r["file_name"] for r in page["rows"]] == ["c.png"]


def test_thumbnails_are_small_jpegs_in_order_and_cached_on_disk(small_ds, db):
    ids = [str(small_ds.by_name[n].sample_id) for n in ("e.jpg", "b.jpg")]
    result, buffers = dispatch(
        "thumbnails", {"dataset_id": str(small_ds.dataset_id), "sample_ids": ids}
    )
    assert result["sample_ids"] == ids and result["errors"] == [None, None]
    big = Image.open(io.BytesIO(buffers[0]))
    assert big.format == "JPEG" and big.size == (256, 171)  # 3000x2000 -> 256 long side
    assert Image.open(io.BytesIO(buffers[1])).size == (200, 100)  # never upscaled
    cached = list((db.parent / ".lightly_studio_cache" / "thumbnails").rglob("*.jpg"))
    assert len(cached) == 2


def test_a_changed_file_gets_a_new_thumbnail(small_ds, tmp_path):
    sample = small_ds.by_name["d.jpg"]
    params = {"dataset_id": str(small_ds.dataset_id), "sample_ids": [str(sample.sample_id)]}
    first = dispatch("thumbnails", params)[1][0]
    Image.new("RGB", (80, 40), (255, 0, 0)).save(sample.file_path_abs)
    second = dispatch("thumbnails", params)[1][0]
    assert Image.open(io.BytesIO(first)).size == (50, 50)
    assert Image.open(io.BytesIO(second)).size == (80, 40)


def test_an_unreadable_file_gives_an_empty_buffer_and_an_error(small_ds):
    sample = small_ds.by_name["b.jpg"]
    with open(sample.file_path_abs, "wb") as f:
        f.write(b"not an image")
    result, buffers = dispatch(
        "thumbnails",
        {"dataset_id": str(small_ds.dataset_id), "sample_ids": [str(sample.sample_id)]},
    )
    assert buffers == [b""]
    assert "b.jpg" in result["errors"][0]


def test_a_page_can_bring_the_thumbnails_of_its_first_rows(small_ds):
    sample = small_ds.by_name["b.jpg"]
    with open(sample.file_path_abs, "wb") as f:
        f.write(b"not an image")
    page, buffers = dispatch(
        "samples_page", {"spec": spec(small_ds), "offset": 0, "limit": 4, "thumbnails": 3}
    )
    assert [r["file_name"] for r in page["rows"]] == ["a.jpg", "b.jpg", "c.png", "d.jpg"]
    assert len(buffers) == 3 and page["mime"] == "image/jpeg"
    assert Image.open(io.BytesIO(buffers[0])).size == (256, 192)  # a.jpg, 400x300
    assert buffers[1] == b"" and "b.jpg" in page["thumbnail_errors"][1]  # unreadable
    assert page["thumbnail_errors"][0] is None and page["thumbnail_errors"][2] is None
    assert Image.open(io.BytesIO(buffers[2])).size == (256, 192)  # c.png, 640x480
    # Without the parameter a page has no buffers, as before.
    assert dispatch("samples_page", {"spec": spec(small_ds), "offset": 0, "limit": 4})[1] == []


def test_prefetch_caches_the_first_thumbnails_of_the_default_order(small_ds, db):
    from lightly_studio.api.samples import prefetch_thumbnails

    assert prefetch_thumbnails(str(small_ds.dataset_id), count=2) == 2
    cached = list((db.parent / ".lightly_studio_cache" / "thumbnails").rglob("*.jpg"))
    assert len(cached) == 2
    # They are a.jpg's and b.jpg's: asking for those makes no new file, c.png's does.
    first = [str(small_ds.by_name[n].sample_id) for n in ("a.jpg", "b.jpg")]
    dispatch("thumbnails", {"dataset_id": str(small_ds.dataset_id), "sample_ids": first})
    assert len(list(cached[0].parents[1].rglob("*.jpg"))) == 2
    dispatch(
        "thumbnails",
        {
            "dataset_id": str(small_ds.dataset_id),
            "sample_ids": [str(small_ds.by_name["c.png"].sample_id)],
        },
    )
    assert len(list(cached[0].parents[1].rglob("*.jpg"))) == 3


def test_concurrent_calls_for_one_thumbnail_make_it_once(small_ds, monkeypatch):
    import threading

    from lightly_studio.api import thumbnails as th
    from lightly_studio.ingest import thumbnails as rendering

    started, release, made = threading.Event(), threading.Event(), []
    real = rendering.render_thumbnail

    def slow_render(data, size=rendering.THUMBNAIL_SIZE):
        made.append(1)
        started.set()
        release.wait(10)
        return real(data, size)

    monkeypatch.setattr(rendering, "render_thumbnail", slow_render)
    item = (small_ds.by_name["d.jpg"].file_path_abs, "image", None)
    results = []
    first = threading.Thread(target=lambda: results.append(th.thumbnails_for([item])))
    first.start()
    assert started.wait(10)
    second = threading.Thread(target=lambda: results.append(th.thumbnails_for([item])))
    second.start()
    second.join(0.2)
    assert second.is_alive()  # waits for the first call's thumbnail instead of making one
    release.set()
    first.join(10)
    second.join(10)
    assert len(made) == 1
    assert results[0] == results[1] and results[0][0][0].startswith(b"\xff\xd8")


def test_thumbnails_reject_ids_of_other_datasets(small_ds):
    with pytest.raises(QueryError, match="not in dataset 'small'"):
        dispatch(
            "thumbnails",
            {
                "dataset_id": str(small_ds.dataset_id),
                "sample_ids": ["00000000-0000-0000-0000-000000000000"],
            },
        )


def test_sample_detail_has_fields_tags_metadata_annotations_captions(small_ds):
    sample = small_ds.by_name["c.png"]
    detail, _ = dispatch(
        "sample_detail",
        {"dataset_id": str(small_ds.dataset_id), "sample_id": str(sample.sample_id)},
    )
    assert detail["fields"]["file_name"] == "c.png" and detail["fields"]["width"] == 640
    assert detail["metadata"] == {"weather": "sunny", "speed": 12.5}
    assert detail["tags"] == [] and detail["annotations"] == [] and detail["captions"] == []
    a = small_ds.by_name["a.jpg"]
    detail, _ = dispatch(
        "sample_detail", {"dataset_id": str(small_ds.dataset_id), "sample_id": str(a.sample_id)}
    )
    assert len(detail["annotations"]) == 3 and detail["tags"] == ["good"]


def test_image_returns_the_original_bytes(small_ds):
    sample = small_ds.by_name["c.png"]
    result, buffers = dispatch(
        "image", {"dataset_id": str(small_ds.dataset_id), "sample_id": str(sample.sample_id)}
    )
    assert result["mime"] == "image/png"
    assert buffers[0] == Path(sample.file_path_abs).read_bytes()


def test_tag_and_untag_ids_or_a_whole_filter(small_ds):
    ids = [str(small_ds.by_name[n].sample_id) for n in ("c.png", "d.jpg")]
    ds_id = str(small_ds.dataset_id)
    assert (
        dispatch("tag_samples", {"dataset_id": ds_id, "sample_ids": ids, "tag": "review"})[0][
            "changed"
        ]
        == 2
    )
    assert (
        dispatch("tag_samples", {"dataset_id": ds_id, "sample_ids": ids, "tag": "review"})[0][
            "changed"
        ]
        == 0
    )
    assert names(small_ds, tags=["review"]) == ["c.png", "d.jpg"]
    dispatch(
        "tag_samples", {"dataset_id": ds_id, "sample_ids": ids[:1], "tag": "review", "remove": True}
    )
    assert names(small_ds, tags=["review"]) == ["d.jpg"]
    dispatch("tag_samples", {"spec": spec(small_ds, labels=["car"]), "tag": "has_car"})
    assert sorted(small_ds.by_name["b.jpg"].tags) == ["good", "has_car"]


def test_selected_ids_can_restrict_a_spec(small_ds):
    ids = [str(small_ds.by_name[n].sample_id) for n in ("e.jpg", "a.jpg")]
    token = dispatch("select_ids", {"sample_ids": ids})[0]["ids"]
    assert names(small_ds, ids=token) == ["a.jpg", "e.jpg"]
    with pytest.raises(QueryError, match="expired"):
        names(small_ds, ids="ids-999999")


def test_facets_count_within_the_filter_and_overall(small_ds):
    f, _ = dispatch("facets", {"spec": spec(small_ds, tags=["good"])})
    assert f["count"] == 2 and f["total"] == 5
    assert f["tags"] == [{"name": "good", "count": 2, "total": 2}]
    assert {r["name"]: (r["count"], r["total"]) for r in f["labels"]} == {
        "car": (3, 3),
        "person": (1, 1),
    }
    assert f["sources"] == ["ground_truth", "model"]
    width = f["numeric"]["width"]
    assert (width["min"], width["max"], sum(width["counts"])) == (50, 3000, 5)
    meta = {m["key"]: m for m in f["metadata"]}
    assert (meta["speed"]["min"], meta["speed"]["max"], sum(meta["speed"]["counts"])) == (
        3.0,
        12.5,
        2,
    )
    assert meta["weather"]["values"] == [
        {"value": "rain", "count": 1},
        {"value": "sunny", "count": 1},
    ]
    f2, _ = dispatch("facets", {"spec": spec(small_ds, labels=["person"])})
    assert {r["name"]: r["count"] for r in f2["labels"]} == {"car": 2, "person": 1}


def test_facets_and_counts_of_a_search_are_those_of_its_matches_and_score_nothing(
    small_ds, text_searchable, request
):
    """The filter panel and the count of a text search cover the samples it matches (those
    with a vector of its model), selected in SQL without ranking them."""
    from lightly_studio.api import register_ids

    embedded = text_searchable(small_ds, [small_ds.by_name[n] for n in ("a.jpg", "c.png")])
    searched = spec(small_ds, text="a car")
    assert sorted(names(small_ds, text="a car")) == ["a.jpg", "c.png"]

    request.getfixturevalue("no_scoring")
    facets, _ = dispatch("facets", {"spec": searched})
    assert facets == dispatch("facets", {"spec": spec(small_ds, ids=register_ids(embedded))})[0]
    assert (facets["count"], facets["total"]) == (2, 5)
    assert facets["tags"] == [{"name": "good", "count": 1, "total": 2}]
    assert dispatch("count", {"spec": searched})[0] == {"count": 2}
    assert dispatch("count", {"spec": {**searched, "tags": ["good"]}})[0] == {"count": 1}


def test_tagging_all_a_search_matches_tags_its_matches_without_scoring(
    small_ds, text_searchable, no_scoring
):
    text_searchable(small_ds, [small_ds.by_name[n] for n in ("b.jpg", "d.jpg")])
    tagged, _ = dispatch("tag_samples", {"spec": spec(small_ds, text="a dog"), "tag": "dogs"})
    assert tagged["changed"] == 2
    assert names(small_ds, tags=["dogs"]) == ["b.jpg", "d.jpg"]


def test_plot_points_are_float32_pairs_and_indices_map_to_ids(fake_projection):
    ds = fake_projection
    result, buffers = dispatch("plot_points", {"dataset_id": str(ds.dataset_id)})
    xy = np.frombuffer(buffers[0], dtype=np.float32).reshape(-1, 2)
    assert result["count"] == 5 and xy.shape == (5, 2)
    token = result["token"]
    # A lasso sends indices as a Uint32 buffer; the server answers with ids.
    wide = np.flatnonzero(xy[:, 0] >= 640).astype(np.uint32)
    ids, _ = dispatch("plot_ids", {"token": token}, [wide.tobytes()])
    assert sorted(ids["sample_ids"]) == sorted(
        str(ds.by_name[n].sample_id) for n in ("c.png", "e.jpg")
    )
    with pytest.raises(QueryError, match="out of range"):
        dispatch("plot_ids", {"token": token, "indices": [99]})
    found, buf = dispatch("plot_indices", {"token": token, "spec": spec(ds, tags=["good"])})
    idx = np.frombuffer(buf[0], dtype=np.uint32)
    assert found["count"] == 2 and sorted(xy[idx, 0].tolist()) == [200, 400]


def test_a_lasso_of_indices_becomes_an_id_set_a_spec_can_use(fake_projection):
    from lightly_studio.api.plot import selected_ids

    ds = fake_projection
    result, buffers = dispatch("plot_points", {"dataset_id": str(ds.dataset_id)})
    xy = np.frombuffer(buffers[0], dtype=np.float32).reshape(-1, 2)
    wide = np.flatnonzero(xy[:, 0] >= 640).astype(np.uint32)  # c.png and e.jpg
    sel, out = dispatch("plot_select", {"token": result["token"]}, [wide.tobytes()])
    assert sel["count"] == 2 and out == [] and "sample_ids" not in sel  # no id strings sent
    want = sorted(str(ds.by_name[n].sample_id) for n in ("c.png", "e.jpg"))
    assert sorted(selected_ids(sel["ids"])) == want
    assert sorted(names(ds, ids=sel["ids"])) == ["c.png", "e.jpg"]
    empty, _ = dispatch("plot_select", {"token": result["token"]}, [b""])
    assert empty == {"ids": None, "count": 0} and selected_ids(None) == []
    with pytest.raises(QueryError, match="out of range"):
        dispatch("plot_select", {"token": result["token"]}, [np.array([5], np.uint32).tobytes()])


def test_plot_points_are_cached_until_the_projection_changes(fake_projection, monkeypatch):
    from lightly_studio.db import get_connection

    ds = fake_projection
    embed = sys.modules["lightly_studio.embed"]
    calls = []
    inner = embed.compute_projection
    monkeypatch.setattr(
        embed, "compute_projection", lambda *a, **k: calls.append(1) or inner(*a, **k)
    )
    first, buf1 = dispatch("plot_points", {"dataset_id": str(ds.dataset_id)})
    again, buf2 = dispatch("plot_points", {"dataset_id": str(ds.dataset_id)})
    assert len(calls) == 1 and again["token"] == first["token"] and buf2 == buf1
    # A (re)fitted projection for the dataset changes the fingerprint: computed again.
    con = get_connection()
    model = "00000000-0000-4000-8000-0000000000aa"
    con.execute(
        "INSERT INTO embedding_model VALUES ($1, $2, 'm', 'm', 2, now())",
        [model, str(ds.dataset_id)],
    )
    sid = str(ds.by_name["a.jpg"].sample_id)
    con.execute("INSERT INTO projection VALUES ($1, $2, 1.0, 2.0, true)", [sid, model])
    dispatch("plot_points", {"dataset_id": str(ds.dataset_id)})
    assert len(calls) == 2
    con.execute("UPDATE projection SET x = 5.0 WHERE model_id = $1", [model])
    dispatch("plot_points", {"dataset_id": str(ds.dataset_id)})
    dispatch("plot_points", {"dataset_id": str(ds.dataset_id)})
    assert len(calls) == 3


def test_plot_colours_by_tag_label_and_metadata(fake_projection):
    ds = fake_projection
    token = dispatch("plot_points", {"dataset_id": str(ds.dataset_id)})[0]["token"]
    legend, buf = dispatch("plot_colors", {"token": token, "by": "tag:good"})
    assert legend["legend"] == ["untagged", "good"] and np.frombuffer(buf[0], np.uint8).sum() == 2
    legend, buf = dispatch("plot_colors", {"token": token, "by": "label"})
    assert legend["legend"] == ["no label", "car"]  # a.jpg: 2 cars beat 1 person
    legend, buf = dispatch("plot_colors", {"token": token, "by": "metadata:weather"})
    assert legend["legend"] == ["none", "rain", "sunny"]
    legend, buf = dispatch("plot_colors", {"token": token, "by": "metadata:speed"})
    assert legend["continuous"] and sorted(np.frombuffer(buf[0], np.uint8).tolist()) == [
        0,
        0,
        0,
        1,
        10,
    ]
    with pytest.raises(QueryError, match="Cannot colour by"):
        dispatch("plot_colors", {"token": token, "by": "weather"})


def test_export_writes_the_chosen_scope(small_ds, tmp_path, monkeypatch):
    from lightly_studio.dataset import env

    # Views name a file inside the export folder only (tests/security/test_export_paths.py).
    monkeypatch.setattr(env, "LIGHTLY_STUDIO_EXPORT_DIR", str(tmp_path / "out"))
    formats = dispatch("export_formats", {})[0]["formats"]
    assert formats, "the exporter offers no to_<format> methods"
    fmt = "coco_object_detections" if "coco_object_detections" in formats else formats[0]
    out = tmp_path / "out" / "export.json"
    result, _ = dispatch(
        "export",
        {
            "dataset_id": str(small_ds.dataset_id),
            "format": fmt,
            "scope": "filter",
            "spec": spec(small_ds, tags=["good"]),
            "output": out.name,
        },
    )
    assert result["count"] == 2 and result["scope"] == "filter"
    assert out.exists() or (tmp_path / "out").exists()
    with pytest.raises(QueryError, match="selection is empty"):
        dispatch(
            "export", {"dataset_id": str(small_ds.dataset_id), "format": fmt, "scope": "selection"}
        )


def test_method_table_is_what_the_views_call():
    assert {
        "list_datasets",
        "count",
        "samples_page",
        "thumbnails",
        "image",
        "sample_detail",
        "tag_samples",
        "select_ids",
        "facets",
        "plot_points",
        "plot_ids",
        "plot_select",
        "plot_indices",
        "plot_colors",
        "export_formats",
        "export",
    } <= set(METHODS)
