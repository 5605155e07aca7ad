"""Where the GUI server listens, read from the environment once at import and settable after.

::

    from lightly_studio.dataset import env
    env.LIGHTLY_STUDIO_HOST = "0.0.0.0"   # before ls.start_gui()
    env.LIGHTLY_STUDIO_PORT               # 8001 unless LIGHTLY_STUDIO_PORT says otherwise
    env.APP_URL                           # derived: http://localhost:8001 (+ ?token=… when needed)

Environment variables:

- ``LIGHTLY_STUDIO_HOST`` (default ``127.0.0.1``): the address to bind. Anything other than a
  loopback address makes the server require a random token (see ``lightly_studio.server``).
- ``LIGHTLY_STUDIO_PORT`` (default ``8001``).
- ``LIGHTLY_STUDIO_PROTOCOL`` (default ``http``): only changes the URL printed, for setups where
  a TLS proxy sits in front.
- ``LIGHTLY_STUDIO_TOKEN``: a fixed token instead of a random one (then required on any host).
  Empty or blank counts as unset: a random token is made when one is needed.
- ``LIGHTLY_STUDIO_EXPORT_DIR``: the only folder exports started from the views may write to
  (default ``./lightly_studio_exports`` under the working directory at export time). Also set
  by ``ls.start_gui(export_dir=...)``; see ``lightly_studio.export.view_exports``.

``APP_URL`` is computed on every read, so it follows assignments to the other attributes and
carries the token of the running server.
"""

from __future__ import annotations

import os
import sys
import types
from typing import Any

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8001

LIGHTLY_STUDIO_HOST: str
LIGHTLY_STUDIO_PORT: int
LIGHTLY_STUDIO_PROTOCOL: str
LIGHTLY_STUDIO_TOKEN: str | None
LIGHTLY_STUDIO_EXPORT_DIR: str | None
APP_URL: str

# Hosts that only the local machine can reach: no token needed there.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
_WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", "[::]", ""})


def parse_port(value: object) -> int:
    """``value`` as a port number (0..65535); ValueError naming the setting otherwise."""
    try:
        port = int(str(value).strip())
    except ValueError:
        raise ValueError(f"LIGHTLY_STUDIO_PORT must be a port number, got {value!r}") from None
    if not 0 <= port <= 65535:
        raise ValueError(f"LIGHTLY_STUDIO_PORT must be in 0..65535, got {port}")
    return port


def _blank_to_none(value: object) -> str | None:
    if value is None:
        return None
    text = os.fspath(value) if isinstance(value, os.PathLike) else str(value)
    return text if text.strip() else None


def url_host(host: str) -> str:
    """The host name to put in a URL for a server bound to ``host``."""
    if host in _WILDCARD_HOSTS:
        # A wildcard bind is reachable on loopback; the browser cannot open 0.0.0.0 everywhere.
        return "localhost"
    if ":" in host and not host.startswith("["):
        return f"[{host}]"
    return host


def app_url(host: str, port: int, protocol: str = "http", token: str | None = None) -> str:
    url = f"{protocol}://{url_host(host)}:{port}/"
    return f"{url}?token={token}" if token else url


class _EnvModule(types.ModuleType):
    """Validates assignments and derives ``APP_URL`` (a module cannot have properties itself)."""

    def __setattr__(self, name: str, value: object) -> None:
        if name == "LIGHTLY_STUDIO_PORT":
            value = parse_port(value)
        elif name == "LIGHTLY_STUDIO_HOST":
            value = str(value).strip()
        elif name in ("LIGHTLY_STUDIO_TOKEN", "LIGHTLY_STUDIO_EXPORT_DIR"):
            # An empty setting is no setting: an empty token would switch the check off.
            value = _blank_to_none(value)
        elif name == "APP_URL":
            raise AttributeError(
                "env.APP_URL is derived from LIGHTLY_STUDIO_HOST / LIGHTLY_STUDIO_PORT: set those"
            )
        super().__setattr__(name, value)

    @property
    def APP_URL(self) -> str:  # upper case: the name the reference docs use
        # The running server knows its real port (port 0 = any) and its token.
        server_mod = sys.modules.get("lightly_studio.server._gui")
        running = server_mod.current_server() if server_mod is not None else None
        if running is not None:
            return running.url
        token = self.LIGHTLY_STUDIO_TOKEN
        return app_url(
            self.LIGHTLY_STUDIO_HOST, self.LIGHTLY_STUDIO_PORT, self.LIGHTLY_STUDIO_PROTOCOL, token
        )


def _read_environment(module: Any) -> None:
    # Any: the attributes are set through _EnvModule.__setattr__, which converts the values.
    module.LIGHTLY_STUDIO_HOST = os.environ.get("LIGHTLY_STUDIO_HOST", DEFAULT_HOST)
    module.LIGHTLY_STUDIO_PORT = os.environ.get("LIGHTLY_STUDIO_PORT", DEFAULT_PORT)
    module.LIGHTLY_STUDIO_PROTOCOL = os.environ.get("LIGHTLY_STUDIO_PROTOCOL", "http")
    module.LIGHTLY_STUDIO_TOKEN = os.environ.get("LIGHTLY_STUDIO_TOKEN")
    module.LIGHTLY_STUDIO_EXPORT_DIR = os.environ.get("LIGHTLY_STUDIO_EXPORT_DIR")


def reload_from_environment() -> None:
    """Read the environment variables again (tests; a long-lived kernel after ``%env``)."""
    _read_environment(sys.modules[__name__])


sys.modules[__name__].__class__ = _EnvModule
reload_from_environment()
