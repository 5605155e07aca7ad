"""Every control of the full page that had no browser test (issue #21), each checked by its
effect: the grid's count and order, and what Python reads from the database or computes from
the page's spec.

- the filter panel: width/height ranges, metadata facets (numeric range, string values), the
  annotation source and minimum confidence, the file-name filter, Clear;
- the View popover: sort (field and direction) and each overlay toggle;
- selection: Ctrl-click, Shift-click ranges, Ctrl+A, Escape, tagging the selection;
- the detail view: adding and removing a tag; Find similar (stored vectors);
- the annotator: a semantic mask painted with the brush; captions added, edited, deleted.
(Relabel and delete in the annotator are in test_app_look.py; the box tool in
test_app_browser.py.)
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from lightly_studio.api import query_from_spec
from tests.server.test_app_browser import (  # noqa: F401 - fixtures used below
    SIZES,
    _grid_ids,
    _ids_by_name,
    _image_box,
    _to_screen,
    _wait_for_thumbnails,
    page,
    small_dataset,
    small_gui,
    toy_embeddings,
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


@pytest.fixture
def rich(small_dataset):
    """small_dataset (a 640x480 cat, b 320x240 dog, c 200x150 cat; one box each) plus
    metadata (weather, score), predictions of source "model" (a 0.9, b 0.3), a caption and a
    mask on a. Added before the server starts."""
    from lightly_studio.core.annotation import CreateInstanceSegmentation, CreateObjectDetection

    by_name = {s.file_name: s for s in small_dataset}
    for name, weather, score in (
        ("a.jpg", "sunny", 0.9),
        ("b.jpg", "rain", 0.5),
        ("c.jpg", "sunny", 0.1),
    ):
        by_name[name].metadata["weather"] = weather
        by_name[name].metadata["score"] = score
    for name, conf in (("a.jpg", 0.9), ("b.jpg", 0.3)):
        by_name[name].add_annotation(
            CreateObjectDetection(
                label="cat",
                x=5,
                y=5,
                width=20,
                height=20,
                confidence=conf,
                annotation_source="model",
            )
        )
    mask = np.zeros((480, 640), dtype=bool)
    mask[200:400, 300:600] = True
    by_name["a.jpg"].add_annotation(CreateInstanceSegmentation.from_binary_mask("cat", mask))
    by_name["a.jpg"].add_caption("a red cat")
    return _ids_by_name(small_dataset)


def _open(page, gui, width: int = 1400) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(gui.url)
    _wait_for_thumbnails(page, 3)
    page.locator("[data-testid=ls-label-filters]").wait_for(timeout=15_000)


def _count(page, n: int) -> None:
    page.wait_for_function(
        "n => { const c = document.querySelector('[data-testid=ls-count]').textContent;"
        " return c.startsWith(n + ' of 3'); }",
        arg=n,
        timeout=15_000,
    )


def _spec(page) -> dict:
    return page.evaluate("() => window.__lightlyStudio.model.get('spec')")


def _shown_match_python(page, expected: set[str]) -> None:
    """The grid shows ``expected``, and so does Python's query from the page's spec."""
    page.wait_for_function(
        "ids => { const got = [...document.querySelectorAll("
        "'[data-testid=ls-grid] .ls-cell[data-sample-id]')].map(c => c.dataset.sampleId).sort();"
        " return JSON.stringify(got) === JSON.stringify(ids); }",
        arg=sorted(expected),
        timeout=15_000,
    )
    assert {str(i) for i in query_from_spec(_spec(page)).sample_ids()} == expected


def _section(page, title: str):
    return page.locator(f"[data-testid=ls-filters] .ls-section:has(h4:text-is('{title}'))")


def _fill_range(page, label: str, text: str, key: str, expected) -> None:
    """Type into a range box until the page's spec says so. Counts arriving mid-typing
    rebuild the panel and drop the keys (a known bug of the panel, not what this test is
    about): the fill is repeated then."""
    box = page.locator(f"[data-testid=ls-filters] input[aria-label='{label}']")
    for _attempt in range(4):
        box.fill(text)
        try:
            page.wait_for_function(
                "([key, want]) => JSON.stringify(window.__lightlyStudio.model.get('spec')[key] ?? null)"
                " === JSON.stringify(want)",
                arg=[key, expected],
                timeout=3_000,
            )
            return
        except Exception:  # noqa: BLE001 - the panel was rebuilt under the fill
            continue
    raise AssertionError(f"{label} = {text!r} never reached the spec")


def test_filter_panel_ranges_facets_source_confidence_file_name_and_clear(rich, small_gui, page):
    ids = rich
    _open(page, small_gui)

    _fill_range(page, "width min", "300", "width", [300, None])
    _count(page, 2)
    _shown_match_python(page, {ids["a.jpg"], ids["b.jpg"]})
    _fill_range(page, "width min", "", "width", None)
    _fill_range(page, "height max", "200", "height", [None, 200])
    _count(page, 1)
    _shown_match_python(page, {ids["c.jpg"]})
    _fill_range(page, "height max", "", "height", None)
    _count(page, 3)

    # Metadata: a numeric range and a string facet.
    _fill_range(page, "score min", "0.4", "metadata", {"score": {"range": [0.4, None]}})
    _count(page, 2)
    _shown_match_python(page, {ids["a.jpg"], ids["b.jpg"]})
    _section(page, "weather").locator("label[data-name=sunny] input").check()
    _count(page, 1)
    _shown_match_python(page, {ids["a.jpg"]})
    assert _spec(page)["metadata"] == {
        "score": {"range": [0.4, None]},
        "weather": {"values": ["sunny"]},
    }

    page.click("[data-testid=ls-clear-filters]")
    _count(page, 3)
    assert set(_spec(page)) <= {"dataset_id"}

    # The annotation source, then a minimum confidence of its predictions.
    _section(page, "Annotation source").locator("select").select_option("model")
    _count(page, 2)
    _shown_match_python(page, {ids["a.jpg"], ids["b.jpg"]})
    _section(page, "Annotation source").locator("input[type=range]").evaluate(
        "el => { el.value = '0.5'; el.dispatchEvent(new Event('input'));"
        " el.dispatchEvent(new Event('change')); }"
    )
    _count(page, 1)
    _shown_match_python(page, {ids["a.jpg"]})
    assert _spec(page)["min_confidence"] == 0.5
    page.click("[data-testid=ls-clear-filters]")
    _count(page, 3)

    # File name.
    page.locator("[data-testid=ls-file-name-search]").fill("b.j")
    _count(page, 1)
    _shown_match_python(page, {ids["b.jpg"]})
    page.click("[data-testid=ls-clear-filters]")
    _count(page, 3)
    # The panel is drawn again with the cleared spec once its counts arrive.
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-file-name-search]').value === ''"
    )
    assert page.errors == []


def _order(page, names: list[str], ids: dict) -> None:
    page.wait_for_function(
        "ids => JSON.stringify([...document.querySelectorAll("
        "'[data-testid=ls-grid] .ls-cell[data-sample-id]')].map(c => c.dataset.sampleId))"
        " === JSON.stringify(ids)",
        arg=[ids[n] for n in names],
        timeout=15_000,
    )


def _cells(page, selector: str) -> int:
    return page.locator(f"[data-testid=ls-grid] .ls-cell {selector}").count()


def test_sort_and_each_overlay_toggle(rich, small_gui, page):
    ids = rich
    _open(page, small_gui)
    page.click("[data-testid=ls-view-button]")
    pop = page.locator("[data-testid=ls-view-options]")
    page.select_option("[data-testid=ls-sort]", "height")
    _order(page, ["c.jpg", "b.jpg", "a.jpg"], ids)
    pop.locator("label:has-text('descending') input").check()
    _order(page, ["a.jpg", "b.jpg", "c.jpg"], ids)
    assert _spec(page)["sort"] == {"field": "height", "desc": True}
    page.select_option("[data-testid=ls-sort]", "file_name")
    _order(page, ["c.jpg", "b.jpg", "a.jpg"], ids)
    # Python's query from the page's spec has the same order.
    assert [str(i) for i in query_from_spec(_spec(page)).sample_ids()] == [
        ids["c.jpg"],
        ids["b.jpg"],
        ids["a.jpg"],
    ]

    def toggle(name: str, on: bool, selector: str, check) -> None:
        box = pop.locator(f"input[data-overlay={name}]")
        box.check() if on else box.uncheck()
        page.wait_for_function(
            f"() => document.querySelectorAll('[data-testid=ls-grid] .ls-cell {selector}').length"
            f" {check}"
        )

    assert _cells(page, "svg rect") > 0 and _cells(page, "canvas") == 1
    toggle("boxes", False, "svg rect", "=== 0")
    toggle("masks", False, "canvas", "=== 0")
    toggle("masks", True, "canvas", "=== 1")
    toggle("labels", True, "svg text", "> 0")
    labels = page.locator("[data-testid=ls-grid] .ls-cell svg text").evaluate_all(
        "ts => ts.map(t => t.textContent)"
    )
    assert "cat 0.90" in labels and "dog" in labels
    toggle("names", True, ".ls-name-bar", "=== 3")
    assert sorted(page.locator(".ls-name-bar").all_inner_texts()) == ["a.jpg", "b.jpg", "c.jpg"]
    toggle("captions", True, ".ls-caption", "=== 1")
    assert page.locator(".ls-caption").inner_text() == "a red cat"
    toggle("captions", False, ".ls-caption", "=== 0")
    assert page.errors == []


def _selected(page) -> set[str]:
    return set(page.evaluate("() => window.__lightlyStudio.model.get('selected')"))


def _cell(page, sample_id: str):
    return page.locator(f"[data-testid=ls-grid] .ls-cell[data-sample-id='{sample_id}']")


def test_ctrl_click_shift_click_ctrl_a_escape_and_tagging_the_selection(
    rich, small_gui, small_dataset, page
):
    ids = rich
    _open(page, small_gui)
    _cell(page, ids["b.jpg"]).click(modifiers=["Control"])
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-selected-count]').textContent === '1 selected'"
    )
    _cell(page, ids["c.jpg"]).click(modifiers=["Shift"])
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-selected-count]').textContent === '2 selected'"
    )
    assert _selected(page) == {ids["b.jpg"], ids["c.jpg"]}
    assert page.locator("[data-testid=ls-detail]").count() == 0  # a modifier click never opens

    page.fill("[data-testid=ls-tag-input]", "picked")
    assert page.locator("[data-testid=ls-tag-button]").inner_text() == "Tag 2 selected"
    page.click("[data-testid=ls-tag-button]")
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=ls-grid] .ls-chip').length === 2"
    )
    tagged = {s.file_name for s in small_dataset if "picked" in s.tags}
    assert tagged == {"b.jpg", "c.jpg"}

    page.locator("[data-testid=ls-grid]").focus()
    page.keyboard.press("Escape")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-selected-count]').textContent === ''"
    )
    assert _selected(page) == set()
    page.keyboard.press("Control+a")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-selected-count]').textContent === '3 selected'"
    )
    assert _selected(page) == set(ids.values())
    assert page.errors == []


def _open_sample(page, sample_id: str) -> None:
    _cell(page, sample_id).click()
    page.locator("[data-testid=ls-detail] [data-testid=ls-detail-world] img").wait_for(
        timeout=10_000
    )


def test_detail_view_adds_and_removes_a_tag(rich, small_gui, small_dataset, page):
    ids = rich
    _open(page, small_gui)
    _open_sample(page, ids["a.jpg"])
    page.fill("[data-testid=ls-detail-tag-input]", "keep")
    page.press("[data-testid=ls-detail-tag-input]", "Enter")
    chip = page.locator("[data-testid=ls-detail-tags] .ls-tagchip:has-text('keep')")
    chip.wait_for(timeout=10_000)
    assert small_dataset.get_sample(ids["a.jpg"]).tags == {"keep"}
    # The filter panel lists the new tag.
    page.locator("[data-testid=ls-tag-filters] .ls-tag-row[data-name=keep]").wait_for(
        timeout=10_000
    )

    chip.locator("button[aria-label='Remove tag keep']").click()
    chip.wait_for(state="detached", timeout=10_000)
    assert small_dataset.get_sample(ids["a.jpg"]).tags == set()
    assert page.errors == []


def test_find_similar_orders_the_grid_by_the_stored_vectors(rich, toy_embeddings, small_gui, page):
    ids = rich
    _open(page, small_gui)
    _order(page, ["a.jpg", "b.jpg", "c.jpg"], ids)
    _open_sample(page, ids["c.jpg"])
    page.click("[data-testid=ls-detail-similar]")
    page.locator("[data-testid=ls-detail]").wait_for(state="detached", timeout=10_000)
    # Cosine to c (0, 0, 1): c 1.0, b 0.6, a 0.0.
    _order(page, ["c.jpg", "b.jpg", "a.jpg"], ids)
    assert _spec(page)["similar_to"] == ids["c.jpg"]
    assert page.locator("[data-testid=ls-count]").inner_text().startswith("3 of 3")
    # The filter panel's × takes the similarity order away.
    page.locator(
        "[data-testid=ls-filters] div:has-text('Sorted by similarity') button"
    ).last.click()
    _order(page, ["a.jpg", "b.jpg", "c.jpg"], ids)
    assert page.errors == []


def _saved(page) -> None:
    page.wait_for_function(
        "() => { const r = document.querySelector('[data-testid=ls-annotator]');"
        " return r && r.dataset.pending === '0' &&"
        " /Saved/.test(document.querySelector('[data-testid=ls-ann-status]').textContent); }",
        timeout=15_000,
    )


def test_annotator_paints_a_semantic_mask_and_edits_captions(rich, small_gui, small_dataset, page):
    ids = rich
    _open(page, small_gui)
    _open_sample(page, ids["b.jpg"])
    page.click("[data-testid=ls-detail-edit]")
    page.wait_for_function(
        "() => { const i = document.querySelector('[data-testid=ls-ann-world] img');"
        " return i && i.complete && i.naturalWidth === 320; }",
        timeout=15_000,
    )

    # Semantic masks, class "sky", a brush stroke.
    page.select_option("[data-testid=ls-ann-mask-kind]", "semantic_segmentation")
    page.fill("[data-testid=ls-ann-label-input]", "sky")
    page.click("[data-testid=ls-ann-tool-brush]")
    page.locator("[data-testid=ls-ann-brush-size]").evaluate(
        "el => { el.value = '16'; el.dispatchEvent(new Event('input')); }"
    )
    rect = _image_box(page)
    page.mouse.move(*_to_screen(rect, SIZES["b.jpg"], 40, 120))
    page.mouse.down()
    page.mouse.move(*_to_screen(rect, SIZES["b.jpg"], 260, 120), steps=20)
    page.mouse.up()
    _saved(page)
    sample = small_dataset.get_sample(ids["b.jpg"])
    [sky] = [a for a in sample.annotations if a.label == "sky"]
    assert "semantic" in str(sky.annotation_type)
    painted = int(sum(sky.segmentation_mask[1::2]))
    assert abs(painted - (220 * 16 + np.pi * 64)) < 0.1 * painted, painted

    # Captions: add, edit in place, delete.
    page.fill("[data-testid=ls-ann-caption-input]", "a dog on grass")
    page.click("[data-testid=ls-ann-caption-add]")
    _saved(page)
    assert small_dataset.get_sample(ids["b.jpg"]).captions == ["a dog on grass"]
    existing = page.locator("[data-testid=ls-ann-captions] textarea[data-caption]")
    existing.wait_for(timeout=10_000)
    existing.fill("a brown dog on grass")
    existing.dispatch_event("change")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-annotator]').dataset.pending === '0'"
    )
    page.wait_for_function("() => new Promise(r => setTimeout(() => r(true), 300))")
    assert small_dataset.get_sample(ids["b.jpg"]).captions == ["a brown dog on grass"]
    page.locator("[data-testid=ls-ann-captions] button[title='Delete caption']").click()
    page.locator("[data-testid=ls-ann-captions] textarea[data-caption]").wait_for(
        state="detached", timeout=10_000
    )
    assert small_dataset.get_sample(ids["b.jpg"]).captions == []
    assert page.errors == []
