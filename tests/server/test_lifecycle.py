"""start_gui()/stop_gui(): env settings, the handle, the runtime file, blocking and Ctrl-C."""

from __future__ import annotations

import concurrent.futures
import json
import os
import socket
import stat
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

import lightly_studio as ls
from lightly_studio.dataset import env
from lightly_studio.errors import LightlyStudioError
from lightly_studio.server import _gui, _runtime

REPO = Path(__file__).resolve().parents[2]


def test_env_defaults_and_derived_app_url(monkeypatch):
    monkeypatch.delenv("LIGHTLY_STUDIO_HOST", raising=False)
    monkeypatch.delenv("LIGHTLY_STUDIO_PORT", raising=False)
    monkeypatch.delenv("LIGHTLY_STUDIO_TOKEN", raising=False)
    env.reload_from_environment()
    assert (env.LIGHTLY_STUDIO_HOST, env.LIGHTLY_STUDIO_PORT) == ("127.0.0.1", 8001)
    assert env.APP_URL == "http://127.0.0.1:8001/"


def test_env_reads_the_environment_and_follows_assignments(monkeypatch):
    monkeypatch.setenv("LIGHTLY_STUDIO_PORT", "8002")
    monkeypatch.setenv("LIGHTLY_STUDIO_HOST", "0.0.0.0")
    env.reload_from_environment()
    try:
        assert env.LIGHTLY_STUDIO_PORT == 8002
        assert env.APP_URL == "http://localhost:8002/"
        env.LIGHTLY_STUDIO_PORT = "8003"  # strings from notebooks are accepted
        assert env.LIGHTLY_STUDIO_PORT == 8003 and env.APP_URL == "http://localhost:8003/"
        with pytest.raises(ValueError, match="port"):
            env.LIGHTLY_STUDIO_PORT = "eighty"
        with pytest.raises(AttributeError, match="derived"):
            env.APP_URL = "http://x"
    finally:
        monkeypatch.undo()
        env.reload_from_environment()


def test_app_url_is_the_running_servers_url(start):
    server, _ = start(host="0.0.0.0")
    assert server.url == env.APP_URL
    assert f":{server.port}/?token=" in env.APP_URL


def test_start_gui_and_stop_gui_are_exported_lazily():
    assert ls.start_gui is _gui.start_gui and ls.stop_gui is _gui.stop_gui


def test_the_runtime_file_points_at_the_server_and_is_private(start, runtime_dir):
    server, _ = start(host="0.0.0.0")
    [info] = _runtime.find_servers()
    assert info["pid"] == os.getpid()
    assert info["internal_url"] == f"http://127.0.0.1:{server.port}/"
    assert info["token"] == server.token
    [path] = runtime_dir.glob("lightly-studio-*.json")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    server.stop()
    assert list(runtime_dir.glob("lightly-studio-*.json")) == []


def test_runtime_files_of_dead_processes_are_ignored_and_removed(runtime_dir):
    runtime_dir.mkdir(parents=True)
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead = runtime_dir / "lightly-studio-1-8001.json"
    dead.write_text(json.dumps({"pid": int(proc.stdout), "port": 8001, "started": 1}))
    assert _runtime.find_servers() == []
    assert not dead.exists()


def test_start_gui_twice_returns_the_running_server(start, backend):
    server, _ = start()
    again = _gui.start_gui(host="127.0.0.1", port=server.port, block=False, _backend=backend)
    assert again is server


def test_stop_frees_the_port_and_is_idempotent(start):
    server, _client = start()
    port = server.port
    server.stop()
    server.stop()
    assert not server.running and _gui.current_server() is None
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0


def test_a_busy_port_is_a_clear_error(backend, runtime_dir):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(LightlyStudioError, match=f"{port}.*LIGHTLY_STUDIO_PORT"):
            _gui.start_gui(port=port, block=False, _backend=backend)


def test_in_a_running_event_loop_start_gui_returns_at_once(backend, runtime_dir):
    import asyncio

    async def in_notebook():
        return _gui.start_gui(port=0, _backend=backend)  # block=None: auto

    # The kernel's loop runs in a thread of its own here: a session-wide Playwright (browser
    # tests) may already own this thread's loop, and asyncio.run refuses to nest.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        server = pool.submit(asyncio.run, asyncio.wait_for(in_notebook(), 5)).result()
    try:
        assert server.running
    finally:
        server.stop()


SCRIPT = textwrap.dedent("""
    import sys
    sys.path.insert(0, {repo!r})
    from tests.server.conftest import StubBackend
    from lightly_studio.server import start_gui
    server = start_gui(port=0, _backend=StubBackend())
    print("returned", server.running, flush=True)
""")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process")
def test_in_a_script_start_gui_blocks_until_ctrl_c_then_stops_cleanly(tmp_path, runtime_dir):
    import signal

    script = tmp_path / "app.py"
    script.write_text(SCRIPT.format(repo=str(REPO)))
    proc = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "LIGHTLY_STUDIO_RUNTIME_DIR": str(runtime_dir)},
    )
    line = proc.stdout.readline()
    assert "LightlyStudio is running at http://127.0.0.1:" in line
    url = line.split()[-1]
    with urllib.request.urlopen(url + "health", timeout=5) as resp:
        assert resp.status == 200
    time.sleep(0.3)
    assert proc.poll() is None  # still serving: it blocks
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=15)
    assert proc.returncode == 0
    assert "LightlyStudio stopped." in out and "returned False" in out
    assert list(runtime_dir.glob("lightly-studio-*.json")) == []
