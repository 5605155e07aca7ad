"""The settings dialog (the toolbar's gear) in the full page, in a real browser: keyboard
shortcuts rebound by pressing the new key (conflicts refused, reset to the defaults) and the
grid options of a dataset, both stored in the database and back after a reload; the grid and
the detail view answer the new keys."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lightly_studio.db import get_connection
from lightly_studio.store import view_settings
from tests.conftest import docs_shot
from tests.server.test_app_browser import (  # noqa: F401 - fixtures used below
    _ids_by_name,
    _wait_for_thumbnails,
    page,
    small_dataset,
    small_gui,
)

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


def _open(page, gui, width: int = 1400) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(gui.url)
    _wait_for_thumbnails(page, 3)


def _settings(page):
    page.click("[data-testid=ls-settings-button]")
    dialog = page.locator("[data-testid=ls-settings]")
    dialog.wait_for(timeout=10_000)
    return dialog


def _rebind(page, action: str, key: str) -> str:
    """Click the action's key in the dialog, press ``key``; the dialog's message."""
    page.click(f"[data-testid='ls-shortcut-{action}'] button")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-settings-status]')"
        ".textContent.startsWith('Press the new key')"
    )
    page.keyboard.press(key)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=ls-settings-status]')"
        ".textContent.startsWith('Press the new key')"
    )
    return page.locator("[data-testid=ls-settings-status]").inner_text()


def _stored_shortcuts() -> dict:
    return view_settings.get_shortcuts(get_connection())


def _key_shown(page, action: str) -> str:
    return page.locator(f"[data-testid='ls-shortcut-{action}'] button").inner_text()


def test_a_rebound_key_opens_a_sample_and_survives_a_reload(small_gui, page):
    _open(page, small_gui)
    _settings(page)
    assert _key_shown(page, "grid.open") == "Enter"
    assert _rebind(page, "grid.open", "o") == "“open the focused sample” is now O."
    assert _stored_shortcuts() == {"grid.open": ["o"]}

    # A key another grid action uses is refused; nothing changes, in the page or the database.
    message = _rebind(page, "grid.clear", "o")
    assert message == "O is already “open the focused sample” in the grid."
    assert "ls-error" in page.locator("[data-testid=ls-settings-status]").get_attribute("class")
    assert _key_shown(page, "grid.clear") == "Esc"
    assert _stored_shortcuts() == {"grid.open": ["o"]}
    # Escape while waiting for a key cancels instead of binding it.
    assert _rebind(page, "grid.toggle", "Escape") == "Unchanged."
    docs_shot(page.locator("[data-testid=ls-settings] .ls-dialog-box"), "settings-dialog")
    page.keyboard.press("Escape")
    page.locator("[data-testid=ls-settings]").wait_for(state="detached")

    # The grid answers the new key, and no longer the old one.
    page.locator("[data-testid=ls-grid]").focus()
    page.keyboard.press("ArrowRight")  # focus the first sample
    page.keyboard.press("Enter")
    page.wait_for_timeout(300)
    assert page.locator("[data-testid=ls-detail]").count() == 0
    page.keyboard.press("o")
    page.locator("[data-testid=ls-detail] [data-testid=ls-detail-world] img").wait_for(
        timeout=10_000
    )
    page.keyboard.press("Escape")
    page.locator("[data-testid=ls-detail]").wait_for(state="detached")

    page.reload()
    _wait_for_thumbnails(page, 3)
    _settings(page)
    assert _key_shown(page, "grid.open") == "O"
    assert "ls-custom" in page.locator("[data-testid='ls-shortcut-grid.open']").get_attribute(
        "class"
    )
    page.click("[data-testid=ls-settings-keys-reset]")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-settings-status]')"
        ".textContent.startsWith('Every shortcut')"
    )
    assert _key_shown(page, "grid.open") == "Enter"
    assert _stored_shortcuts() == {}
    assert page.errors == []


def test_the_detail_view_follows_its_rebound_keys(small_gui, small_dataset, page):
    ids = _ids_by_name(small_dataset)
    _open(page, small_gui)
    _settings(page)
    assert _rebind(page, "detail.next", "n") == "“next sample” is now N."
    assert _rebind(page, "detail.close", "q") == "“close” is now Q."
    page.click("[data-testid=ls-settings-close]")
    page.locator(f"[data-testid=ls-grid] .ls-cell[data-sample-id='{ids['a.jpg']}']").click()
    page.locator("[data-testid=ls-detail] [data-testid=ls-detail-world] img").wait_for(
        timeout=10_000
    )
    crumbs = page.locator("[data-testid=ls-detail-crumbs]")
    first = crumbs.inner_text()
    assert "(n)" in page.locator("[data-testid=ls-detail-next]").get_attribute("title").lower()
    page.keyboard.press("n")
    page.wait_for_function(
        "t => document.querySelector('[data-testid=ls-detail-crumbs]').innerText !== t", arg=first
    )
    page.keyboard.press("Escape")  # no longer closes
    page.wait_for_timeout(300)
    assert page.locator("[data-testid=ls-detail]").count() == 1
    page.keyboard.press("q")
    page.locator("[data-testid=ls-detail]").wait_for(state="detached", timeout=5_000)
    assert page.errors == []


def _first_id(page) -> str:
    return page.evaluate(
        "() => document.querySelector('[data-testid=ls-grid] .ls-cell[data-sample-id]')"
        ".dataset.sampleId"
    )


def test_grid_options_are_kept_per_dataset_and_restored_when_the_page_opens(
    small_gui, small_dataset, page
):
    ids = _ids_by_name(small_dataset)
    _open(page, small_gui)
    dialog = _settings(page)
    dialog.locator("input[data-settings-overlay=boxes]").uncheck()
    dialog.locator("input[data-settings-overlay=names]").check()
    # Descending and back: the stored options say ascending.
    page.check("[data-testid=ls-settings-desc]")
    page.select_option("[data-testid=ls-settings-sort]", "width")
    page.uncheck("[data-testid=ls-settings-desc]")
    page.eval_on_selector(
        "[data-testid=ls-settings-size]",
        "el => { el.value = '250'; el.dispatchEvent(new Event('change')); }",
    )
    page.wait_for_function(
        "id => document.querySelector('[data-testid=ls-grid] .ls-cell[data-sample-id]')"
        "?.dataset.sampleId === id",
        arg=ids["c.jpg"],  # the narrowest first
    )
    # The View popover shows the same state.
    assert page.locator("[data-testid=ls-cell-size]").input_value() == "250"
    assert not page.locator("input[data-overlay=boxes]").is_checked()
    page.click("[data-testid=ls-settings-close]")

    expected = {
        "cell_size": 250,
        "overlays": {
            "boxes": False,
            "masks": True,
            "labels": False,
            "captions": False,
            "names": True,
            "issues": True,
        },
        "sort_field": "width",
        "sort_desc": False,
    }
    con = get_connection()
    page.wait_for_function("() => new Promise(r => setTimeout(() => r(true), 600))")
    assert view_settings.get_view_options(con, small_dataset.dataset_id) == expected

    page.reload()
    _wait_for_thumbnails(page, 3)
    page.wait_for_function(
        "id => document.querySelector('[data-testid=ls-grid] .ls-cell[data-sample-id]')"
        "?.dataset.sampleId === id",
        arg=ids["c.jpg"],
    )
    assert page.locator("[data-testid=ls-cell-size]").input_value() == "250"
    assert page.locator("[data-testid=ls-sort]").input_value() == "width"
    assert page.locator("[data-testid=ls-grid] .ls-cell svg rect").count() == 0
    cell_size = page.evaluate(
        "() => document.querySelector('[data-testid=ls-explorer]').__lsGrid.opts.cellSize"
    )
    assert cell_size == 250

    _settings(page)
    page.click("[data-testid=ls-settings-grid-reset]")
    page.wait_for_function(  # the file-path order again
        "id => document.querySelector('[data-testid=ls-grid] .ls-cell[data-sample-id]')"
        "?.dataset.sampleId === id",
        arg=ids["a.jpg"],
    )
    page.wait_for_function("() => new Promise(r => setTimeout(() => r(true), 600))")
    assert view_settings.get_view_options(con, small_dataset.dataset_id) is None
    assert page.errors == []
