"""The few-shot classifier panel inside the notebook explorer (JupyterLab + Chromium): create,
mark examples from the widget's selection, train, apply, and read the labels back in the
kernel. The full-page flow, step by step, is tests/classifier/test_classifier_browser.py.

Twelve small images, six "red_*" and six "blue_*", with planted 3-d vectors (red near x, blue
near y): the flow through the widget is checked, not a model.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import (
    classifier_status,
    create_classifier,
    mark_reds_then_blues,
    open_notebook,
    run_cell,
    shot,
    write_notebook,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SETUP = """
import os, numpy as np
from PIL import Image
from lightly_studio import db_manager
db_manager.connect(db_file=os.path.join(os.getcwd(), "classifier_nb.db"))
from lightly_studio.core.image_dataset import ImageDataset
folder = os.path.join(os.getcwd(), "classifier_nb_images")
os.makedirs(folder, exist_ok=True)
names = [f"blue_{i}.png" for i in range(6)] + [f"red_{i}.png" for i in range(6)]
for n in names:
    Image.new("RGB", (32, 24), (200, 30, 30) if n.startswith("red") else (30, 30, 200)).save(
        os.path.join(folder, n))
ds = ImageDataset.create("colours")
ds.add_images_from_path(folder, embed=False)
ids = dict(ds.query().to_polars().select("file_name", "sample_id").rows())
rng = np.random.default_rng(0)
vectors = np.array([(np.array([0, 1.0, 0]) if n.startswith("blue") else np.array([1.0, 0, 0]))
                    + rng.normal(0, 0.05, 3) for n in names], dtype=np.float32)
ds.add_embeddings("toy", [ids[n] for n in names], vectors)
print("SAMPLES", len(ds))
"""

READ_BACK = """
from lightly_studio.db import get_connection
from lightly_studio.store.annotations import annotations_frame
stored = dict(annotations_frame(get_connection(), ds.dataset_id, source="colour")
              .select("sample_id", "label").rows())
by_name = {n: stored.get(ids[n]) for n in names}
print("ALL_RIGHT", all(label == n.split("_")[0] for n, label in by_name.items()), len(stored))
"""


def test_classifier_panel_in_the_notebook_widget_writes_labels_python_reads(page, lab):
    base, folder = lab
    nb = write_notebook(
        folder,
        "classifier.ipynb",
        [
            SETUP,
            "from lightly_studio.widgets import Explorer\nex = Explorer(ds, height=700)\nex",
            "print('IDS', [ids[n] for n in ('red_0.png', 'red_1.png', 'blue_0.png', 'blue_1.png')])",
            READ_BACK,
        ],
    )
    open_notebook(page, base, nb)
    assert "SAMPLES 12" in run_cell(page, 0)
    run_cell(page, 1)
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=ls-grid] .ls-cell[data-sample-id]').length == 12",
        timeout=30_000,
    )
    out = run_cell(page, 2)
    red0, red1, blue0, blue1 = out[out.index("[") + 1 : out.index("]")].replace("'", "").split(", ")

    page.locator("[data-testid=ls-classifier-toggle]").click()
    create_classifier(page, "colour", "red, blue")
    mark_reds_then_blues(page, [red0, red1], [blue0, blue1])
    page.locator("[data-testid=ls-clf-train]").click()
    classifier_status(page, "Trained on 4 examples in")
    page.locator("[data-testid=ls-clf-apply]").click()
    classifier_status(page, "Wrote 12 classifications into the source “colour”")
    shot(page, "classifier-notebook-panel")

    assert "ALL_RIGHT True 12" in run_cell(page, 3)
