"""A notebook with three explorers and one annotator, executed by nbclient (which saves the
widget state, as JupyterLab does) and exported by nbconvert: what a saved notebook holds
and what it shows without a kernel.

    python tests/widgets/test_saved_notebook.py   # prints the saved size of this notebook
                                                  # (run it with PYTHONPATH at another
                                                  # checkout to measure that one)
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import pytest

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
# Each widget's saved state is its small loader (~4.5 KB) and its snapshot (~15 KB of
# thumbnails); its output adds the snapshot's HTML. With the bundle inline (326 KB per
# Explorer, 57 KB per Annotator) this notebook saved 1.08 MB.
MAX_SAVED_BYTES = 250_000

CELLS = [
    "import lightly_studio as ls\n"
    "dataset = ls.ImageDataset.create('coco')\n"
    "dataset.add_images_from_path(IMAGES, embed=False)",
    "explorer = dataset.show()",
    "dataset.show()",
    "ls.Explorer(dataset.query()[:4])",
    "ls.Annotator(dataset, labels=['dog'])",
]


def execute(images: Path, workdir: Path):
    """The notebook above, executed in a fresh kernel with its widget state stored."""
    import nbformat
    from nbclient import NotebookClient

    cells = [CELLS[0].replace("IMAGES", repr(str(images))), *CELLS[1:]]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    env = {
        "LIGHTLY_STUDIO_DB_FILE": str(workdir / "studio.db"),
        "JUPYTER_RUNTIME_DIR": str(workdir / "runtime"),
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        NotebookClient(
            notebook, timeout=240, kernel_name="python3", store_widget_state=True
        ).execute()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return notebook


def saved_bytes(notebook) -> int:
    import nbformat

    return len(nbformat.writes(notebook).encode())


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    from tests.conftest import EXAMPLES

    images = EXAMPLES / "coco_subset_128_images" / "images"
    if not images.is_dir():
        pytest.fail(f"Example data not found at {images}; set LIGHTLY_STUDIO_EXAMPLE_DATA.")
    return execute(images, tmp_path_factory.mktemp("saved_notebook"))


def outputs(notebook, cell: int) -> list[dict]:
    return notebook.cells[cell].outputs


def test_the_saved_notebook_does_not_carry_the_bundle_per_widget(executed):
    states = executed.metadata["widgets"][WIDGET_STATE]["state"]
    esms = [s["state"]["_esm"] for s in states.values() if "_esm" in s.get("state", {})]
    assert len(esms) == 4  # three explorers and the annotator
    assert all(len(esm) < 8_000 for esm in esms)
    assert saved_bytes(executed) < MAX_SAVED_BYTES


def test_show_displays_the_explorer_it_returns(executed):
    # `explorer = dataset.show()`: the view shows although the cell's value is None.
    (shown,) = outputs(executed, 1)
    assert shown.output_type == "display_data" and WIDGET_VIEW in shown.data
    # `dataset.show()` as the cell's value: one view, then only the explorer's text.
    view, value = outputs(executed, 2)
    assert WIDGET_VIEW in view.data
    assert value.output_type == "execute_result" and set(value.data) == {"text/plain"}
    assert value.data["text/plain"] == (
        "Explorer(dataset='coco', samples=128, shown=128, selected=0)"
    )


def test_every_widget_output_has_a_static_snapshot(executed):
    (explorer,) = outputs(executed, 3)
    assert "128 samples · 4 shown" in explorer.data["text/html"]
    assert explorer.data["text/html"].count("data:image/jpeg;base64,") == 4
    (annotator,) = outputs(executed, 4)
    assert annotator.data["text/plain"] == "Annotator(dataset='coco', samples=128, index=0)"
    assert "sample 1 of 128" in annotator.data["text/html"]


def test_nbconvert_html_without_widget_state_shows_the_snapshots(executed):
    import copy

    import nbformat
    from nbconvert import HTMLExporter

    notebook = copy.deepcopy(executed)
    notebook.metadata.pop("widgets")
    body, _ = HTMLExporter().from_notebook_node(nbformat.from_dict(notebook))
    assert body.count('class="lightly-studio-snapshot"') == 4
    assert "A static snapshot: run the cell with a kernel" in body
    assert "lightly_studio.widgets" not in body  # no object addresses


def test_nbconvert_html_with_widget_state_embeds_the_loader_not_the_bundle(executed):
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(executed)
    state = json.loads(body.split(f'<script type="{WIDGET_STATE}">')[1].split("</script>")[0])
    assert len(state["state"]) >= 4
    assert len(body) < MAX_SAVED_BYTES + 400_000  # nbconvert's own page is ~300 KB of CSS


if __name__ == "__main__":
    root = Path(sys.argv[1]) if sys.argv[1:] else Path(__file__).resolve().parents[2]
    images = (
        Path(
            os.environ.get(
                "LIGHTLY_STUDIO_EXAMPLE_DATA", root.parent / "shared" / "dataset_examples"
            )
        )
        / "coco_subset_128_images"
        / "images"
    )
    with tempfile.TemporaryDirectory() as tmp:
        import lightly_studio

        notebook = execute(images, Path(tmp))
        print(f"lightly_studio from {Path(lightly_studio.__file__).parent}")
        print(f"saved notebook: {saved_bytes(notebook)} bytes")
