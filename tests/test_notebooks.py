"""Every notebook in notebooks/ runs top to bottom, offline, in a fresh folder and kernel.

A notebook fails when a cell raises or when any output shows a traceback (a widget or a
background thread can print one without failing the cell). Example data comes from
``LIGHTLY_STUDIO_EXAMPLE_DATA`` (a 32-image subset of each example dataset unless
``LIGHTLY_STUDIO_NOTEBOOKS_FULL_DATA=1``); embeddings use random weights (no download); the app server
binds a free port. Committed notebooks carry no outputs: strip them with
``python tests/test_notebooks.py --strip``.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

NOTEBOOKS_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
SHARED_EXAMPLES = Path(__file__).resolve().parents[2] / "shared" / "dataset_examples"

# The smallest open_clip ViT: random weights need no download, and it keeps CI fast. Real
# users get the default model with real weights (the notebooks say so).
TEST_EMBEDDING_MODEL = "open_clip:ViT-S-32:random"
CELL_TIMEOUT_S = 240
# Images per example dataset (per YOLO split) the notebooks see in CI: embedding all 128 of
# each on 2 shared cores would take minutes. LIGHTLY_STUDIO_NOTEBOOKS_FULL_DATA=1 uses all.
SMALL_N = 32


def strip_outputs(notebook: dict) -> dict:
    """The notebook without outputs and execution counts (what we commit)."""
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        cell.get("metadata", {}).pop("execution", None)
    return notebook


def traceback_outputs(notebook) -> list[str]:
    """Text of every output that is an error or prints a traceback."""
    found = []
    for number, cell in enumerate(notebook.cells, start=1):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                found.append(f"cell {number}: {output.get('ename')}: {output.get('evalue')}")
                continue
            texts = [output.get("text", "")]
            texts += [v for k, v in output.get("data", {}).items() if k.startswith("text/")]
            for text in texts:
                text = "".join(text) if isinstance(text, list) else str(text)
                if "Traceback (most recent call last)" in text:
                    found.append(f"cell {number}: {text[-2000:]}")
    return found


@pytest.fixture(scope="session")
def notebook_examples(tmp_path_factory) -> Path:
    """The example datasets, or a consistent subset of them (fewer images, same layout)."""
    examples = Path(os.environ.get("LIGHTLY_STUDIO_EXAMPLE_DATA", SHARED_EXAMPLES))
    if not examples.is_dir():
        pytest.fail(f"Example data not found at {examples}; set LIGHTLY_STUDIO_EXAMPLE_DATA.")
    if os.environ.get("LIGHTLY_STUDIO_NOTEBOOKS_FULL_DATA") == "1":
        return examples
    out = tmp_path_factory.mktemp("examples")
    _small_coco(examples / "coco_subset_128_images", out / "coco_subset_128_images")
    _small_yolo(examples / "road_signs_yolo", out / "road_signs_yolo")
    return out


def _small_coco(source: Path, target: Path) -> None:
    data = json.loads((source / "instances_train2017.json").read_text())
    names = {c["id"]: c["name"] for c in data["categories"]}
    # Keep every image with a dog (the notebooks look for dogs), then fill up by id.
    dogs = {a["image_id"] for a in data["annotations"] if names[a["category_id"]] == "dog"}
    ids = sorted(dogs) + sorted(i["id"] for i in data["images"] if i["id"] not in dogs)
    keep = set(ids[:SMALL_N])
    data["images"] = [i for i in data["images"] if i["id"] in keep]
    data["annotations"] = [a for a in data["annotations"] if a["image_id"] in keep]
    (target / "images").mkdir(parents=True)
    for image in data["images"]:
        shutil.copyfile(
            source / "images" / image["file_name"], target / "images" / image["file_name"]
        )
    (target / "instances_train2017.json").write_text(json.dumps(data))


def _small_yolo(source: Path, target: Path) -> None:
    target.mkdir(parents=True)
    shutil.copyfile(source / "data.yaml", target / "data.yaml")
    for split in ("train", "valid", "test"):
        (target / split / "images").mkdir(parents=True)
        (target / split / "labels").mkdir(parents=True)
        images = sorted((source / split / "images").iterdir())
        # Evenly spaced: file names group by class, so the first N would hold one class.
        for image in images[:: max(1, len(images) // SMALL_N)][:SMALL_N]:
            shutil.copyfile(image, target / split / "images" / image.name)
            label = source / split / "labels" / (image.stem + ".txt")
            if label.exists():
                shutil.copyfile(label, target / split / "labels" / label.name)


def test_there_are_notebooks():
    names = {p.stem for p in NOTEBOOKS}
    assert {
        "quickstart_images",
        "quickstart_yolo",
        "quickstart_coco",
        "quickstart_video",
        "selection",
        "plugins",
        "colab",
        "quality",
    } <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_committed_notebook_has_no_outputs(path):
    notebook = json.loads(path.read_text())
    dirty = [
        i
        for i, cell in enumerate(notebook["cells"], start=1)
        if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count"))
    ]
    assert not dirty, f"{path.name}: cells {dirty} have outputs; run `python {__file__} --strip`"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, tmp_path, monkeypatch, notebook_examples):
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    # The kernel inherits this environment; jupyter_client starts "python" as sys.executable,
    # so the kernel is this .venv's ipykernel.
    monkeypatch.setenv("LIGHTLY_STUDIO_EXAMPLE_DATA", str(notebook_examples))
    monkeypatch.setenv("LIGHTLY_STUDIO_EMBEDDING_MODEL", TEST_EMBEDDING_MODEL)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("LIGHTLY_STUDIO_PORT", "0")  # any free port: tests may run side by side
    monkeypatch.delenv("LIGHTLY_STUDIO_DB_FILE", raising=False)
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    try:
        client.execute()
    except CellExecutionError as error:
        pytest.fail(f"{path.name} failed:\n{error}")
    problems = traceback_outputs(notebook)
    assert not problems, f"{path.name} printed tracebacks:\n" + "\n".join(problems)


if __name__ == "__main__":
    if sys.argv[1:] == ["--strip"]:
        for path in NOTEBOOKS:
            data = strip_outputs(json.loads(path.read_text()))
            path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
            print("stripped", path.name)
    else:
        print(f"usage: python {Path(__file__).name} --strip")
