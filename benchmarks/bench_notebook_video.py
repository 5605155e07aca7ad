"""How long a notebook takes to load a video into its player.

A notebook page has no media route next to it, so the widget's player loads the file over the
kernel's messages (api `video_media`, 8 MB parts, two in flight) into a Blob; until it is in,
stepping shows the server's frames. This measures, per file size, the time from the click on
the video to the Blob being the <video> element's source with its first frame decoded, and
the throughput that gives.

    python benchmarks/bench_notebook_video.py --mb 10 40 120

JupyterLab and Debian's /usr/bin/chromium (headless) on loopback; each size in a fresh
notebook kernel. The clip is random noise encoded losslessly (x264 crf 0), 640x360, so a
file of a given size is quick to make.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    open_notebook,
    run_cell,
    running_jupyterlab,
    write_notebook,
)

SETUP = """
import os
import av, numpy as np
import lightly_studio as ls
from lightly_studio import db_manager
db_manager.connect(db_file=os.path.join(os.getcwd(), "videos.db"))
os.makedirs("clips", exist_ok=True)
rng = np.random.default_rng(0)
with av.open("clips/noise.mp4", "w") as container:
    stream = container.add_stream("libx264", rate=30, options={{"crf": "0", "preset": "ultrafast"}})
    stream.width, stream.height, stream.pix_fmt = 640, 360, "yuv420p"
    size, i = 0, 0
    while size < {mb} * 2**20:
        pixels = rng.integers(0, 256, (360, 640, 3), dtype=np.uint8)
        for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
            container.mux(packet)
            size += packet.size
        i += 1
    for packet in stream.encode():
        container.mux(packet)
ds = ls.VideoDataset.create("noise")
ds.add_videos_from_path("clips", embed=False)
print("SIZE", os.path.getsize("clips/noise.mp4"), "FRAMES", i)
"""


def measure(browser, mb: int, timeout_s: float) -> None:
    with (
        tempfile.TemporaryDirectory(prefix="nbvideo-", ignore_cleanup_errors=True) as tmp,
        running_jupyterlab(Path(tmp)) as base,
    ):
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        try:
            _time_the_load(page, base, Path(tmp), mb, timeout_s)
        finally:
            page.close()


def _time_the_load(page, base: str, workdir: Path, mb: int, timeout_s: float) -> None:
    name = write_notebook(workdir, "video.ipynb", [SETUP.format(mb=mb), "ds.show()"])
    open_notebook(page, base, name)
    out = run_cell(page, 0, timeout=600_000)
    if "FRAMES " not in out or "Error" in out:
        raise RuntimeError(f"making the clip failed:\n{out}")
    size = int(out.split("SIZE ")[-1].split()[0])
    run_cell(page, 1)
    cell = page.locator("[data-testid=ls-grid] .ls-cell[data-sample-id]").first
    cell.wait_for(timeout=60_000)
    start = time.perf_counter()
    cell.click()
    page.locator("[data-testid=ls-video]").wait_for(timeout=60_000)
    first_frame = None
    try:
        page.wait_for_function(
            "() => { const el = document.querySelector('[data-testid=ls-video]');"
            " return el && el.dataset.presented !== undefined; }",
            timeout=60_000,
        )
        first_frame = time.perf_counter() - start
        page.wait_for_function(
            "() => { const v = document.querySelector('[data-testid=ls-video-element]');"
            " return v && v.src.startsWith('blob:') && v.readyState >= 2; }",
            timeout=timeout_s * 1000,
            polling=50,
        )
    except Exception:  # noqa: BLE001 - report what was shown, then go on
        message = page.locator("[data-testid=ls-video-message]").inner_text()
        print(
            f"{size / 2**20:8.1f} MB  not loaded in {timeout_s:.0f} s; the player says: {message!r}"
        )
        return
    loaded = time.perf_counter() - start
    print(
        f"{size / 2**20:8.1f} MB  first frame shown {first_frame:5.2f} s  "
        f"file playing {loaded:6.2f} s  {size / 2**20 / loaded:6.1f} MB/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, nargs="+", default=[10, 40, 120])
    parser.add_argument("--timeout-s", type=float, default=300.0)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    print("    size  (click on the video -> its first frame shown -> the file playing)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            for mb in args.mb:
                measure(browser, mb, args.timeout_s)
        finally:
            browser.close()


if __name__ == "__main__":
    main()
