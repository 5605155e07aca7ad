"""The notebook views in a real JupyterLab + Chromium, on the example COCO subset."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import open_notebook, run_cell, shot, write_notebook
from tests.plugins.conftest import GREETING_OPERATOR

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SETUP = """
import os, sys, types, polars as pl
from lightly_studio import db_manager
db_manager.connect(db_file=os.path.join(os.getcwd(), "{name}.db"))
from lightly_studio.core.image_dataset import ImageDataset
ds = ImageDataset.create("coco")
ds.add_samples_from_coco(annotations_json="{examples}/coco_subset_128_images/instances_train2017.json",
                         images_path="{examples}/coco_subset_128_images/images", embed=False)
for s in list(ds)[:3]:
    s.add_tag("first3")
print("SAMPLES", len(ds))
"""


def test_explorer_shows_filters_and_tags(page, lab, examples):
    base, folder = lab
    nb = write_notebook(
        folder,
        "explorer.ipynb",
        [
            SETUP.format(name="explorer", examples=examples),
            "from lightly_studio.widgets import Explorer\nex = Explorer(ds, height=700)\nex",
            "print('QUERY', ex.query.count())",
            "from lightly_studio.core.dataset_query import ImageSampleField as F\n"
            "print('TAGGED', ds.match(F.tags.contains('from_ui')).count())",
        ],
    )
    open_notebook(page, base, nb)
    assert "SAMPLES 128" in run_cell(page, 0)
    out = run_cell(page, 1)
    grid = page.locator("[data-testid=ls-grid]")
    try:
        grid.wait_for(timeout=30_000)
    except Exception:  # noqa: BLE001 - screenshot whatever went wrong, then fail with the context
        shot(page, "explorer-failed")
        raise AssertionError(f"explorer did not render; cell output: {out!r}") from None
    page.wait_for_selector("[data-testid=ls-grid] .ls-cell img", timeout=30_000)
    assert "128 of 128" in page.locator("[data-testid=ls-count]").inner_text()
    cells = page.locator("[data-testid=ls-grid] .ls-cell").count()
    assert 0 < cells < 128, "the grid renders only the cells near the viewport"
    shot(page, "explorer-grid")

    grid.evaluate("el => el.scrollTop = el.scrollHeight")
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=ls-grid] .ls-cell')]"
        ".some(c => Number(c.dataset.index) >= 120 && c.querySelector('img'))",
        timeout=30_000,
    )

    # Filter by a tag, then by a label, through the panel.
    page.locator("[data-testid=ls-tag-filters] label[data-name=first3] input").check()
    page.wait_for_function(
        "() => /^3 of 128/.test(document.querySelector('[data-testid=ls-count]').textContent)",
        timeout=20_000,
    )
    page.locator("[data-testid=ls-tag-filters] label[data-name=first3] input").uncheck()
    page.locator("[data-testid=ls-label-filters] label[data-name=zebra] input").check()
    page.wait_for_function(
        "() => { const m = /^(\\d+) of 128/.exec(document.querySelector('[data-testid=ls-count]').textContent);"
        " return m && +m[1] > 0 && +m[1] < 128; }",
        timeout=20_000,
    )
    shot(page, "explorer-filtered-zebra")
    zebras = int(re.match(r"(\d+)", page.locator("[data-testid=ls-count]").inner_text()).group(1))
    assert f"QUERY {zebras}" in run_cell(page, 2)

    # Select two cells with ctrl-click and tag them from the toolbar.
    first = page.locator("[data-testid=ls-grid] .ls-cell").nth(0)
    second = page.locator("[data-testid=ls-grid] .ls-cell").nth(1)
    first.click(modifiers=["Control"])
    second.click(modifiers=["Control"])
    assert "2 selected" in page.locator("[data-testid=ls-selected-count]").inner_text()
    page.locator("[data-testid=ls-tag-input]").fill("from_ui")
    page.locator("[data-testid=ls-tag-button]").click()
    page.wait_for_selector(".ls-status:has-text('Tagged 2')", timeout=20_000)
    assert "TAGGED 2" in run_cell(page, 3)

    # Open the detail view.
    page.locator("[data-testid=ls-grid] .ls-cell").nth(0).click()
    page.wait_for_selector("[data-testid=ls-detail] .ls-detail-image img", timeout=20_000)
    page.wait_for_selector("[data-testid=ls-detail] .ls-ann", timeout=20_000)
    shot(page, "explorer-detail")


def test_plot_lasso_reaches_python(page, lab, examples):
    base, folder = lab
    # Two well separated clusters of toy vectors: a real PaCMAP projection, no model weights.
    plot_cell = (
        "import numpy as np\n"
        "ids = ds.query().sample_ids()\n"
        "rng = np.random.default_rng(0)\n"
        "centres = np.eye(16)[[0, 1]] * 5\n"
        "vectors = centres[np.arange(len(ids)) % 2] + rng.normal(size=(len(ids), 16))\n"
        "ds.add_embeddings('toy', ids, vectors.astype('float32'))\n"
        "from lightly_studio.widgets import EmbeddingPlot\nplot = EmbeddingPlot(ds, height=500)\nplot"
    )
    nb = write_notebook(
        folder,
        "plot.ipynb",
        [
            SETUP.format(name="plot", examples=examples),
            plot_cell,
            "print('SELECTED', len(plot.selected_ids), plot.selection.count())",
        ],
    )
    open_notebook(page, base, nb)
    run_cell(page, 0)
    run_cell(page, 1)
    page.wait_for_selector("[data-testid=ls-plot-status]:has-text('128 points')", timeout=60_000)
    canvas = page.locator("[data-testid=ls-plot-canvas]")
    box = canvas.bounding_box()
    # Lasso a big rectangle around the middle of the plot.
    x0, y0 = box["x"] + box["width"] * 0.05, box["y"] + box["height"] * 0.05
    x1, y1 = box["x"] + box["width"] * 0.95, box["y"] + box["height"] * 0.95
    page.mouse.move(x0, y0)
    page.mouse.down()
    for x, y in [(x1, y0), (x1, y1), (x0, y1)]:
        page.mouse.move(x, y, steps=12)
    page.mouse.up()
    page.wait_for_selector("[data-testid=ls-plot-status]:has-text('selected')", timeout=20_000)
    shot(page, "plot-lasso")
    status = page.locator("[data-testid=ls-plot-status]").inner_text()
    n = int(re.search(r"([\d,]+) selected", status).group(1).replace(",", ""))
    assert n > 0
    # Clicking into another cell (to run it) keeps the plot's selection.
    assert f"SELECTED {n} {n}" in run_cell(page, 2)
    assert f"{n} selected" in page.locator("[data-testid=ls-plot-status]").inner_text()


# The reference docs' operator (one definition, tests/plugins/conftest.py), registered in the
# kernel, then the explorer whose plugins menu runs it.
GREETING = (
    GREETING_OPERATOR
    + """
from lightly_studio.plugins.operator_registry import operator_registry
operator_registry.register(GreetingOperator())
from lightly_studio.widgets import Explorer
ex = Explorer(ds, height=700)
ex
"""
)


def test_plugins_menu_runs_the_greeting_operator(page, lab, examples):
    base, folder = lab
    nb = write_notebook(
        folder, "plugins.ipynb", [SETUP.format(name="plugins", examples=examples), GREETING]
    )
    open_notebook(page, base, nb)
    run_cell(page, 0)
    run_cell(page, 1)
    page.click("[data-testid=ls-operators-button]", timeout=60_000)
    page.locator("[data-testid=ls-operator-item]", has_text="GreetingOperator").click()
    field = page.locator("[data-testid=ls-op-input-name]")
    field.fill("Ada")
    page.click("[data-testid=ls-operator-run]")
    page.wait_for_selector(
        "[data-testid=ls-operator-status]:has-text('Hello Ada!')", timeout=30_000
    )
    shot(page, "plugins-greeting")


EVALUATE = """
import json
from pathlib import Path
from tests.evaluation.helpers import perturbed_predictions
from lightly_studio.evaluation import ObjectDetectionEvaluationConfig
Path("preds.json").write_text(json.dumps(perturbed_predictions(Path("{examples}"))))
ds.add_annotations_from_coco("preds.json", annotation_source="model")
run = ds.evaluate().object_detection(
    "det", "ground_truth", "model", ObjectDetectionEvaluationConfig(classwise=False))
print("TP", run.metrics["tp"])
"""


def test_evaluation_panel_inside_the_notebook_widget(page, lab, examples):
    base, folder = lab
    nb = write_notebook(
        folder,
        "evaluation.ipynb",
        [
            SETUP.format(name="evaluation", examples=examples),
            EVALUATE.format(examples=examples),
            "from lightly_studio.widgets import Explorer\nex = Explorer(ds, height=700)\nex",
            "print('RUNS', sorted(r.name for r in ds.evaluation_runs()))",
        ],
    )
    open_notebook(page, base, nb)
    assert "SAMPLES 128" in run_cell(page, 0)
    assert "TP " in run_cell(page, 1)
    run_cell(page, 2)
    page.wait_for_selector("[data-testid=ls-grid] .ls-cell img", timeout=30_000)
    page.click("[data-testid=ls-eval-toggle]")
    page.wait_for_selector("[data-testid=ls-eval-matrix] .ls-eval-cell", timeout=30_000)
    assert page.locator("[data-testid=ls-eval-run]").input_value() == "det"
    # The tiles' boxes take the outcome colours of the run.
    page.wait_for_selector(".ls-cell rect[data-outcome=tp][stroke='#16a34a']", timeout=20_000)
    page.wait_for_selector(".ls-cell rect[data-outcome=fp][stroke='#dc2626']", timeout=20_000)
    shot(page, "evaluation-notebook-panel")
    # A cell with a count filters the grid and highlights its objects.
    page.locator(".ls-eval-cell[data-count]:not([data-count='0'])").first.click()
    page.wait_for_function(
        "() => { const m = /^(\\d+) of 128/.exec(document.querySelector('[data-testid=ls-count]').textContent);"
        " return m && +m[1] > 0 && +m[1] < 128; }",
        timeout=20_000,
    )
    page.wait_for_selector(".ls-cell rect[data-dim=false]", timeout=20_000)
    # A new run from the dialog reaches Python.
    page.click("[data-testid=ls-eval-new]")
    page.wait_for_selector("[data-testid=ls-eval-new-dialog]", timeout=20_000)
    page.fill("[data-testid=ls-eval-new-name]", "from-widget")
    page.click("[data-testid=ls-eval-new-run]")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-eval-run]').value === 'from-widget'",
        timeout=30_000,
    )
    assert "RUNS ['det', 'from-widget']" in run_cell(page, 3)


def test_explorer_side_plot_hover_legend_and_filter_grey(page, lab, examples):
    """The explorer widget's side plot in the notebook: the hover card names the hovered
    sample, a legend click hides a class and a double-click isolates it, and a label filter
    greys (keeps) the points outside it."""
    base, folder = lab
    cell = (
        "import numpy as np\n"
        "from lightly_studio.core.dataset_query import ImageSampleField as F\n"
        "ids = ds.query().sample_ids()\n"
        "rng = np.random.default_rng(0)\n"
        "vectors = np.eye(16)[np.arange(len(ids)) % 2] * 5 + rng.normal(size=(len(ids), 16))\n"
        "ds.add_embeddings('toy', ids, vectors.astype('float32'))\n"
        "print('DOGS', ds.match(F.annotations.contains_label('dog')).count())\n"
        "from lightly_studio.widgets import Explorer\n"
        "ex = Explorer(ds, height=700, show_plot=True)\nex"
    )
    nb = write_notebook(
        folder, "sideplot.ipynb", [SETUP.format(name="sideplot", examples=examples), cell]
    )
    open_notebook(page, base, nb)
    run_cell(page, 0)
    dogs = int(re.search(r"DOGS (\d+)", run_cell(page, 1)).group(1))
    page.wait_for_selector("[data-testid=ls-plot-status]:has-text('128 points')", timeout=90_000)
    plot = "document.querySelector('[data-testid=ls-plot]')"

    # Hover the most isolated point (inside the canvas, clear of the legend): the card names
    # that point's sample (the plot's own id lookup).
    page.locator("[data-testid=ls-plot-canvas]").scroll_into_view_if_needed()
    name, x, y = page.evaluate(
        f"""async () => {{
        const p = {plot}.__lsPlot;
        const box = document.querySelector('[data-testid=ls-plot-canvas]').getBoundingClientRect();
        const legend = document.querySelector('[data-testid=ls-plot-legend]').getBoundingClientRect();
        const n = p.xs.length;
        const pos = [...Array(n).keys()].map(i => p.pointPosition(i));
        let best = -1, bestD = -1;
        for (let i = 0; i < n; i++) {{
            const [x, y] = pos[i];
            const px = box.x + x, py = box.y + y;
            if (x < 20 || y < 20 || x > box.width - 20 || y > box.height - 20) continue;
            if (legend.width && px > legend.left - 20 && py < legend.bottom + 20) continue;
            let d = Infinity;
            for (let j = 0; j < n; j++) if (j !== i) d = Math.min(d, Math.hypot(pos[j][0] - x, pos[j][1] - y));
            if (d > bestD) {{ bestD = d; best = i; }}
        }}
        const {{result}} = await p.o.rpc.call('plot_ids', {{token: p.token, indices: [best], names: true}});
        return [result.file_names[0], box.x + pos[best][0], box.y + pos[best][1]];
    }}"""
    )
    page.mouse.move(x - 15, y - 15)
    page.mouse.move(x, y, steps=4)
    page.wait_for_function(
        "n => { const t = document.querySelector('[data-testid=ls-plot-tip]');"
        " return t.style.display !== 'none' && t.textContent.includes(n); }",
        arg=name,
        timeout=15_000,
    )
    assert page.locator("[data-testid=ls-plot-tip] img").get_attribute("alt") == name
    page.mouse.move(x - 200, y + 200)

    # Colour by class; a legend click hides "dog", a double-click shows only "dog".
    page.locator("[data-testid=ls-plot-color]").select_option("label")
    page.locator("[data-testid=ls-plot-legend] [data-name=dog]").wait_for(timeout=15_000)
    page.locator("[data-testid=ls-plot-legend] [data-name=dog]").click()
    page.wait_for_function(f"() => {plot}.dataset.hidden === 'dog'")
    page.locator("[data-testid=ls-plot-legend] [data-name=dog]").click()
    page.wait_for_function(f"() => {plot}.dataset.hidden === ''")
    page.locator("[data-testid=ls-plot-legend] [data-name=dog]").dblclick()
    page.wait_for_function(
        f"() => {{ const h = {plot}.dataset.hidden.split(','); return h.length > 1"
        " && !h.includes('dog'); }"
    )
    page.locator("[data-testid=ls-plot-legend] [data-name=dog]").dblclick()
    page.wait_for_function(f"() => {plot}.dataset.hidden === ''")

    # A label filter: the other points stay in the plot, greyed.
    page.locator("[data-testid=ls-label-filters] label[data-name=dog] input").check()
    page.wait_for_function(
        f"n => {plot}.dataset.greyed === String(n)", arg=128 - dogs, timeout=20_000
    )
    outside = page.evaluate(
        f"() => {{ const p = {plot}.__lsPlot; const k = p.colors.length;"
        " return [...p.cats].filter(c => c === k).length; }"
    )
    assert outside == 128 - dogs
    page.locator("[data-testid=ls-plot-outside]").wait_for()
    shot(page, "notebook-side-plot-greyed")
