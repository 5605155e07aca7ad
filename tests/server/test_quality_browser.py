"""Quality results in the app (real browser): the filter panel's Quality section counts the
flagged samples and annotations, a click filters the grid to the flagged samples, and grid
tiles carry issue chips that an overlay toggle hides."""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path

import pytest

from tests.conftest import docs_shot

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
COCO = "coco_subset_128_images"
# Screenshots at the widths the views are checked at, when asked for (outside the repo).
SHOTS = os.environ.get("LIGHTLY_STUDIO_QUALITY_SHOTS")

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
def checked_dataset(db, tmp_path, examples):
    """Eight COCO images and an exact copy of the first (a duplicate pair), one of them with a
    tiny box (a label issue); every check run."""
    import lightly_studio as ls
    from lightly_studio.core.annotation import CreateObjectDetection

    folder = tmp_path / "images"
    folder.mkdir()
    originals = sorted((examples / COCO / "images").glob("*.jpg"))[:8]
    for p in originals:
        shutil.copy(p, folder / p.name)
    shutil.copy(originals[0], folder / "copy_of_first.jpg")
    dataset = ls.ImageDataset.create("quality")
    dataset.add_images_from_path(str(folder), embed=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "no embeddings": expected
        dataset.compute_image_issues()
    sample = next(s for s in dataset if s.file_name == originals[3].name)
    sample.add_annotations([CreateObjectDetection(label="dog", x=5, y=5, width=2, height=2)])
    dataset.compute_label_issues()
    return dataset


@pytest.fixture
def gui(checked_dataset, tmp_path, monkeypatch):
    monkeypatch.setenv("LIGHTLY_STUDIO_RUNTIME_DIR", str(tmp_path / "rt"))
    from lightly_studio.server import start_gui

    server = start_gui(port=0, block=False)
    yield server
    server.stop()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.errors = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    yield page
    context.close()


def _count(page) -> str:
    return page.locator("[data-testid=ls-count]").first.inner_text()


def _quality_row(page, issue: str):
    return page.locator(f"[data-testid=ls-quality-filters] [data-issue={issue}]")


def _wait_for_panel(page, issue: str, counts: str) -> None:
    """Wait until the panel shows ``counts`` for ``issue``: it re-renders when the counts of
    a new filter arrive, and a click on the old rows before that is lost."""
    page.wait_for_function(
        f"""() => {{ const n = document.querySelector(
              '[data-testid=ls-quality-filters] [data-issue={issue}] .ls-n');
              return n && n.textContent === '{counts}'; }}"""
    )


def test_quality_counts_filter_the_grid_and_issue_chips_mark_flagged_tiles(page, gui):
    page.goto(gui.url)
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=ls-grid] img')]"
        ".filter(i => i.complete && i.naturalWidth > 0).length >= 9",
        timeout=30_000,
    )
    quality = page.locator("[data-testid=ls-quality-filters]")
    quality.wait_for(timeout=15_000)
    # Counts: samples flagged (in the filter, of all) and flagged annotations.
    assert _quality_row(page, "exact_duplicates").inner_text().split() == ["dup", "2", "of", "2"]
    assert _quality_row(page, "label_issues").locator(".ls-n").inner_text() == "1 of 1"
    assert _quality_row(page, "tiny_box").locator(".ls-n").inner_text() == "1 of 1"
    assert _quality_row(page, "blurry").locator(".ls-n").inner_text() == "0 of 0"

    # Chips on the flagged tiles only.
    chips = page.locator("[data-testid=ls-grid] .ls-issue-chip[data-issue=exact_duplicates]")
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=ls-grid] .ls-issue-chip').length >= 3"
    )
    assert chips.count() == 2
    assert chips.first.inner_text() == "dup"
    label_chips = page.locator("[data-testid=ls-grid] .ls-issue-chip[data-issue=label_issues]")
    assert label_chips.count() == 1
    if SHOTS:
        for width in (1024, 1400, 2560):
            page.set_viewport_size({"width": width, "height": 900})
            page.wait_for_timeout(400)
            page.screenshot(path=f"{SHOTS}/quality-grid-{width}.png")
        page.set_viewport_size({"width": 1400, "height": 900})
    docs_shot(page, "quality-filters")

    # A click filters the grid to the flagged samples (metadata filter is_<issue>_issue).
    _quality_row(page, "exact_duplicates").locator("input").check()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-count]').textContent.startsWith('2 of 9')"
        " && document.querySelectorAll('[data-testid=ls-grid] .ls-cell[data-sample-id]').length == 2"
    )
    names = page.locator("[data-testid=ls-grid] .ls-cell[data-sample-id]").evaluate_all(
        "cells => cells.map(c => c.title).sort()"
    )
    assert "copy_of_first.jpg" in names and len(names) == 2
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/quality-filtered-1400.png")
    _quality_row(page, "exact_duplicates").locator("input").uncheck()
    _wait_for_panel(page, "label_issues", "1 of 1")  # 0 of 1 while only duplicates show
    _quality_row(page, "label_issues").locator("input").check()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-count]').textContent.startsWith('1 of 9')"
    )
    _wait_for_panel(page, "exact_duplicates", "0 of 2")
    _quality_row(page, "label_issues").locator("input").uncheck()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-count]').textContent.startsWith('9 of 9')"
    )

    # The overlay toggle hides the chips.
    page.click("[data-testid=ls-view-button]")
    options = page.locator("[data-testid=ls-view-options]")
    options.wait_for()
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/quality-view-options-1400.png")
    options.locator("input[data-overlay=issues]").uncheck()
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=ls-grid] .ls-issue-chip').length == 0"
    )
    assert page.errors == []
