"""Video views in a real (headless) browser: the player's seek and stepping, the frames grid.

    .venv/bin/python benchmarks/bench_video_views.py [--seconds 10] [--frames 100000] [--seeks 20]
                                                     [--warm-s 0] [--no-posters] [--no-strips]

1. Player on a generated 1080p H.264 clip (x264 veryfast, default GOP of 250, 30 fps) with a
   YouTube-VIS box on every frame: time from a timeline click to the target frame composited
   on screen with its overlay (requestVideoFrameCallback, or the server's poster of that frame
   shown over the video while it seeks; which one came first is counted), then until the
   <video> element itself shows it; media bytes the browser fetched (206 byte ranges) against
   the file size. --warm-s waits that long after opening before the seeks, so the server's
   poster cache (api/video.py: short videos are decoded whole when the player opens) is
   filled: the case of a user who looked at the video for that long; 0 measures it cold.
   --no-posters fails the page's video_poster calls (the player then relies on the <video>
   element alone, as before posters): the A/B of what posters cost or gain on this machine.
   The player runs in several modes in one run, each on a fresh database and frame cache:
   "no strip, cold" (no strip, and none built on opening: the path before strips),
   "built on opening, cold" (the default: the player's opening starts the strip's background
   build, the seeks start at once; when the strip was complete, counted from the opening, is
   printed), "strip, cold" (imported with seek_strips=True: the strip build is timed), and
   with --warm-s also "no strip, warm" and "built on opening, warm". Each seek is instrumented: the target's distance from the
   key frame before it, what first showed it (strip / poster / <video>), the video_poster
   round trips the page made for it (resource timing) and how the server answered them (its
   strip, its poster cache, waiting for the running window, or a new decode from the key
   frame, with the server's time). --no-strips leaves out the two strip modes.
2. Holding → from frame 0: key-down events at 30 Hz (keyboard auto-repeat) for 3 s; frames
   composited per second.
3. Frames grid: a video dataset of 100 videos x 1,000 frame rows built by SQL (only the first
   video's file exists, 320x240, which holds the first screen's frames); time from choosing
   "Frames" to every first-screen cell showing its thumbnail (cold frame cache); then jumps
   of the scroll position to 25 %, 50 % and 99 % of the grid: time until every cell on screen
   shows its frame's row (name, number; those videos' files do not exist, so no thumbnails).

Debian's /usr/bin/chromium, headless, software rendering; the app in-process on loopback.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_video import make_clip
from bench_views import _THUMBS_DONE, CHROMIUM, CHROMIUM_ARGS

FPS = 30
SQUARE = 80


def square_at(i: int, width: int, height: int) -> tuple[int, int]:
    """Where bench_video.make_clip draws its white square on frame i."""
    import numpy as np

    x = int((width - SQUARE) * (0.5 + 0.5 * np.sin(i / 17)))
    y = int((height - SQUARE) * (0.5 + 0.5 * np.cos(i / 23)))
    return x, y


def _make_clip(folder: Path, seconds: int) -> tuple[Path, int]:
    clip = folder / "clip1080.mp4"
    t = time.perf_counter()
    make_clip(clip, seconds, FPS, width=1920, height=1080)
    n = seconds * FPS
    print(
        f"  generated {clip.name}: 1920x1080 H.264, {n} frames, "
        f"{clip.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - t:.1f} s"
    )
    return clip, n


def _import_clip(folder: Path, clip: Path, n: int, strips: bool):
    """The clip (generated once) imported into the current database with its boxes."""
    from lightly_studio.core.video_dataset import VideoDataset

    videos = folder / "videos"
    videos.mkdir(parents=True)
    os.link(clip, videos / clip.name)  # the same bytes; its own path (own cache keys)
    boxes = [[*square_at(i, 1920, 1080), SQUARE, SQUARE] for i in range(n)]
    vis = folder / "vis.json"
    vis.write_text(
        json.dumps(
            {
                "videos": [{"id": 1, "file_names": [f"clip1080/{i}.jpg" for i in range(n)]}],
                "categories": [{"id": 1, "name": "square"}],
                "annotations": [{"id": 1, "video_id": 1, "category_id": 1, "bboxes": boxes}],
            }
        )
    )
    t = time.perf_counter()
    dataset = VideoDataset.create("player")
    dataset.add_videos_from_youtube_vis(vis, videos, embed=False, embed_frames=False)
    print(f"  YouTube-VIS import ({n} frames, {n} boxes): {time.perf_counter() - t:.2f} s")
    if strips:
        t = time.perf_counter()
        built = dataset.build_seek_strips()
        dt = time.perf_counter() - t
        from lightly_studio.ingest.video_strip import strip_file

        size = strip_file(str(videos / clip.name)).stat().st_size
        print(
            f"  seek strip built at ingest ({built} video): {dt:.2f} s = {dt / n * 1000:.1f} ms "
            f"per frame, {size / 1e6:.1f} MB (load {_load()})"
        )
    return dataset


def _keyframes(clip: Path) -> list[int]:
    """Frame numbers (presentation order) of the clip's key frames."""
    import av

    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        pts = [(p.pts, p.is_keyframe) for p in container.demux(stream) if p.size]
    order = sorted(pts)
    return [i for i, (_, key) in enumerate(order) if key]


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


class _ServerLog:
    """How the server answered video_poster (the app runs in this process): each strip hit,
    wait for the running window and new decode from the key frame, with its time."""

    def __init__(self) -> None:
        from lightly_studio.api import video as video_api

        self.events: list[tuple[str, float]] = []
        self._api = video_api
        self._saved = {
            k: getattr(video_api, k) for k in ("strip_frame_jpeg", "_wait_for", "_decode_window")
        }
        names = {"strip_frame_jpeg": "strip", "_wait_for": "wait", "_decode_window": "decode"}
        for attr, label in names.items():
            setattr(video_api, attr, self._timed(label, self._saved[attr]))

    def _timed(self, label: str, fn):
        def timed(*args, **kwargs):
            t = time.perf_counter()
            out = fn(*args, **kwargs)
            name = label
            if label == "decode":  # (path, fps, n, ...): a decode from the key frame before n
                name = f"decode({args[2]})"
            elif label == "wait":  # (path, timestamp_s): for the running window to get there
                name = f"wait({round(args[1] * FPS)})"
            if label != "strip" or out is not None:
                self.events.append((name, (time.perf_counter() - t) * 1000))
            return out

        return timed

    def take(self) -> list[tuple[str, float]]:
        out, self.events = self.events, []
        return out

    def close(self) -> None:
        for attr, fn in self._saved.items():
            setattr(self._api, attr, fn)


_SEEK = """async ([x, target]) => {
  const el = document.querySelector('[data-testid=ls-video]');
  const tl = document.querySelector('[data-testid=ls-video-timeline]');
  const r = tl.getBoundingClientRect();
  const t0 = performance.now();
  const opts = {bubbles: true, clientX: r.left + x, clientY: r.top + r.height / 2, pointerId: 1};
  tl.dispatchEvent(new PointerEvent('pointerdown', opts));
  tl.dispatchEvent(new PointerEvent('pointerup', opts));
  while (!(el.dataset.presented === String(target)
           && document.querySelector('[data-testid=ls-video-overlay] rect'))) {
    await new Promise(r => requestAnimationFrame(r));
    if (performance.now() - t0 > 10000) return [-1, -1, '', []];
  }
  const shown = performance.now() - t0, by = el.dataset.presentedBy;
  // Then the <video> element's own decode of the target (the poster, if any, goes away).
  while (el.dataset.videoFrame !== String(target)) {
    await new Promise(r => requestAnimationFrame(r));
    if (performance.now() - t0 > 10000) return [shown, -1, by, []];
  }
  const rpcs = performance.getEntriesByType('resource')
      .filter(e => e.name.includes('video_poster') && e.startTime >= t0 - 1)
      .map(e => Math.round(e.duration));
  return [shown, performance.now() - t0, by, rpcs];
}"""

_HOLD = """async (ms) => {
  const el = document.querySelector('[data-testid=ls-video]');
  const seen = new Set();
  const obs = new MutationObserver(() => seen.add(el.dataset.presented));
  obs.observe(el, {attributes: true, attributeFilter: ['data-presented']});
  const start = Number(el.dataset.presented);
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    el.dispatchEvent(new KeyboardEvent('keydown', {key: 'ArrowRight', bubbles: true, repeat: true}));
    await new Promise(r => setTimeout(r, 33));
  }
  await new Promise(r => setTimeout(r, 300));
  obs.disconnect();
  return {presented: seen.size, last: Number(el.dataset.frame), start};
}"""


def player(
    page,
    url: str,
    clip: Path,
    n: int,
    seeks: int,
    warm_s: float = 0.0,
    posters: bool = True,
    log: _ServerLog | None = None,
    strip: Path | None = None,
) -> dict:
    if not posters:
        page.route("**/api/video_poster", lambda route: route.abort())
    fetched: list[int] = []
    page.on(
        "response",
        lambda r: (
            fetched.append(int(r.headers.get("content-length", "0") or 0))
            if "/media/" in r.url
            else None
        ),
    )
    t = time.perf_counter()
    page.goto(url)
    page.locator("[data-testid=ls-grid] .ls-cell[data-sample-id]").first.click()
    if strip is not None:
        _watch_strip(strip, time.perf_counter())
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-video]')?.dataset.presented === '0'",
        timeout=60_000,
    )
    print(f"  player open, frame 0 on screen: {(time.perf_counter() - t) * 1000:.0f} ms wall")
    if warm_s:
        print(f"  waiting {warm_s:.0f} s before seeking (the server fills its poster cache)")
        time.sleep(warm_s)
    width = page.locator("[data-testid=ls-video-timeline]").bounding_box()["width"]
    keys = _keyframes(clip)
    if log:
        log.take()  # the poster call of the player's opening is not a seek's
    rng = random.Random(0)
    times, video_times, by = [], [], []
    # Server: the poster calls that ended during the seek (one call at a time; the page asks
    # for the latest target when the one in flight ends, so a slow decode shows up later).
    print("    frame  from key  shown ms  by      <video> ms  poster RPCs ms      server ms")
    for _ in range(seeks):
        target = rng.randrange(n)
        x = target / (n - 1) * width
        # The pixel column maps back to a frame; aim at its centre and wait for that frame.
        frame = round(x / width * (n - 1))
        ms, video_ms, source, rpcs = page.evaluate(_SEEK, [x, frame])
        times.append(ms)
        video_times.append(video_ms)
        by.append(source)
        key = max(k for k in keys if k <= frame)
        # No strip, wait or decode: each poster call was answered from the poster cache.
        server = " ".join(f"{what} {t:.0f}" for what, t in (log.take() if log else []))
        server = server or ("cache" if rpcs else "-")
        print(
            f"    {frame:5d}  {frame - key:8d}  {ms:8.0f}  {source:6s}  {video_ms:10.0f}  "
            f"{rpcs!s:18s}  {server}"
        )
    ok = [m for m in times if m >= 0]
    print(
        f"  seek to a random frame + its overlay on screen ({len(ok)}/{seeks} done): median "
        f"{statistics.median(ok):.0f} ms, p90 {sorted(ok)[int(0.9 * (len(ok) - 1))]:.0f} ms, "
        f"max {max(ok):.0f} ms   goal < 300 ms  (first shown by: "
        f"{by.count('strip')} seek strip, {by.count('poster')} server poster, "
        f"{by.count('video')} <video>; load {_load()})"
    )
    shown_median = statistics.median(ok)
    ok = [m for m in video_times if m >= 0]
    if ok:
        print(
            f"    the <video> element itself on the target frame: median "
            f"{statistics.median(ok):.0f} ms, max {max(ok):.0f} ms"
        )
    size = clip.stat().st_size
    print(
        f"  media responses: {len(fetched)}, {sum(fetched) / 1e6:.1f} MB announced "
        f"(file {size / 1e6:.1f} MB; ranges asked by the browser, 206)"
    )
    # Hold from frame 0, so the clip's end does not cap the count on short clips.
    page.evaluate(_SEEK, [0, 0])
    page.locator("[data-testid=ls-video]").focus()
    result = page.evaluate(_HOLD, 3000)
    rate = result["presented"] / 3.0
    print(
        f"  holding → for 3 s (30 key events/s): {result['presented']} frames composited "
        f"= {rate:.1f} frames/s, from frame {result['start']} to {result['last']}   goal >= 10"
    )
    return {
        "median": shown_median,
        "video": statistics.median(ok or [-1]),
        "hold": rate,
    }


def _watch_strip(strip: Path, opened: float) -> None:
    """Print when the strip built on opening is complete (a file beside the frame cache)."""
    import threading

    def watch() -> None:
        while not strip.exists():
            if time.perf_counter() - opened > 300:
                print("    (the strip built on opening was not complete after 300 s)")
                return
            time.sleep(0.02)
        print(
            f"    [the strip built on opening is complete "
            f"{time.perf_counter() - opened:.1f} s after the click that opened the player]"
        )

    threading.Thread(target=watch, daemon=True).start()


def build_frames(n_videos: int, per_video: int, folder: Path):
    """A video dataset of n_videos x per_video frame rows by SQL; only video 0's file exists."""
    from lightly_studio.core.video_dataset import VideoDataset
    from lightly_studio.db import transaction

    ds = VideoDataset.create("frames")
    did = str(ds.dataset_id)
    real = folder / "v_000.mp4"
    make_clip(real, max(1, per_video // FPS + 1), FPS, width=320, height=240)
    base = str(folder / "v_")
    t = time.perf_counter()
    with transaction() as con:
        con.execute(f"""INSERT INTO sample (sample_id, dataset_id, kind, file_path_abs, file_name,
                        width, height, created_at, fps, duration_s, frame_count, codec, sample_idx)
                        SELECT uuid(), '{did}', 'video', '{base}' || lpad(v::VARCHAR, 3, '0')
                               || '.mp4', 'v_' || lpad(v::VARCHAR, 3, '0') || '.mp4', 320, 240,
                               TIMESTAMP '2024-01-01', {FPS}, {per_video / FPS}, {per_video},
                               'h264', v
                        FROM range({n_videos}) t(v)""")
        con.execute(f"""INSERT INTO sample (sample_id, dataset_id, kind, file_path_abs, file_name,
                        width, height, created_at, parent_sample_id, frame_number, timestamp_s,
                        sample_idx)
                        SELECT uuid(), '{did}', 'frame', v.file_path_abs, v.file_name, 320, 240,
                               TIMESTAMP '2024-01-01', v.sample_id, f, f / {FPS},
                               {n_videos} + v.sample_idx * {per_video} + f
                        FROM sample v, range({per_video}) t(f)
                        WHERE v.dataset_id = '{did}' AND v.kind = 'video'""")
    print(
        f"  built {n_videos} videos x {per_video} frames = {n_videos * per_video:,} frame rows "
        f"in {time.perf_counter() - t:.1f} s"
    )
    return ds


_SCROLL = """async (fraction) => {
  const grid = document.querySelector('[data-testid=ls-grid]');
  const t0 = performance.now();
  grid.scrollTop = fraction * (grid.scrollHeight - grid.clientHeight);
  const top = grid.getBoundingClientRect().top, bottom = top + grid.clientHeight;
  for (;;) {
    await new Promise(r => requestAnimationFrame(r));
    const cells = [...grid.querySelectorAll('.ls-cell')].filter(c => {
      const r = c.getBoundingClientRect();
      return r.bottom > top && r.top < bottom;
    });
    if (cells.length && cells.every(c => c.dataset.sampleId && c.querySelector('.ls-frame-no')))
      return {ms: performance.now() - t0, cells: cells.length};
    if (performance.now() - t0 > 20000) return {ms: -1, cells: cells.length};
  }
}"""


def frames_grid(page, url: str, total: int) -> None:
    page.goto(url)
    # The videos' posters mostly have no file here: wait for the cells, not their thumbnails.
    page.locator("[data-testid=ls-grid] .ls-cell[data-sample-id]").first.wait_for(timeout=60_000)
    t0 = page.evaluate("() => performance.now()")
    page.select_option("[data-testid=ls-collection]", "frame")
    page.wait_for_function(
        "n => document.querySelector('[data-testid=ls-count]').textContent.startsWith(n + ' of')",
        arg=f"{total:,}",
        timeout=60_000,
        polling="raf",
    )
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=ls-grid] .ls-cell[data-sample-id]')]"
        ".every(c => c.dataset.sampleId && c.querySelector('img'))",
        timeout=60_000,
        polling="raf",
    )
    screen = page.wait_for_function(_THUMBS_DONE, arg=0, timeout=60_000, polling="raf").json_value()
    print(
        f"  frames grid over {total:,} frames: first screenful ({screen['cells']} cells, "
        f"{screen['loaded']} thumbnails, cold frame cache) {screen['t'] - t0:.0f} ms after "
        f"choosing Frames   goal < 1000 ms"
    )
    for fraction in (0.25, 0.5, 0.99):
        jump = page.evaluate(_SCROLL, fraction)
        print(
            f"  scroll to {fraction:.0%} of {total:,} frames: {jump['cells']} cells on screen "
            f"with their rows in {jump['ms']:.0f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--frames", type=int, default=100_000)
    parser.add_argument("--seeks", type=int, default=20)
    parser.add_argument("--warm-s", type=float, default=0.0)
    parser.add_argument("--no-posters", action="store_true")
    parser.add_argument("--no-strips", action="store_true")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from lightly_studio import db_manager
    from lightly_studio.server import start_gui

    with open("/proc/cpuinfo") as f:
        flags = next((line.split(":")[1].split() for line in f if line.startswith("flags")), [])
    print(
        f"CPU: {os.cpu_count()} cores, "
        f"{' '.join(x for x in ('avx2', 'avx512f', 'avx512bw') if x in flags) or 'no avx2'}"
    )
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        folder = Path(tmp)
        os.environ["LIGHTLY_STUDIO_RUNTIME_DIR"] = str(folder / "rt")
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})

        print(f"Player (1080p H.264), load {_load()}:")
        clip, n = _make_clip(folder, args.seconds)
        print(f"  key frames at {_keyframes(clip)}")
        from lightly_studio.ingest import video_strip

        # (name, strip built at ingest, strip built on opening, seconds waited after opening)
        modes = [("no strip, cold", False, False, 0.0)]
        if not args.no_strips:
            modes.append(("built on opening, cold", False, True, 0.0))
            modes.append(("strip, cold", True, False, 0.0))
        if args.warm_s:
            modes.append((f"no strip, warm {args.warm_s:.0f} s", False, False, args.warm_s))
            if not args.no_strips:
                modes.append(
                    (f"built on opening, warm {args.warm_s:.0f} s", False, True, args.warm_s)
                )
        summary = []
        on_open_limit = video_strip.BUILD_ON_OPEN_MAX_FRAMES
        for name, strips, on_open, warm_s in modes:
            print(f" [{name}]")
            sub = folder / name.replace(" ", "_").replace(",", "")
            sub.mkdir()
            db_manager.connect(db_file=str(sub / "player.db"))
            _import_clip(sub, clip, n, strips)
            video_strip.BUILD_ON_OPEN_MAX_FRAMES = on_open_limit if on_open else 0
            watched = (
                video_strip.strip_file(str(sub / "videos" / clip.name), opened=True)
                if on_open
                else None
            )
            server = start_gui(port=0, block=False)
            log = _ServerLog()
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            try:
                figures = player(
                    page,
                    server.url,
                    clip,
                    n,
                    args.seeks,
                    warm_s,
                    not args.no_posters,
                    log,
                    watched,
                )
                summary.append((name, figures))
            finally:
                log.close()
                page.close()
                server.stop()
                video_strip.wait_for_background_builds()
        print("  summary (same run):")
        for name, f in summary:
            print(
                f"    {name:24s} seek shown median {f['median']:6.0f} ms, <video> median "
                f"{f['video']:6.0f} ms, holding → {f['hold']:.1f} frames/s"
            )

        print(f"Frames grid, load {_load()}:")
        db_manager.connect(db_file=str(folder / "frames.db"))
        (folder / "frames").mkdir()
        build_frames(100, args.frames // 100, folder / "frames")
        server = start_gui(port=0, block=False)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            frames_grid(page, server.url, 100 * (args.frames // 100))
        finally:
            server.stop()
        browser.close()


if __name__ == "__main__":
    main()
