"""The annotator in a real JupyterLab + Chromium: mouse and keyboard edits land in the DB.

Screenshots go to test-artifacts/annotator-*.png.
"""

from __future__ import annotations

import json
import math

import pytest

from tests.browser import conftest as _browser_suite
from tests.browser.conftest import open_notebook, run_cell, shot, write_notebook

# The browser suite's kernel clean-up; the browser and JupyterLab fixtures are session-wide.
_no_stray_kernels = _browser_suite._no_stray_kernels

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SETUP = """
import os, json
from PIL import Image
from lightly_studio import db_manager
db_manager.connect(db_file=os.path.join(os.getcwd(), "annotator.db"))
from lightly_studio.core.image_dataset import ImageDataset
from lightly_studio.core.annotation import CreateObjectDetection
os.makedirs("ann_images", exist_ok=True)
for name, size in {"img0.png": (640, 480), "img1.png": (320, 240), "img2.png": (200, 150)}.items():
    Image.new("RGB", size, (90, 120, 150)).save(os.path.join("ann_images", name))
ds = ImageDataset.create("annotate")
ds.add_images_from_path("ann_images", embed=False)
first = sorted(ds, key=lambda s: s.file_name)[0]
first.add_annotation(CreateObjectDetection(label="car", x=500, y=350, width=100, height=80,
                                           confidence=0.8, annotation_source="model"))
def dump():
    s = ds.get_sample(first.sample_id)
    out = []
    for a in s.annotations:
        row = {"label": a.label, "type": str(a.annotation_type), "source": a.source}
        if hasattr(a, "x"):
            row["box"] = [a.x, a.y, a.width, a.height]
        if hasattr(a, "segmentation_mask"):
            row["area"] = int(sum(a.segmentation_mask[1::2]))
            row["polygon"] = a.polygon
        out.append(row)
    print("ANNS", json.dumps(out))
print("READY", len(ds))
"""

WIDGET = """
from lightly_studio.core.dataset_query import OrderByField, ImageSampleField as F
from lightly_studio.widgets._annotator import Annotator
an = Annotator(ds.query().order_by(OrderByField(F.file_name)), labels=["car", "person"], height=720)
an
"""


def _run(page, index: int) -> str:
    """Run a cell (again) and wait for a *new* execution count: the shared run_cell returns at
    once when a re-run cell still shows its previous count."""
    prompt = page.locator(".jp-Notebook .jp-CodeCell").nth(index).locator(".jp-InputPrompt")
    before = prompt.evaluate("e => e.textContent")
    if not any(ch.isdigit() for ch in before):
        return run_cell(page, index)
    cell = page.locator(".jp-Notebook .jp-CodeCell").nth(index)
    cell.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Escape")
    page.keyboard.press("Shift+Enter")
    page.wait_for_function(
        "([i, b]) => { const p = document.querySelectorAll('.jp-Notebook .jp-CodeCell')[i]"
        ".querySelector('.jp-InputPrompt').textContent; return /\\[\\d+\\]/.test(p) && p !== b; }",
        arg=[index, before],
        timeout=60_000,
    )
    return cell.locator(".jp-OutputArea").inner_text()


def _anns(page, cell: int) -> list[dict]:
    out = _run(page, cell)
    line = [ln for ln in out.splitlines() if ln.startswith("ANNS ")][-1]
    return json.loads(line[5:])


class Stage:
    """Screen <-> image pixel mapping read from the rendered image layer."""

    def __init__(self, page, width: int, height: int):
        self.page, self.w, self.h = page, width, height

    def rect(self):
        self.page.locator("[data-testid=ls-ann-stage]").scroll_into_view_if_needed()
        return self.page.locator("[data-testid=ls-ann-world] img").bounding_box()

    def screen(self, x: float, y: float) -> tuple[float, float]:
        r = self.rect()
        return r["x"] + x * r["width"] / self.w, r["y"] + y * r["height"] / self.h

    def drag(self, a: tuple[float, float], b: tuple[float, float], steps: int = 12) -> None:
        m = self.page.mouse
        m.move(*self.screen(*a))
        m.down()
        m.move(*self.screen(*b), steps=steps)
        m.up()

    def click(self, x: float, y: float) -> None:
        self.page.mouse.click(*self.screen(x, y))


def _keys(page, *keys: str) -> None:
    page.locator("[data-testid=ls-annotator]").focus()
    for k in keys:
        page.keyboard.press(k)


def _saved(page) -> None:
    page.wait_for_function(
        "() => { const r = document.querySelector('[data-testid=ls-annotator]');"
        " return r && r.dataset.pending === '0' &&"
        " /Saved|Undid|Redid/.test(document.querySelector('[data-testid=ls-ann-status]').textContent); }",
        timeout=20_000,
    )


def _set_brush(page, size: int) -> None:
    page.locator("[data-testid=ls-ann-brush-size]").evaluate(
        "(el, v) => { el.value = String(v); el.dispatchEvent(new Event('input')); }", size
    )


def _close(a, b, tol=1.0) -> bool:
    return all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


def test_annotate_with_mouse_and_keyboard(page, lab):
    base, folder = lab
    nb = write_notebook(
        folder,
        "annotator.ipynb",
        [
            SETUP,
            WIDGET,
            "dump()",
            "print('AT', an.index, an.sample.file_name)",
            "[a for a in ds.get_sample(first.sample_id).annotations"
            " if a.label == 'car' and a.source == 'ground_truth'][0]"
            ".set_box(x=10, y=10, width=30, height=30)\nprint('MOVED')",
        ],
    )
    open_notebook(page, base, nb)
    assert "READY 3" in run_cell(page, 0)
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text))
    out = run_cell(page, 1)
    root = page.locator("[data-testid=ls-annotator]")
    try:
        root.wait_for(timeout=30_000)
    except Exception:  # noqa: BLE001 - screenshot whatever went wrong, then fail with the context
        shot(page, "annotator-failed")
        raise AssertionError(
            f"annotator did not render; output {out!r}; console {console[-10:]}"
        ) from None
    page.wait_for_function(
        "() => { const i = document.querySelector('[data-testid=ls-ann-world] img');"
        " return i && i.complete && i.naturalWidth === 640; }",
        timeout=30_000,
    )
    assert "1 of 3" in page.locator("[data-testid=ls-ann-position]").inner_text()
    stage = Stage(page, 640, 480)
    scale = float(root.get_attribute("data-scale"))
    assert scale != 1.0  # the mapping below is really exercised at a non-native scale
    shot(page, "annotator-open")

    # Draw a box with the mouse (R = box tool): DB coordinates within 1 px of the drag.
    _keys(page, "r")
    stage.drag((100, 80), (300, 230))
    _saved(page)
    [box] = [a for a in _anns(page, 2) if a["source"] == "ground_truth"]
    assert box["label"] == "car" and _close(box["box"], [100, 80, 200, 150]), box

    # Move it (V = select), then resize by its bottom-right handle.
    _keys(page, "v")
    stage.drag((200, 150), (250, 170))
    _saved(page)
    stage.drag((350, 250), (400, 300))
    _saved(page)
    [box] = [a for a in _anns(page, 2) if a["source"] == "ground_truth"]
    assert _close(box["box"], [150, 100, 250, 200]), box
    shot(page, "annotator-box")

    # A polygon (P), closed with Enter: stored as an instance mask with the polygon kept.
    _keys(page, "Escape", "p")
    ring = [(420, 40), (620, 60), (600, 200), (430, 180)]
    for x, y in ring:
        stage.click(x, y)
    _keys(page, "Enter")
    _saved(page)
    [poly] = [a for a in _anns(page, 2) if a["type"] == "instance_segmentation"]
    flat = poly["polygon"][0]
    assert _close(flat, [v for xy in ring for v in xy]), flat
    assert poly["area"] > 0.9 * 26_000  # ~ shoelace area of the ring

    # Brush (B) a 20 px stroke into a new mask, then erase (E) a 10 px band across it.
    _keys(page, "Escape", "b")
    _set_brush(page, 20)
    stage.drag((100, 380), (300, 380), steps=20)
    _saved(page)
    masks = [a for a in _anns(page, 2) if a["type"] == "instance_segmentation" and not a["polygon"]]
    assert len(masks) == 1
    painted = masks[0]["area"]
    assert painted == int(root.get_attribute("data-last-mask-pixels"))  # exact round trip
    assert abs(painted - (200 * 20 + math.pi * 100)) < 0.03 * painted
    _keys(page, "e")
    _set_brush(page, 10)
    stage.drag((200, 350), (200, 410), steps=10)
    _saved(page)
    [mask] = [
        a for a in _anns(page, 2) if a["type"] == "instance_segmentation" and not a["polygon"]
    ]
    assert mask["area"] == int(root.get_attribute("data-last-mask-pixels"))
    assert abs((painted - mask["area"]) - 10 * 20) <= 30, (painted, mask["area"])
    shot(page, "annotator-masks")

    # A whole-image class, then undo and redo it with the keyboard.
    page.locator("[data-testid=ls-ann-class-input]").fill("outdoor")
    page.locator("[data-testid=ls-ann-class-input]").press("Enter")
    _saved(page)
    assert any(a["type"] == "classification" and a["label"] == "outdoor" for a in _anns(page, 2))
    _keys(page, "Control+z")
    _saved(page)
    assert not any(a["type"] == "classification" for a in _anns(page, 2))
    _keys(page, "Control+Shift+z")
    _saved(page)
    assert any(a["type"] == "classification" and a["label"] == "outdoor" for a in _anns(page, 2))

    # Accept the prediction into ground truth.
    page.locator(
        "[data-testid=ls-ann-list] .ls-ann-row[data-source=model] [data-testid=ls-ann-accept]"
    ).click()
    _saved(page)
    cars = [a for a in _anns(page, 2) if a["type"] == "object_detection"]
    assert sorted(a["source"] for a in cars) == ["ground_truth", "ground_truth", "model"]
    shot(page, "annotator-classified")

    # An edit from Python while the view is open shows up without a reload.
    assert "MOVED" in _run(page, 4)
    page.wait_for_selector(
        "[data-testid=ls-ann-world] svg rect[x='10'][y='10'][width='30']", timeout=15_000
    )

    # Zoom in on the cursor-free centre with "+", back to fit with "0".
    fit = float(root.get_attribute("data-scale"))
    _keys(page, "+", "+")
    assert float(root.get_attribute("data-scale")) == pytest.approx(fit * 1.5625)
    _keys(page, "0")
    assert float(root.get_attribute("data-scale")) == pytest.approx(fit)

    # Keyboard next / previous.
    _keys(page, "ArrowRight")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-annotator]').dataset.index === '1'",
        timeout=15_000,
    )
    assert "AT 1 img1.png" in _run(page, 3)
    _keys(page, "ArrowLeft")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-annotator]').dataset.index === '0'",
        timeout=15_000,
    )
    assert "AT 0 img0.png" in _run(page, 3)
    shot(page, "annotator-final")
