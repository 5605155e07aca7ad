"""``start_gui()`` / ``stop_gui()``: the app server inside the process that owns the database.

The server always runs its event loop on a background thread, so the caller's thread stays
free: in a notebook/Colab (a running event loop, or an IPython kernel) ``start_gui()`` returns
at once with a handle; in a script it then waits on that thread until Ctrl-C, which stops the
server cleanly (sockets closed, runtime file removed) and returns. Running in this process is
what lets Python and the app see the same data: one DuckDB connection (docs/architecture.md).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import sys
import threading
import webbrowser
from pathlib import Path
from typing import Any

from lightly_studio.dataset import env
from lightly_studio.db import db_file
from lightly_studio.errors import InvalidTokenError, ServerError
from lightly_studio.server import _runtime, _security
from lightly_studio.server._backend import ApiBackend

log = logging.getLogger("lightly_studio.server")

_current: GuiServer | None = None
_lock = threading.Lock()


def current_server() -> GuiServer | None:
    server = _current
    return server if server is not None and server.running else None


class GuiServer:
    """A running app server. ``.url`` to open it, ``.stop()`` to end it."""

    def __init__(
        self,
        host: str,
        port: int,
        token: str | None,
        backend: Any,
        protocol: str = "http",
        workers: int = 4,
        poll_interval_s: float = 1.0,
    ) -> None:
        _check_token(token)
        self.host = host
        self.token = token
        self.protocol = protocol
        self._backend = backend
        self._workers = workers
        self._poll = poll_interval_s
        self._requested_port = port
        self.port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()
        self._runtime_file: Path | None = None
        self._http: Any = None
        self._hub: Any = None
        self._pools: Any = None
        self._shutdown_task: asyncio.Task | None = None

    # -- public -------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The URL to open (with ``?token=…`` when the server requires one)."""
        return env.app_url(self.host, self.port, self.protocol, self.token)

    @property
    def running(self) -> bool:
        return self._thread is not None and not self._stopped.is_set()

    def stop(self) -> None:
        """Stop serving: close the port, end the thread, remove the runtime file. Idempotent."""
        global _current
        if self._thread is None or self._stopped.is_set():
            return
        loop = self._loop
        if loop is not None and loop.is_running():
            loop.call_soon_threadsafe(self._shutdown_in_loop)
        self._thread.join(timeout=10)
        if self._pools is not None:
            self._pools.shutdown()
        _runtime.remove(self._runtime_file)
        self._stopped.set()
        with _lock:
            if _current is self:
                _current = None

    def wait(self) -> None:
        """Block until the server stops; Ctrl-C stops it and returns."""
        try:
            # A timed wait so the main thread gets KeyboardInterrupt promptly on every OS.
            while not self._stopped.wait(0.25):
                pass
        except KeyboardInterrupt:
            print("\nStopping LightlyStudio …", flush=True)
            self.stop()
            print("LightlyStudio stopped.", flush=True)

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<LightlyStudio GUI {state} at {self.url}>"

    def _repr_html_(self) -> str:
        import html

        url = html.escape(self.url, quote=True)
        state = "running" if self.running else "stopped"
        return f'LightlyStudio {state} at <a href="{url}" target="_blank" rel="noopener">{url}</a>'

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        from tornado.netutil import bind_sockets

        # Bind here, on the caller's thread, so "port in use" raises from start_gui() itself.
        bind_host = "" if self.host in ("0.0.0.0", "") else self.host.strip("[]")
        try:
            sockets = bind_sockets(
                self._requested_port, address=bind_host or None, reuse_port=False
            )
        except OSError as exc:
            raise ServerError(
                f"Cannot serve LightlyStudio on {self.host}:{self._requested_port}: {exc.strerror}. "
                "Another program (or another LightlyStudio) uses the port: stop it, or choose "
                "another with LIGHTLY_STUDIO_PORT=8002 / env.LIGHTLY_STUDIO_PORT = 8002."
            ) from exc
        self.port = sockets[0].getsockname()[1]
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            try:
                loop.run_until_complete(self._setup(sockets))
            except BaseException as exc:  # noqa: BLE001 - the server thread reports any failure to its caller below
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()
                self._stopped.set()

        self._thread = threading.Thread(target=run, name="lightly-studio-gui", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            for sock in sockets:
                sock.close()
            raise failure[0]
        self._runtime_file = _runtime.write(
            {
                "port": self.port,
                "host": self.host,
                "internal_url": self._internal_url(),
                "token": self.token,
                "db_file": _db_file(),
            }
        )

    async def _setup(self, sockets: list) -> None:
        from tornado.httpserver import HTTPServer

        from lightly_studio.server import _app  # lazy: tornado loads when a server starts

        self._pools = _app.Pools(light=self._workers)
        config = _app.ServerConfig(
            backend=self._backend,
            token=self.token,
            cookie_name=f"lightly_studio_token_{self.port}",
            workers=self._workers,
            poll_interval_s=self._poll,
        )
        self._hub = _app.EventHub(config, self._pools)
        app = _app.make_app(config, self._pools, self._hub)
        # tornado's caps are the hard ones; the handlers answer 413/431 below them.
        self._http = HTTPServer(
            app,
            max_body_size=_app.HARD_BODY_BYTES,
            max_header_size=_app.HARD_HEADER_BYTES,
            xheaders=False,
        )
        self._http.add_sockets(sockets)
        self._hub.start()

    def _shutdown_in_loop(self) -> None:
        loop = asyncio.get_running_loop()

        async def shutdown() -> None:
            self._http.stop()
            self._hub.stop()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._http.close_all_connections(), timeout=2)
            loop.stop()

        # Kept on self: the loop holds only a weak reference, and the task must not be
        # garbage-collected before it stops the loop.
        self._shutdown_task = loop.create_task(shutdown())

    def _internal_url(self) -> str:
        # The Jupyter extension runs on this machine: loopback reaches any wildcard bind.
        host = self.host
        if host in ("0.0.0.0", "", "::", "[::]") or _security.is_loopback(host):
            host = "127.0.0.1" if ":" not in host.strip("[]") else "[::1]"
        return f"http://{env.url_host(host)}:{self.port}/"


def _db_file() -> str | None:
    try:
        return db_file()
    except (OSError, RuntimeError):  # Path.expanduser()/resolve() of the configured file
        return None


def _in_notebook() -> bool:
    """A running event loop (Jupyter, Colab) or an IPython kernel: never block there."""
    try:
        asyncio.get_running_loop()
        return True
    except RuntimeError:
        pass
    ipython = sys.modules.get("IPython")
    if ipython is not None:
        shell = ipython.get_ipython() if hasattr(ipython, "get_ipython") else None
        if shell is not None and getattr(shell, "kernel", None) is not None:
            return True
    return False


def _in_colab() -> bool:
    return "google.colab" in sys.modules


def _check_token(token: str | None) -> None:
    # "" would switch the check off: a server with token "" accepts "?token=".
    if token is not None and (not isinstance(token, str) or not token.strip()):
        raise InvalidTokenError(
            f"token={token!r} is not a token: pass a non-empty string, or leave token out "
            "(None) to get a random one where a token is needed."
        )


def start_gui(
    host: str | None = None,
    port: int | None = None,
    *,
    token: str | None = None,
    block: bool | None = None,
    open_browser: bool = False,
    export_dir: str | Path | None = None,
    _backend: Any = None,
) -> GuiServer:
    """Serve the LightlyStudio app from this process (which owns the database).

    Args:
        host: address to bind; default ``env.LIGHTLY_STUDIO_HOST`` (``127.0.0.1``). Any
            non-loopback host makes the server require a random token, printed in the URL.
        port: default ``env.LIGHTLY_STUDIO_PORT`` (8001); 0 picks a free port.
        token: a fixed token (default ``env.LIGHTLY_STUDIO_TOKEN``, else random when needed).
            An empty or blank token raises ``InvalidTokenError``.
        block: wait until Ctrl-C. Default: block in a script, return at once in a notebook.
        open_browser: also open the URL in the default browser.
        export_dir: the only folder the app's Export may write to (default
            ``env.LIGHTLY_STUDIO_EXPORT_DIR``, else ``./lightly_studio_exports``); the app only
            names files inside it. Sets it for the whole process, notebook views included.

    Returns:
        The server handle: ``.url``, ``.stop()``. Calling ``start_gui()`` again with the same
        host and port returns the running server.
    """
    global _current
    host = (host if host is not None else env.LIGHTLY_STUDIO_HOST) or "127.0.0.1"
    port = env.parse_port(port if port is not None else env.LIGHTLY_STUDIO_PORT)
    _check_token(token)
    token = token if token is not None else env.LIGHTLY_STUDIO_TOKEN
    if token is None and not _security.is_loopback(host):
        if _in_colab():
            # Colab reaches the port only through its own authenticated per-user proxy
            # (output.serve_kernel_port_as_iframe); a token would break the documented snippet.
            print("LightlyStudio: running in Colab, served through Colab's port proxy.")
        else:
            token = _security.new_token()

    if export_dir is not None:
        # lazy: importing the server stays cheap; the api (polars, DuckDB) loads when used
        from lightly_studio.export.view_exports import set_export_dir

        set_export_dir(export_dir)

    with _lock:
        running = current_server()
        if running is not None:
            if running.host == host and running._requested_port in (port, 0):
                server = running
            else:
                running.stop()
                running = None
        if running is None:
            backend = _backend
            if backend is None:
                backend = ApiBackend()
                backend.data_version()  # opens the DB now: a locked file fails here, clearly
            server = GuiServer(host, port, token, backend, protocol=env.LIGHTLY_STUDIO_PROTOCOL)
            server.start()
            _current = server

    print(f"LightlyStudio is running at {server.url}", flush=True)
    if open_browser:
        webbrowser.open(server.url)
    if block is None:
        block = not _in_notebook()
    if block:
        print("Press Ctrl-C to stop.", flush=True)
        server.wait()
    return server


def stop_gui() -> None:
    """Stop the server started by ``start_gui()`` in this process (no-op if none runs)."""
    server = _current
    if server is not None:
        server.stop()


atexit.register(stop_gui)
