"""The full page as a new user meets it (issue #21), in a real browser (Playwright + Debian's
/usr/bin/chromium), on a small dataset without embeddings:

- no AI search and no "Find similar" without embeddings; a refused filter offers the way back;
- the toolbar stays one line from 1024 to 2560 px, and a plugin's form opens inside the view;
- the plot says why it is empty and what to run, without a canvas under the message;
- the export dialog: focus inside (Escape closes it), names that follow the format, and a
  browser download of a file and of a zipped folder;
- the detail view: no internal fields, zoom (buttons, wheel, fit, 1:1), prev/next arrows,
  breadcrumbs back to the grid, per-annotation eye toggles, brightness;
- dark theme by default, light on request, kept across reloads; a footer with count and version.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

from tests.server.test_app_browser import (  # noqa: F401 - fixtures used below
    _count_text,
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
    page.wait_for_function("() => window.__lightlyStudio !== undefined")


def _open_sample(page, sample_id: str) -> None:
    page.locator(f"[data-testid=ls-grid] .ls-cell[data-sample-id='{sample_id}']").click()
    page.locator("[data-testid=ls-detail] [data-testid=ls-detail-world] img").wait_for(
        timeout=10_000
    )


def test_without_embeddings_no_ai_search_and_a_refused_filter_can_be_cleared(
    small_gui, small_dataset, page
):
    ids = _ids_by_name(small_dataset)
    _open(page, small_gui)
    page.locator("[data-testid=ls-label-filters]").wait_for(timeout=10_000)
    assert page.locator("[data-testid=ls-text-search]").count() == 0
    _open_sample(page, ids["a.jpg"])
    assert page.locator("[data-testid=ls-detail-similar]").count() == 0
    page.keyboard.press("Escape")

    # A similarity filter (e.g. from a shared link or Python) the dataset cannot answer.
    page.evaluate(
        "id => { const m = window.__lightlyStudio.model;"
        " m.set('spec', {...m.get('spec'), similar_to: id}); }",
        ids["a.jpg"],
    )
    clear = page.locator("[data-testid=ls-filters-error] [data-testid=ls-clear-filters]")
    clear.wait_for(timeout=10_000)
    assert "embeddings" in page.locator("[data-testid=ls-filters-error]").inner_text()
    clear.click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-count]').textContent.startsWith('3 of 3')"
    )
    page.locator("[data-testid=ls-label-filters]").wait_for(timeout=10_000)
    assert page.errors == []


@pytest.mark.parametrize("width", [1024, 1400, 2560])
def test_the_toolbar_is_one_line_and_a_plugin_form_opens_inside_the_view(small_gui, page, width):
    _open(page, small_gui, width)
    toolbar = page.locator("[data-testid=ls-toolbar]")
    box = toolbar.bounding_box()
    assert box["height"] <= 48, box  # one row of controls
    assert page.evaluate(
        "() => { const t = document.querySelector('[data-testid=ls-toolbar]');"
        " return t.scrollWidth <= t.clientWidth && document.documentElement.scrollWidth <= innerWidth; }"
    )
    page.click("[data-testid=ls-operators-button]")
    page.locator("[data-testid=ls-operator-item]").first.click()
    panel = page.locator("[data-testid=ls-operator-panel]").bounding_box()
    assert panel["x"] >= 0 and panel["x"] + panel["width"] <= width, panel
    for button in ("ls-operator-run", "ls-operator-close"):
        b = page.locator(f"[data-testid={button}]").bounding_box()
        assert b["x"] >= 0 and b["x"] + b["width"] <= width and b["y"] + b["height"] <= 900
    page.click("[data-testid=ls-operator-close]")
    assert page.errors == []


def test_the_view_options_popover_holds_overlays_size_and_sort(small_gui, small_dataset, page):
    ids = _ids_by_name(small_dataset)
    _open(page, small_gui, 1024)
    page.click("[data-testid=ls-view-button]")
    pop = page.locator("[data-testid=ls-view-options]")
    pop.wait_for()
    b = pop.bounding_box()
    assert b["x"] >= 0 and b["x"] + b["width"] <= 1024
    assert page.locator("[data-testid=ls-grid] .ls-cell svg rect").count() > 0
    pop.locator("input[data-overlay=boxes]").uncheck()
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=ls-grid] .ls-cell svg rect').length === 0"
    )
    page.select_option("[data-testid=ls-sort]", "width")
    page.wait_for_function(
        "id => document.querySelector('[data-testid=ls-grid] .ls-cell[data-sample-id]')"
        "?.dataset.sampleId === id",
        arg=ids["c.jpg"],  # the narrowest first
    )
    page.mouse.click(300, 600)  # a click elsewhere closes it
    pop.wait_for(state="hidden")


def test_the_plot_says_what_to_run_without_embeddings(small_gui, page):
    _open(page, small_gui)
    page.click("[data-testid=ls-plot-toggle]")
    message = page.locator("[data-testid=ls-plot-message]")
    message.wait_for(timeout=20_000)
    text = message.inner_text()
    assert "compute_embeddings()" in text
    assert page.locator("[data-testid=ls-plot] canvas").count() == 0
    # Nothing of it is cut off: the box shows all its text.
    assert page.evaluate(
        "() => { const m = document.querySelector('[data-testid=ls-plot-message]');"
        " return m.scrollHeight <= m.clientHeight + 1 && m.scrollWidth <= m.clientWidth + 1; }"
    )


def _export_dialog(page):
    page.click("[data-testid=ls-export]")
    dialog = page.locator("[role=dialog][aria-label=Export]")
    dialog.wait_for(timeout=10_000)
    return dialog


def test_the_export_dialog_takes_focus_and_escape_closes_it(small_gui, page):
    _open(page, small_gui)
    dialog = _export_dialog(page)
    assert page.evaluate("() => document.activeElement.closest('[role=dialog]') !== null")
    page.keyboard.press("Escape")
    dialog.wait_for(state="detached", timeout=5_000)


def test_export_names_follow_the_format_and_results_download(small_gui, page, export_folder):
    _open(page, small_gui)
    _export_dialog(page)
    output = page.locator("[data-testid=ls-export-output]")
    page.select_option("[data-testid=ls-export-format]", "csv_classifications")
    assert output.input_value() == "small_csv_classifications.csv"
    page.select_option("[data-testid=ls-export-format]", "yolo_object_detections")
    assert output.input_value() == "small_yolo_object_detections"
    assert page.locator("[data-testid=ls-export-kind]").inner_text() == "folder"
    page.select_option("[data-testid=ls-export-scope]", "all")
    # The source picker lists the dataset's sources.
    sources = page.locator("[data-testid=ls-export-source] option").all_inner_texts()
    assert sources == ["All sources", "Ground truth"]
    page.click("[data-testid=ls-export-go]")
    download = page.locator("[data-testid=ls-export-download]")
    download.wait_for(state="visible", timeout=30_000)
    assert (export_folder / "small_yolo_object_detections").is_dir()
    with page.expect_download() as info:
        download.click()
    saved = info.value
    assert saved.suggested_filename == "small_yolo_object_detections.zip"
    names = zipfile.ZipFile(io.BytesIO(Path(saved.path()).read_bytes())).namelist()
    assert "small_yolo_object_detections/data.yaml" in names

    page.select_option("[data-testid=ls-export-format]", "coco_object_detections")
    output.fill("labels.csv")  # another format's suffix: the server writes labels.json
    page.click("[data-testid=ls-export-go]")
    page.wait_for_function(
        "() => /labels\\.json/.test(document.querySelector('[data-testid=ls-export-message]')"
        ".textContent)",
        timeout=30_000,
    )
    with page.expect_download() as info:
        download.click()
    assert info.value.suggested_filename == "labels.json"
    assert Path(info.value.path()).read_bytes() == (export_folder / "labels.json").read_bytes()
    assert page.errors == []


def test_the_detail_view_zooms_steps_hides_and_shows_only_user_fields(
    small_gui, small_dataset, page
):
    ids = _ids_by_name(small_dataset)
    _open(page, small_gui)
    _open_sample(page, ids["a.jpg"])
    fields = page.locator("[data-testid=ls-detail-fields]").inner_text()
    for internal in ("dataset_id", "sample_idx", "tag_numbers"):
        assert internal not in fields
    assert "a.jpg" in fields and "640" in fields
    crumbs = page.locator("[data-testid=ls-detail-crumbs]").inner_text()
    assert "small" in crumbs and "a.jpg" in crumbs

    image = page.locator("[data-testid=ls-detail-image]")

    def scale() -> float:
        return float(image.get_attribute("data-scale"))

    fitted = scale()
    page.click("[data-testid=ls-zoom-in]")
    assert scale() == pytest.approx(fitted * 1.25)
    page.click("[data-testid=ls-zoom-1]")
    assert scale() == pytest.approx(1.0)
    page.click("[data-testid=ls-zoom-fit]")
    assert scale() == pytest.approx(fitted)
    box = image.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -300)
    page.wait_for_function(
        "s => Number(document.querySelector('[data-testid=ls-detail-image]').dataset.scale) > s",
        arg=fitted,
    )

    page.locator("[data-testid=ls-brightness]").fill("150")
    assert "brightness(150%)" in page.locator("[data-testid=ls-detail-world] img").get_attribute(
        "style"
    )

    rects = "() => document.querySelectorAll('[data-testid=ls-detail-world] svg rect').length"
    assert page.evaluate(rects) > 0
    page.click("[data-testid=ls-detail-ann-eye]")
    page.wait_for_function(f"() => ({rects})() === 0")
    page.click("[data-testid=ls-detail-toggle-all]")  # show all again
    page.wait_for_function(f"() => ({rects})() > 0")

    first = page.locator("[data-testid=ls-detail-crumbs]").inner_text()
    page.click("[data-testid=ls-detail-next]")
    page.wait_for_function(
        "t => document.querySelector('[data-testid=ls-detail-crumbs]').innerText !== t",
        arg=first,
    )
    page.keyboard.press("ArrowLeft")
    page.wait_for_function(
        "t => document.querySelector('[data-testid=ls-detail-crumbs]').innerText === t",
        arg=first,
    )
    page.locator("[data-testid=ls-detail-crumbs] button").click()
    page.locator("[data-testid=ls-detail]").wait_for(state="detached", timeout=5_000)
    assert page.errors == []


def test_dark_theme_by_default_light_on_request_and_a_footer(small_gui, page):
    _open(page, small_gui)
    assert page.evaluate("document.documentElement.dataset.lsTheme") == "dark"

    def background() -> str:
        return page.evaluate(
            "getComputedStyle(document.querySelector('[data-testid=ls-explorer]')).backgroundColor"
        )

    dark = background()
    page.click("[data-testid=ls-theme-toggle]")
    assert page.evaluate("document.documentElement.dataset.lsTheme") == "light"
    assert background() != dark
    page.reload()
    _wait_for_thumbnails(page, 3)
    assert page.evaluate("document.documentElement.dataset.lsTheme") == "light"

    import lightly_studio

    footer = page.locator("[data-testid=ls-footer]").inner_text()
    assert "3 of 3" in footer and lightly_studio.__version__ in footer
    assert _count_text(page).startswith("3 of 3")


LONG = "a rather long class name for a cat"


@pytest.fixture
def cat_and_dog(small_dataset):
    """a.jpg gets a dog box beside its cat (before the server starts)."""
    from lightly_studio.api import dispatch

    ids = _ids_by_name(small_dataset)
    dispatch(
        "annotation_create",
        {
            "sample_id": ids["a.jpg"],
            "annotation": {"type": "object_detection", "label": "dog", "box": [200, 200, 80, 60]},
        },
    )
    return ids


def test_the_full_page_annotator_relabels_deletes_and_colours_by_class(
    cat_and_dog, small_gui, small_dataset, page
):
    ids = cat_and_dog
    _open(page, small_gui)
    _open_sample(page, ids["a.jpg"])
    page.click("[data-testid=ls-detail-edit]")
    rows = page.locator("[data-testid=ls-annotator] [data-testid=ls-ann-list] .ls-ann-row")
    rows.nth(1).wait_for(timeout=15_000)

    # Colour by class by default: a cat and a dog do not share a colour.
    dots = rows.locator(".ls-dot").evaluate_all("ds => ds.map(d => d.style.background)")
    assert len(set(dots)) == 2, dots

    # Relabel: the user's own edit says "Saved", also after the server's data_changed event.
    cat_row = page.locator("[data-testid=ls-ann-list] .ls-ann-row:has(input[value=cat])")
    label = cat_row.locator("[data-testid=ls-ann-row-label]")
    label.fill(LONG)
    label.press("Enter")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-annotator]').dataset.pending === '0'"
        " && /Saved/.test(document.querySelector('[data-testid=ls-ann-status]').textContent)",
        timeout=15_000,
    )
    page.wait_for_timeout(1500)  # the event of our own edit arrives meanwhile
    assert "Updated from Python" not in page.locator("[data-testid=ls-ann-status]").inner_text()
    sample = small_dataset.get_sample(ids["a.jpg"])
    assert sorted(a.label for a in sample.annotations) == sorted([LONG, "dog"])
    # The whole name is readable in the list.
    long_input = page.locator(f"[data-testid=ls-ann-list] input[value='{LONG}']")
    assert long_input.evaluate("i => i.scrollWidth <= i.clientWidth + 1")

    # Delete the dog with its row's ×.
    dog_row = page.locator("[data-testid=ls-ann-list] .ls-ann-row:has(input[value=dog])")
    dog_row.locator("button[title^=Delete]").click()
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=ls-ann-list] .ls-ann-row').length === 1",
        timeout=15_000,
    )
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-annotator]').dataset.pending === '0'"
    )
    sample = small_dataset.get_sample(ids["a.jpg"])
    assert [a.label for a in sample.annotations] == [LONG]
    assert page.errors == []
