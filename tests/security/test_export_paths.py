"""Exports started from the views write only inside the export folder the Python user chose.

Issue #26, item 1: a local process could label a sample ``$(touch M)`` and export it as CSV to
``~/.bashrc`` (or a ``.pth`` file), which runs later. Now a client names only a file inside the
export folder (``ls.start_gui(export_dir=...)``, ``LIGHTLY_STUDIO_EXPORT_DIR``, default
``./lightly_studio_exports``); anything else is an ``ExportPathError`` (a 400 over HTTP). The
same holds for the Export operator run from the plugins menu. Python calls stay free.

Every test runs in a sandbox: the working directory and $HOME point into it, so a write that
escapes the export folder lands where the test sees it.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest

from lightly_studio.api import dispatch
from lightly_studio.dataset import env
from lightly_studio.errors import ExportPathError, LightlyStudioError
from lightly_studio.server import _transport
from tests.api.conftest import write_images
from tests.server.conftest import runtime_dir, start  # noqa: F401 - fixtures used below

EVIL_LABEL = "$(touch M)"
FORMULA_LABEL = "=cmd|' /C calc'!A0"


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """cwd, $HOME, a folder outside, and the export folder (set like a user would)."""
    root = tmp_path / "sandbox"
    box = {name: root / name for name in ("cwd", "home", "outside", "exports")}
    for folder in box.values():
        folder.mkdir(parents=True)
    monkeypatch.chdir(box["cwd"])
    monkeypatch.setenv("HOME", str(box["home"]))
    monkeypatch.setattr(env, "LIGHTLY_STUDIO_EXPORT_DIR", str(box["exports"]))
    box["root"] = root
    return box


@pytest.fixture
def ds(db, sandbox, tmp_path):
    """Two images; a.jpg classified with a shell command, b.jpg with a spreadsheet formula."""
    from lightly_studio.core.image_dataset import ImageDataset

    images = tmp_path / "images"
    images.mkdir()
    write_images(images, {"a.jpg": (40, 30), "b.jpg": (20, 10)})
    dataset = ImageDataset.create("small")
    dataset.add_images_from_path(str(images), embed=False)
    by_name = {s.file_name: str(s.sample_id) for s in dataset}
    dispatch("classification_add", {"sample_id": by_name["a.jpg"], "label": EVIL_LABEL})
    dispatch("classification_add", {"sample_id": by_name["b.jpg"], "label": FORMULA_LABEL})
    return dataset


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file() or p.is_symlink()}


def _export(dataset, output, fmt="csv_classifications"):
    return dispatch(
        "export",
        {"dataset_id": str(dataset.dataset_id), "format": fmt, "scope": "all", "output": output},
    )[0]


# -- the repro of the issue -------------------------------------------------------------------


def test_the_issue_repro_is_refused_over_the_api(ds, sandbox):
    before = _files(sandbox["root"])
    with pytest.raises(ExportPathError, match="home folder"):
        _export(ds, "~/.bashrc")
    assert not (sandbox["home"] / ".bashrc").exists()
    assert _files(sandbox["root"]) == before


@pytest.fixture
def backend(db):
    """The real api behind the HTTP server (replaces the stub of tests/server/conftest.py)."""
    from lightly_studio.server._backend import ApiBackend

    return ApiBackend()


def test_the_issue_repro_is_refused_over_http(ds, sandbox, start):
    _, client = start()
    before = _files(sandbox["root"])
    resp = client.call(
        "export",
        {
            "dataset_id": str(ds.dataset_id),
            "format": "csv_classifications",
            "scope": "all",
            "output": "~/.bashrc",
        },
    )
    assert resp.status == 400
    error = json.loads(resp.data)["error"]
    assert error["type"] == "ExportPathError" and "export folder" in error["message"]
    assert _files(sandbox["root"]) == before


# -- what a client may and may not name -------------------------------------------------------


@pytest.mark.parametrize(
    "output",
    [
        "../escape.json",
        "a/../../escape.json",
        "..",
        "~/x.json",
        "~root/x.json",
        "/tmp/escape.json",
        "\\\\server\\share\\x.json",
        "C:\\x.json",
        "x\x00.json",
        "a\nb.json",
        "/",
        ".",
        "",
    ],
)
def test_names_that_leave_the_export_folder_are_refused(ds, sandbox, output):
    before = _files(sandbox["root"])
    if output == "":
        # Nothing named: the default name, inside the folder (not the folder itself).
        written = Path(_export(ds, output)["path"])
        assert written.parent == sandbox["exports"].resolve()
        return
    with pytest.raises(ExportPathError) as err:
        _export(ds, output)
    assert isinstance(err.value, LightlyStudioError) and "export folder" in str(err.value)
    assert _files(sandbox["root"]) == before


def test_an_absolute_path_is_refused_even_inside_the_export_folder(ds, sandbox):
    with pytest.raises(ExportPathError, match="absolute path"):
        _export(ds, str(sandbox["exports"] / "x.csv"))


def test_a_parent_folder_that_links_outside_is_refused(ds, sandbox):
    (sandbox["exports"] / "out").symlink_to(sandbox["outside"], target_is_directory=True)
    with pytest.raises(ExportPathError, match="outside the export folder"):
        _export(ds, "out/x.csv")
    assert list(sandbox["outside"].iterdir()) == []


def test_an_existing_link_is_never_written_through(ds, sandbox):
    victim = sandbox["outside"] / "victim.csv"
    victim.write_text("untouched")
    for name, target in (("out.csv", victim), ("inner.csv", sandbox["exports"] / "real.csv")):
        (sandbox["exports"] / name).symlink_to(target)
        with pytest.raises(ExportPathError, match="symbolic link"):
            _export(ds, name)
    assert victim.read_text() == "untouched"
    assert not (sandbox["exports"] / "real.csv").exists()


def test_a_plain_name_lands_in_the_export_folder_and_never_overwrites(ds, sandbox):
    first = Path(_export(ds, "labels.csv")["path"])
    assert first == sandbox["exports"].resolve() / "labels.csv"
    first.write_text("kept")
    second = Path(_export(ds, "labels.csv")["path"])
    assert second.name == "labels (1).csv" and first.read_text() == "kept"
    assert Path(_export(ds, "sub/dir/labels")["path"]) == (
        sandbox["exports"].resolve() / "sub" / "dir" / "labels.csv"
    )  # suffix added


def test_a_name_keeps_the_formats_suffix(ds, sandbox):
    written = Path(_export(ds, "evil.pth", fmt="coco_object_detections")["path"])
    assert written.name == "evil.pth.json" and json.loads(written.read_text())["images"]


def test_without_a_name_the_export_goes_to_the_default_folder_under_the_cwd(
    ds, sandbox, monkeypatch
):
    monkeypatch.setattr(env, "LIGHTLY_STUDIO_EXPORT_DIR", None)
    result, _ = dispatch("export_formats", {})
    folder = sandbox["cwd"].resolve() / "lightly_studio_exports"
    assert result["export_dir"] == str(folder)
    written = Path(_export(ds, None)["path"])
    assert written == folder / "small_csv_classifications.csv"


def test_start_gui_export_dir_moves_the_folder(ds, sandbox, start, tmp_path):
    chosen = tmp_path / "chosen"
    _, client = start(export_dir=chosen)
    assert str(chosen.resolve()) == env.LIGHTLY_STUDIO_EXPORT_DIR
    resp = client.call("export_formats")
    assert resp.status == 200
    assert _transport.decode_reply(resp.data)[0]["export_dir"] == str(chosen.resolve())
    resp = client.call(
        "export",
        {
            "dataset_id": str(ds.dataset_id),
            "scope": "all",
            "format": "csv_classifications",
            "output": "x.csv",
        },
    )
    assert resp.status == 200, resp.data
    assert (chosen / "x.csv").is_file() and list(sandbox["exports"].iterdir()) == []


def test_python_calls_still_write_where_the_user_says(ds, sandbox, tmp_path):
    anywhere = tmp_path / "anywhere" / "coco.json"
    assert ds.export().to_coco_object_detections(anywhere) == anywhere.resolve()


# -- the Export operator (plugins menu, run_operator) -----------------------------------------


def _run_export_operator(dataset, output_path, fmt="file_list"):
    reply, _ = dispatch(
        "operator_run",
        {
            "dataset_id": str(dataset.dataset_id),
            "operator": "Export",
            "wait": True,
            "parameters": {"format": fmt, "output_path": output_path},
        },
    )
    return reply


@pytest.mark.parametrize("output_path", ["~/.bashrc", "../x.txt", "/tmp/lightly_x.txt"])
def test_the_export_operator_is_refused_outside_the_folder(ds, sandbox, output_path):
    before = _files(sandbox["root"])
    reply = _run_export_operator(ds, output_path)
    assert reply["status"] == "failed" and "export folder" in reply["message"], reply
    assert _files(sandbox["root"]) == before
    assert not Path("/tmp/lightly_x.txt").exists()


def test_the_export_operator_writes_a_plain_name_into_the_folder(ds, sandbox):
    reply = _run_export_operator(ds, "paths.txt")
    assert reply["status"] == "succeeded", reply
    lines = (sandbox["exports"] / "paths.txt").read_text().splitlines()
    assert sorted(Path(line).name for line in lines) == ["a.jpg", "b.jpg"]
    reply = _run_export_operator(ds, "labels", fmt="csv_classifications")
    assert reply["status"] == "succeeded" and (sandbox["exports"] / "labels.csv").is_file()


# -- CSV formula injection --------------------------------------------------------------------


def test_csv_cells_cannot_run_as_spreadsheet_formulas(ds, sandbox):
    written = Path(_export(ds, "labels.csv")["path"])
    text = written.read_text(encoding="utf-8")
    assert "\n=" not in text and ",=" not in text and '"=' not in text
    with written.open(newline="", encoding="utf-8") as f:
        rows = {r["file_name"]: r["label"] for r in csv.DictReader(f)}
    # Still readable: the formula keeps its text behind the ' that disarms it.
    assert rows == {"a.jpg": EVIL_LABEL, "b.jpg": "'" + FORMULA_LABEL}


@pytest.mark.parametrize("label", ["+1", "-1", "@SUM(A1)", 'a,"b"\nc'])
def test_csv_quotes_and_neutralises_every_risky_label(db, tmp_path, label):
    from lightly_studio.core.image_dataset import ImageDataset

    images = tmp_path / "images"
    images.mkdir()
    write_images(images, {"a.jpg": (8, 8)})
    dataset = ImageDataset.create("one")
    dataset.add_images_from_path(str(images), embed=False)
    [sample] = list(dataset)
    dispatch("classification_add", {"sample_id": str(sample.sample_id), "label": label})
    path = dataset.export().to_csv_classifications(tmp_path / "out.csv")
    with path.open(newline="", encoding="utf-8") as f:
        [row] = list(csv.DictReader(f))
    assert row["label"] == ("'" + label if label[0] in "+-@" else label)


def test_cells_starting_with_a_tab_or_carriage_return_are_neutralised_too():
    # The annotator trims labels, so these reach the writer from Python-made labels only.
    from lightly_studio.export import _spreadsheet_safe

    assert [_spreadsheet_safe(t) for t in ("\tx", "\rx", "x=1", "", None)] == [
        "'\tx",
        "'\rx",
        "x=1",
        "",
        "",
    ]


def test_the_widget_takes_an_export_dir(ds, sandbox, tmp_path):
    from lightly_studio.widgets import _widgets

    _widgets.Explorer(ds, export_dir=tmp_path / "from_widget")
    assert str((tmp_path / "from_widget").resolve()) == env.LIGHTLY_STUDIO_EXPORT_DIR


def test_the_export_dir_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("LIGHTLY_STUDIO_EXPORT_DIR", str(tmp_path / "env_dir"))
    try:
        env.reload_from_environment()
        from lightly_studio.export.view_exports import export_dir

        assert export_dir() == (tmp_path / "env_dir").resolve()
        monkeypatch.setenv("LIGHTLY_STUDIO_EXPORT_DIR", "  ")  # blank: the default
        env.reload_from_environment()
        assert export_dir() == Path(os.getcwd()).resolve() / "lightly_studio_exports"
    finally:
        monkeypatch.undo()
        env.reload_from_environment()
