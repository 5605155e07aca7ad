"""The video player of the full-page app in a real browser (Playwright + Debian's chromium).

The video is generated: a red square moves 8 px right per frame over grey, and a YouTube-VIS
file gives it one box per frame (track 7) exactly around the square. So a screenshot shows
whether the overlay drawn for the frame number on screen sits on the picture of that frame:
a box one frame off misses the square by 8 video pixels (~20 screen pixels here).
"""

from __future__ import annotations

import io
import itertools
import json
import os
import time
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import docs_shot

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium"),
    pytest.mark.skipif(
        not (REPO / "lightly_studio/static/app.js").exists(),
        reason="JS bundle not built (npm run build)",
    ),
]

W, H, SIDE, STEP, FRAMES, FPS = 320, 240, 40, 8, 30, 10
LABEL = "square"
TRACK = 7


def square_x(i: int) -> int:
    return (STEP * i) % (W - SIDE)


SQUARE_Y = H // 2 - SIDE // 2


def _write_video(path: Path, codec: str = "libx264") -> None:
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=FPS)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        for i in range(FRAMES):
            pixels = np.full((H, W, 3), 96, dtype=np.uint8)
            pixels[SQUARE_Y : SQUARE_Y + SIDE, square_x(i) : square_x(i) + SIDE] = (255, 0, 0)
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def label_rgb(name: str) -> tuple[int, int, int]:
    """js/src/lib/colors.ts labelRgb: FNV-1a of the name picks a palette colour."""
    palette = [
        (230, 25, 140), (31, 119, 230), (44, 182, 90), (245, 130, 32), (145, 70, 220),
        (0, 180, 190), (220, 50, 50), (190, 170, 0), (120, 160, 255), (255, 105, 180),
        (70, 200, 150), (160, 110, 60), (100, 110, 240), (250, 190, 60), (0, 130, 120),
    ]  # fmt: skip
    h = 2166136261
    for ch in name:
        h ^= ord(ch)
        h = (h * 16777619) & 0xFFFFFFFF
    return palette[h % len(palette)]


@pytest.fixture
def codec() -> str:
    """The codec of the generated video (H.264 plays in Chromium; see the test overriding it)."""
    return "libx264"


@pytest.fixture
def video_gui(db, tmp_path, monkeypatch, codec):
    from lightly_studio.core.video_dataset import VideoDataset
    from lightly_studio.server import start_gui

    root = tmp_path / "videos"
    root.mkdir()
    _write_video(root / "square.mp4", codec)
    boxes = [[square_x(i), SQUARE_Y, SIDE, SIDE] for i in range(FRAMES)]
    (tmp_path / "vis.json").write_text(
        json.dumps(
            {
                "videos": [
                    {
                        "id": 1,
                        "width": W,
                        "height": H,
                        "file_names": [f"square/{i:05d}.jpg" for i in range(FRAMES)],
                    }
                ],
                "categories": [{"id": 1, "name": LABEL}],
                "annotations": [{"id": TRACK, "video_id": 1, "category_id": 1, "bboxes": boxes}],
            }
        )
    )
    dataset = VideoDataset.create("squares")
    dataset.add_videos_from_youtube_vis(
        tmp_path / "vis.json", root, embed=False, embed_frames=False
    )
    monkeypatch.setenv("LIGHTLY_STUDIO_RUNTIME_DIR", str(tmp_path / "rt"))
    server = start_gui(port=0, block=False)
    yield server, dataset
    server.stop()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.errors = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    yield page
    context.close()


def _open_player(page, url: str) -> None:
    page.goto(url)
    page.locator("[data-testid=ls-grid] .ls-cell[data-sample-id]").first.click()
    page.locator("[data-testid=ls-video]").wait_for(timeout=15_000)
    page.wait_for_function(
        "() => { const v = document.querySelector('[data-testid=ls-video-element]');"
        " return v && v.readyState >= 2; }",
        timeout=15_000,
    )


def _settled(page, frame: int) -> None:
    """Frame ``frame`` is on screen: seek done and the player's frame number says so."""
    page.wait_for_function(
        "f => { const v = document.querySelector('[data-testid=ls-video-element]');"
        " const el = document.querySelector('[data-testid=ls-video]');"
        " return v && !v.seeking && v.readyState >= 2 && el.dataset.frame === String(f); }",
        arg=frame,
        timeout=10_000,
    )
    page.wait_for_timeout(150)  # one more composited frame for the screenshot


def _assert_settled_box_on_square(page, frame: int) -> None:
    """The box is on the square once the picture of ``frame`` has reached the screen.

    Headless Chromium on a loaded CI machine composites a just-decoded frame late: a
    screenshot taken at once showed the square of frame 2 under the box of frame 3 (the
    overlay is drawn in the seek's frame callback, the picture a composite later). So
    the check is retried for a second before it counts as a mismatch."""
    deadline = time.time() + 1.0
    while True:
        try:
            _assert_box_on_square(_stage(page), frame)
            return
        except AssertionError:
            if time.time() > deadline:
                raise
            page.wait_for_timeout(100)


def _stage(page) -> np.ndarray:
    from PIL import Image

    video = page.locator("[data-testid=ls-video-element]")
    png = video.screenshot()
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def _assert_box_on_square(pixels: np.ndarray, frame: int) -> None:
    """The overlay's stroke runs along the red square's left, right and bottom edges."""
    red = (pixels[..., 0] > 200) & (pixels[..., 1] < 70) & (pixels[..., 2] < 70)
    ys, xs = np.nonzero(red)
    assert xs.size > 100, f"frame {frame}: no red square on screen"
    left, right, top, bottom = xs.min(), xs.max(), ys.min(), ys.max()
    colour = np.array(label_rgb(f"{LABEL} #{TRACK}"))
    stroke = np.abs(pixels - colour).sum(axis=2) < 60
    middle_row = np.nonzero(stroke[(top + bottom) // 2])[0]
    assert middle_row.size >= 2, f"frame {frame}: no overlay stroke across the square's middle"
    assert abs(middle_row.min() - left) <= 4 and abs(middle_row.max() - right) <= 4, (
        f"frame {frame}: box edges at x {middle_row.min()}..{middle_row.max()}, "
        f"square at {left}..{right}"
    )
    middle_column = np.nonzero(stroke[:, (left + right) // 2])[0]
    assert abs(middle_column.max() - bottom) <= 4, (
        f"frame {frame}: box bottom at y {middle_column.max()}, square bottom at {bottom}"
    )
    # The square on screen is the one of this frame: its place in the video matches.
    scale = pixels.shape[1] / W  # the stage is wider than the 4:3 picture; height fits
    scale = min(scale, pixels.shape[0] / H)
    offset_x = (pixels.shape[1] - W * scale) / 2
    assert abs((left - offset_x) / scale - square_x(frame)) <= 2, (frame, left, offset_x, scale)


def test_stepping_frames_draws_the_box_on_the_moving_square(page, video_gui):
    server, _ = video_gui
    _open_player(page, server.url)
    _settled(page, 0)
    _assert_settled_box_on_square(page, 0)

    player = page.locator("[data-testid=ls-video]")
    for _ in range(3):
        player.press("ArrowRight")
    _settled(page, 3)
    assert page.locator("[data-testid=ls-video-frame]").inner_text().startswith("Frame 3 / 29")
    assert "0.300 s" in page.locator("[data-testid=ls-video-frame]").inner_text()
    _assert_settled_box_on_square(page, 3)
    docs_shot(page, "video-player")

    player.press("Shift+ArrowRight")
    _settled(page, 13)
    _assert_settled_box_on_square(page, 13)
    player.press("ArrowLeft")
    _settled(page, 12)
    _assert_settled_box_on_square(page, 12)
    # The grid's ←/→ (previous/next sample) did not fire: the player kept the keys.
    assert page.locator("[data-testid=ls-video]").count() == 1
    assert page.errors == []


def test_the_players_keys_follow_the_stored_shortcuts(page, video_gui):
    from lightly_studio.store.view_settings import replace_shortcuts

    server, _ = video_gui
    replace_shortcuts({"video.next-frame": ["l"], "video.previous-frame": ["j"]})
    _open_player(page, server.url)
    _settled(page, 0)
    player = page.locator("[data-testid=ls-video]")
    player.press("l")
    player.press("l")
    _settled(page, 2)
    player.press("j")
    _settled(page, 1)
    _assert_settled_box_on_square(page, 1)
    player.press("Shift+ArrowRight")  # not rebound: still 10 frames
    _settled(page, 11)
    next_button = page.locator("[data-testid=ls-video] button[title^='Next frame']")
    assert next_button.get_attribute("title") == "Next frame (L)"
    assert page.errors == []


def test_play_and_pause_keep_the_overlay_on_the_frame_shown(page, video_gui):
    server, _ = video_gui
    _open_player(page, server.url)
    player = page.locator("[data-testid=ls-video]")
    seen: set[int] = set()

    player.press(" ")
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=ls-video-element]').paused", timeout=5_000
    )
    for _ in range(12):
        # The overlay drawn and the frame number shown change together, in one callback.
        frame, box_x = page.evaluate(
            "() => [Number(document.querySelector('[data-testid=ls-video]').dataset.frame),"
            " Number(document.querySelector('[data-testid=ls-video-overlay] rect')"
            "?.getAttribute('x') ?? -1)]"
        )
        assert box_x == square_x(frame), (frame, box_x)
        seen.add(frame)
        page.wait_for_timeout(120)
    player.press(" ")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-video-element]').paused", timeout=5_000
    )
    assert len(seen) >= 3, f"the frame number did not follow playback: {sorted(seen)}"
    paused_at = int(player.get_attribute("data-frame"))
    _settled(page, paused_at)
    _assert_settled_box_on_square(page, paused_at)
    assert page.errors == []


def test_timeline_click_seeks(page, video_gui):
    server, _ = video_gui
    _open_player(page, server.url)
    timeline = page.locator("[data-testid=ls-video-timeline]")
    box = timeline.bounding_box()

    page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] / 2)

    # Half-way along 30 frames (0..29) is frame 14 or 15 depending on rounding of the pixel.
    page.wait_for_function(
        "() => ['14', '15'].includes(document.querySelector('[data-testid=ls-video]')"
        ".dataset.frame)",
        timeout=10_000,
    )
    frame = int(page.locator("[data-testid=ls-video]").get_attribute("data-frame"))
    _settled(page, frame)
    _assert_box_on_square(_stage(page), frame)
    assert page.errors == []


def test_at_1024_px_the_controls_fit_and_the_timeline_is_a_film_strip(browser, video_gui):
    server, _ = video_gui
    context = browser.new_context(viewport={"width": 1024, "height": 700})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    _open_player(page, server.url)

    # Every control is inside the player (they wrap rather than run off its edge).
    player = page.locator("[data-testid=ls-video]").bounding_box()
    controls = page.locator("[data-testid=ls-video] button, [data-testid=ls-video] select")
    for i in range(controls.count()):
        box = controls.nth(i).bounding_box()
        assert (
            box["x"] >= player["x"]
            and box["x"] + box["width"] <= player["x"] + player["width"] + 0.5
        ), (
            controls.nth(i).inner_text(),
            box,
            player,
        )

    # The thumbnail row is covered edge to edge by tiles of the video's 4:3 aspect, and each
    # shows a frame near the time under its middle (12 thumbnails of 30 frames: within 1.5).
    page.wait_for_function(
        "() => { const imgs = [...document.querySelectorAll('[data-testid=ls-video-strip] img')];"
        " return imgs.length > 0 && imgs.every(i => i.complete && i.naturalWidth > 0); }",
        timeout=15_000,
    )
    strip = page.evaluate(
        """() => { const s = document.querySelector('[data-testid=ls-video-strip]');
          const r = s.getBoundingClientRect();
          return {width: r.width, tiles: [...s.querySelectorAll('img')].map(i => {
            const b = i.getBoundingClientRect();
            return [b.left - r.left, b.width, Number(i.dataset.frame)]; })}; }"""
    )
    tiles = strip["tiles"]
    assert tiles[0][0] == 0
    assert all(abs(w - 48) <= 0.5 for _, w, _ in tiles)  # 36 px high, 320x240 video
    assert all(abs(a[0] + a[1] - b[0]) <= 0.5 for a, b in itertools.pairwise(tiles))
    assert tiles[-1][0] + tiles[-1][1] >= strip["width"] - 0.5
    for left, width, frame in tiles:
        under = min(1.0, (left + width / 2) / strip["width"]) * (FRAMES - 1)
        assert abs(frame - under) <= 1.5, (left, frame, under)
    assert errors == []
    context.close()


def test_a_box_drawn_on_a_frame_is_a_frame_annotation_read_from_python(page, video_gui):
    from lightly_studio.core.dataset_query import FrameSampleField

    server, dataset = video_gui
    _open_player(page, server.url)
    player = page.locator("[data-testid=ls-video]")
    for _ in range(5):
        player.press("ArrowRight")
    _settled(page, 5)

    page.click("[data-testid=ls-video-edit-frame]")
    root = page.locator("[data-testid=ls-annotator-host] [data-testid=ls-annotator]")
    root.wait_for(timeout=15_000)
    # The annotator shows the frame itself, decoded on the server at full resolution.
    page.wait_for_function(
        "() => { const i = document.querySelector('[data-testid=ls-ann-world] img');"
        f" return i && i.complete && i.naturalWidth === {W}; }}",
        timeout=15_000,
    )
    frame_5 = dataset.frames().match(FrameSampleField.frame_number == 5).to_list()[0]
    assert root.get_attribute("data-sample-id") == str(frame_5.sample_id)
    page.fill("[data-testid=ls-ann-label-input]", "drawn")
    page.click("[data-testid=ls-ann-tool-box]")
    page.locator("[data-testid=ls-ann-stage]").scroll_into_view_if_needed()
    rect = page.locator("[data-testid=ls-ann-world] img").bounding_box()

    def to_screen(x: float, y: float) -> tuple[float, float]:
        return rect["x"] + x * rect["width"] / W, rect["y"] + y * rect["height"] / H

    page.mouse.move(*to_screen(20, 20))
    page.mouse.down()
    page.mouse.move(*to_screen(120, 90), steps=12)
    page.mouse.up()
    page.wait_for_function(
        "() => { const r = document.querySelector('[data-testid=ls-annotator]');"
        " return r && r.dataset.pending === '0' &&"
        " /Saved/.test(document.querySelector('[data-testid=ls-ann-status]').textContent); }",
        timeout=15_000,
    )

    drawn = [a for a in frame_5.annotations if a.label == "drawn"]
    assert len(drawn) == 1
    box = (drawn[0].x, drawn[0].y, drawn[0].width, drawn[0].height)
    assert all(abs(v - e) <= 1.5 for v, e in zip(box, (20, 20, 100, 70), strict=True)), box
    # Only frame 5 got it: it is a frame annotation, not one of the video.
    assert dataset.frames().match(FrameSampleField.annotations.exists(label="drawn")).count() == 1
    assert page.errors == []
    # Back in the player, frame 5 shows the new box too.
    page.click("[data-testid=ls-annotator-close]")
    page.locator("[data-testid=ls-annotator-host]").wait_for(state="detached", timeout=5_000)
    page.goto(server.url)
    _open_player(page, server.url)
    for _ in range(5):
        page.locator("[data-testid=ls-video]").press("ArrowRight")
    _settled(page, 5)
    labels = page.evaluate(
        "() => [...document.querySelectorAll('[data-testid=ls-video-overlay] text')]"
        ".map(t => t.textContent)"
    )
    assert sorted(labels) == ["drawn", f"{LABEL} #{TRACK}"]


def test_the_side_panel_counts_frame_annotations_and_jumps_to_a_class(page, video_gui):
    """A video's labels live on its frames: the panel counts them per class, lists the
    frame on screen's, and a class's row seeks to the next frame that has one."""
    from lightly_studio.core.annotation import CreateClassification

    server, dataset = video_gui
    for frame in dataset.frames():
        if frame.frame_number in (7, 20):
            frame.add_annotation(CreateClassification(label="blur"))
    _open_player(page, server.url)
    _settled(page, 0)
    section = page.locator("[data-testid=ls-detail-frame-annotations]")
    assert section.locator("h4").first.text_content() == f"Frame annotations ({FRAMES + 2})"
    assert "On 30 of 30 frames · 1 track" in section.inner_text()
    video_own = page.locator("[data-testid=ls-detail-annotations] h4").text_content()
    assert video_own.startswith("Video annotations (0)")
    rows = section.locator(".ls-frame-ann-class")
    assert rows.nth(0).get_attribute("data-label") == LABEL
    assert "30 annotations on 30 frames" in rows.nth(0).inner_text()
    assert "2 annotations on 2 frames" in rows.nth(1).inner_text()

    def on_frame() -> tuple[str, list[str]]:
        current = section.locator("[data-testid=ls-frame-ann-current]")
        return (
            current.get_attribute("data-frame"),
            current.locator(".ls-ann-label").all_inner_texts(),
        )

    assert on_frame() == ("0", [f"{LABEL} #{TRACK}"])
    blur = section.locator(".ls-frame-ann-class[data-label=blur]")
    blur.click()
    _settled(page, 7)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-frame-ann-current]').dataset.frame === '7'"
    )
    assert sorted(on_frame()[1]) == ["blur", f"{LABEL} #{TRACK}"]
    blur.click()
    _settled(page, 20)
    blur.click()  # past the last one: back to the first
    _settled(page, 7)
    # The player kept the keys after the click: → steps from frame 7.
    page.locator("[data-testid=ls-video]").press("ArrowRight")
    _settled(page, 8)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-frame-ann-current]').dataset.frame === '8'"
    )
    assert on_frame()[1] == [f"{LABEL} #{TRACK}"]
    assert page.errors == []


def test_the_frames_grid_filters_frames_by_label(page, video_gui):
    from lightly_studio.core.annotation import CreateClassification
    from lightly_studio.core.dataset_query import FrameSampleField

    server, dataset = video_gui
    for frame in dataset.frames():
        if frame.frame_number in (3, 4):
            frame.add_annotation(CreateClassification(label="other"))
    page.goto(server.url)
    page.locator("[data-testid=ls-grid] .ls-cell[data-sample-id]").first.wait_for(timeout=15_000)
    assert page.locator("[data-testid=ls-count]").inner_text().startswith("1 of")

    page.select_option("[data-testid=ls-collection]", "frame")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-count]').textContent.startsWith('30 of')",
        timeout=15_000,
    )
    page.locator("[data-testid=ls-label-filters] label[data-name='other'] input").check()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-count]').textContent.startsWith('2 of')"
        " && document.querySelectorAll('[data-testid=ls-grid] .ls-cell[data-sample-id]')"
        ".length === 2",
        timeout=15_000,
    )
    shown = set(
        page.evaluate(
            "() => [...document.querySelectorAll('[data-testid=ls-grid] .ls-cell[data-sample-id]')]"
            ".map(c => c.dataset.sampleId)"
        )
    )
    wanted = dataset.frames().match(FrameSampleField.annotations.exists(label="other"))
    assert shown == {str(f.sample_id) for f in wanted}
    # Frame thumbnails are decoded pictures of the frames.
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=ls-grid] img')]"
        ".filter(i => i.complete && i.naturalWidth > 0).length >= 2",
        timeout=15_000,
    )
    assert page.errors == []


def hold_video_seeks(page) -> None:
    """Hold the <video> element's seeks back until ``window.__release()`` (its currentTime
    setter queues them): a tiny clip seeks in a few ms here, a 1080p clip with a long
    key-frame interval takes a second or more."""
    page.evaluate(
        """() => {
          const v = document.querySelector('[data-testid=ls-video-element]');
          const own = Object.getOwnPropertyDescriptor(HTMLMediaElement.prototype, 'currentTime');
          window.__held = [];
          Object.defineProperty(v, 'currentTime', {configurable: true,
            get() { return own.get.call(v); },
            set(t) { window.__held.push(() => own.set.call(v, t)); }});
          window.__release = () => { delete v.currentTime; window.__held.forEach(f => f()); };
        }"""
    )


def wait_shown_from_strip(page, frame: int, timeout: float = 5_000) -> None:
    """The player shows ``frame`` from the seek strip, its picture decoded."""
    page.wait_for_function(
        "f => { const el = document.querySelector('[data-testid=ls-video]');"
        " const img = document.querySelector('[data-testid=ls-video-poster]');"
        " return el.dataset.presented === String(f) && el.dataset.presentedBy === 'strip'"
        " && img.complete && img.naturalWidth > 0; }",
        arg=frame,
        timeout=timeout,
    )


def test_a_far_seek_shows_the_exact_strip_frame_before_the_video_gets_there(page, video_gui):
    """With a seek strip, a seek shows the sought frame (low resolution, from the strip) with
    its overlay while the <video> element is still seeking. The tiny clip seeks in a few ms
    here, so the test holds the element's seek back (its currentTime setter waits for the
    test), as a 1080p clip with a long key-frame interval does for a second or more."""
    server, dataset = video_gui
    assert dataset.build_seek_strips() == 1
    _open_player(page, server.url)
    _settled(page, 0)
    hold_video_seeks(page)
    timeline = page.locator("[data-testid=ls-video-timeline]")
    box = timeline.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.9, box["y"] + box["height"] / 2)
    player = page.locator("[data-testid=ls-video]")
    page.wait_for_function(
        "() => Number(document.querySelector('[data-testid=ls-video]').dataset.frame) >= 24"
    )
    frame = int(player.get_attribute("data-frame"))
    wait_shown_from_strip(page, frame)
    page.wait_for_timeout(100)
    # The video element has not moved: the picture on screen is the strip's.
    assert player.get_attribute("data-video-frame") == "0"
    assert page.evaluate("() => window.__held.length") >= 1
    from PIL import Image

    png = page.locator("[data-testid=ls-video-poster]").screenshot()
    _assert_box_on_square(np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int), frame)
    # Then the video's own frame replaces it, the same frame.
    page.evaluate("() => window.__release()")
    page.wait_for_function(
        "f => { const el = document.querySelector('[data-testid=ls-video]');"
        " return el.dataset.videoFrame === String(f) && el.dataset.presentedBy === 'video'; }",
        arg=frame,
        timeout=10_000,
    )
    assert page.locator("[data-testid=ls-video-poster]").is_hidden()
    _settled(page, frame)
    _assert_box_on_square(_stage(page), frame)
    assert page.errors == []


def test_key_presses_during_a_seek_coalesce_into_one_seek_to_the_last(page, video_gui):
    server, _ = video_gui
    _open_player(page, server.url)
    _settled(page, 0)
    seeks, label = page.evaluate(
        """() => {
          const el = document.querySelector('[data-testid=ls-video]');
          const v = document.querySelector('[data-testid=ls-video-element]');
          window.__seeks = 0;
          v.addEventListener('seeking', () => { window.__seeks += 1; });
          for (let i = 0; i < 10; i++)
            el.dispatchEvent(new KeyboardEvent('keydown', {key: 'ArrowRight', bubbles: true}));
          // The label is at the last target at once, before any seek has finished.
          return [window.__seeks, el.dataset.frame];
        }"""
    )
    assert label == "10"
    assert seeks <= 1, "one seek in flight, the others wait for it"
    _settled(page, 10)
    # The first seek, then one to the latest target: not one per key.
    assert page.evaluate("() => window.__seeks") <= 2
    _assert_box_on_square(_stage(page), 10)
    assert page.errors == []


def test_holding_right_moves_through_frames_and_stops_on_the_frame_shown(page, video_gui):
    server, _ = video_gui
    _open_player(page, server.url)
    _settled(page, 0)
    player = page.locator("[data-testid=ls-video]")
    player.focus()
    seen = page.evaluate(
        """async () => {
          const el = document.querySelector('[data-testid=ls-video]');
          const seen = new Set();
          const obs = new MutationObserver(() => seen.add(el.dataset.presented));
          obs.observe(el, {attributes: true, attributeFilter: ['data-presented']});
          for (let i = 0; i < 20; i++) {  // keyboard auto-repeat: ~30 keys/s for 0.66 s
            el.dispatchEvent(new KeyboardEvent('keydown',
              {key: 'ArrowRight', bubbles: true, repeat: i > 0}));
            await new Promise(r => setTimeout(r, 33));
          }
          el.dispatchEvent(new KeyboardEvent('keyup', {key: 'ArrowRight', bubbles: true}));
          obs.disconnect();
          return seen.size;
        }"""
    )
    assert seen >= 5, f"only {seen} frames shown while holding →"
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-video-element]').paused", timeout=5_000
    )
    page.wait_for_timeout(300)
    frame = int(player.get_attribute("data-frame"))
    assert frame > 5
    assert player.get_attribute("data-presented") == str(frame), "label and picture agree"
    _settled(page, frame)
    _assert_box_on_square(_stage(page), frame)
    assert page.errors == []


def test_frames_of_this_video_switches_the_grid_to_its_frames_grouped(page, video_gui):
    server, _ = video_gui
    _open_player(page, server.url)
    page.click("[data-testid=ls-video-show-frames]")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-count]').textContent.startsWith('30 of')",
        timeout=15_000,
    )
    assert page.locator("[data-testid=ls-video]").count() == 0, "the detail view closed"
    assert page.locator("[data-testid=ls-collection]").input_value() == "frame"
    assert page.get_by_text("frames of one video").is_visible()
    # The first frame of the video heads its group with the video's name; frames show numbers.
    first = page.locator("[data-testid=ls-grid] .ls-cell[data-index='0']")
    first.locator("[data-testid=ls-video-group]").wait_for(timeout=10_000)
    assert first.locator("[data-testid=ls-video-group]").inner_text() == "▶ square.mp4"
    second = page.locator("[data-testid=ls-grid] .ls-cell[data-index='1']")
    assert second.locator(".ls-frame-no").inner_text() == "#1"
    assert second.locator("[data-testid=ls-video-group]").count() == 0
    docs_shot(page, "video-frames-grid")
    assert page.errors == []


def test_frame_keys_in_the_annotator_save_then_step_through_the_videos_frames(page, video_gui):
    from lightly_studio.core.dataset_query import FrameSampleField

    server, dataset = video_gui
    frame_id = {
        f.frame_number: str(f.sample_id)
        for f in dataset.frames().match(FrameSampleField.frame_number < 8).to_list()
    }
    _open_player(page, server.url)
    player = page.locator("[data-testid=ls-video]")
    for _ in range(5):
        player.press("ArrowRight")
    _settled(page, 5)
    page.click("[data-testid=ls-video-edit-frame]")
    root = page.locator("[data-testid=ls-annotator-host] [data-testid=ls-annotator]")
    root.wait_for(timeout=15_000)
    page.wait_for_function(
        "() => { const i = document.querySelector('[data-testid=ls-ann-world] img');"
        f" return i && i.complete && i.naturalWidth === {W}; }}",
        timeout=15_000,
    )
    assert root.get_attribute("data-frame-number") == "5"
    page.fill("[data-testid=ls-ann-label-input]", "drawn")
    page.click("[data-testid=ls-ann-tool-box]")
    rect = page.locator("[data-testid=ls-ann-world] img").bounding_box()

    def to_screen(x: float, y: float) -> tuple[float, float]:
        return rect["x"] + x * rect["width"] / W, rect["y"] + y * rect["height"] / H

    page.mouse.move(*to_screen(20, 20))
    page.mouse.down()
    page.mouse.move(*to_screen(120, 90), steps=8)
    page.mouse.up()
    # At once, without waiting for "Saved": the box is saved first, then frame 6 opens.
    page.keyboard.press(".")
    page.wait_for_function(
        "id => document.querySelector('[data-testid=ls-annotator]')?.dataset.sampleId === id",
        arg=frame_id[6],
        timeout=15_000,
    )
    assert root.get_attribute("data-frame-number") == "6"
    assert page.locator("[data-testid=ls-ann-position]").inner_text() == "Frame 6"
    frame_5 = dataset.frames().match(FrameSampleField.frame_number == 5).to_list()[0]
    assert [a.label for a in frame_5.annotations if a.label == "drawn"] == ["drawn"]

    def wait_on(number: int) -> None:
        page.wait_for_function(
            "id => document.querySelector('[data-testid=ls-annotator]')?.dataset.sampleId === id",
            arg=frame_id[number],
            timeout=15_000,
        )

    page.keyboard.press("Alt+ArrowLeft")
    wait_on(5)
    # Frame 5 shows the box drawn before stepping away.
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=ls-ann-row-label]')]"
        ".some(e => e.value === 'drawn')",
        timeout=10_000,
    )
    page.keyboard.press(",")
    wait_on(4)
    page.keyboard.press("Alt+ArrowRight")
    wait_on(5)
    assert page.errors == []


@pytest.mark.parametrize("codec", ["mpeg4"])  # MPEG-4 Part 2: PyAV decodes it, Chromium cannot
def test_a_codec_the_browser_cannot_play_says_so_and_steps_through_server_frames(
    page, video_gui, codec
):
    server, _ = video_gui
    page.goto(server.url)
    page.locator("[data-testid=ls-grid] .ls-cell[data-sample-id]").first.click()
    message = page.locator("[data-testid=ls-video-message]")
    message.wait_for(state="visible", timeout=15_000)
    assert "The browser cannot play this video (mpeg4" in message.inner_text()
    assert "decoded on the server" in message.inner_text()
    assert page.locator("[data-testid=ls-video-element]").is_hidden(), "no black player"
    assert page.locator("[data-testid=ls-video-play]").is_disabled()

    poster = page.locator("[data-testid=ls-video-poster]")
    player = page.locator("[data-testid=ls-video]")

    def shown(frame: int) -> np.ndarray:
        page.wait_for_function(
            "f => { const el = document.querySelector('[data-testid=ls-video]');"
            " const img = document.querySelector('[data-testid=ls-video-poster]');"
            " return el.dataset.presented === String(f) && el.dataset.presentedBy === 'poster'"
            " && img.complete && img.naturalWidth > 0; }",
            arg=frame,
            timeout=15_000,
        )
        page.wait_for_timeout(100)
        from PIL import Image

        png = poster.screenshot()
        return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)

    _assert_box_on_square(shown(0), 0)
    # Every frame, not only the sampled ones: the server decodes each.
    for _ in range(3):
        player.press("ArrowRight")
    _assert_box_on_square(shown(3), 3)
    player.press("Shift+ArrowRight")
    _assert_box_on_square(shown(13), 13)
    docs_shot(page, "video-unsupported-codec")
    assert page.errors == []


def test_a_video_file_damaged_after_indexing_says_so_in_the_player(page, video_gui):
    server, dataset = video_gui
    video = next(iter(dataset))
    Path(video.file_path_abs).write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x07" * 4000)
    page.goto(server.url)
    page.locator("[data-testid=ls-grid] .ls-cell[data-sample-id]").first.click()
    message = page.locator("[data-testid=ls-video-message]")
    page.wait_for_function(
        "() => /on the server either/.test("
        "document.querySelector('[data-testid=ls-video-message]')?.textContent ?? '')",
        timeout=20_000,
    )
    text = message.inner_text()
    assert text.startswith("Cannot decode frame 0 on the server either:"), text
    assert "square.mp4" in text, "the message names the file"
    assert page.locator("[data-testid=ls-video-element]").is_hidden()
    # The rest of the detail view is there: fields and tags of the video.
    assert "frame count" in page.locator("[data-testid=ls-detail]").inner_text()


def test_the_plot_shows_the_grids_collection_and_a_lasso_filters_frames(
    page, video_gui, monkeypatch
):
    import polars as pl

    from lightly_studio import embed

    server, _ = video_gui

    def compute_projection(ds, embedding_model_name=None, recompute=False):
        # One projection of the video and its frames (as the real one fits both together):
        # frame n at (n, n), the video beside them.
        videos = ds.query().to_polars().select("sample_id")
        frames = ds.frames().to_polars().select("sample_id", "frame_number")
        return pl.concat(
            [
                videos.with_columns(pl.lit(-5.0).alias("x")),
                frames.select("sample_id", pl.col("frame_number").cast(pl.Float64).alias("x")),
            ]
        ).select(pl.col("sample_id").cast(pl.Utf8), "x", pl.col("x").alias("y"))

    monkeypatch.setattr(embed, "compute_projection", compute_projection)
    page.goto(server.url)
    page.locator("[data-testid=ls-grid] .ls-cell[data-sample-id]").first.wait_for(timeout=15_000)
    page.click("[data-testid=ls-plot-toggle]")
    status = page.locator("[data-testid=ls-plot-status]")
    page.wait_for_selector("[data-testid=ls-plot-status]:has-text('1 points')", timeout=30_000)

    page.select_option("[data-testid=ls-collection]", "frame")
    page.wait_for_selector("[data-testid=ls-plot-status]:has-text('30 points')", timeout=30_000)
    # Lasso the lower-left half of the diagonal: the first frames.
    box = page.locator("[data-testid=ls-plot-canvas]").bounding_box()
    x0, y0 = box["x"] + box["width"] * 0.02, box["y"] + box["height"] * 0.45
    x1, y1 = box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.98
    page.mouse.move(x0, y0)
    page.mouse.down()
    for x, y in [(x1, y0), (x1, y1), (x0, y1)]:
        page.mouse.move(x, y, steps=12)
    page.mouse.up()
    page.wait_for_selector("[data-testid=ls-plot-status]:has-text('selected')", timeout=20_000)
    selected = int(status.inner_text().split("·")[1].split()[0])
    assert 0 < selected < 30
    page.wait_for_function(
        "n => document.querySelector('[data-testid=ls-count]').textContent.startsWith(n + ' of')",
        arg=str(selected),
        timeout=15_000,
    )
    # The grid (virtualised: the cells on screen) shows frames from the lassoed end only.
    page.locator("[data-testid=ls-grid] .ls-frame-no").first.wait_for(timeout=15_000)
    numbers = page.locator("[data-testid=ls-grid] .ls-frame-no").all_inner_texts()
    assert numbers and all(int(t.lstrip("#")) < 20 for t in numbers), numbers
    docs_shot(page, "video-frames-plot")
    assert page.errors == []
