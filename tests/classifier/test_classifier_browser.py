"""The few-shot classifier panel of the full-page app in a real browser (Playwright + Debian's
chromium): create a classifier, mark grid-selected samples per class, train, show the least
sure samples and a class's predicted members, mark all shown, retrain, apply as a source.

Twelve small images, six "red_*" and six "blue_*", with planted 3-d vectors (red near x, blue
near y, added with add_embeddings): the flow is checked, not a model.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from tests.browser.conftest import (
    classifier_status,
    create_classifier,
    ctrl_click,
    mark_reds_then_blues,
)
from tests.conftest import docs_shot, make_images

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium"),
]


@pytest.fixture
def colours(db, tmp_path):
    import lightly_studio as ls

    names = [f"blue_{i}.png" for i in range(6)] + [f"red_{i}.png" for i in range(6)]
    make_images(tmp_path / "imgs", {n: (32, 24) for n in names})
    dataset = ls.ImageDataset.create("colours")
    dataset.add_images_from_path(str(tmp_path / "imgs"), embed=False)
    frame = dataset.query().to_polars()
    ids = dict(zip(frame["file_name"], frame["sample_id"], strict=True))
    rng = np.random.default_rng(0)
    vectors = [
        (np.array([0, 1.0, 0]) if n.startswith("blue") else np.array([1.0, 0, 0]))
        + rng.normal(0, 0.05, 3)
        for n in names
    ]
    dataset.add_embeddings("toy", [ids[n] for n in names], np.array(vectors, dtype=np.float32))
    return dataset, ids


@pytest.fixture
def app(colours, tmp_path, monkeypatch, page):
    if not (REPO / "lightly_studio/static/app.js").exists():
        pytest.fail("JS bundle not built (npm run build)")
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


def _count(page, text: str) -> None:
    page.locator("[data-testid=ls-count]", has_text=text).wait_for(timeout=15_000)


def test_mark_train_refine_and_apply_from_the_panel(app, colours, page):
    from lightly_studio.db import get_connection
    from lightly_studio.store.annotations import annotations_frame

    dataset, ids = colours
    dataset.few_shot_classifier("made_in_python", ["a", "b"])  # shows in the panel too

    page.goto(app.url)
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=ls-grid] .ls-cell[data-sample-id]').length == 12"
    )
    page.locator("[data-testid=ls-classifier-toggle]").click()
    picker = page.locator("[data-testid=ls-clf-picker] option")
    picker.first.wait_for(state="attached")
    assert picker.all_inner_texts() == ["made_in_python"]

    create_classifier(page, "colour", "red, blue")
    assert picker.all_inner_texts() == ["colour", "made_in_python"]
    assert page.locator("[data-testid=ls-clf-mark-0]").is_disabled()  # nothing selected yet

    mark_reds_then_blues(
        page, [ids["red_0.png"], ids["red_1.png"]], [ids["blue_0.png"], ids["blue_1.png"]]
    )
    assert page.locator("[data-testid=ls-clf-count-0]").inner_text() == "2 ex."
    assert page.locator("[data-testid=ls-clf-count-1]").inner_text() == "2 ex."

    page.locator("[data-testid=ls-clf-train]").click()
    classifier_status(page, "Trained on 4 examples in")
    for name in ("blue_0.png", "blue_1.png"):
        ctrl_click(page, ids[name])  # nothing selected now
    page.locator("[data-testid=ls-selected-count]", has_text="selected").wait_for(state="detached")

    page.locator("[data-testid=ls-clf-uncertain]").click()
    classifier_status(page, "The 8 samples it is least sure of")
    _count(page, "8 of 12")

    page.locator("[data-testid=ls-clf-members-0]").click()
    classifier_status(page, "6 samples predicted as “red”")
    _count(page, "6 of 12")
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=ls-grid] .ls-cell[data-sample-id]').length == 6"
    )
    shown = page.eval_on_selector_all(
        "[data-testid=ls-grid] .ls-cell[data-sample-id]",
        "cells => cells.map(c => c.dataset.sampleId)",
    )
    assert sorted(shown) == sorted(ids[f"red_{i}.png"] for i in range(6))

    # Accept the predicted members as examples: nothing selected, so "+ all shown".
    page.locator("[data-testid=ls-clf-mark-0]", has_text="+ all shown").click()
    classifier_status(page, "Marked the samples shown as “red”")
    assert page.locator("[data-testid=ls-clf-count-0]").inner_text() == "6 ex."
    page.locator("[data-testid=ls-clf-train]", has_text="Retrain").click()
    classifier_status(page, "Trained on 8 examples in")
    page.locator("[data-testid=ls-clf-show-all]").click()
    _count(page, "12 of 12")

    page.locator("[data-testid=ls-clf-apply]").click()
    classifier_status(page, "Wrote 12 classifications into the source “colour”")
    docs_shot(page, "classifier-panel")
    stored = annotations_frame(get_connection(), dataset.dataset_id, source="colour")
    by_id = dict(stored.select("sample_id", "label").rows())
    assert by_id == {sid: name.split("_")[0] for name, sid in ids.items()}
    assert page.errors == []
