"""Cloud storage through fsspec against a real S3 API on loopback, and the example-data fetch."""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import lightly_studio as ls
from lightly_studio.utils import download_example_dataset
from tests.conftest import make_images


def test_images_in_s3_are_indexed_in_place(db, tmp_path, s3_server):
    import fsspec

    local = tmp_path / "up"
    make_images(local, {"a/one.jpg": (30, 20), "b/two.png": (7, 9)})
    fs = fsspec.filesystem("s3")
    fs.mkdir("bucket")
    fs.put(str(local) + "/", "bucket/images/", recursive=True)
    ds = ls.ImageDataset.create("s3_dataset")
    assert ds.add_images_from_path(path="s3://bucket/images/", tag_depth=1, embed=False) == 2
    rows = sorted((s.file_path_abs, s.width, s.height, tuple(s.tags)) for s in ds)
    assert rows == [
        ("s3://bucket/images/a/one.jpg", 30, 20, ("a",)),
        ("s3://bucket/images/b/two.png", 7, 9, ("b",)),
    ]
    assert ds.add_images_from_path(path="s3://bucket/images/", embed=False) == 0


def test_example_data_is_copied_from_a_local_folder(tmp_path, monkeypatch, examples):
    monkeypatch.setenv("LIGHTLY_STUDIO_EXAMPLE_DATA", str(examples))
    path = download_example_dataset(download_dir=str(tmp_path / "dataset_examples"))
    assert (tmp_path / "dataset_examples" / "road_signs_yolo" / "data.yaml").exists()
    assert path == str(tmp_path / "dataset_examples")
    # Present already: skipped, and the copy is writable.
    (tmp_path / "dataset_examples" / "marker").write_text("x")
    download_example_dataset(download_dir=str(tmp_path / "dataset_examples"))
    assert (tmp_path / "dataset_examples" / "marker").exists()


def test_example_data_is_downloaded_and_unpacked_from_a_zip(tmp_path, monkeypatch):
    archive_dir = tmp_path / "served"
    archive_dir.mkdir()
    with zipfile.ZipFile(archive_dir / "examples.zip", "w") as zf:
        zf.writestr("dataset_examples-main/coco_subset_128_images/README.md", "coco")
        zf.writestr("dataset_examples-main/road_signs_yolo/data.yaml", "names: [a]")

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(archive_dir), **kwargs)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.delenv("LIGHTLY_STUDIO_EXAMPLE_DATA", raising=False)
        monkeypatch.setenv(
            "LIGHTLY_STUDIO_EXAMPLE_DATA_URL", f"http://127.0.0.1:{server.server_port}/examples.zip"
        )
        target = tmp_path / "dl"
        path = download_example_dataset(download_dir=str(target))
        assert (target / "road_signs_yolo" / "data.yaml").read_text() == "names: [a]"
        assert path == str(target)
        (target / "road_signs_yolo" / "data.yaml").write_text("changed")
        download_example_dataset(download_dir=str(target), force_redownload=True)
        assert (target / "road_signs_yolo" / "data.yaml").read_text() == "names: [a]"
    finally:
        server.shutdown()


def test_offline_demo_without_example_data_says_what_to_do_in_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "LIGHTLY_STUDIO_EXAMPLE_DATA"}
    # Port 9 (discard) on the loopback: nothing listens, the download fails at once.
    env["LIGHTLY_STUDIO_EXAMPLE_DATA_URL"] = "http://127.0.0.1:9/examples.zip"
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    done = subprocess.run(
        [sys.executable, "-m", "lightly_studio._demo"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    # The "Downloading …" progress line, then one line that says what to do.
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines[:-1] == ["Downloading example data from http://127.0.0.1:9/examples.zip"]
    assert lines[-1].startswith("make demo: Could not download the example data")
    assert "LIGHTLY_STUDIO_EXAMPLE_DATA=/path/to/dataset_examples make demo" in lines[-1]


def test_offline_indexing_of_two_datasets_warns_about_the_weights_once(tmp_path):
    script = """
import lightly_studio as ls
from PIL import Image
from pathlib import Path
for name in ("a", "b"):
    folder = Path(name); folder.mkdir()
    Image.new("RGB", (8, 8)).save(folder / "0.png")
    ls.ImageDataset.create(name).add_images_from_path(str(folder))
"""
    env = dict(os.environ)
    env.update(
        HF_HUB_OFFLINE="1",
        HF_HUB_CACHE=str(tmp_path / "empty-cache"),
        LIGHTLY_STUDIO_EMBEDDING_MODEL="open_clip:ViT-B-32:laion2b_s34b_b79k",
        PYTHONPATH=str(Path(__file__).resolve().parents[2]),
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("Could not load the weights") == 1, done.stderr
