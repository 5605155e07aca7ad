"""A GUI server on a free loopback port with a stub backend (no DB, no api/ needed)."""

from __future__ import annotations

import http.client
import json
import struct
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from lightly_studio.errors import DatasetNotFoundError, UnknownMethodError
from lightly_studio.server import _gui


@dataclass
class StubBackend:
    files: dict[str, str] = field(default_factory=dict)
    version: int = 0
    calls: list[tuple[str, dict]] = field(default_factory=list)
    datasets: list[dict] | None = None  # list_datasets answers when set (the page's boot list)

    def dispatch(
        self, method: str, params: dict[str, Any], buffers: list[bytes] = ()
    ) -> tuple[Any, list[bytes]]:
        self.calls.append((method, params))
        if method == "sizes":
            return {"sizes": [len(b) for b in buffers], "first": bytes(buffers[0][:4]).hex()}, []
        if method == "echo":
            return {"params": params, "id": uuid.UUID(int=1)}, []
        if method == "floats":
            return {"n": 3}, [struct.pack("<3f", 1.0, 2.0, 3.0), b"abc"]
        if method == "missing_dataset":
            raise DatasetNotFoundError("dataset 'x' is not in lightly_studio.db")
        if method == "crash":
            raise RuntimeError("secret internal detail")
        if method == "list_datasets" and self.datasets is not None:
            return {"datasets": self.datasets}, []
        if method == "big":
            return {"rows": [{"file_name": f"img_{i}.jpg", "width": 640} for i in range(2000)]}, []
        raise UnknownMethodError(method)

    def sample_file(self, sample_id: str) -> str | None:
        return self.files.get(sample_id)

    def thumbnail(self, sample_id: str) -> tuple[bytes, str] | None:
        if sample_id not in self.files:
            return None
        return b"\xff\xd8thumb-" + sample_id.encode(), "image/jpeg"

    def data_version(self) -> Any:
        return self.version

    def prefetch_thumbnails(self, dataset_id: str) -> None:
        self.calls.append(("prefetch_thumbnails", {"dataset_id": dataset_id}))


@dataclass
class Client:
    base: str
    token: str | None = None
    prefix: str = ""  # "/lightly-studio" when talking through Jupyter

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        token: bool = True,
        host: str | None = None,
    ) -> http.client.HTTPResponse:
        parts = urlsplit(self.base)
        con = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        headers = dict(headers or {})
        if token and self.token:
            headers.setdefault("X-Lightly-Studio-Token", self.token)
        if host is not None:
            con.putrequest(method, path, skip_host=True)
            con.putheader("Host", host)
            for k, v in headers.items():
                con.putheader(k, v)
            if body is not None:
                con.putheader("Content-Length", str(len(body)))
            con.endheaders(body)
        else:
            con.request(method, path, body=body, headers=headers)
        resp = con.getresponse()
        resp.data = resp.read()  # type: ignore[attr-defined]
        con.close()
        return resp

    def call(self, method: str, params: dict | None = None, **kw: Any) -> http.client.HTTPResponse:
        return self.request(
            "POST",
            f"{self.prefix}/api/{method}",
            json.dumps(params or {}).encode(),
            {"Content-Type": "application/json", **kw.pop("headers", {})},
            **kw,
        )


@pytest.fixture
def media(tmp_path: Path) -> dict[str, Path]:
    """A registered JPEG-named file, a secret file beside it, and a symlink to the secret."""
    root = tmp_path / "media"
    root.mkdir()
    image = root / "img.jpg"
    image.write_bytes(bytes(range(256)) * 40)  # 10240 bytes, content = offset % 256
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    link = root / "link.jpg"
    link.symlink_to(secret)
    return {"image": image, "secret": secret, "link": link}


@pytest.fixture
def backend(media: dict[str, Path]) -> StubBackend:
    return StubBackend(
        files={
            str(uuid.UUID(int=10)): str(media["image"]),
            str(uuid.UUID(int=11)): str(media["link"]),
            str(uuid.UUID(int=12)): str(media["image"].parent / "gone.jpg"),
        }
    )


@pytest.fixture
def runtime_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "runtime"
    monkeypatch.setenv("LIGHTLY_STUDIO_RUNTIME_DIR", str(folder))
    return folder


@pytest.fixture
def start(backend: StubBackend, runtime_dir: Path):
    """start(host=..., token=...) -> (server, Client); every server is stopped afterwards."""
    started: list[_gui.GuiServer] = []

    def _start(host: str = "127.0.0.1", **kw: Any) -> tuple[_gui.GuiServer, Client]:
        server = _gui.start_gui(host=host, port=0, block=False, _backend=backend, **kw)
        started.append(server)
        base = f"http://127.0.0.1:{server.port}"
        return server, Client(base, server.token)

    yield _start
    for server in started:
        server.stop()
    _gui.stop_gui()


@pytest.fixture
def server(start):
    return start()


@pytest.fixture
def client(server) -> Client:
    return server[1]
