"""The explorer widget inside JupyterLab: in a 600 px wide output (a narrow notebook, a split
screen) nothing overflows and every toolbar control can be reached; in Lab's light and dark
themes its text keeps a readable contrast; a dataset's stored grid options come back when an
explorer of it opens. The screenshots are written by ``docs_shot`` (docs/images/ under
``make screenshots``)."""

from __future__ import annotations

import json
import urllib.request

import pytest

from tests.browser.conftest import TOKEN, open_notebook, run_cell, write_notebook
from tests.conftest import docs_shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SETUP = """
import os
from PIL import Image
from lightly_studio import db_manager
db_manager.connect(db_file=os.path.join(os.getcwd(), "layout_{theme}.db"))
from lightly_studio.core.image_dataset import ImageDataset
from lightly_studio.core.annotation import CreateObjectDetection
os.makedirs("layout_images", exist_ok=True)
for i in range(12):
    Image.new("RGB", (320 + 20 * i, 240), (30 + 15 * i, 120, 200 - 10 * i)).save(
        os.path.join("layout_images", f"img{{i:02d}}.png"))
ds = ImageDataset.create("layout")
ds.add_images_from_path("layout_images", embed=False)
for n, s in enumerate(sorted(ds, key=lambda s: s.file_name)):
    s.add_annotation(CreateObjectDetection(label=["cat", "dog", "bird"][n % 3], x=20, y=20,
                                           width=120, height=90))
    if n < 4:
        s.add_tag("reviewed")
    s.metadata["weather"] = ["sunny", "rain"][n % 2]
print("READY", len(ds))
"""

THEMES = {"light": "JupyterLab Light", "dark": "JupyterLab Dark"}


def _set_lab_theme(base: str, theme: str) -> None:
    body = json.dumps({"raw": json.dumps({"theme": THEMES[theme]})}).encode()
    req = urllib.request.Request(
        f"{base}/lab/api/settings/@jupyterlab/apputils-extension:themes?token={TOKEN}",
        data=body,
        method="PUT",
        headers={"Content-Type": "application/json"},
    )
    urllib.request.urlopen(req, timeout=10)


# WCAG relative luminance and contrast, on the computed colours of the rendered widget.
CONTRAST_JS = """
(sel) => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length >= 3 && (c.length < 4 || c[3] > 0.5)) return c;
    }
    return [255, 255, 255];
  };
  const el = document.querySelector(sel);
  if (!el) return null;
  const a = lum(rgb(getComputedStyle(el).color)), b = lum(background(el));
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}
"""

# Text the user reads: the count, a toolbar button, a filter heading and row, a grid label.
READABLE = {
    "[data-testid=ls-count]": 4.5,
    "[data-testid=ls-toolbar] button": 4.5,
    "[data-testid=ls-filters] h4": 4.5,
    "[data-testid=ls-label-filters] .ls-name": 4.5,
    "[data-testid=ls-label-filters] .ls-n": 4.5,
    "[data-testid=ls-tag-input]": 4.5,
}


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_explorer_fits_600_px_and_reads_well_in_labs_theme(page, lab, theme):
    base, folder = lab
    _set_lab_theme(base, theme)
    try:
        nb = write_notebook(
            folder,
            f"layout_{theme}.ipynb",
            [
                SETUP.format(theme=theme),
                "from lightly_studio.widgets import Explorer\nex = Explorer(ds, height=560)\nex",
            ],
        )
        page.set_viewport_size({"width": 1400, "height": 1000})
        open_notebook(page, base, nb)
        # Lab's "notified about news?" toast would cover the widget in the screenshots.
        page.add_style_tag(content=".Toastify { display: none !important; }")
        assert "READY 12" in run_cell(page, 0)
        run_cell(page, 1)
        root = page.locator("[data-testid=ls-explorer]")
        root.wait_for(timeout=30_000)
        page.wait_for_selector("[data-testid=ls-grid] .ls-cell img", timeout=30_000)
        page.locator("[data-testid=ls-label-filters]").wait_for(timeout=30_000)
        page.wait_for_function(
            "t => document.body.dataset.jpThemeName === t", arg=THEMES[theme], timeout=20_000
        )

        for selector, minimum in READABLE.items():
            ratio = page.evaluate(CONTRAST_JS, selector)
            assert ratio is not None and ratio >= minimum, (theme, selector, ratio)
        docs_shot(root, f"widget-lab-{theme}")

        # A 600 px wide output: the widget's own root narrows to it.
        page.add_style_tag(content=".jp-OutputArea-output { max-width: 600px !important; }")
        page.wait_for_function(
            "() => document.querySelector('[data-testid=ls-explorer]').clientWidth <= 600"
        )
        page.wait_for_function(
            "() => document.querySelector('[data-testid=ls-explorer]').classList.contains('ls-narrow')"
        )
        overflow = page.evaluate(
            """() => {
              const root = document.querySelector('[data-testid=ls-explorer]');
              const bar = document.querySelector('[data-testid=ls-toolbar]');
              const r = root.getBoundingClientRect();
              const outside = [...bar.querySelectorAll('button, input, select')]
                .filter(e => e.offsetParent !== null)
                .map(e => [e.dataset.testid || e.textContent.trim() || e.type, e.getBoundingClientRect()])
                .filter(([, b]) => b.left < r.left - 0.5 || b.right > r.right + 0.5)
                .map(([n]) => n);
              return { root: root.scrollWidth - root.clientWidth, bar: bar.scrollWidth - bar.clientWidth,
                       barHeight: bar.getBoundingClientRect().height, outside };
            }"""
        )
        assert overflow["root"] <= 0 and overflow["bar"] <= 0, overflow
        assert overflow["barHeight"] <= 48, overflow  # one line
        assert overflow["outside"] == [], overflow
        docs_shot(root, f"widget-600-{theme}")

        # Popovers and dialogs open inside the narrow widget and can be closed.
        page.click("[data-testid=ls-view-button]")
        pop = page.locator("[data-testid=ls-view-options]").bounding_box()
        box = root.bounding_box()
        assert (
            pop["x"] >= box["x"] - 0.5 and pop["x"] + pop["width"] <= box["x"] + box["width"] + 0.5
        )
        page.click("[data-testid=ls-view-button]")
        page.click("[data-testid=ls-settings-button]")
        dialog = page.locator("[data-testid=ls-settings] .ls-dialog-box")
        dialog.wait_for()
        d = dialog.bounding_box()
        assert d["x"] >= box["x"] and d["x"] + d["width"] <= box["x"] + box["width"] + 0.5, d
        close = page.locator("[data-testid=ls-settings-close]")
        close.scroll_into_view_if_needed()
        close.click()
        page.locator("[data-testid=ls-settings]").wait_for(state="detached")
    finally:
        _set_lab_theme(base, "light")


RESTORE = """
import os
from PIL import Image
from lightly_studio import db_manager
db_manager.connect(db_file=os.path.join(os.getcwd(), "restore.db"))
from lightly_studio.api import dispatch
from lightly_studio.core.image_dataset import ImageDataset
os.makedirs("restore_images", exist_ok=True)
for i, w in enumerate([300, 200, 100]):
    Image.new("RGB", (w, 100), (90, 120, 150)).save(os.path.join("restore_images", f"r{i}.png"))
ds = ImageDataset.create("restore")
ds.add_images_from_path("restore_images", embed=False)
dispatch("set_view_options", {"dataset_id": str(ds.dataset_id), "options": {
    "cell_size": 260, "sort_field": "width", "sort_desc": False,
    "overlays": {"boxes": True, "masks": True, "labels": True, "captions": False, "names": True}}})
print("READY", len(ds))
"""


def test_the_notebook_explorer_restores_the_datasets_grid_options_unless_given(page, lab):
    base, folder = lab
    nb = write_notebook(
        folder,
        "restore.ipynb",
        [
            RESTORE,
            "from lightly_studio.widgets import Explorer\nex = Explorer(ds, height=400)\nex",
            "print('SORT', ex.spec.get('sort'), 'SIZE', ex.cell_size)",
            "ex2 = Explorer(ds, height=400, cell_size=120)\nex2",
            "print('SIZE2', ex2.cell_size, 'SORT2', ex2.spec.get('sort'))",
        ],
    )
    open_notebook(page, base, nb)
    page.add_style_tag(content=".Toastify { display: none !important; }")
    assert "READY 3" in run_cell(page, 0)
    run_cell(page, 1)
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=ls-explorer]').length === 1"
        " && document.querySelector('[data-testid=ls-explorer]').__lsGrid?.opts.cellSize === 260",
        timeout=30_000,
    )
    # The view wrote the restored options back to Python, narrowest first by width.
    out = run_cell(page, 2)
    assert "SORT {'field': 'width', 'desc': False} SIZE 260" in out, out
    names = page.locator("[data-testid=ls-explorer] .ls-name-bar").first
    names.wait_for(timeout=15_000)
    assert names.inner_text() == "r2.png"

    # Given in Python, the cell size wins; the sort still comes back.
    run_cell(page, 3)
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=ls-explorer]').length === 2",
        timeout=30_000,
    )
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=ls-explorer]')[1].__lsGrid"
        ".opts.cellSize === 120",
        timeout=30_000,
    )
    # The saved sort arrives after the view has opened: narrowest first here too.
    second_names = page.locator("[data-testid=ls-explorer]").nth(1).locator(".ls-name-bar").first
    second_names.wait_for(timeout=15_000)
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=ls-explorer]')[1]"
        ".querySelector('.ls-name-bar')?.textContent === 'r2.png'",
        timeout=15_000,
    )
    out = run_cell(page, 4)
    assert "SIZE2 120 SORT2 {'field': 'width', 'desc': False}" in out, out
