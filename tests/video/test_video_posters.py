"""Posters: the player shows the server's decode of a frame over the video while the browser
seeks (api/video.py video_poster). Each poster must be exactly the frame asked for, and the
frames around it must be cached in the same pass, so the next steps need no decoding."""

from __future__ import annotations

import io
import time

import pytest
from PIL import Image

from lightly_studio.api import dispatch
from lightly_studio.api import video as video_api
from lightly_studio.core.video_dataset import VideoDataset
from lightly_studio.errors import QueryError

FRAMES = 120


@pytest.fixture
def clip(db, tmp_path, make_video):
    """stripes.mp4: 64x48, 120 frames at 30 fps, frame i shows i mod 64 as stripes."""
    make_video(tmp_path / "videos" / "stripes.mp4", frames=FRAMES)
    dataset = VideoDataset.create("posters")
    dataset.add_videos_from_path(tmp_path / "videos", embed=False)
    video = next(iter(dataset))
    return dataset, video


@pytest.fixture
def small_windows(monkeypatch):
    """Windows of 3 + 1 + 8 frames, and no video counts as short enough to cache whole."""
    monkeypatch.setattr(video_api, "WINDOW_BEHIND", 3)
    monkeypatch.setattr(video_api, "WINDOW_AHEAD", 8)
    monkeypatch.setattr(video_api, "WHOLE_VIDEO_FRAMES", 0)


def _poster(dataset, video, n: int):
    result, buffers = dispatch(
        "video_poster",
        {
            "dataset_id": str(dataset.dataset_id),
            "sample_id": str(video.sample_id),
            "frame_number": n,
        },
    )
    assert result["mime"] == "image/jpeg" and result["frame_number"] == n
    return Image.open(io.BytesIO(buffers[0]))


def _wait_cached(path: str, frames: range, timeout_s: float = 20.0) -> list[int]:
    """The frames of ``frames`` still not cached after the background pass had its time."""
    deadline = time.monotonic() + timeout_s
    while True:
        missing = [k for k in frames if video_api._cached(path, k / 30) is None]
        if not missing or time.monotonic() > deadline:
            return missing
        time.sleep(0.05)


def test_a_poster_is_the_frame_asked_for_anywhere_in_the_video(clip, small_windows, frame_index):
    dataset, video = clip
    # Far apart (a new window each, seeking from a key frame), near, and backwards.
    for n in (0, 70, 71, 100, 119, 5, 66):
        image = _poster(dataset, video, n)
        assert image.size == (64, 48)
        assert frame_index(image) == n % 64, f"poster of frame {n}"


def test_the_frames_after_a_poster_are_cached_in_the_same_pass(clip, small_windows, frame_index):
    dataset, video = clip
    path = str(video.file_path_abs)
    _poster(dataset, video, 40)
    assert _wait_cached(path, range(37, 49)) == []
    assert video_api._cached(path, 60 / 30) is None, "beyond the window nothing is decoded"
    # Past half way into the window (45 + 8 / 2 = 49 is not cached), the same pass goes on
    # to 45 + 8 before the user gets to its end.
    _poster(dataset, video, 45)
    assert _wait_cached(path, range(49, 54)) == []
    for n in range(37, 54):
        assert frame_index(Image.open(io.BytesIO(video_api._cached(path, n / 30)))) == n % 64


def test_a_short_video_is_cached_whole_on_the_first_poster(clip):
    dataset, video = clip
    _poster(dataset, video, 0)
    assert _wait_cached(str(video.file_path_abs), range(FRAMES)) == []


def test_bad_poster_requests_say_what_is_wrong(clip):
    dataset, video = clip
    with pytest.raises(QueryError, match=r"frame_number must be an integer between 0 and 119"):
        _poster(dataset, video, FRAMES)
    frame = dataset.frames().to_list()[0]
    with pytest.raises(QueryError, match="is not a video"):
        dispatch(
            "video_poster",
            {
                "dataset_id": str(dataset.dataset_id),
                "sample_id": str(frame.sample_id),
                "frame_number": 0,
            },
        )
