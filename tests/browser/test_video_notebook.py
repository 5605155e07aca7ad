"""The video player inside a notebook (JupyterLab + Chromium): ``dataset.show()`` of a
VideoDataset opens a video in the same player as the full-page app, over the widget's
transport. Stepping draws each frame's box on the moving square, and a far seek is shown from
the seek strip at once while the <video> element is still seeking.

The clip is the one of tests/video/test_player_browser.py (a red square moving 8 px a frame,
one YouTube-VIS box around it per frame), so the pixel checks are the same."""

from __future__ import annotations

import io

import numpy as np
import pytest

from tests.browser.conftest import open_notebook, run_cell, shot, write_notebook
from tests.video.test_player_browser import (
    FPS,
    FRAMES,
    LABEL,
    SIDE,
    SQUARE_Y,
    STEP,
    TRACK,
    H,
    W,
    _assert_box_on_square,
    _assert_settled_box_on_square,
    hold_video_seeks,
    wait_shown_from_strip,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SETUP = f"""
import json, os
import av, numpy as np
import lightly_studio as ls
from lightly_studio import db_manager
db_manager.connect(db_file=os.path.join(os.getcwd(), "videos.db"))
W, H, SIDE, STEP, FRAMES, FPS, Y = {W}, {H}, {SIDE}, {STEP}, {FRAMES}, {FPS}, {SQUARE_Y}
x_of = lambda i: (STEP * i) % (W - SIDE)
os.makedirs("clips", exist_ok=True)
with av.open("clips/square.mp4", "w") as container:
    stream = container.add_stream("libx264", rate=FPS)
    stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
    for i in range(FRAMES):
        pixels = np.full((H, W, 3), 96, dtype=np.uint8)
        pixels[Y : Y + SIDE, x_of(i) : x_of(i) + SIDE] = (255, 0, 0)
        for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
vis = {{
    "videos": [{{"id": 1, "width": W, "height": H,
                "file_names": [f"square/{{i:05d}}.jpg" for i in range(FRAMES)]}}],
    "categories": [{{"id": 1, "name": "{LABEL}"}}],
    "annotations": [{{"id": {TRACK}, "video_id": 1, "category_id": 1,
                     "bboxes": [[x_of(i), Y, SIDE, SIDE] for i in range(FRAMES)]}}],
}}
with open("vis.json", "w") as f:
    json.dump(vis, f)
ds = ls.VideoDataset.create("squares")
ds.add_videos_from_youtube_vis("vis.json", "clips", embed=False, embed_frames=False)
print("STRIPS", ds.build_seek_strips())
"""


def _player_pixels(page, testid: str) -> np.ndarray:
    from PIL import Image

    png = page.locator(f"[data-testid={testid}]").screenshot()
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def _wait_settled(page, frame: int) -> None:
    page.wait_for_function(
        "f => { const v = document.querySelector('[data-testid=ls-video-element]');"
        " const el = document.querySelector('[data-testid=ls-video]');"
        " return v && !v.seeking && v.readyState >= 2 && el.dataset.frame === String(f)"
        " && el.dataset.videoFrame === String(f); }",
        arg=frame,
        timeout=15_000,
    )


def test_the_player_in_a_notebook_steps_and_seeks_from_the_strip(page, lab):
    base, folder = lab
    nb = write_notebook(folder, "video.ipynb", [SETUP, "explorer = ds.show()"])
    open_notebook(page, base, nb)
    assert "STRIPS 1" in run_cell(page, 0)
    run_cell(page, 1)
    cell = page.locator("[data-testid=ls-grid] .ls-cell[data-sample-id]").first
    cell.wait_for(timeout=30_000)
    cell.click()
    player = page.locator("[data-testid=ls-video]")
    try:
        player.wait_for(timeout=20_000)
        _wait_settled(page, 0)
    except Exception:  # picture what went wrong, then fail with the context
        shot(page, "video-notebook-failed")
        raise
    _assert_settled_box_on_square(page, 0)

    # Stepping: → three times, Shift+→ ten frames; each frame's box is on its square.
    player.focus()
    for _ in range(3):
        player.press("ArrowRight")
    _wait_settled(page, 3)
    _assert_settled_box_on_square(page, 3)
    player.press("Shift+ArrowRight")
    _wait_settled(page, 13)
    _assert_settled_box_on_square(page, 13)

    # A far seek while the <video> element's own seek is held back (as a long key-frame
    # interval does on a large clip): the strip shows the exact frame with its box first.
    hold_video_seeks(page)
    timeline = page.locator("[data-testid=ls-video-timeline]").bounding_box()
    page.mouse.click(
        timeline["x"] + timeline["width"] * 0.9, timeline["y"] + timeline["height"] / 2
    )
    page.wait_for_function(
        "() => Number(document.querySelector('[data-testid=ls-video]').dataset.frame) >= 24"
    )
    frame = int(player.get_attribute("data-frame"))
    wait_shown_from_strip(page, frame, timeout=10_000)
    page.wait_for_timeout(100)
    assert player.get_attribute("data-video-frame") == "13", "the <video> element has not moved"
    _assert_box_on_square(_player_pixels(page, "ls-video-poster"), frame)
    shot(page, "video-notebook-player")
    page.evaluate("() => window.__release()")
    _wait_settled(page, frame)
    _assert_settled_box_on_square(page, frame)
