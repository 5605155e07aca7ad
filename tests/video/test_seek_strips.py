"""Seek strips (ingest/video_strip.py): every frame of a video at a small size, so the player
shows any sought frame at once. A strip frame must be exactly the frame asked for — never a
neighbour — and the poster method answers from the strip only when asked ``quick`` and the
sharp poster is not cached."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from PIL import Image

from lightly_studio.api import dispatch
from lightly_studio.api import video as video_api
from lightly_studio.core.video_dataset import VideoDataset
from lightly_studio.errors import QueryError
from lightly_studio.ingest import video_strip

FRAMES = 120


@pytest.fixture
def clip(db, tmp_path, make_video):
    """stripes.mp4: 64x48, 120 frames at 30 fps, frame i shows i mod 64 as stripes."""
    make_video(tmp_path / "videos" / "stripes.mp4", frames=FRAMES)
    dataset = VideoDataset.create("strips")
    dataset.add_videos_from_path(tmp_path / "videos", embed=False)
    return dataset, next(iter(dataset))


def _poster(dataset, video, n: int, **extra):
    result, buffers = dispatch(
        "video_poster",
        {
            "dataset_id": str(dataset.dataset_id),
            "sample_id": str(video.sample_id),
            "frame_number": n,
            **extra,
        },
    )
    assert result["frame_number"] == n and result["size"] == len(buffers[0])
    return result, Image.open(io.BytesIO(buffers[0]))


def test_every_strip_frame_is_the_frame_of_its_timestamp(clip, frame_index):
    dataset, video = clip
    path = str(video.file_path_abs)
    assert video_strip.strip_frame_jpeg(path, 0.0) is None, "no strip before it is built"
    assert dataset.build_seek_strips() == 1
    for n in range(FRAMES):
        image = Image.open(io.BytesIO(video_strip.strip_frame_jpeg(path, n / 30)))
        assert image.size == (64, 48), "a small video is kept at its size"
        assert frame_index(image) == n % 64, f"strip frame {n}"
    # Past the last frame: the last frame (as the server's poster decode does).
    last = Image.open(io.BytesIO(video_strip.strip_frame_jpeg(path, 10.0)))
    assert frame_index(last) == (FRAMES - 1) % 64


def test_a_large_video_is_scaled_down_and_stays_frame_exact(db, tmp_path, make_video, frame_index):
    path = make_video(tmp_path / "big.mp4", width=1280, height=720, frames=40)
    video_strip.build_seek_strip(str(path))
    for n in (0, 1, 17, 38, 39):
        image = Image.open(io.BytesIO(video_strip.strip_frame_jpeg(str(path), n / 30)))
        assert image.size == (480, 270)
        assert frame_index(image) == n


def test_quick_posters_come_from_the_strip_only_when_not_cached(clip, frame_index, monkeypatch):
    dataset, video = clip
    monkeypatch.setattr(video_api, "WHOLE_VIDEO_FRAMES", 0)
    # No strip: quick changes nothing, the server decodes the exact frame.
    result, image = _poster(dataset, video, 90, quick=True)
    assert result["low_res"] is False and frame_index(image) == 90 % 64
    dataset.build_seek_strips()
    # With a strip, a frame not cached at poster size comes from it, without decoding.
    monkeypatch.setattr(
        video_api, "_decode_window", lambda *a: pytest.fail("decoded though the strip has it")
    )
    for n in (3, 79, 64):  # outside the window decoded around 90 (80..)
        result, image = _poster(dataset, video, n, quick=True)
        assert result["low_res"] is True and frame_index(image) == n % 64
    # A frame cached at poster size (the window around 90) is answered sharp.
    assert video_api._cached(str(video.file_path_abs), 90 / 30) is not None
    result, image = _poster(dataset, video, 90, quick=True)
    assert result["low_res"] is False and frame_index(image) == 90 % 64
    # Without quick, the strip is never the answer.
    monkeypatch.undo()
    monkeypatch.setattr(video_api, "WHOLE_VIDEO_FRAMES", 0)
    result, image = _poster(dataset, video, 5)
    assert result["low_res"] is False and frame_index(image) == 5


def test_a_replaced_video_does_not_use_the_old_strip(clip, make_video):
    dataset, video = clip
    path = str(video.file_path_abs)
    dataset.build_seek_strips()
    assert video_strip.strip_frame_jpeg(path, 0.0) is not None
    make_video(Path(path), frames=FRAMES)
    stat = os.stat(path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert video_strip.strip_frame_jpeg(path, 0.0) is None


def test_ingest_builds_strips_when_asked_and_reports_failures(db, tmp_path, make_video, caplog):
    make_video(tmp_path / "videos" / "a.mp4", frames=10)
    dataset = VideoDataset.create("ingest-strips")
    dataset.add_videos_from_path(tmp_path / "videos", embed=False, seek_strips=True)
    (video,) = list(dataset)
    assert video_strip.strip_frame_jpeg(str(video.file_path_abs), 0.0) is not None
    # A file damaged after indexing: no strip, one warning naming it, and no exception.
    (tmp_path / "videos" / "a.mp4").write_bytes(b"\x00" * 100)
    assert dataset.build_seek_strips() == 0
    assert "No seek strip for 1 video" in caplog.text and "a.mp4" in caplog.text


def test_a_bad_quick_flag_is_refused(clip):
    dataset, video = clip
    with pytest.raises(QueryError, match="quick must be true or false"):
        _poster(dataset, video, 0, quick="yes")


def test_frame_thumbnails_come_from_the_strip_exactly(clip, frame_index, monkeypatch):
    """The grid's and the timeline's frame thumbnails are read from the strip (no decode from
    the key frame), and only for a time where a frame starts: the same frame either way."""
    from lightly_studio.ingest import video as ingest_video

    dataset, video = clip
    path = str(video.file_path_abs)
    dataset.build_seek_strips()
    monkeypatch.setattr(
        ingest_video, "decode_frame", lambda *a, **k: pytest.fail("decoded though in the strip")
    )
    for n in (0, 41, 119):
        image = Image.open(io.BytesIO(ingest_video.frame_jpeg(path, n / 30)))
        assert frame_index(image) == n % 64
    # Between two frames the strip is not asked (decode_frame's rule differs there).
    with pytest.raises(pytest.fail.Exception, match="decoded though"):
        ingest_video.frame_jpeg(path, 41.5 / 30)
