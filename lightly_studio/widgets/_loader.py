"""The views' small loader: what each widget's ``_esm`` holds instead of the whole bundle.

anywidget stores ``_esm`` in the widget's state, and nbclient/nbconvert/JupyterLab save every
widget's state in the notebook: with the bundle inline, each Explorer added 326 KB to the
saved file. The loader (js/src/entries/loader.ts, ~3 KB) fetches the bundle once per page
instead, and checks it against the SHA-256 of this package's copy:

1. from the jupyter-server extension (``<base_url>lightly-studio/static/<bundle>``), when the
   page is Jupyter's and the extension serves the same file (browser-cached, no kernel needed);
2. else from the kernel, over the widget's own comm (``{"type": "bundle"}``, answered here)
   — VS Code, Colab, marimo and a Jupyter server with another version installed.

Where neither answers (a notebook opened without a kernel) it says what is needed and shows
the widget's snapshot (``_snapshot``, see ``_snapshot.py``).
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
LOADER = "loader.js"


def bundle_path(bundle: str = "widget.js") -> Path:
    """The built bundle, with a clear error when the front end was not built."""
    path = STATIC_DIR / bundle
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing: the front end is not built. Run `npm ci && npm run build` in "
            "the repository root (pip install builds it automatically)."
        )
    return path


@functools.cache
def _read(bundle: str, mtime_ns: int) -> tuple[bytes, str]:
    data = bundle_path(bundle).read_bytes()
    return data, hashlib.sha256(data).hexdigest()


def bundle_bytes(bundle: str) -> tuple[bytes, str]:
    """The bundle's bytes and their SHA-256 (hex), re-read when the file changes."""
    return _read(bundle, bundle_path(bundle).stat().st_mtime_ns)


def loader_esm(bundle: str) -> str:
    """The ES module a widget of this bundle carries: the loader, told which bundle to load."""
    _, sha256 = bundle_bytes(bundle)
    config = {"bundle": bundle, "sha256": sha256}
    source = bundle_path(LOADER).read_text(encoding="utf-8")
    return f"const LIGHTLY_STUDIO_LOADER = {json.dumps(config)};\n{source}"


def serve_bundle(widget: Any, bundle: str) -> None:
    """Answer the loader's ``{"type": "bundle"}`` message with the bundle as one buffer."""

    def on_msg(_widget: Any, content: Any, buffers: Any = None) -> None:
        if isinstance(content, dict) and content.get("type") == "bundle":
            data, sha256 = bundle_bytes(bundle)
            widget.send({"type": "bundle", "name": bundle, "sha256": sha256}, [data])

    widget.on_msg(on_msg)
