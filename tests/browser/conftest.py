"""One JupyterLab server per session (loopback, fixed token) and Playwright on Debian's
Chromium. See ../../../shared/BROWSER-TESTING.md for why each flag is here."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
TOKEN = "lightly-studio-test"
CHROMIUM = "/usr/bin/chromium"
# Debian's Chromium as root in a container, with no GPU and no network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-gl=swiftshader",
    "--enable-unsafe-swiftshader",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_jupyterlab(
    workdir: Path,
    *,
    token: str = TOKEN,
    args: Sequence[str] = (),
    env: dict[str, str] | None = None,
) -> Iterator[str]:
    """JupyterLab on loopback serving ``workdir``, with its config and runtime files kept
    there and its log in ``workdir/lab.log``: yields the base URL once it answers, and stops
    it on leaving. ``args`` and ``env`` add server flags and environment variables."""
    port = _free_port()
    full_env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(workdir / ".jupyter"),
        "JUPYTER_RUNTIME_DIR": str(workdir / ".runtime"),
        "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        **(env or {}),
    }
    log_path = workdir / "lab.log"
    # Open for the server's whole life: it writes there until it is stopped below.
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyterlab",
                "--no-browser",
                "--ip",
                "127.0.0.1",
                f"--port={port}",
                f"--IdentityProvider.token={token}",
                "--allow-root",
                f"--ServerApp.root_dir={workdir}",
                "--LabApp.news_url=",
                *args,
            ],
            cwd=workdir,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.time() + 60
            while True:
                try:
                    urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                    break
                except OSError:
                    if proc.poll() is not None or time.time() > deadline:
                        raise RuntimeError(
                            f"JupyterLab did not start in 60 s:\n{log_path.read_text()}"
                        ) from None
                    time.sleep(0.3)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def write_notebook(folder: Path, name: str, cells: list[str]) -> str:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, folder / name)
    return name


def open_notebook(page, base: str, name: str) -> None:
    page.goto(f"{base}/lab/tree/{name}?token={TOKEN}&reset", wait_until="domcontentloaded")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.jp-StatusBar-TextItem, .jp-Notebook-ExecutionIndicator')]"
        ".some(e => /Idle/.test(e.textContent) || e.getAttribute('data-status') === 'idle')",
        timeout=60_000,
    )


def run_cell(page, index: int, timeout: float = 90_000) -> str:
    """Run cell `index`, wait until its prompt shows a number, return its output text."""
    cell = page.locator(".jp-Notebook .jp-CodeCell").nth(index)
    for _attempt in range(3):
        _accept_lab_dialog(page)
        cell.locator(".jp-InputArea-editor").click()
        page.keyboard.press("Escape")
        page.keyboard.press("Shift+Enter")
        try:
            page.wait_for_function(
                "(i) => { const c = document.querySelectorAll('.jp-Notebook .jp-CodeCell')[i];"
                " const p = c && c.querySelector('.jp-InputPrompt'); return p && /\\[\\d+\\]/.test(p.textContent); }",
                arg=index,
                timeout=timeout,
            )
            break
        except Exception:  # noqa: BLE001 - the first Shift+Enter is sometimes lost
            continue
    return cell.locator(".jp-OutputArea").inner_text()


def _accept_lab_dialog(page) -> None:
    """JupyterLab sometimes opens a modal dialog on a fresh notebook (once it blocked every
    click for a whole test; its text was not kept): picture it, then take its default."""
    dialog = page.locator(".jp-Dialog")
    if dialog.count() and dialog.first.is_visible():
        shot(page, "lab-dialog")
        dialog.first.locator(".jp-Dialog-button.jp-mod-accept").first.click()
        dialog.first.wait_for(state="detached", timeout=10_000)


# -- the few-shot classifier panel: the same steps in the app and in the notebook explorer ----
def ctrl_click(page, sample_id: str) -> None:
    """Toggle a grid cell in the selection."""
    page.locator(f"[data-testid=ls-grid] .ls-cell[data-sample-id='{sample_id}']").click(
        modifiers=["Control"]
    )


def classifier_status(page, text: str) -> None:
    """Wait until the classifier panel's status line says ``text``."""
    page.locator("[data-testid=ls-clf-status]", has_text=text).wait_for(timeout=30_000)


def create_classifier(page, name: str, classes: str) -> None:
    """Create a classifier from the open panel (``classes``: "red, blue")."""
    page.locator("[data-testid=ls-clf-name]").fill(name)
    page.locator("[data-testid=ls-clf-classes]").fill(classes)
    page.locator("[data-testid=ls-clf-create]").click()
    classifier_status(page, f"Created “{name}”")


def mark_reds_then_blues(page, reds: list[str], blues: list[str]) -> None:
    """With a (red, blue) classifier and nothing selected: select two reds and mark them,
    then swap the selection for two blues and mark those."""
    for sample_id in reds:
        ctrl_click(page, sample_id)
    page.locator("[data-testid=ls-clf-mark-0]", has_text="+ 2").click()
    classifier_status(page, "Marked 2 samples as “red”")
    for sample_id in (*reds, *blues):
        ctrl_click(page, sample_id)  # the reds off, the blues on
    page.locator("[data-testid=ls-clf-mark-1]", has_text="+ 2").click()
    classifier_status(page, "Marked 2 samples as “blue”")


@pytest.fixture(autouse=True)
def _no_stray_kernels(lab):
    yield
    import json

    base, _ = lab
    try:
        kernels = json.load(urllib.request.urlopen(f"{base}/api/kernels?token={TOKEN}"))
        for k in kernels:
            req = urllib.request.Request(
                f"{base}/api/kernels/{k['id']}?token={TOKEN}", method="DELETE"
            )
            urllib.request.urlopen(req)
    except OSError:
        pass


_ = shutil
