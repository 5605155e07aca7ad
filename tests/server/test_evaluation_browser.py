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
    yield server, result, ds
    server.stop()


def _count_is(page, n: int) -> None:
    page.wait_for_function(
        f"() => document.querySelector('[data-testid=ls-count]').textContent"
        f".startsWith('{n:,} of 128')",
        timeout=20_000,
    )


def test_panel_matrix_cell_and_counts_filter_the_grid(page, evaluated_gui):
    server, result, _ = evaluated_gui
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
    expected_cell = matches.filter(  # the matrix leaves out pairs with a crowd region
        (pl.col("gt_label") == off["gt_label"])
        & (pl.col("pred_label") == off["pred_label"])
        & (pl.col("outcome") != "ignored")
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


OUTCOME_COLORS = {"tp": "#16a34a", "fp": "#dc2626", "fn": "#f59e0b"}  # js/src/views/evalColors.ts


def _known_outcomes(result, sample_ids: list[str]) -> dict[str, tuple[str, str]]:
    """One (sample id, annotation id) per outcome, among ``sample_ids``: a matched prediction
    (TP), an unmatched prediction (FP) and a missed ground truth (FN)."""
    m = result.matches().filter(pl.col("sample_id").is_in(sample_ids))
    picks = {
        "tp": m.filter(pl.col("outcome") == "tp").select("sample_id", "pred_annotation_id"),
        "fp": m.filter(pl.col("outcome") == "fp").select("sample_id", "pred_annotation_id"),
        "fn": m.filter(pl.col("outcome") == "fn").select("sample_id", "gt_annotation_id"),
    }
    return {k: tuple(v.row(0)) for k, v in picks.items()}  # type: ignore[misc]


def _stroke(page, scope: str, annotation_id: str) -> str:
    selector = f"{scope} [data-annotation-id='{annotation_id}']"
    page.wait_for_selector(selector, timeout=20_000)
    return page.locator(selector).first.get_attribute("stroke") or ""


def _wait_stroke(page, scope: str, annotation_id: str, color: str) -> None:
    page.wait_for_function(
        "([sel, color]) => document.querySelector(sel)?.getAttribute('stroke') === color",
        arg=[f"{scope} [data-annotation-id='{annotation_id}']", color],
        timeout=20_000,
    )


def test_boxes_are_coloured_tp_fp_fn_in_grid_detail_and_annotator(page, evaluated_gui):
    from lightly_studio import api

    server, result, ds = evaluated_gui
    # The grid's first samples (its order is the api's): a known TP, FP and FN among them.
    first, _ = api.dispatch(
        "samples_page", {"spec": {"dataset_id": str(ds.dataset_id)}, "limit": 8}
    )
    known = _known_outcomes(result, [r["sample_id"] for r in first["rows"]])
    page.goto(server.url)
    _count_is(page, 128)
    page.click("[data-testid=ls-eval-toggle]")
    page.wait_for_selector("[data-testid=ls-eval-matrix] .ls-eval-cell", timeout=20_000)
    assert page.locator("[data-testid=ls-eval-panel] [data-testid=ls-outcome-legend]").is_visible()
    for outcome, (sample_id, annotation_id) in known.items():
        tile = f".ls-cell[data-sample-id='{sample_id}']"
        _wait_stroke(page, tile, annotation_id, OUTCOME_COLORS[outcome])
        box = page.locator(f"{tile} [data-annotation-id='{annotation_id}']")
        assert box.get_attribute("data-outcome") == outcome
    docs_shot(page, "evaluation-outcome-colours")
    # Colour by class again: the same boxes lose the outcome colours.
    page.select_option("[data-testid=ls-eval-color-by]", "class")
    sample_id, annotation_id = known["fp"]
    page.wait_for_function(
        "sel => !['#16a34a', '#dc2626', '#f59e0b'].includes("
        "document.querySelector(sel)?.getAttribute('stroke'))",
        arg=f".ls-cell[data-sample-id='{sample_id}'] [data-annotation-id='{annotation_id}']",
        timeout=20_000,
    )
    page.select_option("[data-testid=ls-eval-color-by]", "outcome")
    # The detail view: boxes and the annotation list carry the outcome.
    sample_id, _ = known["tp"]
    page.click(f".ls-cell[data-sample-id='{sample_id}']")
    page.wait_for_selector("[data-testid=ls-detail]", timeout=20_000)
    for outcome, (sid, annotation_id) in known.items():
        if sid != sample_id:
            continue
        _wait_stroke(page, "[data-testid=ls-detail-world]", annotation_id, OUTCOME_COLORS[outcome])
        row = page.locator(f".ls-ann[data-annotation-id='{annotation_id}']")
        assert row.get_attribute("data-outcome") == outcome
        assert outcome.upper() in row.inner_text()
    assert page.locator("[data-testid=ls-detail] [data-testid=ls-outcome-legend]").count() == 1
    # The annotator opens colouring by the same run.
    page.click("[data-testid=ls-detail-edit]")
    page.wait_for_selector("[data-testid=ls-ann-world] [data-ann]", timeout=20_000)
    assert page.locator("[data-testid=ls-ann-color-by]").input_value() == "outcome"
    _, tp_annotation = known["tp"]
    page.wait_for_function(
        "([id, color]) => document.querySelector(`[data-testid=ls-ann-world] [data-ann='${id}']`)"
        "?.getAttribute('stroke') === color",
        arg=[tp_annotation, OUTCOME_COLORS["tp"]],
        timeout=20_000,
    )
    assert page.locator("[data-testid=ls-annotator] [data-testid=ls-outcome-legend]").is_visible()
    assert page.errors == []


def test_a_matrix_cell_highlights_its_objects_and_dims_the_others(page, evaluated_gui):
    server, result, _ = evaluated_gui
    matches = result.matches()

    def cell(row):  # the matrix leaves out pairs with a crowd region ("ignored")
        return matches.filter(
            (pl.col("gt_label") == row["gt_label"])
            & (pl.col("pred_label") == row["pred_label"])
            & (pl.col("outcome") != "ignored")
        )

    def others(row) -> int:  # objects of the cell's images outside the cell
        return (
            matches.filter(pl.col("sample_id").is_in(cell(row)["sample_id"])).height
            - cell(row).height
        )

    # An off-diagonal cell whose images hold other objects too (those are to be dimmed).
    off = max(matches.filter(pl.col("outcome") == "mismatch").iter_rows(named=True), key=others)
    in_cell = cell(off)
    cell_ids = set(in_cell["gt_annotation_id"].drop_nulls()) | set(
        in_cell["pred_annotation_id"].drop_nulls()
    )
    page.goto(server.url)
    _count_is(page, 128)
    page.click("[data-testid=ls-eval-toggle]")
    page.wait_for_selector("[data-testid=ls-eval-matrix] .ls-eval-cell", timeout=20_000)
    page.locator(
        f".ls-eval-cell[data-gt={json.dumps(off['gt_label'])}]"
        f"[data-pred={json.dumps(off['pred_label'])}]"
    ).click()
    _count_is(page, in_cell["sample_id"].n_unique())
    # Every box in the filtered grid: bright when it is an object of the cell, dimmed if not.
    page.wait_for_function(
        "() => document.querySelector('.ls-cell [data-dim=false]')", timeout=20_000
    )
    boxes = page.eval_on_selector_all(
        ".ls-cell rect[data-annotation-id]",
        "els => els.map(e => [e.dataset.annotationId, e.dataset.dim])",
    )
    assert boxes, "the filtered grid draws boxes"
    assert all((dim == "false") == (aid in cell_ids) for aid, dim in boxes), boxes
    assert any(dim == "true" for _, dim in boxes), (boxes, cell_ids)  # others: dimmed
    # The detail view highlights the same objects.
    page.locator(".ls-cell[data-sample-id]").first.click()
    page.wait_for_selector("[data-testid=ls-detail-world] rect[data-dim]", timeout=20_000)
    detail = page.eval_on_selector_all(
        "[data-testid=ls-detail-world] rect[data-annotation-id]",
        "els => els.map(e => [e.dataset.annotationId, e.dataset.dim])",
    )
    assert any(dim == "false" for _, dim in detail)
    assert all((dim == "false") == (aid in cell_ids) for aid, dim in detail), detail
    # Another filter ends the highlight: back in the grid, the TP button.
    page.keyboard.press("Escape")
    page.click("[data-testid=ls-eval-tp]")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-explorer]').__lsColoring.cell === null",
        timeout=20_000,
    )
    assert page.errors == []


def test_new_evaluation_dialog_runs_a_stored_evaluation_and_shows_errors(page, evaluated_gui):
    from lightly_studio.core.annotation import CreateClassification

    server, _, ds = evaluated_gui
    # Two samples get an image class from both sources: classification is offered too.
    for sample, (truth, guess) in zip(ds, [("day", "day"), ("night", "day")], strict=False):
        sample.add_annotation(CreateClassification(label=truth))
        sample.add_annotation(
            CreateClassification(label=guess, confidence=0.8, annotation_source="model")
        )
    page.goto(server.url)
    _count_is(page, 128)
    page.click("[data-testid=ls-eval-toggle]")
    page.wait_for_selector("[data-testid=ls-eval-matrix] .ls-eval-cell", timeout=20_000)
    page.click("[data-testid=ls-eval-new]")
    dialog = page.locator("[data-testid=ls-eval-new-dialog]")
    dialog.wait_for(timeout=20_000)
    # Only tasks whose annotation type both sources have (no masks, no semantic masks here).
    tasks = page.eval_on_selector_all(
        "[data-testid=ls-eval-new-task] option", "els => els.map(e => e.value)"
    )
    assert tasks == ["object_detection", "classification"]
    assert page.locator("[data-testid=ls-eval-new-gt]").input_value() == "ground_truth"
    assert page.locator("[data-testid=ls-eval-new-pred]").input_value() == "model"
    docs_shot(dialog, "evaluation-new-dialog")
    # A name taken by a run of another task: the EvaluationError shows in the dialog.
    page.select_option("[data-testid=ls-eval-new-task]", "classification")
    assert not page.locator("[data-testid=ls-eval-new-iou]").is_visible()
    page.fill("[data-testid=ls-eval-new-name]", "det")
    page.click("[data-testid=ls-eval-new-run]")
    message = page.locator("[data-testid=ls-eval-new-message]")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-eval-new-message]')"
        ".classList.contains('ls-error')",
        timeout=20_000,
    )
    assert "'det' is a object_detection run" in message.inner_text()
    assert {r.name for r in ds.evaluation_runs()} == {"det"}
    # A detection run at IoU 0.75: stored, listed and chosen in the panel.
    page.select_option("[data-testid=ls-eval-new-task]", "object_detection")
    page.fill("[data-testid=ls-eval-new-name]", "strict")
    page.fill("[data-testid=ls-eval-new-iou]", "0.75")
    page.click("[data-testid=ls-eval-new-run]")
    dialog.wait_for(state="detached", timeout=30_000)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-eval-run]').value === 'strict'",
        timeout=20_000,
    )
    runs = {r.name: r for r in ds.evaluation_runs()}
    assert set(runs) == {"det", "strict"}
    assert runs["strict"].task == "object_detection"
    assert runs["strict"].config == {"iou_threshold": 0.75, "classwise": True}
    page.wait_for_function(
        "text => document.querySelector('[data-testid=ls-eval-tp]').textContent === text",
        arg=f"TP {runs['strict'].metrics['tp']:,}",
        timeout=20_000,
    )
    assert page.errors == []


@pytest.fixture
def segmented_gui(db, tmp_path, examples, monkeypatch):
    from lightly_studio import AnnotationType
    from lightly_studio.server import start_gui

    ds = coco_dataset(examples, masks=True)
    preds = tmp_path / "preds.json"
    preds.write_text(json.dumps(perturbed_predictions(examples, masks=True)))
    ds.add_annotations_from_coco(
        str(preds), annotation_source="model", annotation_type=AnnotationType.INSTANCE_SEGMENTATION
    )
    result = ds.evaluate().instance_segmentation("seg", "ground_truth", "model")
    monkeypatch.setenv("LIGHTLY_STUDIO_RUNTIME_DIR", str(tmp_path / "rt"))
    server = start_gui(port=0, block=False)
    yield server, result, ds
    server.stop()


def test_masks_are_painted_in_outcome_colours_in_the_detail_view(page, segmented_gui):
    """Pixels, not DOM: a pixel only a missed object's mask covers is amber, one only a false
    positive's mask covers is red."""
    import numpy as np

    from lightly_studio import api
    from lightly_studio.shapes import rle

    server, result, ds = segmented_gui
    matches = result.matches()
    fn_ids = set(matches.filter(pl.col("outcome") == "fn")["gt_annotation_id"])
    fp_ids = set(matches.filter(pl.col("outcome") == "fp")["pred_annotation_id"])
    # A sample with an FN and an FP mask that each own a pixel no other mask covers.
    picked = None
    for sample_id in matches.filter(pl.col("outcome") == "fn")["sample_id"].unique().sort():
        detail, _ = api.dispatch(
            "sample_detail", {"dataset_id": str(ds.dataset_id), "sample_id": sample_id}
        )
        w, h = detail["fields"]["width"], detail["fields"]["height"]
        masks = {a["annotation_id"]: rle.decode(a["rle"], w, h) for a in detail["annotations"]}
        cover = np.sum(list(masks.values()), axis=0)
        owned = {}
        for ids, outcome in ((fn_ids, "fn"), (fp_ids, "fp")):
            for aid, m in masks.items():
                ys, xs = np.nonzero(m & (cover == 1))
                if aid in ids and len(xs):
                    owned[outcome] = (int(xs[len(xs) // 2]), int(ys[len(ys) // 2]))
                    break
        if len(owned) == 2 and max(w, h) <= 1024:  # the canvas is at image resolution
            picked = sample_id, owned
            break
    assert picked, "the example data has a sample with a lone FN and a lone FP mask"
    sample_id, owned = picked
    page.goto(server.url)
    _count_is(page, 128)
    page.click("[data-testid=ls-eval-toggle]")
    page.wait_for_selector("[data-testid=ls-eval-matrix] .ls-eval-cell", timeout=20_000)
    page.evaluate(
        "id => document.querySelector('[data-testid=ls-explorer]').__lsGrid.opts.onOpen(0, "
        "{ sample_id: id })",
        sample_id,
    )
    page.wait_for_selector(".ls-ann[data-outcome=fn]", timeout=20_000)
    expected = {"fn": (0xF5, 0x9E, 0x0B), "fp": (0xDC, 0x26, 0x26)}
    for outcome, (x, y) in owned.items():
        pixel = page.evaluate(
            "([x, y]) => [...document.querySelector('[data-testid=ls-detail-world] canvas')"
            ".getContext('2d').getImageData(x, y, 1, 1).data]",
            [x, y],
        )
        # a canvas keeps premultiplied alpha: channels come back within a step or two
        assert pixel[3] > 0
        assert np.abs(np.array(pixel[:3]) - expected[outcome]).max() <= 3, (outcome, pixel)
    assert page.errors == []
