"""Seek strips (ingest/video_strip.py): every frame of a video at a small size, so the player
shows any sought frame at once. A strip frame must be exactly the frame asked for — never a
neighbour — and the poster method answers from the strip only when asked ``quick`` and the
sharp poster is not cached."""

from __future__ import annotations

import io
import os
import threading
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


def test_a_strip_being_built_serves_the_frames_it_has_passed_and_no_guess(
    db, tmp_path, make_video, frame_index
):
    """Frames are readable while the strip is written. A time the build has not reached yet
    is not answered with the last frame so far (that is only right once the strip is whole)."""
    path = str(make_video(tmp_path / "clip.mp4", frames=60))
    seen: list[tuple[int, int | None, bool, bool]] = []

    def between_frames() -> bool:
        done = len(video_strip._partials[video_strip.strip_file(path)].pts)
        if done in (1, 20, 59):
            behind = video_strip.strip_frame_jpeg(path, (done - 1) / 30)
            ahead = video_strip.strip_frame_jpeg(path, done / 30)
            past_end = video_strip.strip_frame_jpeg(path, 100.0)
            shown = frame_index(Image.open(io.BytesIO(behind))) if behind else None
            seen.append((done, shown, ahead is None, past_end is None))
        return False

    assert video_strip.build_seek_strip(path, should_stop=between_frames) is not None
    # Decoding delays output by a few frames, so the hook may see a count more than once.
    assert sorted(set(seen)) == [(1, 0, True, True), (20, 19, True, True), (59, 58, True, True)]
    # Whole: past the end is the last frame.
    last = Image.open(io.BytesIO(video_strip.strip_frame_jpeg(path, 100.0)))
    assert frame_index(last) == 59


def test_a_stopped_build_leaves_nothing(db, tmp_path, make_video):
    path = str(make_video(tmp_path / "clip.mp4", frames=30))
    assert video_strip.build_seek_strip(path, should_stop=lambda: True) is None
    file = video_strip.strip_file(path)
    assert not file.exists() and not list(file.parent.glob("*.tmp"))
    assert video_strip.strip_frame_jpeg(path, 0.0) is None and not video_strip._partials


def test_opening_a_long_video_in_the_player_builds_its_strip_in_the_background(
    clip, frame_index, monkeypatch
):
    """Long: more frames than the poster cache decodes whole on opening (a short video's
    posters already answer every seek once decoded; a strip would decode it twice)."""
    dataset, video = clip
    path = str(video.file_path_abs)
    params = {"dataset_id": str(dataset.dataset_id), "sample_id": str(video.sample_id)}
    dispatch("video_frames", params)
    assert video_strip.wait_for_background_builds(timeout=30)
    assert video_strip.strip_frame_jpeg(path, 0.0) is None, "short: no strip"
    monkeypatch.setattr(video_api, "WHOLE_VIDEO_FRAMES", FRAMES - 1)
    dispatch(
        "video_frames", {"dataset_id": str(dataset.dataset_id), "sample_id": str(video.sample_id)}
    )
    assert video_strip.wait_for_background_builds(timeout=30)
    for n in (0, 77, FRAMES - 1):
        image = Image.open(io.BytesIO(video_strip.strip_frame_jpeg(path, n / 30)))
        assert frame_index(image) == n % 64


def test_a_video_too_long_to_build_on_opening_gets_no_strip(clip, monkeypatch):
    dataset, video = clip
    monkeypatch.setattr(video_api, "WHOLE_VIDEO_FRAMES", 10)
    monkeypatch.setattr(video_strip, "BUILD_ON_OPEN_MAX_FRAMES", FRAMES - 1)
    dispatch(
        "video_frames", {"dataset_id": str(dataset.dataset_id), "sample_id": str(video.sample_id)}
    )
    assert video_strip.wait_for_background_builds(timeout=30)
    assert video_strip.strip_frame_jpeg(str(video.file_path_abs), 0.0) is None


def test_opening_another_video_stops_the_older_build_at_low_priority(
    db, tmp_path, make_video, monkeypatch
):
    import threading

    first, second = (str(make_video(tmp_path / f"{name}.mp4", frames=5)) for name in "ab")
    started = threading.Event()
    log: list[tuple[str, str, int | None]] = []

    def build(path, should_stop, opened):
        assert opened, "a build on opening goes into the cache of opened strips"
        nice = (
            os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
            if os.name == "posix"
            else None
        )
        if path == first:
            started.set()
            stopped = any(should_stop() or threading.Event().wait(0.01) for _ in range(1000))
            log.append((Path(path).stem, "stopped" if stopped else "finished", nice))
            return None
        log.append((Path(path).stem, "built", nice))
        return None

    monkeypatch.setattr(video_strip, "build_seek_strip", build)
    video_strip.build_in_background(first)
    assert started.wait(10)
    video_strip.build_in_background(second)
    assert video_strip.wait_for_background_builds(timeout=30)
    nice = 19 if os.uname().sysname == "Linux" else log[0][2]
    assert log == [("a", "stopped", nice), ("b", "built", nice)]


def test_a_variable_frame_rate_strip_picks_the_frame_the_decoder_picks(
    db, tmp_path, make_video, frame_index
):
    """Frames 0, 40, 50, 130, 135, 300 ms: a time on a frame gives that frame, a time between
    two gives the next one, as the server's full-size decode (iter_frames) does."""
    from lightly_studio.ingest.video import iter_frames

    pts_ms = [0, 40, 50, 130, 135, 300]
    path = str(make_video(tmp_path / "vfr.mp4", frames=len(pts_ms), pts_ms=pts_ms))
    video_strip.build_seek_strip(path)
    times = [0.0, 0.02, 0.04, 0.045, 0.13, 0.2, 0.3]
    decoded = [frame_index(image) for _, image in iter_frames(path, times)]
    from_strip = [
        frame_index(Image.open(io.BytesIO(video_strip.strip_frame_jpeg(path, t)))) for t in times
    ]
    assert from_strip == decoded == [0, 1, 1, 2, 3, 5, 5]


def _open_in_player(path: str) -> None:
    video_strip.build_in_background(path)
    assert video_strip.wait_for_background_builds(timeout=60)
    # Modification times order the cache; some file systems tick every few milliseconds.
    threading.Event().wait(0.05)


def test_strips_built_on_opening_are_a_cache_that_drops_the_least_recently_opened(
    db, tmp_path, make_video, monkeypatch
):
    a, b, c = (str(make_video(tmp_path / f"{name}.mp4", frames=40)) for name in "abc")
    _open_in_player(a)
    size = video_strip.strip_file(a, opened=True).stat().st_size
    # Room for two strips of this size, not three.
    monkeypatch.setattr(video_strip, "opened_strips_max_bytes", lambda: int(2.5 * size))
    _open_in_player(b)
    _open_in_player(a)  # looked at again: now b is the least recently opened
    _open_in_player(c)
    cached = {p: video_strip.strip_file(p, opened=True).exists() for p in (a, b, c)}
    assert cached == {a: True, b: False, c: True}
    assert video_strip.strip_frame_jpeg(b, 0.0) is None  # b's seeks decode again
    assert video_strip.strip_frame_jpeg(c, 0.0) is not None


def test_asking_for_a_strip_the_cache_holds_moves_it_and_kept_strips_are_never_pruned(
    db, tmp_path, make_video, monkeypatch
):
    from lightly_studio.ingest import video as ingest_video

    a, b = (str(make_video(tmp_path / f"{name}.mp4", frames=30)) for name in "ab")
    _open_in_player(a)
    monkeypatch.setattr(ingest_video, "_decode", lambda *a: pytest.fail("decoded again"))
    kept = video_strip.build_seek_strip(a)
    assert kept == video_strip.strip_file(a) and kept.exists()
    assert not video_strip.strip_file(a, opened=True).exists()
    assert video_strip.strip_frame_jpeg(a, 0.0) is not None
    monkeypatch.undo()

    monkeypatch.setattr(video_strip, "opened_strips_max_bytes", lambda: 0)
    _open_in_player(b)  # the cache is over its size, but the strip just built stays
    assert video_strip.strip_file(b, opened=True).exists()
    assert video_strip.prune_opened_strips() > 0
    assert not video_strip.strip_file(b, opened=True).exists()
    assert kept.exists(), "a strip asked for is not part of the cache"


def test_the_cache_of_opened_strips_is_sized_by_an_environment_variable(monkeypatch):
    monkeypatch.delenv("LIGHTLY_STUDIO_OPENED_STRIPS_MB", raising=False)
    assert video_strip.opened_strips_max_bytes() == 2048 * 2**20
    monkeypatch.setenv("LIGHTLY_STUDIO_OPENED_STRIPS_MB", "300")
    assert video_strip.opened_strips_max_bytes() == 300 * 2**20
