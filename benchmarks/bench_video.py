"""Video indexing and decoding throughput on generated 1-minute 640x360 clips.

    .venv/bin/python benchmarks/bench_video.py [--clips 8] [--fps 30] [--target-fps 2]

Prints: videos indexed per second (probe every packet + first-frame check + bulk insert of
videos and sampled frames, no embeddings), frames decoded per second (all frames, decode
only), sampled frames per second through ``iter_frames`` (decode + RGB), frames exported per
second (``to_image_files``), and cold / cached thumbnail latency of one frame.

Clips are generated once with PyAV (x264, default GOP of 250) into a cache folder and reused.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def make_clip(
    path: Path, seconds: int, fps: int, width: int = 640, height: int = 360, seed: int = 0
) -> None:
    """A moving gradient over a fixed grain texture, with a bouncing square: about 1 Mbit/s
    with x264 veryfast, in the range of ordinary 360p footage (fresh noise in every frame
    would give 7 Mbit/s and mostly measure the entropy decoder)."""
    import av

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    grain = rng.integers(0, 24, size=(height, width, 1), dtype=np.uint8)
    tmp = path.with_suffix(".part.mp4")
    with av.open(str(tmp), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "veryfast"}
        for i in range(seconds * fps):
            frame = np.empty((height, width, 3), dtype=np.uint8)
            frame[..., 0] = (xx + 3 * i) % 256
            frame[..., 1] = (yy + 2 * i) % 256
            frame[..., 2] = ((xx + yy) // 2 + i + seed * 40) % 256
            frame += grain
            x = int((width - 80) * (0.5 + 0.5 * np.sin(i / 17)))
            y = int((height - 80) * (0.5 + 0.5 * np.cos(i / 23)))
            frame[y : y + 80, x : x + 80] = (255, 255, 255)
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    os.replace(tmp, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--target-fps", type=float, default=2.0)
    parser.add_argument(
        "--cache", default=str(Path(tempfile.gettempdir()) / "lightly_studio_bench_video")
    )
    args = parser.parse_args()

    import av

    from lightly_studio import db_manager
    from lightly_studio.core.video_dataset import VideoDataset
    from lightly_studio.ingest.video import (
        decode_frame,
        frame_jpeg,
        iter_frames,
        probe_video,
        sample_frames,
    )

    folder = Path(args.cache) / f"v2_{args.seconds}s_{args.fps}fps"
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"clip_{i:03d}.mp4" for i in range(args.clips)]
    start = time.perf_counter()
    made = 0
    for i, path in enumerate(paths):
        if not path.exists():
            make_clip(path, args.seconds, args.fps, seed=i)
            made += 1
    if made:
        print(f"generated {made} clips in {time.perf_counter() - start:.1f} s -> {folder}")
    total_mb = sum(p.stat().st_size for p in paths) / 1e6
    print(
        f"{len(paths)} clips, {args.seconds} s each, 640x360 @ {args.fps} fps, h264, "
        f"{total_mb:.1f} MB; os.cpu_count()={os.cpu_count()}"
    )

    with tempfile.TemporaryDirectory() as work:
        # 1. Indexing: probe + sample + bulk insert (no embeddings).
        db_manager.connect(Path(work) / "bench.db")
        dataset = VideoDataset.create("bench")
        t0 = time.perf_counter()
        added = dataset.add_videos_from_path(folder, target_fps=args.target_fps, embed=False)
        t_index = time.perf_counter() - t0
        n_frames = dataset.frames().count()
        print(
            f"index:  {added} videos in {t_index:.2f} s = {added / t_index:.1f} videos/s "
            f"({n_frames} frame samples at target_fps={args.target_fps})"
        )
        t0 = time.perf_counter()
        again = dataset.add_videos_from_path(folder, target_fps=args.target_fps, embed=False)
        print(f"re-run: {again} new videos in {time.perf_counter() - t0:.3f} s")

        # 1b. Probe alone, single thread.
        t0 = time.perf_counter()
        probe = probe_video(str(paths[0]))
        t_probe = time.perf_counter() - t0
        print(
            f"probe:  one clip ({probe.frame_count} packets) in {t_probe * 1000:.0f} ms, "
            f"single thread"
        )

        # 2. Raw decode throughput, all frames, no pixel conversion.
        t0 = time.perf_counter()
        decoded = 0
        for path in paths[: max(1, min(3, len(paths)))]:
            with av.open(str(path)) as container:
                stream = container.streams.video[0]
                stream.thread_type = "AUTO"
                for _ in container.decode(stream):
                    decoded += 1
        t_dec = time.perf_counter() - t0
        print(
            f"decode: {decoded} frames in {t_dec:.2f} s = {decoded / t_dec:.0f} frames/s "
            f"(all frames, decode only)"
        )

        # 3. Sampled frames to RGB, as embedding and export read them.
        t0 = time.perf_counter()
        sampled = 0
        for path in paths[: max(1, min(3, len(paths)))]:
            times = sample_frames(probe_video(str(path)), args.target_fps)["timestamp_s"]
            for _ in iter_frames(str(path), times.to_list()):
                sampled += 1
        t_iter = time.perf_counter() - t0
        print(
            f"sample: {sampled} sampled frames (RGB) in {t_iter:.2f} s = "
            f"{sampled / t_iter:.0f} sampled frames/s"
        )

        # 4. Export all sampled frames as JPEG files.
        t0 = time.perf_counter()
        written = dataset.to_image_files(Path(work) / "frames")
        t_exp = time.perf_counter() - t0
        print(
            f"export: {len(written)} JPEG files in {t_exp:.2f} s = "
            f"{len(written) / t_exp:.0f} frames/s"
        )

        # 5. One frame for a thumbnail: seek + decode (cold), then from the disk cache.
        rng = np.random.default_rng(0)
        cold, warm = [], []
        for _ in range(10):
            path = str(paths[int(rng.integers(len(paths)))])
            ts = float(rng.uniform(0, args.seconds - 1))
            t0 = time.perf_counter()
            frame_jpeg(path, ts, cache_dir=Path(work) / "cache")
            cold.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            frame_jpeg(path, ts, cache_dir=Path(work) / "cache")
            warm.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        decode_frame(str(paths[0]), args.seconds - 1.0)
        print(
            f"thumb:  cold median {statistics.median(cold) * 1000:.0f} ms "
            f"(max {max(cold) * 1000:.0f} ms), cached median "
            f"{statistics.median(warm) * 1000:.2f} ms"
        )
        db_manager.close()


if __name__ == "__main__":
    main()
