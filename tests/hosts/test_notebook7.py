"""The explorer in Notebook 7 (`jupyter notebook`): it renders, its selection reaches Python,
and its code comes once from the Jupyter extension, not from each widget's state."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest

from tests.browser.conftest import TOKEN, shot, write_notebook
from tests.hosts.conftest import serve

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SETUP = """
import os
import lightly_studio as ls
from lightly_studio import db_manager
db_manager.connect(db_file=os.path.join(os.getcwd(), "studio.db"))
ds = ls.ImageDataset.create("coco")
ds.add_images_from_path("{images}", embed=False)
"""


def wait_idle(base: str, timeout: float = 60) -> None:
    """Until the notebook's kernel exists and is idle."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        kernels = json.load(urllib.request.urlopen(f"{base}/api/kernels?token={TOKEN}"))
        if kernels and all(k["execution_state"] == "idle" for k in kernels):
            return
        time.sleep(0.3)
    raise AssertionError("the kernel did not become idle")


def run_cell(page, base: str, index: int) -> None:
    """Run cell ``index`` (Shift+Enter; the first press is sometimes lost) and wait for its
    prompt number."""
    cell = page.locator(".jp-Notebook .jp-CodeCell").nth(index)
    for _attempt in range(3):
        cell.locator(".jp-InputArea-editor").click()
        page.keyboard.press("Escape")
        page.keyboard.press("Shift+Enter")
        try:
            cell.locator(".jp-InputPrompt").filter(has_text="[").filter(has_not_text="[ ]").filter(
                has_not_text="[*]"
            ).wait_for(timeout=60_000)
            return
        except Exception:  # noqa: BLE001 - retried; the third failure fails the wait below
            continue
    raise AssertionError(f"cell {index} did not run")


def test_explorer_in_notebook7(page, tmp_path, examples):
    images = examples / "coco_subset_128_images" / "images"
    cells = [
        SETUP.format(images=images),
        "explorer = ds.show()",
        "print('SELECTED', len(explorer.selected))",
    ]
    name = write_notebook(tmp_path, "hosts.ipynb", cells)
    bundle_requests = []
    page.on(
        "response",
        lambda r: (
            bundle_requests.append(r.status) if "lightly-studio/static/widget.js" in r.url else None
        ),
    )
    args = [
        "notebook", "--no-browser", "--ip", "127.0.0.1", "--port", "{port}", "--allow-root",
        f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={tmp_path}",
        "--ServerApp.disable_check_xsrf=True",
    ]  # fmt: skip
    with serve(args, f"/api/status?token={TOKEN}", tmp_path) as base:
        page.goto(f"{base}/notebooks/{name}?token={TOKEN}", wait_until="domcontentloaded")
        page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=60_000)
        wait_idle(base)
        run_cell(page, base, 0)
        run_cell(page, base, 1)
        try:
            page.wait_for_selector("[data-testid=ls-grid] .ls-cell img", timeout=60_000)
        except Exception:
            shot(page, "notebook7-failed")
            raise
        assert "128 of 128" in page.locator("[data-testid=ls-count]").inner_text()
        # One fetch of the view's code from the extension, for the page.
        assert bundle_requests == [200]
        page.locator("[data-testid=ls-grid] .ls-cell").nth(0).click(modifiers=["Control"])
        page.wait_for_selector("[data-testid=ls-selected-count]:has-text('1 selected')")
        run_cell(page, base, 2)
        output = page.locator(".jp-Notebook .jp-CodeCell").nth(2).locator(".jp-OutputArea")
        assert "SELECTED 1" in output.inner_text()
        shot(page, "notebook7-explorer")
