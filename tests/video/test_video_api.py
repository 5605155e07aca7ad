"""The api methods behind the video views: the player's frames and annotations, pictures of
videos and frames (decoded, never the video file), and the frame collection in the grid with
its filters (parent video, fps, duration, resolution)."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from lightly_studio.api import dispatch
from lightly_studio.core.video_dataset import VideoDataset
from lightly_studio.errors import QueryError

from .conftest import SQUARE, square_at


@pytest.fixture
def tracked(db, tmp_path, make_square_video, make_video):
    """a.mp4 (64x48, 30 frames @30, square boxes as track 4 on frames 0-9, a time span 0.2-0.5 s),
    b.mp4 (64x48, 20 frames @10), c.mp4 (32x32, 60 frames @30); every frame indexed."""
    root = tmp_path / "videos"
    make_square_video(root / "a.mp4", frames=30)
    make_square_video(root / "b.mp4", frames=20, fps=10)
    make_video(root / "c.mp4", width=32, height=32, frames=60, fps=30)
    vis = tmp_path / "vis.json"
    vis.write_text(
        json.dumps(
            {
                "videos": [{"id": 1, "file_names": [f"a/{i}.jpg" for i in range(30)]}],
                "categories": [{"id": 1, "name": "square"}],
                "annotations": [
                    {
                        "id": 4,
                        "video_id": 1,
                        "category_id": 1,
                        "bboxes": [[*square_at(i), SQUARE, SQUARE] for i in range(10)],
                    }
                ],
            }
        )
    )
    dataset = VideoDataset.create("clips")
    dataset.add_videos_from_youtube_vis(vis, root, embed=False, embed_frames=False)
    dataset.add_videos_from_path(root, target_fps=None, embed=False)
    spans = tmp_path / "spans.json"
    spans.write_text(json.dumps({"results": {"a": [{"label": "moving", "segment": [0.2, 0.5]}]}}))
    dataset.add_annotations_from_activitynet(spans)
    return dataset


def _video(dataset, name: str):
    return next(v for v in dataset if v.file_name == name)


def test_video_frames_gives_the_player_frames_tracks_and_spans(tracked):
    a = _video(tracked, "a.mp4")
    result, _ = dispatch(
        "video_frames", {"dataset_id": str(tracked.dataset_id), "sample_id": str(a.sample_id)}
    )

    assert result["video"]["frame_count"] == 30 and result["video"]["fps"] == 30.0
    assert result["frames"]["frame_number"] == list(range(30))
    on_3 = [x for x in result["annotations"] if x["frame_number"] == 3]
    assert [(x["label"], x["track_id"], x["box"]) for x in on_3] == [
        ("square", 4, [*map(float, square_at(3)), SQUARE, SQUARE])
    ]
    assert len(result["annotations"]) == 10
    assert [(s["label"], s["start_s"], s["end_s"]) for s in result["spans"]] == [
        ("moving", 0.2, 0.5)
    ]


def test_video_frames_refuses_a_frame(tracked):
    frame = tracked.frames().to_list()[0]
    with pytest.raises(QueryError, match="is not a video"):
        dispatch(
            "video_frames",
            {"dataset_id": str(tracked.dataset_id), "sample_id": str(frame.sample_id)},
        )


def test_the_picture_of_a_frame_is_that_frame_decoded_not_the_video_file(tracked, frame_index):
    b = _video(tracked, "b.mp4")
    frame_7 = next(f for f in b.frames if f.frame_number == 7)
    ref = {"dataset_id": str(tracked.dataset_id), "sample_id": str(frame_7.sample_id)}

    result, (data,) = dispatch("image", ref)
    video_result, (poster,) = dispatch("image", {**ref, "sample_id": str(b.sample_id)})

    assert result["mime"] == video_result["mime"] == "image/jpeg"
    image = Image.open(io.BytesIO(data)).convert("RGB")
    assert image.size == (64, 48)  # full resolution
    x, y = square_at(7)
    assert image.getpixel((x + SQUARE // 2, y + SQUARE // 2))[0] > 200  # the square of frame 7
    first = Image.open(io.BytesIO(poster)).convert("RGB")
    assert first.getpixel((square_at(0)[0] + SQUARE // 2, y + SQUARE // 2))[0] > 200


def test_the_annotator_gets_the_decoded_frame(tracked):
    frame = next(f for f in _video(tracked, "a.mp4").frames if f.frame_number == 2)

    result, (data,) = dispatch(
        "annotator_sample", {"sample_id": str(frame.sample_id), "image": True}
    )

    assert result["mime"] == "image/jpeg"
    assert Image.open(io.BytesIO(data)).size == (64, 48)
    assert [a["label"] for a in result["annotations"]] == ["square"]


def test_the_annotator_knows_a_frames_neighbours_in_its_video(tracked):
    video = _video(tracked, "a.mp4")
    by_number = {f.frame_number: str(f.sample_id) for f in video.frames}
    first, _ = dispatch("annotator_sample", {"sample_id": by_number[0]})
    middle, _ = dispatch("annotator_sample", {"sample_id": by_number[2]})
    last, _ = dispatch("annotator_sample", {"sample_id": by_number[29]})

    assert middle["frame"] == {
        "video_id": str(video.sample_id),
        "frame_number": 2,
        "previous_id": by_number[1],
        "next_id": by_number[3],
    }
    assert first["frame"]["previous_id"] is None and first["frame"]["next_id"] == by_number[1]
    assert last["frame"]["next_id"] is None
    videos, _ = dispatch("annotator_sample", {"sample_id": str(video.sample_id)})
    assert "frame" not in videos


def _count(spec: dict) -> int:
    return dispatch("count", {"spec": spec})[0]["count"]


def test_the_grid_shows_frames_filtered_by_video_and_like_images(tracked):
    ds = str(tracked.dataset_id)
    a = _video(tracked, "a.mp4")

    assert _count({"dataset_id": ds}) == 3
    assert _count({"dataset_id": ds, "kind": "frame"}) == 30 + 20 + 60
    assert _count({"dataset_id": ds, "kind": "frame", "video_id": str(a.sample_id)}) == 30
    assert _count({"dataset_id": ds, "kind": "frame", "labels": ["square"]}) == 10
    assert _count({"dataset_id": ds, "kind": "frame", "width": [None, 40]}) == 60
    page, _ = dispatch(
        "samples_page",
        {"spec": {"dataset_id": ds, "kind": "frame", "video_id": str(a.sample_id)}, "limit": 2},
    )
    assert [r["kind"] for r in page["rows"]] == ["frame", "frame"]
    # Each frame row names its video and number: the grid groups frames by video with them.
    assert [(r["video_id"], r["frame_number"]) for r in page["rows"]] == [
        (str(a.sample_id), 0),
        (str(a.sample_id), 1),
    ]
    videos, _ = dispatch("samples_page", {"spec": {"dataset_id": ds}, "limit": 1})
    assert "video_id" not in videos["rows"][0]


def test_videos_filter_by_fps_duration_and_resolution(tracked):
    ds = str(tracked.dataset_id)

    assert _count({"dataset_id": ds, "fps": [20, None]}) == 2  # a and c at 30 fps
    assert _count({"dataset_id": ds, "duration_s": [1.5, None]}) == 2  # b 2 s, c 2 s
    assert _count({"dataset_id": ds, "fps": [20, None], "duration_s": [1.5, None]}) == 1
    assert _count({"dataset_id": ds, "height": [40, None]}) == 2
    facets, _ = dispatch("facets", {"spec": {"dataset_id": ds}})
    assert facets["numeric"]["fps"]["min"] == 10.0 and facets["numeric"]["fps"]["max"] == 30.0
    assert facets["numeric"]["duration_s"]["max"] == 2.0
    frames, _ = dispatch("facets", {"spec": {"dataset_id": ds, "kind": "frame"}})
    assert frames["total"] == 110 and "fps" not in frames["numeric"]
    counts = {lab["name"]: lab["count"] for lab in frames["labels"]}
    assert counts["square"] == 10 and counts.get("moving", 0) == 0  # spans are on videos


def test_a_bad_kind_is_refused(tracked):
    with pytest.raises(QueryError, match=r"spec\.kind 'image'"):
        _count({"dataset_id": str(tracked.dataset_id), "kind": "image"})


@pytest.fixture
def projected(tracked, monkeypatch):
    """A projection of every video and frame (x = frame number, videos at -1), as one fit
    over both gives them."""
    import polars as pl

    from lightly_studio import embed

    def compute_projection(dataset, embedding_model_name=None, recompute=False):
        videos = dataset.query().to_polars().select("sample_id")
        frames = dataset.frames().to_polars().select("sample_id", "frame_number")
        return pl.concat(
            [
                videos.with_columns(pl.lit(-1.0).alias("x")),
                frames.select("sample_id", pl.col("frame_number").cast(pl.Float64).alias("x")),
            ]
        ).select(pl.col("sample_id").cast(pl.Utf8), "x", pl.col("x").alias("y"))

    monkeypatch.setattr(embed, "compute_projection", compute_projection)
    return tracked


def test_the_plot_shows_the_videos_or_the_frames_like_the_grid(projected):
    did = str(projected.dataset_id)
    videos, _ = dispatch("plot_points", {"dataset_id": did})
    frames, _ = dispatch("plot_points", {"dataset_id": did, "kind": "frame"})
    assert videos["count"] == 3
    assert frames["count"] == projected.frames().count() == 30 + 20 + 60

    # A lasso over frame points filters the frames grid to those frames.
    chosen = list(range(5))
    selection, _ = dispatch("plot_select", {"token": frames["token"], "indices": chosen})
    ids, _ = dispatch("plot_ids", {"token": frames["token"], "indices": chosen})
    page, _ = dispatch(
        "samples_page",
        {"spec": {"dataset_id": did, "kind": "frame", "ids": selection["ids"]}, "limit": 50},
    )
    assert sorted(r["sample_id"] for r in page["rows"]) == sorted(ids["sample_ids"])
    # A lasso over video points filters the videos grid.
    selection, _ = dispatch("plot_select", {"token": videos["token"], "indices": [0]})
    count, _ = dispatch("count", {"spec": {"dataset_id": did, "ids": selection["ids"]}})
    assert count["count"] == 1


def test_an_image_dataset_has_no_frame_plot(db, tmp_path):
    from lightly_studio.core.dataset import Dataset

    dataset = Dataset.create("images")
    with pytest.raises(QueryError, match="holds image samples"):
        dispatch("plot_points", {"dataset_id": str(dataset.dataset_id), "kind": "frame"})


def test_video_media_gives_the_file_in_parts_for_the_notebook_player(tracked):
    """A notebook has no media route: its player loads the file in parts over the kernel's
    messages. The parts are the file's bytes; a rewritten file changes the version tag."""
    from pathlib import Path

    video = _video(tracked, "a.mp4")
    whole = Path(video.file_path_abs).read_bytes()
    params = {"dataset_id": str(tracked.dataset_id), "sample_id": str(video.sample_id)}
    parts, offset = [], 0
    while offset < len(whole):
        result, (data,) = dispatch("video_media", {**params, "offset": offset, "length": 1000})
        assert result["size"] == len(whole) and result["mime"] == "video/mp4"
        assert result["offset"] == offset
        parts.append(data)
        offset += len(data)
    assert b"".join(parts) == whole and len(parts) == -(-len(whole) // 1000)
    before = result["etag"]
    Path(video.file_path_abs).write_bytes(whole + b"\0")
    assert dispatch("video_media", params)[0]["etag"] != before


def test_video_media_refuses_what_is_not_a_video_file(tracked, tmp_path):
    import os

    from lightly_studio._media_access import MediaRefused
    from lightly_studio._wire import CHUNK_BYTES

    video = _video(tracked, "a.mp4")
    params = {"dataset_id": str(tracked.dataset_id), "sample_id": str(video.sample_id)}
    frame = next(iter(tracked.frames()))
    with pytest.raises(QueryError, match="is not a video"):
        dispatch("video_media", {**params, "sample_id": str(frame.sample_id)})
    with pytest.raises(QueryError, match="length"):
        dispatch("video_media", {**params, "length": CHUNK_BYTES + 1})
    with pytest.raises(QueryError, match="offset"):
        dispatch("video_media", {**params, "offset": -1})
    # The file swapped for a link to something else: refused, as /media refuses it.
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the browser")
    os.replace(video.file_path_abs, tmp_path / "moved.mp4")
    os.symlink(secret, video.file_path_abs)
    with pytest.raises(MediaRefused):
        dispatch("video_media", params)
