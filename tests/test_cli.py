"""The `lightly-studio` command, run the way a script runs it: a subprocess, its exit code, its
output. Every case runs `python -m lightly_studio.cli`; the version and help cases also run the
installed console script when the package's scripts are installed (`pip install -e .`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _console_script() -> str | None:
    beside_python = Path(sys.executable).parent / "lightly-studio"
    return str(beside_python) if beside_python.is_file() else shutil.which("lightly-studio")


ENTRY_POINTS = [
    pytest.param([sys.executable, "-m", "lightly_studio.cli"], id="python-m"),
    pytest.param(
        [_console_script()],
        id="console-script",
        marks=pytest.mark.skipif(
            _console_script() is None,
            reason="console script not installed: run `pip install -e .` after pulling cli.py",
        ),
    ),
]
CLI = [sys.executable, "-m", "lightly_studio.cli"]


def _env() -> dict[str, str]:
    # The subprocess imports this checkout's package, whatever the venv has installed.
    return {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}


def run(args: list[str], cwd: Path, command: list[str] = CLI) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*command, *args], cwd=cwd, env=_env(), capture_output=True, text=True, timeout=600
    )


@pytest.mark.parametrize("command", ENTRY_POINTS)
def test_version_prints_the_package_version(command, tmp_path):
    from lightly_studio import __version__

    done = run(["--version"], tmp_path, command)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"lightly-studio {__version__}"


@pytest.mark.parametrize("command", ENTRY_POINTS)
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], "Exit codes: 0 done, 1 the command failed, 2 wrong command line."),
        (["gui"], "--db-file"),
        (["quickstart"], "--no-browser"),
        (["index"], "coco"),
        (["index", "yolo"], "--data-yaml"),
        (["export"], "csv-classifications"),
    ],
)
def test_every_command_has_help(command, args, expected, tmp_path):
    done = run([*args, "--help"], tmp_path, command)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"usage: lightly-studio {' '.join(args)}".rstrip())
    assert expected in done.stdout


@pytest.mark.parametrize(
    "args",
    [[], ["frobnicate"], ["gui", "--port", "eighty"], ["export", "coco"], ["index"]],
    ids=["no-command", "unknown-command", "bad-port", "missing-options", "missing-kind"],
)
def test_a_wrong_command_line_exits_2_with_the_usage(args, tmp_path):
    done = run(args, tmp_path)
    assert done.returncode == 2
    assert "usage: lightly-studio" in done.stderr
    assert "Traceback" not in done.stderr


def test_gui_refuses_a_missing_database_and_creates_none(tmp_path):
    done = run(["gui", "--db-file", "typo.db", "--no-browser"], tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith("lightly-studio: error: No database file at ")
    assert str(tmp_path / "typo.db") in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "typo.db").exists()


def test_index_then_export_a_tagged_split(examples, tmp_path):
    data_yaml = examples / "road_signs_yolo" / "data.yaml"
    args = ["--db-file", "signs.db", "--dataset", "signs"]
    done = run(["index", "yolo", "--data-yaml", str(data_yaml), "--no-embed", *args], tmp_path)
    assert done.returncode == 0, done.stderr
    total = sum(1 for _ in (examples / "road_signs_yolo").glob("*/images/*"))
    assert re.search(
        rf"signs: {total} new samples, \d+ annotations, {total} samples in all", done.stdout
    )

    again = run(["index", "yolo", "--data-yaml", str(data_yaml), "--no-embed", *args], tmp_path)
    assert again.returncode == 0, again.stderr
    assert f"signs: 0 new samples, 0 annotations, {total} samples in all" in again.stdout

    done = run(["export", "coco", "--tag", "val", "--output", "out/valid.json", *args], tmp_path)
    assert done.returncode == 0, done.stderr
    written = json.loads((tmp_path / "out" / "valid.json").read_text())
    valid = sorted(p.name for p in (examples / "road_signs_yolo" / "valid" / "images").iterdir())
    assert sorted(Path(image["file_name"]).name for image in written["images"]) == valid
    assert written["annotations"], "the valid split has boxes"


def test_index_images_computes_embeddings_unless_told_not_to(tmp_path, image_folder):
    done = run(["index", "images", str(image_folder), "--dataset", "plain", "--no-embed"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "plain: 5 new samples, 5 samples in all" in done.stdout
    done = run(["index", "images", str(image_folder), "--dataset", "embedded"], tmp_path)
    assert done.returncode == 0, done.stderr

    from lightly_studio import ImageDataset, db_manager

    db_manager.connect(db_file=tmp_path / "lightly_studio.db")
    try:
        assert ImageDataset.load("plain").embedding_models == []
        assert len(ImageDataset.load("embedded").embedding_models) == 1
    finally:
        db_manager.close()


def test_runtime_errors_exit_1_with_one_line(tmp_path, image_folder):
    done = run(["index", "images", str(image_folder), "--dataset", "d", "--no-embed"], tmp_path)
    assert done.returncode == 0, done.stderr

    wrong_name = run(["export", "coco", "--dataset", "nope", "--output", "x.json"], tmp_path)
    assert wrong_name.returncode == 1
    assert wrong_name.stderr == (
        "lightly-studio: error: No dataset named 'nope' in lightly_studio.db (datasets: 'd').\n"
    )
    missing_json = run(
        ["index", "coco", "--dataset", "d", "--annotations-json", "no.json", "--images-path", "."],
        tmp_path,
    )
    assert missing_json.returncode == 1
    assert missing_json.stderr.startswith("lightly-studio: error: no.json: file not found")
    assert not (tmp_path / "x.json").exists()


def _serve(args: list[str], cwd: Path, timeout_s: float) -> tuple[subprocess.Popen, str]:
    """Start a serving command; return the process and the URL it prints."""
    proc = subprocess.Popen(
        [*CLI, *args],
        cwd=cwd,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout_s
    seen = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
        seen.append(line)
        found = re.search(r"LightlyStudio is running at (\S+)", line)
        if found:
            return proc, found.group(1)
    proc.kill()
    pytest.fail(f"no URL printed; output:\n{''.join(seen)}")


def _stop(proc: subprocess.Popen) -> int:
    proc.send_signal(signal.SIGINT)  # Ctrl-C
    try:
        return proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_gui_serves_the_database_until_ctrl_c(tmp_path, image_folder):
    done = run(["index", "images", str(image_folder), "--dataset", "mine", "--no-embed"], tmp_path)
    assert done.returncode == 0, done.stderr
    proc, url = _serve(["gui", "--port", "0", "--no-browser"], tmp_path, timeout_s=120)
    try:
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url, timeout=30) as page:
            assert page.status == 200
            assert b"<html" in page.read().lower()
    finally:
        assert _stop(proc) == 0
    assert not (tmp_path / "lightly_studio_exports").exists()


@pytest.mark.slow
def test_quickstart_indexes_the_examples_and_serves_them(examples, tmp_path):
    proc, url = _serve(["quickstart", "--port", "0", "--no-browser"], tmp_path, timeout_s=900)
    try:
        with urllib.request.urlopen(url, timeout=30) as page:
            assert page.status == 200
    finally:
        assert _stop(proc) == 0
    assert (tmp_path / "dataset_examples" / "lightly_studio.db").is_file()

    from lightly_studio import ImageDataset, db_manager

    db_manager.connect(db_file=tmp_path / "dataset_examples" / "lightly_studio.db")
    try:
        coco = ImageDataset.load("coco_subset_128_images")
        assert len(coco) == 128
        assert coco.embedding_models, "quickstart computes embeddings"
        assert len(ImageDataset.load("road_signs_yolo")) > 0
    finally:
        db_manager.close()
