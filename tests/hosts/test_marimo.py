"""The explorer in marimo (`marimo run`, `mo.ui.anywidget`): its code comes from the kernel
(no Jupyter extension there), a selection in the view re-runs the dependent cell, and the
view follows marimo's theme, not the OS colour scheme."""

from __future__ import annotations

import pytest

from tests.browser.conftest import shot
from tests.hosts.conftest import serve

pytestmark = [pytest.mark.browser, pytest.mark.slow]

APP = """
import marimo

app = marimo.App()


@app.cell
def _():
    import marimo as mo
    import lightly_studio as ls
    from lightly_studio import db_manager

    db_manager.connect(db_file={db!r})
    ds = ls.ImageDataset.create("coco")
    ds.add_images_from_path({images!r}, embed=False)
    explorer = mo.ui.anywidget(ls.Explorer(ds, height=500))
    return explorer, mo


@app.cell
def _(explorer):
    explorer
    return


@app.cell
def _(explorer, mo):
    mo.md(f"SELECTED {{len(explorer.value['selected'])}}")
    return
"""

ROOT_BACKGROUND = (
    "() => { const find = (root) => { for (const el of root.querySelectorAll('*')) {"
    " if (el.matches('.ls-root[data-testid], .ls-root:has([data-testid=ls-grid])')) return el;"
    " if (el.shadowRoot) { const f = find(el.shadowRoot); if (f) return f; } } return null; };"
    " const el = find(document); return el && getComputedStyle(el).backgroundColor; }"
)


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_explorer_in_marimo_follows_its_theme(browser, tmp_path, examples, theme):
    images = examples / "coco_subset_128_images" / "images"
    (tmp_path / "app.py").write_text(APP.format(db=str(tmp_path / "studio.db"), images=str(images)))
    config = tmp_path / "config" / "marimo"
    config.mkdir(parents=True)
    (config / "marimo.toml").write_text(f'[display]\ntheme = "{theme}"\n')
    # The OS scheme says the opposite of marimo's: the view must follow marimo.
    os_scheme = "light" if theme == "dark" else "dark"
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, color_scheme=os_scheme)
    page = context.new_page()
    args = ["marimo", "run", "app.py", "--headless", "--host", "127.0.0.1", "--port", "{port}",
            "--no-token"]  # fmt: skip
    try:
        with serve(
            args, "/health", tmp_path, {"XDG_CONFIG_HOME": str(tmp_path / "config")}
        ) as base:
            page.goto(base + "/", wait_until="domcontentloaded")
            try:
                page.wait_for_selector("[data-testid=ls-grid] .ls-cell img", timeout=90_000)
            except Exception:
                shot(page, f"marimo-{theme}-failed")
                raise
            background = page.evaluate(ROOT_BACKGROUND)
            red = int(background.split("(")[1].split(",")[0])
            assert (red < 80) if theme == "dark" else (red > 200), background
            page.wait_for_selector("text=SELECTED 0")
            page.locator("[data-testid=ls-grid] .ls-cell").nth(0).click(modifiers=["Control"])
            page.wait_for_selector("text=SELECTED 1", timeout=20_000)
            shot(page, f"marimo-{theme}")
    finally:
        context.close()
