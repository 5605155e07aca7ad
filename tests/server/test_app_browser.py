"""The full-page app in a real browser (Playwright + Debian's /usr/bin/chromium, headless).

- from a script: ``start_gui()`` on the example COCO subset; load, filter by a label, open a
  sample; the screenshot becomes docs/images/app.png (the README's);
- live: a tag added from Python shows in the open page without a reload;
- XSS: labels and file names like ``<img src=x onerror=…>`` are shown as text, never run;
- through JupyterLab: the same page under ``/lightly-studio/``, calls forwarded to this process.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
COCO = "coco_subset_128_images"
CHROMIUM = "/usr/bin/chromium"
XSS = "<img src=x onerror=window.__xss=1>"

pytestmark = [
    pytest.mark.browser, pytest.mark.slow,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium"),
    pytest.mark.skipif(not (REPO / "lightly_studio/static/app.js").exists(),
                       reason="JS bundle not built (npm run build)"),
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
                 .filter(i => i.complete && i.naturalWidth > 0).length >= {n}""", timeout=30_000)


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
    script.write_text(SCRIPT.format(repo=str(REPO), db=str(tmp_path / "ls.db"),
                                    ann=str(coco / "instances_train2017.json"),
                                    images=str(coco / "images")))
    port = _free_port()
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "LIGHTLY_STUDIO_PORT": str(port),
                                 "LIGHTLY_STUDIO_RUNTIME_DIR": str(tmp_path / "rt")})
    try:
        line = ""
        while "running at" not in line:
            line = proc.stdout.readline()
            assert line or proc.poll() is None, "the script ended without serving"
        assert f"http://127.0.0.1:{port}/" in line  # LIGHTLY_STUDIO_PORT honoured

        page.goto(f"http://127.0.0.1:{port}/")
        _wait_for_thumbnails(page, 18)  # every cell in the first screenful
        assert _count_text(page).startswith("128 of 128")
        docs = REPO / "docs" / "images"
        docs.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(docs / "app.png"))  # the README's screenshot
        assert page.locator("[data-testid=ls-dataset-picker] option").all_inner_texts() == [
            "coco (128 images)"]

        _filter_by_label(page, "zebra")
        page.wait_for_function(
            "() => /^\\d+ of 128/.test(document.querySelector('[data-testid=ls-count]').textContent)"
            " && !document.querySelector('[data-testid=ls-count]').textContent.startsWith('128')")
        filtered = int(_count_text(page).split()[0])
        assert 0 < filtered < 128
        _wait_for_thumbnails(page, min(filtered, 2))

        _open_first_cell(page)
        detail = page.locator("[data-testid=ls-detail]")
        page.wait_for_function(
            "() => { const i = document.querySelector('[data-testid=ls-detail] img');"
            " return i && i.complete && i.naturalWidth > 0; }", timeout=15_000)
        assert "zebra" in detail.inner_text()
        artifacts = REPO / "test-artifacts"
        artifacts.mkdir(exist_ok=True)
        page.screenshot(path=str(artifacts / "app-detail.png"))
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
    ann = {"images": [{"id": i + 1, "file_name": p.name, "width": w, "height": h}
                      for i, (p, (w, h)) in enumerate(zip(paths, [(80, 60), (60, 80)], strict=True))],
           "categories": [{"id": 1, "name": XSS}, {"id": 2, "name": "dog"}],
           "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [5, 5, 30, 20],
                            "area": 600, "iscrowd": 0},
                           {"id": 2, "image_id": 2, "category_id": 2, "bbox": [1, 1, 10, 10],
                            "area": 100, "iscrowd": 0}]}
    (tmp_path / "ann.json").write_text(json.dumps(ann))
    dataset = ls.ImageDataset.create(name=f"xss {XSS}")
    dataset.add_samples_from_coco(annotations_json=str(tmp_path / "ann.json"),
                                  images_path=str(images), embed=False)
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
        " && document.querySelectorAll('[data-testid=ls-grid] .ls-cell[data-sample-id]').length == 1")
    _open_first_cell(page)
    page.wait_for_timeout(500)
    assert XSS in page.locator("[data-testid=ls-detail]").inner_text()  # shown literally
    assert XSS in page.locator("[data-testid=ls-dataset-picker]").inner_text()
    assert page.evaluate("window.__xss") is None
    assert page.evaluate("document.querySelectorAll('img[src=x]').length") == 0
    assert page.errors == []


def test_edits_from_python_appear_in_the_open_page_without_reload(page, gui, xss_dataset):
    from lightly_studio.core.tags import tag_sample_ids
    from lightly_studio.db import get_connection

    page.goto(gui.url)
    _wait_for_thumbnails(page, 2)
    page.wait_for_function("() => window.__lightlyStudio !== undefined")
    assert page.locator("[data-testid=ls-tag-filters]").count() == 0
    ids = [s.sample_id for s in xss_dataset]
    tag_sample_ids(get_connection(), xss_dataset.dataset_id, "from_python", ids[:1])
    page.locator("[data-testid=ls-tag-filters] label[data-name=from_python]").wait_for(
        timeout=10_000)
    assert page.locator("[data-testid=ls-connection]").inner_text() == "live"


LAB_TOKEN = "lab-browser-token"


@pytest.fixture
def lab(tmp_path):
    port = _free_port()
    env = {**os.environ, "LIGHTLY_STUDIO_RUNTIME_DIR": str(tmp_path / "rt"),
           "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "jrt")}
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip", "127.0.0.1",
           f"--port={port}", f"--IdentityProvider.token={LAB_TOKEN}", "--allow-root",
           "--ServerApp.jpserver_extensions={'lightly_studio.server.jupyter': True}",
           f"--ServerApp.root_dir={tmp_path}"]
    if shutil.which("jupyter") is None and not (Path(sys.executable).parent / "jupyter").exists():
        pytest.skip("jupyterlab not installed")
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            urllib.request.urlopen(f"{base}/api/status?token={LAB_TOKEN}", timeout=2)
            break
        except OSError:
            assert proc.poll() is None and time.time() < deadline, "JupyterLab did not start"
            time.sleep(0.3)
    yield base
    proc.terminate()
    proc.wait(15)


def test_the_app_through_jupyterlabs_lightly_studio_route(page, gui, lab):
    page.goto(f"{lab}/lightly-studio/?token={LAB_TOKEN}")
    _wait_for_thumbnails(page, 2)
    assert _count_text(page).startswith("2 of 2")
    _filter_by_label(page, "dog")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-count]').textContent.startsWith('1 of 2')")
    # A POST that edits: tagging from the page goes through Jupyter (login + XSRF) to the kernel.
    page.fill("[data-testid=ls-tag-input]", "via_lab")
    page.click("[data-testid=ls-tag-button]")
    page.locator("[data-testid=ls-tag-filters] label[data-name=via_lab]").wait_for(timeout=10_000)
    assert page.errors == []
