"""An empty token is not a token (issue #26, item 6).

``start_gui(host="0.0.0.0", token="")``, or an empty ``LIGHTLY_STUDIO_TOKEN``, used to serve the
network with no check (a server with token ``""`` accepts ``?token=``) and print a URL without
one. Now an explicit blank token is refused, and a blank environment variable counts as unset:
a random token is made wherever one is needed.

Servers here bind to 127.0.0.1; the "every interface" cases stop short of binding (the
socket is the only thing replaced) and check the configuration and the printed URL.
"""

from __future__ import annotations

import pytest

from lightly_studio.dataset import env
from lightly_studio.errors import InvalidTokenError, LightlyStudioError
from lightly_studio.server import _gui
from tests.server.conftest import StubBackend, runtime_dir  # noqa: F401 - a fixture

# Every server here writes its runtime file into a temporary folder.
pytestmark = pytest.mark.usefixtures("runtime_dir")


@pytest.fixture
def token_env(monkeypatch):
    """set(value): put LIGHTLY_STUDIO_TOKEN in the environment and re-read it."""

    def _set(value: str | None) -> None:
        if value is None:
            monkeypatch.delenv("LIGHTLY_STUDIO_TOKEN", raising=False)
        else:
            monkeypatch.setenv("LIGHTLY_STUDIO_TOKEN", value)
        env.reload_from_environment()

    yield _set
    monkeypatch.undo()
    env.reload_from_environment()


@pytest.fixture
def unbound(monkeypatch):
    """start_gui() without a socket: GuiServer.start only records that it was called."""
    started: list[_gui.GuiServer] = []
    monkeypatch.setattr(_gui.GuiServer, "start", lambda self: started.append(self))
    yield started
    _gui.stop_gui()


@pytest.mark.parametrize("token", ["", "   ", "\t\n"])
def test_an_explicit_blank_token_is_refused(token, unbound):
    with pytest.raises(InvalidTokenError, match="not a token") as err:
        _gui.start_gui(host="0.0.0.0", port=0, token=token, block=False, _backend=StubBackend())
    assert isinstance(err.value, ValueError) and isinstance(err.value, LightlyStudioError)
    assert unbound == []  # refused before anything was set up


def test_the_server_object_refuses_a_blank_token_too():
    with pytest.raises(InvalidTokenError):
        _gui.GuiServer("0.0.0.0", 0, "", StubBackend())


@pytest.mark.parametrize("value", ["", "  "])
def test_a_blank_environment_token_counts_as_unset(value, token_env):
    token_env(value)
    assert env.LIGHTLY_STUDIO_TOKEN is None
    env.LIGHTLY_STUDIO_TOKEN = ""  # an assignment in a notebook: the same
    assert env.LIGHTLY_STUDIO_TOKEN is None


@pytest.mark.parametrize("value", [None, "", "  "])
def test_every_interface_gets_a_random_token_in_the_printed_url(value, token_env, unbound, capsys):
    token_env(value)
    server = _gui.start_gui(host="0.0.0.0", port=0, block=False, _backend=StubBackend())
    assert unbound == [server]
    assert server.token and len(server.token) >= 24 and server.token.strip() == server.token
    printed = capsys.readouterr().out
    assert f"?token={server.token}" in printed


def test_a_blank_environment_token_leaves_loopback_without_one(token_env):
    token_env("")
    server = _gui.start_gui(host="127.0.0.1", port=0, block=False, _backend=StubBackend())
    try:
        assert server.running and server.token is None and "token" not in server.url
    finally:
        server.stop()


def test_a_real_environment_token_is_still_used(token_env):
    token_env("s3cret-token")
    server = _gui.start_gui(host="127.0.0.1", port=0, block=False, _backend=StubBackend())
    try:
        assert server.token == "s3cret-token" and server.url.endswith("?token=s3cret-token")
    finally:
        server.stop()
