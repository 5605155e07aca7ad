"""The query box in a real browser: in the full page (start_gui) and in the notebook widget.

- completion after a space and inside object_detection( offers the dataset's names; Enter picks;
- a bad query is underlined where the error is and the message names line and column;
- Apply filters the grid, the filter panel shows the query as a chip, the chip's × removes it;
- in the notebook, ``explorer.query = "…"`` shows in the box and the grid, and a query applied
  in the box is ``explorer.query`` in Python.
"""

from __future__ import annotations

import json
import os
import re
import time

import pytest

from tests.browser.conftest import CHROMIUM, open_notebook, run_cell, shot, write_notebook
from tests.conftest import docs_shot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium"),
]

SIZES = {"a.jpg": (640, 480), "b.jpg": (320, 240), "c.jpg": (200, 150), "d.jpg": (700, 100)}
LABELS = {"a.jpg": "cat", "b.jpg": "dog", "c.jpg": "cat", "d.jpg": "dog"}


@pytest.fixture
def small_dataset(db, tmp_path):
    """Four images, one box each (cat or dog); a.jpg and d.jpg are tagged "wide"."""
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
                "bbox": [10, 10, 40 + 30 * i, 30],
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
    for sample in dataset:
        if sample.file_name in ("a.jpg", "d.jpg"):
            sample.add_tag("wide")
    return dataset


@pytest.fixture
def gui(small_dataset, tmp_path, monkeypatch):
    import threading

    monkeypatch.setenv("LIGHTLY_STUDIO_RUNTIME_DIR", str(tmp_path / "rt"))
    from lightly_studio.server import start_gui

    server = start_gui(port=0, block=False)
    yield server
    server.stop()
    deadline = time.time() + 10
    while time.time() < deadline and any(
        t.name.startswith("lightly-studio-") for t in threading.enumerate()
    ):
        time.sleep(0.05)


@pytest.fixture
def app_page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.errors = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    yield page
    context.close()


def _count(page) -> str:
    return page.locator("[data-testid=ls-count]").inner_text()


def _wait_count(page, text: str) -> None:
    page.wait_for_function(
        "t => document.querySelector('[data-testid=ls-count]').textContent.startsWith(t)",
        arg=text,
        timeout=20_000,
    )


def _completions(page) -> list[str]:
    page.wait_for_selector("[data-testid=ls-query-completions]:not([hidden]) li", timeout=10_000)
    return page.eval_on_selector_all(
        "[data-testid=ls-query-completions] li", "items => items.map(i => i.dataset.label)"
    )


def _type_and_apply_through_completion(page) -> None:
    """Type `width >= 600 AND object_detection(class_name = "dog")` using completion."""
    box = page.locator("[data-testid=ls-query-input]")
    box.click()
    box.press_sequentially("wid")
    assert _completions(page) == ["width"]
    box.press("Enter")  # picks "width " from the list
    page.wait_for_timeout(300)
    assert box.input_value() == "width "
    assert "!=" in _completions(page)  # operators after a field
    box.press("Escape")
    box.press_sequentially(">= 600 AND ")
    labels = _completions(page)
    assert {"height", "object_detection", '"wide" IN tags', "NOT"} <= set(labels)
    box.press_sequentially("object_detection(")
    assert set(_completions(page)) == {
        "class_name",
        "confidence",
        "height",
        "width",
        "x",
        "y",
        "source",
        "NOT",
    }
    box.press_sequentially("class_name = ")
    assert _completions(page) == ['"cat"', '"dog"']
    page.keyboard.press("ArrowDown")
    box.press("Tab")  # picks "dog"
    page.wait_for_timeout(200)
    box.press("Escape")
    box.press_sequentially(")")
    assert box.input_value() == 'width >= 600 AND object_detection(class_name = "dog" )'
    page.locator("[data-testid=ls-query-python]:not([hidden])").wait_for(timeout=10_000)
    assert (
        'AnnotationField.class_name == "dog"'
        in page.locator("[data-testid=ls-query-python]").inner_text()
    )
    box.press("Escape")  # the list (AND, OR) covers the button
    page.locator("[data-testid=ls-query-apply]").click()


def _error_is_marked_where_it_occurs(page) -> None:
    box = page.locator("[data-testid=ls-query-input]")
    box.fill("width >= 640 AND widht < 3")
    page.locator("[data-testid=ls-query-error]:not([hidden])").wait_for(timeout=10_000)
    error = page.locator("[data-testid=ls-query-error]").inner_text()
    assert error.startswith("Line 1, column 18: Unknown field 'widht'")
    assert page.locator("[data-testid=ls-query-mark]").inner_text() == "widht"
    box.press("Escape")
    page.locator("[data-testid=ls-query-apply]").click()  # refused: the filter stays
    page.wait_for_timeout(300)


def test_query_box_in_the_full_page(gui, app_page):
    page = app_page
    page.goto(gui.url)
    _wait_count(page, "4 of 4")
    page.locator("[data-testid=ls-query-toggle]").click()
    page.locator("[data-testid=ls-query-box]").wait_for()
    _type_and_apply_through_completion(page)
    _wait_count(page, "1 of 4")  # d.jpg: 700 wide, a dog
    chip = page.locator("[data-testid=ls-query-chip]")
    chip.wait_for(timeout=10_000)
    assert 'object_detection(class_name = "dog" )' in chip.inner_text()
    docs_shot(page, "query-box")
    shot(page, "query-box-applied")

    _error_is_marked_where_it_occurs(page)
    shot(page, "query-box-error")
    assert _count(page).startswith("1 of 4")

    # The chip's × removes the query: the grid and the box follow.
    chip.locator("button").click()
    _wait_count(page, "4 of 4")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-query-input]').value === ''"
    )
    # A query combines with the panel's filters (AND).
    page.locator("[data-testid=ls-query-input]").fill('NOT "wide" IN tags')
    page.locator("[data-testid=ls-query-input]").press("Control+Enter")
    _wait_count(page, "2 of 4")
    page.locator("[data-testid=ls-label-filters] label[data-name=cat] input").check()
    _wait_count(page, "1 of 4")  # c.jpg
    page.locator("[data-testid=ls-label-filters] label[data-name=dog] input").check()
    _wait_count(page, "2 of 4")  # b.jpg, c.jpg
    page.locator("[data-testid=ls-query-chip]").wait_for(timeout=10_000)  # still there
    assert page.errors == []


SETUP = """
import os, json
from lightly_studio import db_manager
db_manager.connect(db_file=os.path.join(os.getcwd(), "querybox.db"))
from lightly_studio.core.image_dataset import ImageDataset
ds = ImageDataset.create("coco")
ds.add_samples_from_coco(annotations_json="{examples}/coco_subset_128_images/instances_train2017.json",
                         images_path="{examples}/coco_subset_128_images/images", embed=False)
ds[:5].add_tag("reviewed")
print("SAMPLES", len(ds))
"""


def test_query_box_in_the_notebook_stays_in_sync_with_python(page, lab, examples):
    base, folder = lab
    nb = write_notebook(
        folder,
        "querybox.ipynb",
        [
            SETUP.format(examples=examples),
            "from lightly_studio.widgets import Explorer\nex = Explorer(ds, height=700)\nex",
            "ex.query = 'width >= 640 AND NOT \"reviewed\" IN tags'\n"
            "print('PY', ex.query.count(), ds.match_text(ex.spec['query']).count())",
            "print('SPEC', ex.spec.get('query'), ex.query.count())",
        ],
    )
    open_notebook(page, base, nb)
    assert "SAMPLES 128" in run_cell(page, 0)
    run_cell(page, 1)
    page.wait_for_selector("[data-testid=ls-grid] .ls-cell img", timeout=30_000)
    page.locator("[data-testid=ls-query-toggle]").click()
    page.locator("[data-testid=ls-query-box]").wait_for()

    # Python -> view: the box, the chip and the grid follow explorer.query.
    out = run_cell(page, 2)
    n = int(re.search(r"PY (\d+) (\d+)", out).group(1))
    assert 0 < n < 128 and f"PY {n} {n}" in out
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-query-input]').value"
        ".startsWith('width >= 640')",
        timeout=20_000,
    )
    page.locator("[data-testid=ls-query-chip]").wait_for(timeout=10_000)
    page.wait_for_function(
        "n => document.querySelector('[data-testid=ls-count]').textContent"
        ".startsWith(n.toLocaleString('en-US') + ' of 128')",
        arg=n,
        timeout=20_000,
    )

    # View -> Python: completion of a class name inside segmentation functions, then Apply.
    box = page.locator("[data-testid=ls-query-input]")
    box.fill("")
    box.press_sequentially('object_detection(class_name = "zeb')
    assert _completions(page) == ['"zebra"']
    box.press("Enter")
    box.press("Escape")
    box.press_sequentially(")")
    box.press("Control+Enter")
    page.wait_for_function(
        "() => /^\\d+ of 128/.test(document.querySelector('[data-testid=ls-count]').textContent)"
        " && !document.querySelector('[data-testid=ls-count]').textContent.startsWith('"
        + f"{n:,} of"
        + "')",
        timeout=20_000,
    )
    zebras = int(re.match(r"([\d,]+)", _count(page)).group(1).replace(",", ""))
    out = run_cell(page, 3)
    ds_count = re.search(r"SPEC (.*) (\d+)$", out.strip())
    assert ds_count and ds_count.group(1) == 'object_detection(class_name = "zebra" )'
    assert int(ds_count.group(2)) == zebras > 0
    shot(page, "query-box-notebook")

    _error_is_marked_where_it_occurs(page)


# -- tag management, inverted filters, select all ----------------------------------------------


def _tag_row(page, name: str):
    return page.locator(f"[data-testid=ls-tag-filters] .ls-tag-row[data-name='{name}']")


def _manage_tags(page, tags_of) -> None:
    """Rename, NOT-filter, select all, assign, delete; ``tags_of()`` reads Python's view."""
    _tag_row(page, "wide").locator("[data-testid=ls-tag-menu-button]").click()
    page.locator("[data-testid=ls-tag-rename]").click()
    page.locator("[data-testid=ls-tag-rename-input]").fill("broad")
    page.locator("[data-testid=ls-tag-rename-ok]").click()
    _tag_row(page, "broad").wait_for(timeout=10_000)
    assert "broad" in tags_of() and "wide" not in tags_of()

    # NOT "broad": the samples without it.
    _tag_row(page, "broad").locator("[data-testid=ls-not]").click()
    _wait_count(page, "2 of 4")
    # Select all selects the filtered set; the assign box tags the selection.
    page.locator("[data-testid=ls-select-all]").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-selected-count]').textContent"
        ".startsWith('2 selected')",
        timeout=10_000,
    )
    page.locator("[data-testid=ls-tag-assign-input]").fill("narrow")
    page.locator("[data-testid=ls-tag-assign-input]").press("Enter")
    _tag_row(page, "narrow").wait_for(timeout=10_000)
    assert tags_of()["narrow"] == 2

    # Delete asks first, saying how many samples carry the tag; the NOT filter goes with it.
    _tag_row(page, "broad").locator("[data-testid=ls-tag-menu-button]").click()
    page.locator("[data-testid=ls-tag-delete]").click()
    question = page.locator("[data-testid=ls-tag-delete-question]").inner_text()
    assert question == "Delete tag “broad”? It is taken off 2 samples."
    page.locator("[data-testid=ls-tag-delete-ok]").click()
    page.wait_for_timeout(1500)
    _wait_count(page, "4 of 4")
    page.wait_for_function(
        "() => !document.querySelector(\"[data-testid=ls-tag-filters] .ls-tag-row[data-name='broad']\")",
        timeout=10_000,
    )
    assert "broad" not in tags_of()


def test_tags_and_inverted_filters_in_the_full_page(gui, app_page, small_dataset):
    from lightly_studio.db import get_connection
    from lightly_studio.store.tags import list_tags

    def tags_of():
        frame = list_tags(get_connection(), small_dataset.dataset_id)
        return dict(zip(frame["name"], frame["count"], strict=True))

    page = app_page
    page.goto(gui.url)
    _wait_count(page, "4 of 4")
    _tag_row(page, "wide").wait_for(timeout=20_000)
    _manage_tags(page, tags_of)
    # Inverted label filter: no cat.
    page.locator(
        "[data-testid=ls-label-filters] .ls-tag-row[data-name=cat] [data-testid=ls-not]"
    ).click()
    _wait_count(page, "2 of 4")
    shot(page, "tags-inverted-label")
    assert page.errors == []
