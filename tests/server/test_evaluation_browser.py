"""The Evaluation panel on the full page (Playwright + Debian's chromium): pick a run, the
confusion matrix and per-class table show, a matrix cell and the FP count filter the grid."""

from __future__ import annotations

import json
import os
from pathlib import Path

import polars as pl
import pytest

from tests.conftest import docs_shot
from tests.evaluation.helpers import coco_dataset, perturbed_predictions

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
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.errors = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    yield page
    context.close()


@pytest.fixture
def evaluated_gui(db, tmp_path, examples, monkeypatch):
    from lightly_studio.evaluation import ObjectDetectionEvaluationConfig
    from lightly_studio.server import start_gui

    ds = coco_dataset(examples)
    preds = tmp_path / "preds.json"
    preds.write_text(json.dumps(perturbed_predictions(examples)))
    ds.add_annotations_from_coco(str(preds), annotation_source="model")
    result = ds.evaluate().object_detection(
        "det", "ground_truth", "model", ObjectDetectionEvaluationConfig(classwise=False)
    )
    monkeypatch.setenv("LIGHTLY_STUDIO_RUNTIME_DIR", str(tmp_path / "rt"))
    server = start_gui(port=0, block=False)
    yield server, result
    server.stop()


def _count_is(page, n: int) -> None:
    page.wait_for_function(
        f"() => document.querySelector('[data-testid=ls-count]').textContent"
        f".startsWith('{n:,} of 128')",
        timeout=20_000,
    )


def test_panel_matrix_cell_and_counts_filter_the_grid(page, evaluated_gui):
    server, result = evaluated_gui
    page.goto(server.url)
    _count_is(page, 128)
    page.click("[data-testid=ls-eval-toggle]")
    page.wait_for_selector("[data-testid=ls-eval-matrix] .ls-eval-cell", timeout=20_000)
    assert page.locator("[data-testid=ls-eval-run]").input_value() == "det"
    # one row per class in the per-class table
    rows = page.locator("[data-testid=ls-eval-table] tbody tr").count()
    assert rows == len(result.classes())
    # an off-diagonal cell: hover shows its count, a click filters the grid to its images
    matches = result.matches()
    off = matches.filter(pl.col("outcome") == "mismatch").row(0, named=True)
    cell = page.locator(
        f".ls-eval-cell[data-gt={json.dumps(off['gt_label'])}]"
        f"[data-pred={json.dumps(off['pred_label'])}]"
    )
    cell.hover()
    expected_cell = matches.filter(
        (pl.col("gt_label") == off["gt_label"]) & (pl.col("pred_label") == off["pred_label"])
    )
    assert (
        f"Count: {expected_cell.height}" in page.locator("[data-testid=ls-eval-tip]").inner_text()
    )
    cell.click()
    _count_is(page, expected_cell["sample_id"].n_unique())
    # the FP count filters to the images with a false positive
    page.click("[data-testid=ls-eval-fp]")
    _count_is(page, int((result.sample_metrics()["fp"] > 0).sum()))
    assert page.locator("[data-testid=ls-eval-pr] polyline").count() == 1
    docs_shot(page, "evaluation-panel")
    assert page.errors == []
