"""The runtime file: how the Jupyter extension finds the process that owns the database.

``start_gui()`` writes ``lightly-studio-<pid>.json`` (mode 0600: it holds the token) into
Jupyter's runtime directory — the same place kernels' connection files live, so a Jupyter server
and the kernels it started agree on it — and removes it on stop/exit. The extension reads the
newest file whose process is alive and forwards to its ``internal_url``; it never opens the DB.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path
from typing import Any

PREFIX = "lightly-studio-"


def runtime_dir() -> Path:
    """Jupyter's runtime dir (``$JUPYTER_RUNTIME_DIR`` or jupyter_core's default)."""
    if os.environ.get("LIGHTLY_STUDIO_RUNTIME_DIR"):
        return Path(os.environ["LIGHTLY_STUDIO_RUNTIME_DIR"])
    try:
        from jupyter_core.paths import jupyter_runtime_dir

        return Path(jupyter_runtime_dir())
    except ImportError:  # a plain script install without Jupyter: same default as jupyter_core
        if os.environ.get("JUPYTER_RUNTIME_DIR"):
            return Path(os.environ["JUPYTER_RUNTIME_DIR"])
        base = os.environ.get("XDG_DATA_HOME") or os.path.join(Path.home(), ".local", "share")
        return Path(base) / "jupyter" / "runtime"


def write(info: dict[str, Any]) -> Path:
    folder = runtime_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{PREFIX}{os.getpid()}-{info['port']}.json"
    tmp = path.with_suffix(".tmp")
    # Created 0600 before anything is written: the token never sits in a readable file.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({**info, "pid": os.getpid(), "started": time.time()}, fh)
    os.replace(tmp, path)
    return path


def remove(path: Path | None) -> None:
    if path is not None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def find_servers(folder: Path | None = None) -> list[dict[str, Any]]:
    """Live GUI servers, newest first. Files of dead processes are cleaned up."""
    folder = folder or runtime_dir()
    found = []
    for path in folder.glob(f"{PREFIX}*.json"):
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
            pid = int(info["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if not _alive(pid):
            remove(path)
            continue
        found.append(info)
    return sorted(found, key=lambda i: i.get("started", 0), reverse=True)
