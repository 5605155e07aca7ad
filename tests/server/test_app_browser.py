"""The full-page app in a real browser (Playwright + Debian's /usr/bin/chromium, headless).

- from a script: ``start_gui()`` on the example COCO subset; load, filter by a label, open a
  sample; ``make screenshots`` writes its pictures to docs/images/ (app.png is the README's);
- live: a tag added from Python shows in the open page without a reload;
- XSS: labels and file names like ``<img src=x onerror=…>`` are shown as text, never run;
- through JupyterLab: the same page under ``/lightly-studio/``, calls forwarded to this process.
- AI text search: stored vectors + a registered toy text encoder give a known ranking;
- edit a box: "Edit labels" opens the annotator over the page, a mouse-drawn box is in the DB;
- export: COCO detections of the whole dataset (ignoring the current filter) from the dialog.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.conftest import docs_shot

REPO = Path(__file__).resolve().parents[2]
COCO = "coco_subset_128_images"
CHROMIUM = "/usr/bin/chromium"
XSS = "<img src=x onerror=window.__xss=1>"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium"),
    pytest.mark.skipif(
        not (REPO / "lightly_studio/static/app.js").exists(),
        reason="JS bundle not built (npm run build)",
    ),
]


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.errors = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("dialog", lambda d: (page.errors.append(f"dialog {d.message}"), d.dismiss()))
    yield page
    context.close()


def _wait_for_thumbnails(page, n: int = 3) -> None:
    page.wait_for_function(
        f"""() => [...document.querySelectorAll('[data-testid=ls-grid] img')]
                 .filter(i => i.complete && i.naturalWidth > 0).length >= {n}""",
        timeout=30_000,
    )


def _count_text(page) -> str:
    return page.locator("[data-testid=ls-count]").first.inner_text()


def _filter_by_label(page, label: str) -> None:
    page.locator(f"[data-testid=ls-label-filters] label[data-name='{label}'] input").check()


def _open_first_cell(page) -> None:
    """Click the first cell's image; retried, since a grid re-render may swap the cell."""
    for _ in range(3):
        page.locator("[data-testid=ls-grid] .ls-cell[data-sample-id]").first.click()
        try:
            page.locator("[data-testid=ls-detail]").wait_for(timeout=5_000)
            return
        except Exception:  # noqa: BLE001 - playwright's TimeoutError; try again
            continue
    page.locator("[data-testid=ls-detail]").wait_for(timeout=5_000)


SCRIPT = textwrap.dedent("""
    import sys
    sys.path.insert(0, {repo!r})
    import lightly_studio as ls
    from lightly_studio import db_manager

    db_manager.connect(db_file={db!r})
    dataset = ls.ImageDataset.create(name="coco")
    dataset.add_samples_from_coco(annotations_json={ann!r}, images_path={images!r}, embed=False)
    ls.start_gui()
""")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_app_started_from_a_script_loads_filters_and_opens_a_sample(page, examples, tmp_path):
    coco = examples / COCO
    script = tmp_path / "example.py"
    script.write_text(
        SCRIPT.format(
            repo=str(REPO),
            db=str(tmp_path / "ls.db"),
            ann=str(coco / "instances_train2017.json"),
            images=str(coco / "images"),
        )
    )
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        text=True,
        env={
            **os.environ,
            "LIGHTLY_STUDIO_PORT": str(port),
            "LIGHTLY_STUDIO_RUNTIME_DIR": str(tmp_path / "rt"),
        },
    )
    try:
        line = ""
        while "running at" not in line:
            line = proc.stdout.readline()
            assert line or proc.poll() is None, "the script ended without serving"
        assert f"http://127.0.0.1:{port}/" in line  # LIGHTLY_STUDIO_PORT honoured

        page.goto(f"http://127.0.0.1:{port}/")
        _wait_for_thumbnails(page, 18)  # every cell in the first screenful
        assert _count_text(page).startswith("128 of 128")
        docs_shot(page, "app")  # the README's screenshot
        assert page.locator("[data-testid=ls-dataset-picker] option").all_inner_texts() == [
            "coco (128 images)"
        ]

        _filter_by_label(page, "zebra")
        page.wait_for_function(
            "() => /^\\d+ of 128/.test(document.querySelector('[data-testid=ls-count]').textContent)"
            " && !document.querySelector('[data-testid=ls-count]').textContent.startsWith('128')"
        )
        filtered = int(_count_text(page).split()[0])
        assert 0 < filtered < 128
        _wait_for_thumbnails(page, min(filtered, 2))

        _open_first_cell(page)
        detail = page.locator("[data-testid=ls-detail]")
        page.wait_for_function(
            "() => { const i = document.querySelector('[data-testid=ls-detail] img');"
            " return i && i.complete && i.naturalWidth > 0; }",
            timeout=15_000,
        )
        assert "zebra" in detail.inner_text()
        docs_shot(page, "app-detail")
        assert page.errors == []
    finally:
        proc.send_signal(2)  # Ctrl-C
        out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0 and "LightlyStudio stopped." in out


@pytest.fixture
def xss_dataset(db, tmp_path):
    """Two images; a file name, a label and a tag that are HTML payloads."""
    import lightly_studio as ls
    from tests.conftest import make_images

    images = tmp_path / "imgs"
    paths = make_images(images, {f"{XSS}.jpg": (80, 60), "plain.jpg": (60, 80)})
    ann = {
        "images": [
            {"id": i + 1, "file_name": p.name, "width": w, "height": h}
            for i, (p, (w, h)) in enumerate(zip(paths, [(80, 60), (60, 80)], strict=True))
        ],
        "categories": [{"id": 1, "name": XSS}, {"id": 2, "name": "dog"}],
        "annotations": [
            {
                "id": 1,
                "image_id": 1,
                "category_id": 1,
                "bbox": [5, 5, 30, 20],
                "area": 600,
                "iscrowd": 0,
            },
            {
                "id": 2,
                "image_id": 2,
                "category_id": 2,
                "bbox": [1, 1, 10, 10],
                "area": 100,
                "iscrowd": 0,
            },
        ],
    }
    (tmp_path / "ann.json").write_text(json.dumps(ann))
    dataset = ls.ImageDataset.create(name=f"xss {XSS}")
    dataset.add_samples_from_coco(
        annotations_json=str(tmp_path / "ann.json"), images_path=str(images), embed=False
    )
    return dataset


@pytest.fixture
def gui(xss_dataset, tmp_path, monkeypatch):
    monkeypatch.setenv("LIGHTLY_STUDIO_RUNTIME_DIR", str(tmp_path / "rt"))
    from lightly_studio.server import start_gui

    server = start_gui(port=0, block=False)
    yield server
    server.stop()


def test_user_strings_are_shown_as_text_never_run(page, gui):
    page.goto(gui.url)
    _wait_for_thumbnails(page, 2)
    _filter_by_label(page, XSS)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-count]').textContent.startsWith('1 of 2')"
        " && document.querySelectorAll('[data-testid=ls-grid] .ls-cell[data-sample-id]').length == 1"
    )
    _open_first_cell(page)
    page.wait_for_timeout(500)
    assert XSS in page.locator("[data-testid=ls-detail]").inner_text()  # shown literally
    assert XSS in page.locator("[data-testid=ls-dataset-picker]").inner_text()
    assert page.evaluate("window.__xss") is None
    assert page.evaluate("document.querySelectorAll('img[src=x]').length") == 0
    assert page.errors == []


def test_edits_from_python_appear_in_the_open_page_without_reload(page, gui, xss_dataset):
    from lightly_studio.db import get_connection
    from lightly_studio.store.tags import tag_sample_ids

    page.goto(gui.url)
    _wait_for_thumbnails(page, 2)
    page.wait_for_function("() => window.__lightlyStudio !== undefined")
    # The tag section itself may already show (it holds the "assign a tag" box); the new
    # tag's row is what must appear without a reload.
    from_python = page.locator("[data-testid=ls-tag-filters] label[data-name=from_python]")
    assert from_python.count() == 0
    ids = [s.sample_id for s in xss_dataset]
    tag_sample_ids(get_connection(), xss_dataset.dataset_id, "from_python", ids[:1])
    from_python.wait_for(timeout=10_000)
    assert page.locator("[data-testid=ls-connection]").inner_text() == "live"


LAB_TOKEN = "lab-browser-token"


@pytest.fixture
def lab(tmp_path):
    from tests.browser.conftest import running_jupyterlab

    with running_jupyterlab(
        tmp_path,
        token=LAB_TOKEN,
        args=["--ServerApp.jpserver_extensions={'lightly_studio.server.jupyter': True}"],
        env={"LIGHTLY_STUDIO_RUNTIME_DIR": str(tmp_path / "rt")},
    ) as base:
        yield base


def test_the_app_through_jupyterlabs_lightly_studio_route(page, gui, lab):
    page.goto(f"{lab}/lightly-studio/?token={LAB_TOKEN}")
    _wait_for_thumbnails(page, 2)
    assert _count_text(page).startswith("2 of 2")
    _filter_by_label(page, "dog")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-count]').textContent.startsWith('1 of 2')"
    )
    # A POST that edits: tagging from the page goes through Jupyter (login + XSRF) to the kernel.
    page.fill("[data-testid=ls-tag-input]", "via_lab")
    page.click("[data-testid=ls-tag-button]")
    page.locator("[data-testid=ls-tag-filters] label[data-name=via_lab]").wait_for(timeout=10_000)
    assert page.errors == []


# -- text search, box editing and export on the full page ---------------------------------
# Three solid-colour images with one COCO box each; 640x480 first so the annotator shows it at
# a non-native scale.
SIZES = {"a.jpg": (640, 480), "b.jpg": (320, 240), "c.jpg": (200, 150)}
LABELS = {"a.jpg": "cat", "b.jpg": "dog", "c.jpg": "cat"}
# Known vectors: the toy text encoder maps "red" to a's direction and "blue" to c's, so the
# cosine ranking of each query is fixed (blue: c 1.0, b 0.6, a 0.0; red: a 1.0, b 0.8, c 0.0).
TOY_VECTORS = {"a.jpg": [1.0, 0.0, 0.0], "b.jpg": [0.8, 0.0, 0.6], "c.jpg": [0.0, 0.0, 1.0]}
TOY_TEXTS = {"red": [1.0, 0.0, 0.0], "blue": [0.0, 0.0, 1.0]}


class ToyTextModel:
    """An encoder whose text vectors are looked up, so text search ranks deterministically."""

    name = "toy"

    def embed_images(self, images):
        raise AssertionError("the test stores its own image vectors")

    def embed_texts(self, texts):
        import numpy as np

        return np.array([TOY_TEXTS[t] for t in texts], dtype=np.float32)


@pytest.fixture
def small_dataset(db, tmp_path):
    """a.jpg 640x480 (cat), b.jpg 320x240 (dog), c.jpg 200x150 (cat); one box each."""
    import lightly_studio as ls
    from tests.conftest import make_images

    images = tmp_path / "small"
    paths = make_images(images, SIZES)
    ann = {
        "images": [
            {
                "id": i + 1,
                "file_name": p.name,
                "width": SIZES[p.name][0],
                "height": SIZES[p.name][1],
            }
            for i, p in enumerate(paths)
        ],
        "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}],
        "annotations": [
            {
                "id": i + 1,
                "image_id": i + 1,
                "category_id": 1 if LABELS[p.name] == "cat" else 2,
                "bbox": [10, 10, 40, 30],
                "area": 1200,
                "iscrowd": 0,
            }
            for i, p in enumerate(paths)
        ],
    }
    (tmp_path / "small.json").write_text(json.dumps(ann))
    dataset = ls.ImageDataset.create(name="small")
    dataset.add_samples_from_coco(
        annotations_json=str(tmp_path / "small.json"), images_path=str(images), embed=False
    )
    return dataset


@pytest.fixture
def small_gui(small_dataset, tmp_path, monkeypatch):
    """The app on the small dataset. Tests list ``page`` after this fixture, so the page closes
    first and no request is in flight when the server stops."""
    import threading

    monkeypatch.setenv("LIGHTLY_STUDIO_RUNTIME_DIR", str(tmp_path / "rt"))
    from lightly_studio.server import start_gui

    server = start_gui(port=0, block=False)
    yield server
    server.stop()
    # stop() does not wait for API calls still running on its worker threads; closing the DB
    # under one raises "connection is busy", so let them finish first.
    deadline = time.time() + 10
    while time.time() < deadline and any(
        t.name.startswith("lightly-studio-") for t in threading.enumerate()
    ):
        time.sleep(0.05)


@pytest.fixture
def toy_embeddings(small_dataset):
    """Vectors of TOY_VECTORS under model "toy", searchable by text through ToyTextModel.
    Stored before the server starts, so no live refresh re-renders the search box mid-typing."""
    from lightly_studio.embed.models import register_embedding_model, unregister_embedding_model

    ids = _ids_by_name(small_dataset)
    names = sorted(TOY_VECTORS)
    small_dataset.add_embeddings("toy", [ids[n] for n in names], [TOY_VECTORS[n] for n in names])
    register_embedding_model(ToyTextModel(), name="toy")
    yield ids
    unregister_embedding_model("toy")


def _ids_by_name(dataset) -> dict[str, str]:
    return {s.file_name: str(s.sample_id) for s in dataset}


def _grid_ids(page) -> list[str]:
    return page.eval_on_selector_all(
        "[data-testid=ls-grid] .ls-cell[data-sample-id]",
        "cells => cells.map(c => c.dataset.sampleId)",
    )


def _wait_first_cell(page, sample_id: str) -> None:
    page.wait_for_function(
        "id => { const c = document.querySelector('[data-testid=ls-grid] .ls-cell[data-sample-id]');"
        " return c && c.dataset.sampleId === id; }",
        arg=sample_id,
        timeout=15_000,
    )


def test_ai_text_search_ranks_the_grid_by_the_registered_text_model(
    toy_embeddings, small_gui, page
):
    ids = toy_embeddings
    page.goto(small_gui.url)
    _wait_for_thumbnails(page, 3)
    assert _grid_ids(page)[0] != ids["c.jpg"]  # the search below must change the order

    box = page.locator("[data-testid=ls-text-search]")
    box.fill("blue")
    box.press("Enter")
    _wait_first_cell(page, ids["c.jpg"])
    assert _grid_ids(page) == [ids["c.jpg"], ids["b.jpg"], ids["a.jpg"]]
    assert _count_text(page).startswith("3 of 3")  # ranked, not filtered

    box.fill("red")
    box.press("Enter")
    _wait_first_cell(page, ids["a.jpg"])
    assert _grid_ids(page) == [ids["a.jpg"], ids["b.jpg"], ids["c.jpg"]]
    assert page.errors == []


def _image_box(page) -> dict:
    page.locator("[data-testid=ls-ann-stage]").scroll_into_view_if_needed()
    return page.locator("[data-testid=ls-ann-world] img").bounding_box()


def _to_screen(rect: dict, size: tuple[int, int], x: float, y: float) -> tuple[float, float]:
    return rect["x"] + x * rect["width"] / size[0], rect["y"] + y * rect["height"] / size[1]


def test_a_box_drawn_in_the_full_page_annotator_lands_in_the_db(small_gui, small_dataset, page):
    ids = _ids_by_name(small_dataset)
    page.goto(small_gui.url)
    _wait_for_thumbnails(page, 3)
    page.locator(f"[data-testid=ls-grid] .ls-cell[data-sample-id='{ids['a.jpg']}']").click()
    page.locator("[data-testid=ls-detail]").wait_for(timeout=10_000)
    page.click("[data-testid=ls-detail-edit]")
    root = page.locator("[data-testid=ls-annotator-host] [data-testid=ls-annotator]")
    root.wait_for(timeout=15_000)
    page.wait_for_function(
        "() => { const i = document.querySelector('[data-testid=ls-ann-world] img');"
        " return i && i.complete && i.naturalWidth === 640; }",
        timeout=15_000,
    )
    assert root.get_attribute("data-sample-id") == ids["a.jpg"]
    assert float(root.get_attribute("data-scale")) != 1.0  # the screen mapping really matters

    page.fill("[data-testid=ls-ann-label-input]", "dog")
    page.click("[data-testid=ls-ann-tool-box]")
    rect = _image_box(page)
    page.mouse.move(*_to_screen(rect, SIZES["a.jpg"], 100, 80))
    page.mouse.down()
    page.mouse.move(*_to_screen(rect, SIZES["a.jpg"], 300, 230), steps=12)
    page.mouse.up()
    page.wait_for_function(
        "() => { const r = document.querySelector('[data-testid=ls-annotator]');"
        " return r && r.dataset.pending === '0' &&"
        " /Saved/.test(document.querySelector('[data-testid=ls-ann-status]').textContent); }",
        timeout=15_000,
    )

    sample = small_dataset.get_sample(ids["a.jpg"])
    boxes = sorted(
        ((a.label, a.x, a.y, a.width, a.height) for a in sample.annotations), key=lambda b: b[1]
    )
    assert len(boxes) == 2 and boxes[0][:1] == ("cat",)  # the imported box is untouched
    label, *drawn = boxes[1]
    assert label == "dog"
    assert all(abs(v - e) <= 1.5 for v, e in zip(drawn, [100, 80, 200, 150], strict=True)), drawn

    page.click("[data-testid=ls-annotator-close]")
    page.locator("[data-testid=ls-annotator-host]").wait_for(state="detached", timeout=5_000)
    assert page.errors == []


def test_export_the_whole_dataset_as_coco_from_the_full_page(small_gui, small_dataset, page):
    page.goto(small_gui.url)
    _wait_for_thumbnails(page, 3)
    _filter_by_label(page, "dog")  # "Whole dataset" must ignore the current filter
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-count]').textContent.startsWith('1 of 3')"
    )

    page.click("[data-testid=ls-export]")
    dialog = page.locator("[role=dialog][aria-label=Export]")
    dialog.wait_for(timeout=10_000)
    page.select_option("[data-testid=ls-export-format]", "coco_object_detections")
    page.select_option("[data-testid=ls-export-scope]", "all")
    dialog.locator("button.ls-primary").click()
    message = page.locator("[data-testid=ls-export-message]")
    page.wait_for_function(
        "() => /^Wrote |error/i.test(document.querySelector('[data-testid=ls-export-message]')"
        ".textContent)",
        timeout=30_000,
    )
    text = message.inner_text()
    assert text.startswith("Wrote 3 samples to "), text

    path = Path(text.removeprefix("Wrote 3 samples to ").strip())
    assert path.is_file(), path
    coco = json.loads(path.read_text())
    assert sorted(Path(i["file_name"]).name for i in coco["images"]) == sorted(SIZES)
    assert {(i["width"], i["height"]) for i in coco["images"]} == set(SIZES.values())
    assert len(coco["annotations"]) == 3
    names = {c["id"]: c["name"] for c in coco["categories"]}
    by_image = {i["id"]: Path(i["file_name"]).name for i in coco["images"]}
    assert {by_image[a["image_id"]]: names[a["category_id"]] for a in coco["annotations"]} == LABELS
    assert all(a["bbox"] == [10, 10, 40, 30] for a in coco["annotations"])
    assert page.errors == []
