"""The jupyter-server extension: the page under /lightly-studio/, calls forwarded to the
process that called start_gui() (found through the runtime file), Jupyter's login required."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from lightly_studio.server import _transport
from tests.server.conftest import Client

REPO = Path(__file__).resolve().parents[2]
TOKEN = "jupyter-test-token"
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def jupyter(tmp_path_factory):
    runtime = tmp_path_factory.mktemp("runtime")
    port = _free_port()
    env = {
        **os.environ,
        "LIGHTLY_STUDIO_RUNTIME_DIR": str(runtime),
        "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        "JUPYTER_RUNTIME_DIR": str(runtime / "jupyter"),
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter_server",
            "--no-browser",
            "--ip",
            "127.0.0.1",
            f"--port={port}",
            f"--IdentityProvider.token={TOKEN}",
            "--allow-root",
            "--ServerApp.jpserver_extensions={'lightly_studio.server.jupyter': True}",
            f"--ServerApp.root_dir={runtime}",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"{base}/api/status?token={TOKEN}", timeout=2)
            break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(proc.stderr.read()) from None
            time.sleep(0.3)
    yield {"base": base, "runtime": runtime}
    proc.terminate()
    proc.wait(10)


@pytest.fixture
def runtime_dir(jupyter, monkeypatch):
    """GUI servers started by these tests register where the Jupyter server looks."""
    monkeypatch.setenv("LIGHTLY_STUDIO_RUNTIME_DIR", str(jupyter["runtime"]))
    return jupyter["runtime"]


@pytest.fixture
def via_jupyter(jupyter, runtime_dir):
    return Client(jupyter["base"], None, prefix="/lightly-studio")


def _auth() -> dict[str, str]:
    return {"Authorization": f"token {TOKEN}"}


def test_without_a_gui_server_the_api_says_how_to_start_one(via_jupyter):
    resp = via_jupyter.call("echo", headers=_auth())
    assert resp.status == 503
    assert "start_gui()" in json.loads(resp.data)["error"]["message"]


def test_the_page_is_served_under_lightly_studio(via_jupyter):
    resp = via_jupyter.request("GET", "/lightly-studio/", headers=_auth())
    assert resp.status == 200
    assert b'<base href="/lightly-studio/">' in resp.data
    assert b'src="static/app.js"' in resp.data
    assert via_jupyter.request("GET", "/lightly-studio", headers=_auth()).status in (301, 302)


def test_without_jupyter_login_nothing_is_served_or_forwarded(via_jupyter, start, backend):
    start(host="0.0.0.0")
    page = via_jupyter.request("GET", "/lightly-studio/")
    assert page.status in (302, 403) and b"<script" not in page.data
    assert via_jupyter.call("echo").status == 403
    assert via_jupyter.request("GET", f"/lightly-studio/media/{uuid.UUID(int=10)}").status in (
        302,
        403,
    )
    assert backend.calls == []


def test_api_calls_reach_the_owning_process_with_its_token(via_jupyter, start, backend):
    _server, _ = start(host="0.0.0.0")  # token-protected: the extension passes the token on
    resp = via_jupyter.call("echo", {"x": 1}, headers=_auth())
    assert resp.status == 200
    assert json.loads(resp.data)["result"]["params"] == {"x": 1}
    assert backend.calls == [("echo", {"x": 1})]
    frames = via_jupyter.call("floats", headers=_auth())
    assert frames.getheader("Content-Type") == _transport.FRAMES_TYPE
    assert _transport.decode_reply(frames.data)[1][1] == b"abc"
    err = via_jupyter.call("missing_dataset", headers=_auth())
    assert err.status == 400 and json.loads(err.data)["error"]["type"] == "DatasetNotFoundError"


def test_media_ranges_and_etags_pass_through(via_jupyter, start):
    start()
    path = f"/lightly-studio/media/{uuid.UUID(int=10)}"
    resp = via_jupyter.request("GET", path, headers={**_auth(), "Range": "bytes=10-19"})
    assert resp.status == 206
    assert resp.getheader("Content-Range") == "bytes 10-19/10240"
    assert resp.data == bytes(range(10, 20))
    etag = resp.getheader("ETag")
    again = via_jupyter.request("GET", path, headers={**_auth(), "If-None-Match": etag})
    assert again.status == 304


def test_events_websocket_is_forwarded(via_jupyter, start):
    import websocket  # websocket-client

    start()
    ws = websocket.create_connection(
        via_jupyter.base.replace("http", "ws") + "/lightly-studio/ws", header=_auth(), timeout=10
    )
    try:
        hello = json.loads(ws.recv())
        assert hello["type"] == "event" and hello["name"] == "hello"
    finally:
        ws.close()
