"""Shared fixtures: a fresh database per test, example data, small generated images."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
EXAMPLES = Path(os.environ.get("LIGHTLY_STUDIO_EXAMPLE_DATA", SHARED / "dataset_examples"))

# Tests never download model weights; they use random ones unless a test says otherwise.
# ViT-S-32 builds and runs ~3x faster than ViT-B-32 on the CPU; weights are random anyway.
os.environ.setdefault("LIGHTLY_STUDIO_EMBEDDING_MODEL", "open_clip:ViT-S-32:random")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# fp32 on every CPU: the default is bf16 where the CPU has it natively (AVX512-BF16, AMX), and
# tests compare vectors against exact fp32 references (int8's text tower must equal fp32's):
# a bf16 reference differs by ~2e-3 and failed them on such CPUs only. Tests of the precision
# choice itself set or clear this variable.
os.environ.setdefault("LIGHTLY_STUDIO_EMBEDDING_PRECISION", "fp32")


@pytest.fixture(autouse=True)
def export_folder(tmp_path, monkeypatch):
    """Exports from the views land in the test's own folder, never in the repository; and a
    test that moves the folder (start_gui(export_dir=...) sets it for the process) cannot move
    it for the tests after it."""
    from lightly_studio.dataset import env

    monkeypatch.setattr(env, "LIGHTLY_STUDIO_EXPORT_DIR", str(tmp_path / "lightly_studio_exports"))
    return tmp_path / "lightly_studio_exports"


@pytest.fixture
def db(tmp_path):
    """A fresh database file for one test; closed afterwards."""
    from lightly_studio import db_manager

    db_manager.connect(db_file=tmp_path / "lightly_studio.db")
    yield tmp_path / "lightly_studio.db"
    db_manager.close()


@pytest.fixture
def examples() -> Path:
    """The reference product's example datasets (read-only)."""
    if not EXAMPLES.is_dir():
        pytest.fail(f"Example data not found at {EXAMPLES}; set LIGHTLY_STUDIO_EXAMPLE_DATA.")
    return EXAMPLES


def make_images(
    folder: Path, specs: dict[str, tuple[int, int]], fmt: str | None = None
) -> list[Path]:
    """Write small solid-colour images: {relative path: (width, height)}."""
    from PIL import Image

    paths = []
    for i, (relative, (w, h)) in enumerate(sorted(specs.items())):
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (w, h), ((37 * i) % 256, (91 * i) % 256, (53 * i) % 256)).save(
            path, format=fmt
        )
        paths.append(path)
    return paths


@pytest.fixture
def image_folder(tmp_path) -> Path:
    """cat/a.jpg, cat/b.png, dog/c.jpg, dog/puppy/d.jpg, e.jpg with known sizes."""
    root = tmp_path / "images"
    make_images(
        root,
        {
            "cat/a.jpg": (64, 48),
            "cat/b.png": (32, 32),
            "dog/c.jpg": (100, 50),
            "dog/puppy/d.jpg": (20, 40),
            "e.jpg": (640, 480),
        },
    )
    return root


# -- browser tests: ONE Playwright instance and ONE JupyterLab per session ------------------
# (Playwright's sync API refuses a second instance while one is alive, so these fixtures live
# here, where every test folder sees the same ones. Helpers are in tests/browser/conftest.py.)
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, ROOT, running_jupyterlab  # noqa: E402


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    """A running JupyterLab: yields (base_url, notebook_dir)."""
    if not (ROOT / "lightly_studio" / "static" / "widget.js").is_file():
        pytest.fail("lightly_studio/static/widget.js is missing: run `npm ci && npm run build`.")
    workdir = tmp_path_factory.mktemp("lab")
    with running_jupyterlab(workdir, args=["--ServerApp.disable_check_xsrf=True"]) as base:
        yield base, workdir


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
        )
        yield b
        b.close()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1500, "height": 1000})
    pg = ctx.new_page()
    yield pg
    ctx.close()


def finishes_within(seconds: float, fn, *args, **kwargs):
    """Run ``fn`` in a thread; fail (instead of hanging the suite) if it does not return."""
    box: dict = {}

    def run() -> None:
        try:
            box["value"] = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"{fn.__name__} still running after {seconds} s (it blocked)"
    if "error" in box:
        raise box["error"]
    return box["value"]


# -- screenshots for the docs ------------------------------------------------------------------
DOCS_IMAGES = Path(__file__).resolve().parents[1] / "docs" / "images"
ARTIFACT_IMAGES = Path(__file__).resolve().parents[1] / "test-artifacts"


def docs_shot(page_or_locator, name: str) -> Path:
    """Screenshot a page (or one element) at a point a browser test has just checked.

    ``make screenshots`` (LIGHTLY_STUDIO_DOCS_SCREENSHOTS=1) writes it to docs/images/, the
    pictures docs/views.md and the README show, so they never drift from the product; other
    runs write to test-artifacts/ and leave the docs alone."""
    folder = (
        DOCS_IMAGES if os.environ.get("LIGHTLY_STUDIO_DOCS_SCREENSHOTS") == "1" else ARTIFACT_IMAGES
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page = getattr(page_or_locator, "page", page_or_locator)
    if hasattr(page, "wait_for_function"):
        # The filter panel answers a moment after the grid: picture it filled, not loading.
        page.wait_for_function(
            "() => !document.querySelector('[data-testid=ls-filters-skeleton]')", timeout=15_000
        )
    page_or_locator.screenshot(path=str(path))
    return path


@pytest.fixture
def s3_server(monkeypatch):
    """moto's S3 server on 127.0.0.1 with fsspec configured to talk to it."""
    pytest.importorskip("s3fs")
    import fsspec
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setitem(fsspec.config.conf, "s3", {"endpoint_url": endpoint})
    import s3fs

    s3fs.S3FileSystem.clear_instance_cache()
    yield endpoint
    s3fs.S3FileSystem.clear_instance_cache()
    server.stop()
