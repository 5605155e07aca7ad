"""The Annotations view in a real browser (full page, start_gui): a grid of object crops.

- the Samples | Annotations switch shows one crop per box, each an image with its class;
- filters by class narrow the crops; "Select all"/Ctrl+A, Shift+click and the check box select;
- relabel, tag and delete act on the selection in one step each, and Ctrl+Z / the Undo button
  revert them (the database says so, not just the page);
- clicking a crop opens the annotator on its sample with that annotation selected.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser.conftest import CHROMIUM
from tests.browser.test_query_box import app_page, gui, small_dataset  # noqa: F401 - fixtures
from tests.conftest import docs_shot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium"),
]

SHOTS = Path(os.environ.get("LIGHTLY_STUDIO_SHOTS", "/work/wt/panels-crops-shots"))


def _crops_count(page, text: str) -> None:
    page.wait_for_function(
        "t => document.querySelector('[data-testid=ls-crops-count]')?.textContent === t",
        arg=text,
        timeout=20_000,
    )


def _selected(page, n: int) -> None:
    page.wait_for_function(
        "n => (document.querySelector('[data-testid=ls-crops-selected]').textContent || '0')"
        ".startsWith(String(n))",
        arg=n,
        timeout=10_000,
    )


def _crop_images_loaded(page, n: int) -> None:
    page.wait_for_function(
        f"""() => [...document.querySelectorAll('[data-testid=ls-crops-grid] img')]
                 .filter(i => i.complete && i.naturalWidth > 0).length >= {n}""",
        timeout=20_000,
    )


def _labels(dataset) -> list[str]:
    return sorted(a.label for s in dataset for a in s.annotations)


def _cell(page, i: int):
    return page.locator(f"[data-testid=ls-crops-grid] .ls-crop[data-index='{i}']")


def test_annotations_view_selects_relabels_tags_deletes_and_undoes(gui, app_page, small_dataset):
    page = app_page
    page.goto(gui.url)
    page.locator("[data-testid=ls-mode-annotations]").click()
    _crops_count(page, "Showing 4 annotations")
    _crop_images_loaded(page, 4)
    if SHOTS.parent.exists():
        SHOTS.mkdir(exist_ok=True)
        for width in (1024, 1400, 2560):
            page.set_viewport_size({"width": width, "height": 900})
            page.wait_for_timeout(400)
            _crop_images_loaded(page, 4)
            page.screenshot(path=str(SHOTS / f"annotations-{width}.png"))
        page.set_viewport_size({"width": 1400, "height": 900})
    docs_shot(page, "annotations-view")

    # Filter by class.
    page.locator("[data-testid=ls-crops-label]").select_option("dog")
    _crops_count(page, "Showing 2 annotations")
    page.locator("[data-testid=ls-crops-label]").select_option("")
    _crops_count(page, "Showing 4 annotations")
    _crop_images_loaded(page, 4)

    # Ctrl+A selects the whole filter; relabel them all in one step, then Ctrl+Z.
    page.locator("[data-testid=ls-crops-grid]").focus()
    page.keyboard.press("Control+a")
    _selected(page, 4)
    page.locator("[data-testid=ls-crops-relabel-input]").fill("bird")
    page.locator("[data-testid=ls-crops-relabel]").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-undo]').disabled === false", timeout=10_000
    )
    assert _labels(small_dataset) == ["bird"] * 4
    page.locator("[data-testid=ls-crops-grid]").focus()
    page.keyboard.press("Control+z")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-undo]').disabled === true", timeout=10_000
    )
    assert _labels(small_dataset) == ["cat", "cat", "dog", "dog"]

    # Check box on the first crop, Shift+click the third: three selected; tag their samples.
    _crop_images_loaded(page, 4)
    _cell(page, 0).locator("[data-role=check]").click()
    _cell(page, 2).click(modifiers=["Shift"])
    _selected(page, 3)
    page.locator("[data-testid=ls-crops-tag-input]").fill("checked")
    page.locator("[data-testid=ls-crops-tag-button]").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-undo]').disabled === false", timeout=10_000
    )
    assert sum("checked" in s.tags for s in small_dataset) == 3
    page.locator("[data-testid=ls-undo]").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-undo]').disabled === true", timeout=10_000
    )
    assert sum("checked" in s.tags for s in small_dataset) == 0

    # Delete one, then undo brings it back.
    _crop_images_loaded(page, 4)
    _cell(page, 1).locator("[data-role=check]").click()
    _selected(page, 1)
    page.locator("[data-testid=ls-crops-delete]").click()
    _crops_count(page, "Showing 3 annotations")
    assert len(_labels(small_dataset)) == 3
    page.locator("[data-testid=ls-undo]").click()
    _crops_count(page, "Showing 4 annotations")
    assert len(_labels(small_dataset)) == 4

    # A plain click opens the annotator on that crop's sample, the annotation selected.
    _crop_images_loaded(page, 4)
    cell = _cell(page, 3)
    annotation_id = cell.get_attribute("data-annotation-id")
    cell.click()
    root = page.locator("[data-testid=ls-annotator-host] [data-testid=ls-annotator]")
    root.wait_for(timeout=15_000)
    page.locator(f".ls-ann-row.ls-selected[data-ann='{annotation_id}']").wait_for(timeout=15_000)
    sample = next(
        s
        for s in small_dataset
        if any(str(a.annotation_id) == annotation_id for a in s.annotations)
    )
    assert root.get_attribute("data-sample-id") == str(sample.sample_id)
    page.click("[data-testid=ls-annotator-close]")
    page.locator("[data-testid=ls-annotator-host]").wait_for(state="detached", timeout=5_000)
    assert page.errors == []
