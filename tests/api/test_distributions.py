"""The distribution panel's aggregates (``distributions``): exact counts against a direct
computation over the same samples, "missing" included, and charts that follow the filter."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from lightly_studio.api import dispatch
from lightly_studio.errors import QueryError
from tests.api.conftest import write_images


def spec(ds, **kw):
    return {"dataset_id": str(ds.dataset_id), **kw}


@pytest.fixture
def random_ds(db, tmp_path):
    """30 images of random sizes; metadata 'score' (float, missing on some), 'n' (int) and
    'city' (str, missing on some); random 'cat' / 'dog' boxes."""
    from lightly_studio.core.annotation import CreateObjectDetection
    from lightly_studio.core.image_dataset import ImageDataset

    rng = np.random.default_rng(7)
    folder = tmp_path / "images"
    folder.mkdir()
    sizes = {
        f"img{i:02d}.png": (int(rng.integers(20, 90)), int(rng.integers(20, 90))) for i in range(30)
    }
    write_images(folder, sizes)
    ds = ImageDataset.create("random")
    ds.add_images_from_path(str(folder), embed=False)
    truth = []
    for sample in ds:
        score = None if rng.random() < 0.2 else float(rng.normal(0.5, 0.2))
        city = None if rng.random() < 0.3 else str(rng.choice(["oslo", "rome", "lima"]))
        n = int(rng.integers(0, 5))
        if score is not None:
            sample.metadata["score"] = score
        if city is not None:
            sample.metadata["city"] = city
        sample.metadata["n"] = n
        cats, dogs = int(rng.integers(0, 3)), int(rng.integers(0, 2))
        for label, k in (("cat", cats), ("dog", dogs)):
            for _ in range(k):
                sample.add_annotation(
                    CreateObjectDetection(label=label, x=1, y=1, width=5, height=5)
                )
        truth.append(
            {
                "file_name": sample.file_name,
                "width": sample.width,
                "score": score,
                "city": city,
                "n": n,
                "cat": cats,
                "dog": dogs,
            }
        )
    ds.truth = pl.DataFrame(truth)
    return ds


def expected_histogram(values: np.ndarray, bins: int) -> list[int]:
    """Equal-width bins over [min, max], the last one closed (as numpy does)."""
    return np.histogram(values, bins=bins, range=(values.min(), values.max()))[0].tolist()


def test_class_bars_count_objects_and_images_exactly(random_ds):
    d, _ = dispatch("distributions", {"spec": spec(random_ds), "class_count": "images"})
    truth = random_ds.truth
    expected = {
        name: {"objects": int(truth[name].sum()), "images": int((truth[name] > 0).sum())}
        for name in ("cat", "dog")
    }
    got = {c["name"]: {"objects": c["objects"], "images": c["images"]} for c in d["classes"]}
    assert got == expected
    assert d["count"] == 30


def test_numeric_histograms_match_numpy_and_count_missing(random_ds):
    d, _ = dispatch("distributions", {"spec": spec(random_ds), "bins": 7})
    numeric = {h["key"]: h for h in d["numeric"]}
    truth = random_ds.truth
    scores = truth["score"].drop_nulls().to_numpy()
    assert numeric["score"]["counts"] == expected_histogram(scores, 7)
    assert numeric["score"]["missing"] == truth["score"].null_count() > 0
    assert numeric["score"]["field"] == "metadata:score"
    assert numeric["score"]["min"] == pytest.approx(scores.min())
    assert len(numeric["score"]["edges"]) == 8
    widths = truth["width"].to_numpy()
    assert numeric["width"]["counts"] == expected_histogram(widths, 7)
    assert (numeric["width"]["field"], numeric["width"]["missing"]) == ("width", 0)
    assert numeric["n"]["counts"] == expected_histogram(truth["n"].to_numpy(), 7)


def test_categorical_value_counts_with_missing(random_ds):
    d, _ = dispatch("distributions", {"spec": spec(random_ds)})
    city = next(c for c in d["categorical"] if c["key"] == "city")
    truth = random_ds.truth["city"]
    expected = truth.drop_nulls().value_counts()
    assert {v["value"]: v["count"] for v in city["values"]} == dict(expected.iter_rows())
    assert city["missing"] == truth.null_count() > 0
    assert city["other"] == 0
    counts = [v["count"] for v in city["values"]]
    assert counts == sorted(counts, reverse=True)  # most frequent first


def test_categorical_values_beyond_the_limit_are_counted_as_other(random_ds):
    d, _ = dispatch("distributions", {"spec": spec(random_ds), "limit": 1})
    city = next(c for c in d["categorical"] if c["key"] == "city")
    present = random_ds.truth["city"].drop_nulls()
    assert len(city["values"]) == 1
    assert city["values"][0]["count"] + city["other"] == len(present)


def test_charts_follow_the_filter(random_ds):
    d, _ = dispatch(
        "distributions",
        {"spec": spec(random_ds, metadata={"city": {"values": ["oslo"]}}), "bins": 5},
    )
    truth = random_ds.truth.filter(pl.col("city") == "oslo")
    assert d["count"] == truth.height
    city = next(c for c in d["categorical"] if c["key"] == "city")
    assert city["values"] == [{"value": "oslo", "count": truth.height}]
    assert city["missing"] == 0
    score = next(h for h in d["numeric"] if h["key"] == "score")
    assert sum(score["counts"]) + score["missing"] == truth.height
    assert score["missing"] == truth["score"].null_count()
    got = {c["name"]: c["objects"] for c in d["classes"]}
    assert got == {k: int(truth[k].sum()) for k in ("cat", "dog") if truth[k].sum() > 0}
    assert all(c["images"] is None for c in d["classes"])  # by objects unless asked
    d, _ = dispatch(
        "distributions",
        {
            "spec": spec(random_ds, metadata={"city": {"values": ["oslo"]}}),
            "class_count": "images",
        },
    )
    got = {c["name"]: c["images"] for c in d["classes"]}
    assert got == {k: int((truth[k] > 0).sum()) for k in ("cat", "dog") if truth[k].sum() > 0}


def test_a_filter_without_matches_gives_empty_charts(random_ds):
    d, _ = dispatch("distributions", {"spec": spec(random_ds, width=[10_000, None])})
    assert d["count"] == 0 and d["classes"] == []
    width = next(h for h in d["numeric"] if h["key"] == "width")
    assert (width["min"], width["counts"], width["missing"]) == (None, [], 0)


def test_a_single_value_is_one_bin(random_ds):
    one = random_ds.truth["file_name"][0]
    d, _ = dispatch("distributions", {"spec": spec(random_ds, file_name=one)})
    width = next(h for h in d["numeric"] if h["key"] == "width")
    assert width["counts"] == [1] and width["min"] == width["max"]


def test_annotation_source_narrows_the_class_counts(small_ds):
    images = {"class_count": "images"}
    d, _ = dispatch("distributions", {"spec": spec(small_ds), **images})
    assert {c["name"]: (c["objects"], c["images"]) for c in d["classes"]} == {
        "car": (3, 2),
        "person": (1, 1),
    }
    d, _ = dispatch("distributions", {"spec": spec(small_ds, annotation_source="model"), **images})
    assert {c["name"]: (c["objects"], c["images"]) for c in d["classes"]} == {"car": (1, 1)}


def test_bad_parameters_are_refused_by_name(small_ds):
    with pytest.raises(QueryError, match="class_count"):
        dispatch("distributions", {"spec": spec(small_ds), "class_count": "boxes"})
    with pytest.raises(QueryError, match="bins"):
        dispatch("distributions", {"spec": spec(small_ds), "bins": 0})
    with pytest.raises(QueryError, match="bins"):
        dispatch("distributions", {"spec": spec(small_ds), "bins": "10"})


def test_image_quality_scores_appear_as_histograms_and_flags(small_ds):
    """compute_image_issues stores <issue>_score (float) and is_<issue>_issue (bool) metadata:
    the panel charts the scores as histograms and the flags as value counts, with no extra
    code (another panel relies on this)."""
    small_ds.compute_image_issues(checks=["dark", "odd_aspect_ratio"])
    d, _ = dispatch("distributions", {"spec": spec(small_ds)})
    numeric = {h["key"]: h for h in d["numeric"]}
    categorical = {c["key"]: c for c in d["categorical"]}
    for issue in ("dark", "odd_aspect_ratio"):
        score = numeric[f"{issue}_score"]
        assert score["field"] == f"metadata:{issue}_score"
        assert sum(score["counts"]) + score["missing"] == 5
        flags = categorical[f"is_{issue}_issue"]
        assert sum(v["count"] for v in flags["values"]) + flags["missing"] == 5
        assert {v["value"] for v in flags["values"]} <= {"true", "false"}
    # A flag value filters like any categorical value (booleans, as the view sends them).
    d, _ = dispatch(
        "distributions",
        {"spec": spec(small_ds, metadata={"is_dark_issue": {"values": [False]}})},
    )
    flags = next(c for c in d["categorical"] if c["key"] == "is_dark_issue")
    assert [v["value"] for v in flags["values"]] == ["false"]


# -- the embedding plot's colour-by (api/plot.py) ----------------------------------------------


def test_plot_colour_choices_list_tags_and_metadata_keys_by_kind(small_ds):
    choices, _ = dispatch("field_choices", {"dataset_id": str(small_ds.dataset_id)})
    assert choices["tags"] == ["good"]
    assert choices["metadata"] == [
        {"key": "speed", "type": "float", "numeric": True},
        {"key": "weather", "type": "str", "numeric": False},
    ]


def test_plot_colour_by_a_numeric_key_is_a_ramp_and_leaves_missing_grey(fake_projection):
    ds = fake_projection
    token = dispatch("plot_points", {"dataset_id": str(ds.dataset_id)})[0]["token"]
    ids = dispatch("plot_ids", {"token": token, "indices": list(range(5))})[0]["sample_ids"]
    colours, buf = dispatch("plot_colors", {"token": token, "by": "metadata:speed"})
    cats = dict(zip(ids, np.frombuffer(buf[0], np.uint8).tolist(), strict=True))
    by_name = {str(s.sample_id): s.file_name for s in ds}
    got = {by_name[i]: c for i, c in cats.items()}
    # speed 3.0 (d) is the ramp's first step, 12.5 (c) its last; the others have none.
    assert got == {"a.jpg": 0, "b.jpg": 0, "c.png": 10, "d.jpg": 1, "e.jpg": 0}
    assert colours["continuous"] and colours["legend"][1] == "3" and colours["legend"][-1] == "12.5"


def test_plot_colour_by_annotation_source(fake_projection):
    ds = fake_projection
    token = dispatch("plot_points", {"dataset_id": str(ds.dataset_id)})[0]["token"]
    colours, buf = dispatch("plot_colors", {"token": token, "by": "source"})
    assert colours["legend"] == ["no annotations", "ground_truth", "model"]
    assert sorted(np.frombuffer(buf[0], np.uint8).tolist()) == [0, 0, 0, 1, 2]


def test_video_datasets_chart_fps_and_duration_and_their_frames(db, tmp_path):
    """Videos: fps and duration histograms; the frame collection (kind 'frame') charts its
    own samples."""
    from lightly_studio.core.video_dataset import VideoDataset
    from tests.video.conftest import write_video

    write_video(tmp_path / "v" / "a.mp4", width=32, height=32, frames=10, fps=10)
    write_video(tmp_path / "v" / "b.mp4", width=32, height=32, frames=30, fps=30)
    ds = VideoDataset.create("clips")
    ds.add_videos_from_path(tmp_path / "v", target_fps=None, embed=False)
    d, _ = dispatch("distributions", {"spec": spec(ds)})
    numeric = {h["key"]: h for h in d["numeric"]}
    assert d["count"] == 2
    assert (numeric["fps"]["min"], numeric["fps"]["max"]) == (10, 30)
    assert sum(numeric["duration_s"]["counts"]) == 2
    frames, _ = dispatch("distributions", {"spec": spec(ds, kind="frame")})
    assert frames["count"] == 40 and "fps" not in {h["key"] for h in frames["numeric"]}


def test_the_missing_bar_filter_keeps_the_samples_without_the_key(random_ds):
    """spec ``{"missing": true}`` is the DSL's ``metadata[key].is_missing()``: same samples,
    and with ``values`` it adds them (OR), like a second value bar."""
    from lightly_studio.core.dataset_query import OR, ImageSampleField

    truth = random_ds.truth
    without = set(truth.filter(pl.col("city").is_null())["file_name"])
    assert 0 < len(without) < truth.height
    d, _ = dispatch(
        "distributions", {"spec": spec(random_ds, metadata={"city": {"missing": True}})}
    )
    assert d["count"] == len(without)
    city = next(c for c in d["categorical"] if c["key"] == "city")
    assert city["values"] == [] and city["missing"] == len(without)
    rows, _ = dispatch(
        "samples_page",
        {"spec": spec(random_ds, metadata={"city": {"missing": True}}), "offset": 0, "limit": 100},
    )
    assert {r["file_name"] for r in rows["rows"]} == without
    field = ImageSampleField.metadata["city"]
    dsl = random_ds.match(field.is_missing())
    assert {s.file_name for s in dsl} == without
    assert {s.file_name for s in random_ds.match(~field.is_missing())} == (
        set(truth["file_name"]) - without
    )
    both = spec(random_ds, metadata={"city": {"values": ["oslo"], "missing": True}})
    d, _ = dispatch("distributions", {"spec": both})
    oslo = set(truth.filter(pl.col("city") == "oslo")["file_name"])
    assert d["count"] == len(without | oslo)
    dsl = random_ds.match(OR(field == "oslo", field.is_missing()))
    assert {s.file_name for s in dsl} == without | oslo
    with pytest.raises(QueryError, match="missing"):
        dispatch("distributions", {"spec": spec(random_ds, metadata={"city": {"missing": "yes"}})})


def test_classes_by_images_equal_a_distinct_count(random_ds):
    """The image count per class against the straightforward count(DISTINCT sample), over the
    whole dataset and under a filter."""
    from lightly_studio.db import get_connection

    did = str(random_ds.dataset_id)
    for extra, where in (({}, ""), ({"width": [40, None]}, "AND s.width >= 40")):
        d, _ = dispatch(
            "distributions", {"spec": spec(random_ds, **extra), "class_count": "images"}
        )
        rows = (
            get_connection()
            .execute(
                f"""SELECT l.name, count(*), count(DISTINCT a.sample_id)
                FROM annotation a JOIN annotation_label l ON l.label_id = a.label_id
                JOIN sample s ON s.sample_id = a.sample_id
                WHERE s.dataset_id = $1 {where} GROUP BY l.name""",
                [did],
            )
            .fetchall()
        )
        assert {c["name"]: (c["objects"], c["images"]) for c in d["classes"]} == {
            name: (objects, images) for name, objects, images in rows
        }


def test_plot_colour_by_evaluation_status(fake_projection):
    """evaluation:<run> colours each point by the run's outcome on its sample: a.jpg has two
    ground-truth cars and no prediction (false negatives), b.jpg a prediction and no ground
    truth (false positives), the others nothing to miss (correct)."""
    ds = fake_projection
    ds.evaluate().object_detection("det", "ground_truth", "model")
    choices, _ = dispatch("field_choices", {"dataset_id": str(ds.dataset_id)})
    assert choices["evaluations"] == ["det"]
    token = dispatch("plot_points", {"dataset_id": str(ds.dataset_id)})[0]["token"]
    found = dispatch("plot_ids", {"token": token, "indices": list(range(5)), "names": True})[0]
    by_name = {str(s.sample_id): s.file_name for s in ds}
    assert found["file_names"] == [by_name[i] for i in found["sample_ids"]]
    colours, buf = dispatch("plot_colors", {"token": token, "by": "evaluation:det"})
    assert colours["legend"] == [
        "not evaluated",
        "correct",
        "false positives",
        "false negatives",
        "false pos. + neg.",
    ]
    assert len(colours["colors"]) == len(colours["legend"])
    cats = np.frombuffer(buf[0], np.uint8).tolist()
    got = {by_name[i]: colours["legend"][c] for i, c in zip(found["sample_ids"], cats, strict=True)}
    assert got == {
        "a.jpg": "false negatives",
        "b.jpg": "false positives",
        "c.png": "correct",
        "d.jpg": "correct",
        "e.jpg": "correct",
    }
    with pytest.raises(QueryError, match="No evaluation run"):
        dispatch("plot_colors", {"token": token, "by": "evaluation:nope"})


def matched_ids(search_spec: dict) -> set[str]:
    """The samples the grid shows for a spec (a search ranks them)."""
    page, _ = dispatch("samples_page", {"spec": search_spec, "limit": 1000})
    return {r["sample_id"] for r in page["rows"]}


def test_charts_of_a_search_are_those_of_its_matches_and_score_nothing(
    random_ds, text_searchable, request
):
    """A text search matches the samples with a vector of its model. The charts aggregate
    over that set, selected in SQL: ranking every sample (~0.6 s at a million) would only
    give an order the charts do not use."""
    from lightly_studio.api import register_ids

    samples = sorted(random_ds, key=lambda s: s.file_name)
    embedded = text_searchable(random_ds, samples[::3] + samples[1::3])  # 20 of 30
    searched = spec(random_ds, text="a cat", metadata={"n": {"range": [1, None]}})
    matches = matched_ids(searched)
    assert 0 < len(matches) < len(embedded)  # the filter applies to the search too

    request.getfixturevalue("no_scoring")
    as_ids = spec(random_ds, ids=register_ids(embedded), metadata={"n": {"range": [1, None]}})
    for class_count in ("objects", "images"):
        params = {"bins": 7, "class_count": class_count}
        got, _ = dispatch("distributions", {**params, "spec": searched})
        assert got == dispatch("distributions", {**params, "spec": as_ids})[0]
        assert got["count"] == len(matches)
