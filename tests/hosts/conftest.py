"""Hosts other than JupyterLab (its tests live in tests/browser): Notebook 7, marimo, and a
page with no kernel at all. Each test starts its own server on a free loopback port."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from tests.browser.conftest import ROOT, _free_port


@contextmanager
def serve(args: list[str], health: str, workdir: Path, env: dict[str, str] | None = None):
    """Run ``python -m <args>`` (with ``{port}`` filled in) in ``workdir`` until the block
    ends; yields the base URL once ``health`` answers."""
    port = _free_port()
    full_env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(workdir / ".jupyter"),
        "JUPYTER_RUNTIME_DIR": str(workdir / ".runtime"),
        "PYTHONPATH": str(ROOT),
        **(env or {}),
    }
    log_path = workdir / "server.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", *(a.format(port=port) for a in args)],
            cwd=workdir,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.time() + 90
            while True:
                try:
                    urllib.request.urlopen(base + health, timeout=2)
                    break
                except OSError:
                    if proc.poll() is not None or time.time() > deadline:
                        raise RuntimeError(log_path.read_text()) from None
                    time.sleep(0.3)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
