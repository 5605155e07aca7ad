"""Reading video files: exact metadata, time-based frame sampling, decoding and caching."""

from __future__ import annotations

import fractions

import pytest

from lightly_studio.errors import IngestError
from lightly_studio.ingest import video as v


def test_probe_h264_mp4_reads_exact_metadata(tmp_path, make_video):
    path = make_video(tmp_path / "a.mp4", codec="libx264", width=64, height=48, frames=60, fps=30)

    probe = v.probe_video(path)

    assert (probe.width, probe.height) == (64, 48)
    assert probe.fps == 30.0
    assert probe.duration_s == 2.0
    assert probe.frame_count == 60
    assert probe.codec == "h264"
    assert probe.file_path_abs == str(path.absolute())


def test_probe_mpeg4_avi_with_odd_size(tmp_path, make_video):
    path = make_video(tmp_path / "b.avi", codec="mpeg4", width=31, height=21, frames=45, fps=25)

    probe = v.probe_video(path)

    assert (probe.width, probe.height, probe.frame_count, probe.codec) == (31, 21, 45, "mpeg4")
    assert probe.fps == 25.0
    assert probe.duration_s == 1.8


def test_probe_vp9_webm_with_odd_size(tmp_path, make_video):
    # PyAV's wheels ship libvpx: VP9 WebM is a format users have, so this test always runs.
    path = make_video(
        tmp_path / "c.webm", codec="libvpx-vp9", width=33, height=17, frames=20, fps=10
    )

    probe = v.probe_video(path)

    # WebM stores no frame count: it comes from counting packets.
    assert (probe.width, probe.height, probe.frame_count, probe.codec) == (33, 17, 20, "vp9")
    assert probe.fps == 10.0
    assert probe.duration_s == 2.0


def test_probe_h264_mkv_duration_is_the_millisecond_span(tmp_path, make_video):
    path = make_video(
        tmp_path / "d.mkv",
        codec="libx264",
        width=31,
        height=21,
        frames=24,
        fps=24,
        pix_fmt="yuv444p",
    )

    probe = v.probe_video(path)

    assert (probe.width, probe.height, probe.frame_count, probe.codec) == (31, 21, 24, "h264")
    assert probe.fps == 24.0
    # Matroska timestamps are whole milliseconds: the last frame starts at 958 ms and lasts
    # 41 ms, so the stored span is 999 ms, not 1 s.
    assert probe.duration_s == 0.999


def test_probe_ntsc_rate_mov(tmp_path, make_video):
    path = make_video(tmp_path / "e.mov", frames=30, fps=fractions.Fraction(30000, 1001))

    probe = v.probe_video(path)

    assert probe.fps == 30000 / 1001
    assert probe.duration_s == 1.001
    assert probe.frame_count == 30


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_variable_frame_rate_reports_mean_rate_and_real_timestamps(tmp_path, make_video, suffix):
    pts_ms = [0, 10, 20, 100, 200, 210, 500, 600, 650, 1000]
    path = make_video(tmp_path / f"vfr{suffix}", frames=10, fps=30, pts_ms=pts_ms)

    probe = v.probe_video(path)

    assert probe.frame_count == 10
    assert list(probe.timestamps_s) == pytest.approx([t / 1000 for t in pts_ms], abs=1e-9)
    # The last frame lasts one nominal frame (1/30 s), so the span is 1.033 s.
    assert probe.duration_s == pytest.approx(1.0 + 1 / 30, abs=0.001)
    assert probe.fps == pytest.approx(10 / probe.duration_s)


def test_truncated_mp4_is_rejected_with_its_path(tmp_path, make_video):
    path = make_video(tmp_path / "full.mp4", frames=30)
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(path.read_bytes()[: path.stat().st_size // 2])

    with pytest.raises(IngestError, match=r"truncated\.mp4"):
        v.probe_video(truncated)


@pytest.mark.parametrize("content", [b"", b"not a video at all" * 100])
def test_empty_or_garbage_files_are_rejected(tmp_path, content):
    path = tmp_path / "bad.mp4"
    path.write_bytes(content)

    with pytest.raises(IngestError, match=r"bad\.mp4"):
        v.probe_video(path)


def test_probe_videos_collects_failures_and_keeps_order(tmp_path, make_video):
    good = [str(make_video(tmp_path / f"{name}.mp4", frames=5)) for name in ("b", "a")]
    bad = tmp_path / "bad.mkv"
    bad.write_bytes(b"\x1a\x45\xdf\xa3 broken")

    probes, failures = v.probe_videos([good[0], str(bad), good[1]], workers=2)

    assert [p.file_path_abs for p in probes] == good
    assert [path for path, _ in failures] == [str(bad)]


def test_list_video_files_filters_extensions_recursively(tmp_path):
    for name in ["a.mp4", "b.MOV", "sub/c.webm", "sub/d.txt", "e.jpg"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")

    assert [p.rsplit("/", 1)[-1] for p in v.list_video_files(tmp_path).paths] == [
        "a.mp4",
        "b.MOV",
        "c.webm",
    ]
    assert [p.rsplit("/", 1)[-1] for p in v.list_video_files(tmp_path, ["mov", ".WEBM"]).paths] == [
        "b.MOV",
        "c.webm",
    ]
    with pytest.raises(IngestError, match="does not exist"):
        v.list_video_files(tmp_path / "missing")
    with pytest.raises(IngestError, match="local folders"):
        v.list_video_files("s3://bucket/videos")


def test_sample_frames_picks_one_frame_per_tick(tmp_path, make_video):
    probe = v.probe_video(make_video(tmp_path / "a.mp4", frames=60, fps=30))

    sampled = v.sample_frames(probe, target_fps=2.0)

    assert sampled["frame_number"].to_list() == [0, 15, 30, 45]
    assert sampled["timestamp_s"].to_list() == [0.0, 0.5, 1.0, 1.5]
    assert v.sample_frames(probe, target_fps=None).height == 60
    assert v.sample_frames(probe, target_fps=100).height == 60


def test_sample_frames_follows_time_on_variable_frame_rate(tmp_path, make_video):
    pts_ms = [0, 10, 20, 100, 200, 210, 500, 600, 650, 1000]
    probe = v.probe_video(make_video(tmp_path / "vfr.mp4", frames=10, pts_ms=pts_ms))

    sampled = v.sample_frames(probe, target_fps=4.0)

    # Ticks at 0, .25, .5, .75, 1.0 s -> first frame at or after each: 0, 500 (twice), 1000 ms.
    assert sampled["frame_number"].to_list() == [0, 6, 9]


def test_iter_frames_decodes_the_requested_frames(tmp_path, make_video, frame_index):
    probe = v.probe_video(make_video(tmp_path / "a.mp4", frames=30, fps=30))
    sampled = v.sample_frames(probe, target_fps=5.0)

    decoded = list(v.iter_frames(probe.file_path_abs, sampled["timestamp_s"].to_list()))

    assert [t for t, _ in decoded] == sampled["timestamp_s"].to_list()
    assert [frame_index(img) for _, img in decoded] == sampled["frame_number"].to_list()
    assert all(img.size == (64, 48) for _, img in decoded)


@pytest.mark.parametrize("name,codec", [("a.mp4", "libx264"), ("b.avi", "mpeg4")])
def test_decode_frame_seeks_to_the_frame_shown_at_a_time(
    tmp_path, make_video, frame_index, name, codec
):
    path = make_video(tmp_path / name, codec=codec, frames=30, fps=10)

    assert frame_index(v.decode_frame(str(path), 0.0)) == 0
    assert frame_index(v.decode_frame(str(path), 1.7)) == 17
    # Between frames the earlier one is on screen; past the end, the last one.
    assert frame_index(v.decode_frame(str(path), 2.05)) == 20
    assert frame_index(v.decode_frame(str(path), 99.0)) == 29
    assert v.decode_frame(str(path), 0.0, max_size=32).size == (32, 24)


def test_frame_jpeg_is_cached_on_disk(tmp_path, make_video):
    path = make_video(tmp_path / "a.mp4", frames=10, fps=10)
    cache = tmp_path / "cache"

    first = v.frame_jpeg(str(path), 0.5, cache_dir=cache)
    files = list(cache.rglob("*.jpg"))

    assert first[:2] == b"\xff\xd8"
    assert len(files) == 1
    files[0].write_bytes(b"served from cache")
    assert v.frame_jpeg(str(path), 0.5, cache_dir=cache) == b"served from cache"
    assert v.poster_jpeg(str(path), cache_dir=cache)[:2] == b"\xff\xd8"
    assert len(list(cache.rglob("*.jpg"))) == 2


def test_thumbnail_cache_lives_beside_the_database(tmp_path):
    from lightly_studio import db

    db.connect(tmp_path / "x" / "t.db")
    try:
        assert v.thumbnail_cache_dir() == tmp_path / "x" / ".lightly_studio_cache" / "video_frames"
    finally:
        db.close()


def test_truncated_streaming_container_keeps_its_readable_frames(tmp_path, make_video):
    # MKV/WebM/AVI have no index at the end: a cut file still plays up to the cut, so it is
    # indexed with the frames that are there (an MP4/MOV cut file has no index and fails).
    whole = make_video(tmp_path / "whole.mkv", width=96, height=64, frames=60, fps=30)
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(whole.read_bytes()[: int(whole.stat().st_size * 0.6)])

    probe = v.probe_video(cut)

    assert 0 < probe.frame_count < 60
    import av

    with av.open(str(cut)) as container:
        assert sum(1 for _ in container.decode(video=0)) == probe.frame_count


def test_iter_frame_samples_decodes_each_video_once_and_marks_failures(
    tmp_path, make_video, frame_index
):
    import polars as pl

    a = str(make_video(tmp_path / "a.mp4", frames=20, fps=10))
    b = str(make_video(tmp_path / "b.avi", codec="mpeg4", frames=20, fps=10))
    frames = pl.DataFrame(
        {
            "sample_id": ["a0", "b5", "a15", "gone"],
            "file_path_abs": [a, b, a, str(tmp_path / "missing.mp4")],
            "timestamp_s": [0.0, 0.5, 1.5, 0.0],
        }
    )

    result = dict(v.iter_frame_samples(frames, max_size=32))

    assert set(result) == {"a0", "b5", "a15", "gone"}
    assert result["gone"] is None
    assert {k: frame_index(img) for k, img in result.items() if img is not None} == {
        "a0": 0,
        "b5": 5,
        "a15": 15,
    }
    assert result["a0"].size == (32, 24)
