"""The export dialog's Download (api ``export_download``) reads only exports in the export
folder: a folder comes zipped, a file as it is; names outside the folder, links (to a file, to
a folder, inside a zipped folder) and anything but regular files are refused or left out.

Sandbox as in test_export_paths: cwd and $HOME point into the test's folder, and a secret
lies next to the export folder, where a climbing or linked name would reach it.
"""

from __future__ import annotations

import io
import os
import zipfile

import pytest

from lightly_studio.api import dispatch
from lightly_studio.dataset import env
from lightly_studio.errors import ExportPathError
from tests.api.conftest import write_images

SECRET = b"the user's private key"


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    root = tmp_path / "sandbox"
    exports, home = root / "exports", root / "home"
    for folder in (exports, home, root / "cwd"):
        folder.mkdir(parents=True)
    (home / "id_rsa").write_bytes(SECRET)
    monkeypatch.chdir(root / "cwd")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setattr(env, "LIGHTLY_STUDIO_EXPORT_DIR", str(exports))
    return {"exports": exports, "secret": home / "id_rsa", "root": root}


@pytest.fixture
def ds(db, sandbox, tmp_path):
    from lightly_studio.core.image_dataset import ImageDataset

    images = tmp_path / "images"
    images.mkdir()
    write_images(images, {"a.jpg": (40, 30), "b.jpg": (20, 10)})
    dataset = ImageDataset.create("small")
    dataset.add_images_from_path(str(images), embed=False)
    ids = {s.file_name: str(s.sample_id) for s in dataset}
    dispatch("classification_add", {"sample_id": ids["a.jpg"], "label": "cat"})
    return dataset


def _download(path):
    result, buffers = dispatch("export_download", {"path": path})
    assert result["size"] == len(buffers[0])
    return result, bytes(buffers[0])


def _export(ds, fmt, output=None, **extra):
    params = {"dataset_id": str(ds.dataset_id), "format": fmt, "scope": "all", "output": output}
    return dispatch("export", {**params, **extra})[0]


def test_an_exported_file_downloads_as_written(ds, sandbox):
    written = _export(ds, "csv_classifications", "labels")
    assert written["download"] == "labels.csv" and written["writes"] == "file"
    result, data = _download(written["download"])
    assert result["name"] == "labels.csv" and result["mime"] == "text/csv"
    assert data == (sandbox["exports"] / "labels.csv").read_bytes()
    assert b'"cat"' in data


def test_an_exported_folder_downloads_as_a_zip_of_its_files(ds, sandbox):
    written = _export(ds, "yolo_object_detections", "road")
    assert written["download"] == "road" and written["writes"] == "folder"
    result, data = _download("road")
    assert result["name"] == "road.zip" and result["mime"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    on_disk = sorted(
        f"road/{p.relative_to(sandbox['exports'] / 'road').as_posix()}"
        for p in (sandbox["exports"] / "road").rglob("*")
        if p.is_file()
    )
    assert sorted(names) == on_disk and "road/data.yaml" in names


@pytest.mark.parametrize(
    "path",
    ["../home/id_rsa", "/etc/passwd", "~/id_rsa", "a/../../home/id_rsa", "x\x00y", "", ".", 7],
)
def test_names_outside_the_export_folder_are_refused(ds, sandbox, path):
    with pytest.raises(ExportPathError):
        dispatch("export_download", {"path": path})


def test_a_link_to_a_file_outside_is_refused(ds, sandbox):
    os.symlink(sandbox["secret"], sandbox["exports"] / "key.csv")
    with pytest.raises(ExportPathError, match="link"):
        dispatch("export_download", {"path": "key.csv"})


def test_a_linked_folder_is_refused(ds, sandbox):
    os.symlink(sandbox["secret"].parent, sandbox["exports"] / "home")
    for path in ("home", "home/id_rsa"):
        with pytest.raises(ExportPathError):
            dispatch("export_download", {"path": path})


def test_links_inside_a_zipped_folder_are_left_out(ds, sandbox):
    folder = sandbox["exports"] / "mixed"
    folder.mkdir()
    (folder / "labels.txt").write_text("ok")
    os.symlink(sandbox["secret"], folder / "stolen.txt")
    os.symlink(sandbox["secret"].parent, folder / "homedir")
    _, data = _download("mixed")
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.namelist() == ["mixed/labels.txt"]
    assert all(SECRET not in archive.read(n) for n in archive.namelist())


def test_a_missing_export_and_the_folder_itself_are_refused(ds, sandbox):
    with pytest.raises(ExportPathError, match="No export"):
        dispatch("export_download", {"path": "nothing.json"})
    with pytest.raises(ExportPathError):
        dispatch("export_download", {"path": "./"})


def test_a_fifo_is_not_a_download(ds, sandbox):
    os.mkfifo(sandbox["exports"] / "pipe.csv")
    with pytest.raises(ExportPathError, match="regular file"):
        dispatch("export_download", {"path": "pipe.csv"})
