"""The Annotations view in a real browser (full page, start_gui): a grid of object crops.

- the Samples | Annotations switch shows one crop per box, each an image with its class;
- filters by class narrow the crops; "Select all"/Ctrl+A, Shift+click and the check box select;
- relabel, tag and delete act on the selection in one step each, and Ctrl+Z / the Undo button
  revert them (the database says so, not just the page);
- clicking a crop opens the annotator on its sample with that annotation selected.

Search by image (same page): uploading a file or dropping a grid tile on the AI search box
ranks the grid by similarity, with the score on each tile; the chip's × clears it.
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
    """The view is not reloading and shows ``n`` decoded crops."""
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-crops]').dataset.busy === '0'",
        timeout=20_000,
    )
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


class MeanColourModel:
    """Image vector = the normalised mean RGB (+1), so a colour's own image ranks first."""

    def embed_images(self, images):
        import numpy as np

        rows = [
            np.asarray(i.convert("RGB"), dtype=np.float32).mean(axis=(0, 1)) + 1 for i in images
        ]
        return np.array(rows, dtype=np.float32)

    def embed_texts(self, texts):
        raise AssertionError("not used")


@pytest.fixture
def colour_embeddings(small_dataset):
    """Stored before the server starts (no live refresh re-renders the search box)."""
    from PIL import Image

    from lightly_studio.embed.models import register_embedding_model, unregister_embedding_model

    model = MeanColourModel()
    register_embedding_model(model, name="colour")
    samples = list(small_dataset)
    vectors = model.embed_images([Image.open(s.file_path_abs) for s in samples])
    small_dataset.add_embeddings("colour", [s.sample_id for s in samples], vectors)
    yield {s.file_name: str(s.sample_id) for s in samples}
    unregister_embedding_model("colour")


def _first_cell_is(page, sample_id: str) -> None:
    page.wait_for_function(
        "id => { const c = document.querySelector('[data-testid=ls-grid] .ls-cell[data-sample-id]');"
        " return c && c.dataset.sampleId === id && c.querySelector('[data-testid=ls-sim-score]'); }",
        arg=sample_id,
        timeout=20_000,
    )


def test_search_by_uploaded_image_and_by_dropped_tile_then_clear(
    colour_embeddings, gui, app_page, small_dataset, tmp_path
):
    from PIL import Image

    ids = colour_embeddings
    page = app_page
    page.goto(gui.url)
    page.locator("[data-testid=ls-text-search]").wait_for(timeout=20_000)
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=ls-grid] img').length >= 4",
        timeout=20_000,
    )
    # Upload: a picture of c.jpg's colour (sorted order: a, b, c, d -> colour index 2).
    query = tmp_path / "query.png"
    Image.new("RGB", (50, 40), (74, 182, 106)).save(query)
    page.locator("[data-testid=ls-image-search-file]").set_input_files(str(query))
    _first_cell_is(page, ids["c.jpg"])
    scores = [float(t) for t in page.locator("[data-testid=ls-sim-score]").all_inner_texts()]
    assert scores[0] == pytest.approx(1.0, abs=1e-3) and scores == sorted(scores, reverse=True)
    page.locator("[data-testid=ls-similar-chip]").wait_for(timeout=10_000)
    if SHOTS.parent.exists():
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / "image-search-1400.png"))

    # Drop a grid tile (d.jpg) on the search box: ranked by that sample instead.
    page.locator(f"[data-testid=ls-grid] .ls-cell[data-sample-id='{ids['d.jpg']}']").drag_to(
        page.locator("[data-testid=ls-image-search]")
    )
    _first_cell_is(page, ids["d.jpg"])

    # The chip's x clears the ranking: no scores any more.
    page.locator("[data-testid=ls-similar-clear]").click()
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=ls-sim-score]')"
        " && document.querySelectorAll('[data-testid=ls-grid] .ls-cell[data-sample-id]').length === 4",
        timeout=20_000,
    )
    assert page.errors == []


# -- tag management with undo ---------------------------------------------------------------------


def _tag_row(page, name: str):
    return page.locator(f"[data-testid=ls-tag-filters] .ls-tag-row[data-name='{name}']")


def _wait_count(page, text: str) -> None:
    page.wait_for_function(
        "t => document.querySelector('[data-testid=ls-count]').textContent.startsWith(t)",
        arg=text,
        timeout=20_000,
    )


def _until(page, condition, seconds: float = 10) -> None:
    """Wait until a condition on the database holds (the page's call may still be running)."""
    for _ in range(int(seconds * 10)):
        if condition():
            return
        page.wait_for_timeout(100)
    assert condition()


def _press_not(page, name: str, pressed: bool) -> None:
    """Click the tag's NOT button until it shows ``pressed`` (a live refresh of the panel
    right after a change can replace the button under the click)."""
    button = _tag_row(page, name).locator("[data-testid=ls-not]")
    for _ in range(5):
        if button.get_attribute("aria-pressed") == str(pressed).lower():
            return
        button.click()
        page.wait_for_timeout(400)
    assert button.get_attribute("aria-pressed") == str(pressed).lower()


def _tag_menu(page, name: str, item: str) -> None:
    _tag_row(page, name).locator("[data-testid=ls-tag-menu-button]").click()
    page.locator(f"[data-testid={item}]").click()


def test_tag_management_create_assign_remove_rename_delete_not_and_undo(
    gui, app_page, small_dataset
):
    from lightly_studio.db import get_connection
    from lightly_studio.store.tags import list_tags

    def tags_of() -> dict[str, int]:
        frame = list_tags(get_connection(), small_dataset.dataset_id)
        return dict(zip(frame["name"], frame["count"], strict=True))

    page = app_page
    page.goto(gui.url)
    _wait_count(page, "4 of 4")
    _tag_row(page, "wide").wait_for(timeout=20_000)

    # Create: the assign box with nothing selected makes an empty tag.
    page.locator("[data-testid=ls-tag-assign-input]").fill("review")
    page.locator("[data-testid=ls-tag-assign-input]").press("Enter")
    _tag_row(page, "review").wait_for(timeout=10_000)
    assert tags_of()["review"] == 0

    # Assign to / remove from the selection through the tag's menu.
    page.locator("[data-testid=ls-select-all]").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-selected-count]').textContent"
        ".startsWith('4 selected')",
        timeout=10_000,
    )
    _tag_menu(page, "review", "ls-tag-assign")
    _until(page, lambda: tags_of()["review"] == 4)
    page.locator("[data-testid=ls-grid]").focus()
    page.keyboard.press("Escape")  # clear the selection, then select one sample
    page.locator("[data-testid=ls-grid] .ls-cell[data-sample-id] [data-role=check]").first.click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-selected-count]').textContent"
        ".startsWith('1 selected')",
        timeout=10_000,
    )
    _tag_menu(page, "review", "ls-tag-unassign")
    _until(page, lambda: tags_of()["review"] == 3)

    # Rename, and the toast's Undo renames it back.
    _tag_menu(page, "wide", "ls-tag-rename")
    page.locator("[data-testid=ls-tag-rename-input]").fill("broad")
    page.locator("[data-testid=ls-tag-rename-ok]").click()
    _tag_row(page, "broad").wait_for(timeout=10_000)
    assert "broad" in tags_of() and "wide" not in tags_of()
    page.locator("[data-testid=ls-toast-undo]").click()
    _tag_row(page, "wide").wait_for(timeout=10_000)
    assert tags_of()["wide"] == 2 and "broad" not in tags_of()

    # NOT filter.
    _press_not(page, "wide", True)
    _wait_count(page, "2 of 4")
    _press_not(page, "wide", False)
    _wait_count(page, "4 of 4")

    # Delete asks first, with the count; Ctrl+Z brings the tag back on the same samples.
    _tag_menu(page, "wide", "ls-tag-delete")
    question = page.locator("[data-testid=ls-tag-delete-question]").inner_text()
    assert question == "Delete tag “wide”? It is taken off 2 samples."
    page.locator("[data-testid=ls-tag-delete-ok]").click()
    page.wait_for_function(
        "() => !document.querySelector(\"[data-testid=ls-tag-filters] .ls-tag-row[data-name='wide']\")",
        timeout=10_000,
    )
    assert "wide" not in tags_of()
    if SHOTS.parent.exists():
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / "tag-delete-undo-toast-1400.png"))
    page.locator("[data-testid=ls-grid]").focus()
    page.keyboard.press("Control+z")
    _tag_row(page, "wide").wait_for(timeout=10_000)
    assert tags_of()["wide"] == 2
    assert sorted(s.file_name for s in small_dataset if "wide" in s.tags) == ["a.jpg", "d.jpg"]
    assert page.errors == []


@pytest.fixture
def coco_gui(db, examples, tmp_path, monkeypatch):
    import threading
    import time

    import lightly_studio as ls
    from lightly_studio.server import start_gui

    coco = examples / "coco_subset_128_images"
    dataset = ls.ImageDataset.create("coco")
    dataset.add_samples_from_coco(
        annotations_json=str(coco / "instances_train2017.json"),
        images_path=str(coco / "images"),
        embed=False,
    )
    monkeypatch.setenv("LIGHTLY_STUDIO_RUNTIME_DIR", str(tmp_path / "rt"))
    server = start_gui(port=0, block=False)
    yield server, dataset
    server.stop()
    deadline = time.time() + 10
    while time.time() < deadline and any(
        t.name.startswith("lightly-studio-") for t in threading.enumerate()
    ):
        time.sleep(0.05)


def test_annotations_view_on_coco_lists_every_box_and_sorts_by_size(coco_gui, app_page):
    server, dataset = coco_gui
    boxes = [a for s in dataset for a in s.annotations if a.x is not None]
    page = app_page
    page.goto(server.url)
    page.locator("[data-testid=ls-mode-annotations]").click()
    _crops_count(page, f"Showing {len(boxes):,} annotations")
    page.locator("[data-testid=ls-crops-sort]").select_option("size")
    page.locator("[data-testid=ls-crops-desc]").check()
    _crops_count(page, f"Showing {len(boxes):,} annotations")
    _crop_images_loaded(page, 12)
    largest = max(boxes, key=lambda a: max(a.width, a.height))
    first = _cell(page, 0).get_attribute("data-annotation-id")
    first_box = next(a for a in boxes if str(a.annotation_id) == first)
    assert max(first_box.width, first_box.height) == max(largest.width, largest.height)
    docs_shot(page, "annotations-view")
    assert page.errors == []


def test_annotations_view_in_the_notebook_widget_and_undo_from_python(page, lab, examples):
    """The same view inside the notebook explorer (the widget's comm, not HTTP): a relabel
    made there is in Python at once, and ``dataset.undo()`` in Python reverts it."""
    from tests.browser.conftest import open_notebook, run_cell, shot, write_notebook
    from tests.browser.test_notebook_views import SETUP

    base, folder = lab
    nb = write_notebook(
        folder,
        "crops.ipynb",
        [
            SETUP.format(name="crops", examples=examples),
            "from lightly_studio.widgets import Explorer\nex = Explorer(ds, height=700)\nex",
            "print('THINGS', sum(a.label == 'thing' for s in ds for a in s.annotations))",
            "print('UNDONE', ds.undo())\n"
            "print('THINGS', sum(a.label == 'thing' for s in ds for a in s.annotations))",
        ],
    )
    open_notebook(page, base, nb)
    assert "SAMPLES 128" in run_cell(page, 0)
    run_cell(page, 1)
    page.locator("[data-testid=ls-mode-annotations]").click()
    _crops_count(page, "Showing 900 annotations")
    _crop_images_loaded(page, 6)
    shot(page, "annotations-view-notebook")
    _cell(page, 0).locator("[data-role=check]").click()
    _cell(page, 1).locator("[data-role=check]").click()
    _selected(page, 2)
    page.locator("[data-testid=ls-crops-relabel-input]").fill("thing")
    page.locator("[data-testid=ls-crops-relabel]").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-undo]').disabled === false", timeout=15_000
    )
    assert "THINGS 2" in run_cell(page, 2)
    out = run_cell(page, 3)
    assert "UNDONE relabel 2 annotation(s) as 'thing'" in out and "THINGS 0" in out
